namespace BareLb.Allocator.Tests;

public sealed class HeldAddressSetTests
{
    private static readonly UInt128 Base = IpAddressMath.ToUInt128(System.Net.IPAddress.Parse("10.0.0.0"));
    private static readonly ServiceKey Holder = new("ns", "a");

    // What avoidBuggyIPs pools look like once full: .1-.254 held in every /24. The held runs stop at every
    // boundary, but the bridged runs must not, or "first free" would walk one run per /24.
    [Fact]
    public void Add_DotOneToDot254InManyBlocks_BridgesIntoOneRun()
    {
        var held = new HeldAddressSet(IpFamily.IPv4);
        for (var block = 0; block < 100; block++)
        {
            for (var octet = 1; octet <= 254; octet++)
            {
                held.Add(Base + (UInt128)(block * 256 + octet), Holder);
            }
        }

        Assert.Equal(100, held.HeldRunCount);
        Assert.Equal(1, held.BridgedRunCount);
        Assert.Equal(Base + (UInt128)(100 * 256 + 1), held.FirstFree(Base, Base + 200 * 256, avoidBuggy: true));
        Assert.Equal(Base, held.FirstFree(Base, Base + 200 * 256, avoidBuggy: false));
    }

    [Theory]
    [InlineData(new[] { 254 }, 2)]        // x.254 leaves: the pair stays bridged to (x+1).1
    [InlineData(new[] { 257 }, 2)]        // (x+1).1 leaves: the pair stays bridged to x.254
    [InlineData(new[] { 254, 257 }, 2)]   // both leave: the pair is no longer bridged to anything
    [InlineData(new[] { 257, 254 }, 2)]
    [InlineData(new[] { 300 }, 2)]        // an address inside a block splits the run
    [InlineData(new[] { 253, 254, 257, 258 }, 2)]
    public void Remove_AddressesNextToBridge_SplitsBridgedRun(int[] offsets, int bridgedRuns)
    {
        var held = new HeldAddressSet(IpFamily.IPv4);
        for (var value = 1; value <= 254 + 256; value++)
        {
            if ((byte)value is not (0 or 255))
            {
                held.Add(Base + (UInt128)value, Holder);
            }
        }

        Assert.Equal(1, held.BridgedRunCount);
        foreach (var offset in offsets)
        {
            held.Remove(Base + (UInt128)offset, Holder);
        }

        Assert.Equal(bridgedRuns, held.BridgedRunCount);
        Assert.Equal(Base + (UInt128)offsets.Min(), held.FirstFree(Base, Base + 1024, avoidBuggy: true));
    }

    [Fact]
    public void Remove_OneOfTwoHolders_KeepsAddressHeld()
    {
        var held = new HeldAddressSet(IpFamily.IPv6);
        held.Add(7, Holder);
        held.Add(7, new ServiceKey("ns", "b"));

        held.Remove(7, Holder);

        Assert.True(held.IsHeld(7));
        Assert.Equal([new ServiceKey("ns", "b")], held.HoldersOf(7));
        Assert.Equal((UInt128)8, held.FirstFree(7, 100, avoidBuggy: true));
    }
}

using System.Diagnostics;
using Xunit.Abstractions;
using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

// Pool size must not matter: nothing may enumerate a range. These tests assert correctness only; the timings are
// written to the test output for humans, because wall-clock asserts are flaky on a busy 2-core machine.
public sealed class PoolAllocatorScaleTests(ITestOutputHelper output)
{
    private const int Count = 10_000;

    [Theory]
    [InlineData("10.0.0.0/18", IpFamily.IPv4)]
    [InlineData("2001:db8::/48", IpFamily.IPv6)]
    [InlineData("::/0", IpFamily.IPv6)]
    public void Allocate_TenThousandServices_GetConsecutiveDistinctAddresses(string range, IpFamily family)
    {
        var allocator = AllocatorWith(Pool("p", range));
        var first = Range(range).First;

        var stopwatch = Stopwatch.StartNew();
        var values = new UInt128[Count];
        for (var i = 0; i < Count; i++)
        {
            var result = allocator.Allocate(Service($"ns/s{i}") with { Families = [family] });
            values[i] = IpAddressMath.ToUInt128(result.Assignment!.Addresses[0]);
        }

        stopwatch.Stop();
        output.WriteLine($"{Count} allocations from {range}: {stopwatch.Elapsed.TotalMilliseconds:F0} ms");
        Assert.Equal(Enumerable.Range(0, Count).Select(i => first + (UInt128)i), values);
        Assert.Equal((UInt128)Count, family == IpFamily.IPv4 ? allocator.GetUsage("p").AssignedIPv4 : allocator.GetUsage("p").AssignedIPv6);
    }

    [Fact]
    public void Allocate_WholeIPv6SpaceWithHolesAtBothEnds_ReusesLowestFree()
    {
        var allocator = AllocatorWith(Pool("p", "::/0"));
        allocator.Restore(Service("ns/top"), [Ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")]);
        for (var i = 0; i < 1000; i++)
        {
            allocator.Allocate(Service($"ns/s{i}") with { Families = [IpFamily.IPv6] });
        }

        allocator.Release(Key("ns/s500"));
        allocator.Release(Key("ns/s0"));

        Assert.Equal(["::"], allocator.Allocate(Service("ns/x") with { Families = [IpFamily.IPv6] }).Addresses());
        Assert.Equal(["::1f4"], allocator.Allocate(Service("ns/y") with { Families = [IpFamily.IPv6] }).Addresses());
        Assert.Equal(["::3e8"], allocator.Allocate(Service("ns/z") with { Families = [IpFamily.IPv6] }).Addresses());
        Assert.Equal(
            new PoolUsage(0, 1002, 0, UInt128.MaxValue - 1001),
            allocator.GetUsage("p"));
    }

    [Fact]
    public void Allocate_AvoidBuggyTenThousandFromSlash16_SkipsEveryBoundaryPair()
    {
        var allocator = AllocatorWith(Pool("p", "10.1.0.0/16") with { AvoidBuggyIPs = true });
        var first = IpAddressMath.ToUInt128(Ip("10.1.0.0"));

        var stopwatch = Stopwatch.StartNew();
        var values = new UInt128[Count];
        for (var i = 0; i < Count; i++)
        {
            values[i] = IpAddressMath.ToUInt128(allocator.Allocate(Service($"ns/s{i}")).Assignment!.Addresses[0]);
        }

        stopwatch.Stop();
        output.WriteLine($"{Count} avoidBuggy allocations from 10.1.0.0/16: {stopwatch.Elapsed.TotalMilliseconds:F0} ms");

        // The k-th usable address of a /24-aligned pool is .1-.254 of block k / 254.
        Assert.Equal(Enumerable.Range(0, Count).Select(k => first + (UInt128)(256 * (k / 254) + (k % 254) + 1)), values);
        Assert.Equal(new PoolUsage(Count, 0, 254 * 256 - Count, 0), allocator.GetUsage("p"));
    }

    [Fact]
    public void Allocate_AvoidBuggyAfterReleasingAcrossBlocks_ReusesLowestUsable()
    {
        var allocator = AllocatorWith(Pool("p", "10.1.0.0/20") with { AvoidBuggyIPs = true });
        for (var i = 0; i < 2000; i++)
        {
            allocator.Allocate(Service($"ns/s{i}"));
        }

        // s253 holds 10.1.0.254 and s254 holds 10.1.1.1: the pair between them must stay skipped after release.
        allocator.Release(Key("ns/s254"));
        allocator.Release(Key("ns/s253"));
        allocator.Release(Key("ns/s1000"));

        Assert.Equal(["10.1.0.254"], allocator.Allocate(Service("ns/a")).Addresses());
        Assert.Equal(["10.1.1.1"], allocator.Allocate(Service("ns/b")).Addresses());
        Assert.Equal(["10.1.3.239"], allocator.Allocate(Service("ns/c")).Addresses());
        Assert.Equal(["10.1.7.223"], allocator.Allocate(Service("ns/d")).Addresses());
    }
}

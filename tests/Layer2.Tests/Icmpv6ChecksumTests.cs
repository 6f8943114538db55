using FsCheck;
using FsCheck.Fluent;
using BareLb.Layer2.Ndp;

namespace BareLb.Layer2.Tests;

public sealed class Icmpv6ChecksumTests
{
    [Fact]
    public void Compute_AnyMessage_EqualsReferenceAndValidates()
    {
        var gen =
            from source in ArbMap.Default.GeneratorFor<byte[]>().Where(a => a.Length >= 16).Select(a => a[..16])
            from destination in ArbMap.Default.GeneratorFor<byte[]>().Where(a => a.Length >= 16).Select(a => a[..16])
            from message in Gen.Choose(4, 1500).SelectMany(n => Gen.ArrayOf(ArbMap.Default.GeneratorFor<byte>(), n))
            select (source, destination, message);

        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(Arb.From(gen), input =>
        {
            var (s, d, m) = input;
            m[2] = 0;
            m[3] = 0;
            var expected = TestFrames.ReferenceChecksum(s, d, m);
            var actual = Icmpv6Checksum.Compute(IpAddresses.ReadIPv6(s), IpAddresses.ReadIPv6(d), m);
            m[2] = (byte)(actual >> 8);
            m[3] = (byte)actual;
            return actual == expected && Icmpv6Checksum.IsValid(IpAddresses.ReadIPv6(s), IpAddresses.ReadIPv6(d), m);
        }));
    }

    [Fact]
    public void IsValid_OneBitFlipped_False()
    {
        var frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6);
        var source = IpAddresses.ReadIPv6(frame.AsSpan(22));
        var destination = IpAddresses.ReadIPv6(frame.AsSpan(38));
        for (var bit = 0; bit < (frame.Length - 54) * 8; bit++)
        {
            var message = frame[54..];
            message[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(Icmpv6Checksum.IsValid(source, destination, message), $"bit {bit}");
        }
    }
}

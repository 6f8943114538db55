using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

public sealed class IpAddressMathTests
{
    [Theory]
    [InlineData("0.0.0.0", IpFamily.IPv4, "0")]
    [InlineData("198.51.100.1", IpFamily.IPv4, "3325256705")]
    [InlineData("255.255.255.255", IpFamily.IPv4, "4294967295")]
    [InlineData("::", IpFamily.IPv6, "0")]
    [InlineData("::1", IpFamily.IPv6, "1")]
    [InlineData("::ffff:1.2.3.4", IpFamily.IPv6, "281470698652420")]
    [InlineData("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", IpFamily.IPv6, "340282366920938463463374607431768211455")]
    public void ToUInt128_Address_RoundTripsThroughToAddress(string text, IpFamily family, string value)
    {
        var address = Ip(text);
        Assert.Equal(family, IpAddressMath.FamilyOf(address));
        Assert.Equal(UInt128.Parse(value), IpAddressMath.ToUInt128(address));
        Assert.Equal(address, IpAddressMath.ToAddress(family, UInt128.Parse(value)));
    }

    [Fact]
    public void ToAddress_IPv4ValueAbove32Bits_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => IpAddressMath.ToAddress(IpFamily.IPv4, (UInt128)uint.MaxValue + 1));
    }
}

using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

public sealed class IpRangeTests
{
    public static TheoryData<string, IpFamily, string, string> ValidRanges => new()
    {
        { "198.51.100.0/24", IpFamily.IPv4, "198.51.100.0", "198.51.100.255" },
        { "198.51.100.7/32", IpFamily.IPv4, "198.51.100.7", "198.51.100.7" },
        { "198.51.100.10-198.51.100.20", IpFamily.IPv4, "198.51.100.10", "198.51.100.20" },
        { "  198.51.100.10 - 198.51.100.20\t", IpFamily.IPv4, "198.51.100.10", "198.51.100.20" },
        { "198.51.100.10-198.51.100.10", IpFamily.IPv4, "198.51.100.10", "198.51.100.10" },
        { "0.0.0.0/0", IpFamily.IPv4, "0.0.0.0", "255.255.255.255" },
        { "10.0.0.0/8", IpFamily.IPv4, "10.0.0.0", "10.255.255.255" },
        { "2001:db8::/48", IpFamily.IPv6, "2001:db8::", "2001:db8:0:ffff:ffff:ffff:ffff:ffff" },
        { "2001:db8::1/128", IpFamily.IPv6, "2001:db8::1", "2001:db8::1" },
        { "2001:db8::1-2001:db8::ff", IpFamily.IPv6, "2001:db8::1", "2001:db8::ff" },
        { "2001:db8::1 -2001:db8::ff", IpFamily.IPv6, "2001:db8::1", "2001:db8::ff" },
        { "::/0", IpFamily.IPv6, "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
        { "\n2001:DB8::/64 ", IpFamily.IPv6, "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff" },
    };

    [Theory]
    [MemberData(nameof(ValidRanges))]
    public void TryParse_ValidText_ReturnsRange(string text, IpFamily family, string first, string last)
    {
        Assert.True(IpRange.TryParse(text, out var range, out var error), error);
        Assert.Null(error);
        Assert.Equal(family, range.Family);
        Assert.Equal(IpAddressMath.ToUInt128(Ip(first)), range.First);
        Assert.Equal(IpAddressMath.ToUInt128(Ip(last)), range.Last);
    }

    [Theory]
    [InlineData("", "address range is empty; expected a CIDR such as 198.51.100.0/24 or a range such as 198.51.100.10-198.51.100.20")]
    [InlineData("   ", "address range is empty; expected a CIDR such as 198.51.100.0/24 or a range such as 198.51.100.10-198.51.100.20")]
    [InlineData("banana", "\"banana\" is not a CIDR (address/prefix) or a range (first-last)")]
    [InlineData("198.51.100.1", "\"198.51.100.1\" is not a CIDR (address/prefix) or a range (first-last)")]
    [InlineData("198.51.100.0/24/8", "\"198.51.100.0/24/8\" is not a CIDR (address/prefix) or a range (first-last)")]
    [InlineData("1.2.3.4-1.2.3.5-1.2.3.6", "\"1.2.3.4-1.2.3.5-1.2.3.6\" is not a CIDR (address/prefix) or a range (first-last)")]
    [InlineData("198.51.100.0/-1", "\"198.51.100.0/-1\" is not a CIDR (address/prefix) or a range (first-last)")]
    [InlineData("198.51.100.1/24", "\"198.51.100.1/24\" has host bits set; the network is 198.51.100.0/24")]
    [InlineData("10.1.0.0/8", "\"10.1.0.0/8\" has host bits set; the network is 10.0.0.0/8")]
    [InlineData("2001:db8::1/64", "\"2001:db8::1/64\" has host bits set; the network is 2001:db8::/64")]
    [InlineData("198.51.100.0/33", "prefix length 33 in \"198.51.100.0/33\" is out of range for IPv4 (0-32)")]
    [InlineData("2001:db8::/129", "prefix length 129 in \"2001:db8::/129\" is out of range for IPv6 (0-128)")]
    [InlineData("198.51.100.0/", "prefix length \"\" in \"198.51.100.0/\" is not a number")]
    [InlineData("198.51.100.0/2x", "prefix length \"2x\" in \"198.51.100.0/2x\" is not a number")]
    [InlineData("198.51.100.0/0024", "prefix length \"0024\" in \"198.51.100.0/0024\" is not a number")]
    [InlineData("198.51.100/24", "\"198.51.100\" in \"198.51.100/24\" is not an IP address")]
    [InlineData("198.051.100.0/24", "\"198.051.100.0\" in \"198.051.100.0/24\" is not an IP address")]
    [InlineData("256.0.0.0/8", "\"256.0.0.0\" in \"256.0.0.0/8\" is not an IP address")]
    [InlineData("10/8", "\"10\" in \"10/8\" is not an IP address")]
    [InlineData("1.2.3.4-", "\"\" in \"1.2.3.4-\" is not an IP address")]
    [InlineData("[2001:db8::]/64", "\"[2001:db8::]\" in \"[2001:db8::]/64\" is not an IP address")]
    [InlineData("fe80::1%eth0-fe80::2", "\"fe80::1%eth0\" in \"fe80::1%eth0-fe80::2\" is not an IP address")]
    [InlineData("2001:db8:::1/128", "\"2001:db8:::1\" in \"2001:db8:::1/128\" is not an IP address")]
    [InlineData("198.51.100.20-198.51.100.10", "range \"198.51.100.20-198.51.100.10\" is reversed: 198.51.100.20 comes after 198.51.100.10")]
    [InlineData("2001:db8::ff-2001:db8::1", "range \"2001:db8::ff-2001:db8::1\" is reversed: 2001:db8::ff comes after 2001:db8::1")]
    [InlineData("198.51.100.1-2001:db8::1", "range \"198.51.100.1-2001:db8::1\" mixes IPv4 and IPv6 addresses")]
    [InlineData("::ffff:198.51.100.1-::ffff:198.51.100.9", "\"::ffff:198.51.100.1\" in \"::ffff:198.51.100.1-::ffff:198.51.100.9\" is an IPv4-mapped IPv6 address; write the IPv4 address 198.51.100.1 instead")]
    [InlineData("::ffff:198.51.100.0/120", "\"::ffff:198.51.100.0\" in \"::ffff:198.51.100.0/120\" is an IPv4-mapped IPv6 address; write the IPv4 address 198.51.100.0 instead")]
    public void TryParse_InvalidText_ReturnsExactError(string text, string expected)
    {
        Assert.False(IpRange.TryParse(text, out var range, out var error));
        Assert.Equal(expected, error);
        Assert.Equal(default, range);
    }

    [Theory]
    [InlineData("198.51.100.0/24", "198.51.100.0/24")]
    [InlineData("198.51.100.0-198.51.100.255", "198.51.100.0/24")]
    [InlineData("198.51.100.2-198.51.100.3", "198.51.100.2/31")]
    [InlineData("198.51.100.1-198.51.100.2", "198.51.100.1-198.51.100.2")]
    [InlineData("198.51.100.10 - 198.51.100.20", "198.51.100.10-198.51.100.20")]
    [InlineData("198.51.100.7/32", "198.51.100.7/32")]
    [InlineData("0.0.0.0/0", "0.0.0.0/0")]
    [InlineData("::/0", "::/0")]
    [InlineData("2001:db8::1/128", "2001:db8::1/128")]
    [InlineData("2001:db8::-2001:db8::ffff", "2001:db8::/112")]
    [InlineData("2001:db8::1-2001:db8::ff", "2001:db8::1-2001:db8::ff")]
    public void ToString_ParsedRange_IsCidrOnlyWhenExactlyOneBlock(string text, string expected)
    {
        Assert.Equal(expected, Range(text).ToString());
    }

    [Theory]
    [InlineData("198.51.100.0/24", "256")]
    [InlineData("198.51.100.7/32", "1")]
    [InlineData("0.0.0.0/0", "4294967296")]
    [InlineData("2001:db8::/64", "18446744073709551616")]
    [InlineData("2001:db8::1/128", "1")]
    [InlineData("::/1", "170141183460469231731687303715884105728")]
    [InlineData("::/0", "340282366920938463463374607431768211455")]
    public void Count_Range_IsSizeSaturatingForWholeIPv6Space(string text, string expected)
    {
        Assert.Equal(UInt128.Parse(expected), Range(text).Count);
    }

    [Theory]
    [InlineData("198.51.100.0/24", "198.51.100.0", true)]
    [InlineData("198.51.100.0/24", "198.51.100.255", true)]
    [InlineData("198.51.100.0/24", "198.51.101.0", false)]
    [InlineData("198.51.100.10-198.51.100.20", "198.51.100.9", false)]
    [InlineData("198.51.100.0/24", "::ffff:198.51.100.1", false)]
    [InlineData("::/0", "198.51.100.1", false)]
    [InlineData("::/0", "2001:db8::1", true)]
    [InlineData("2001:db8::/48", "2001:db8:1::", false)]
    public void Contains_Address_OnlySameFamilyInsideBounds(string range, string address, bool expected)
    {
        Assert.Equal(expected, Range(range).Contains(Ip(address)));
    }

    [Theory]
    [InlineData("198.51.100.0/24", "198.51.100.255-198.51.101.5", true)]
    [InlineData("198.51.100.0/25", "198.51.100.128/25", false)]
    [InlineData("198.51.100.10-198.51.100.20", "198.51.100.20-198.51.100.30", true)]
    [InlineData("0.0.0.0/0", "::/0", false)]
    [InlineData("2001:db8::/48", "2001:db8:0:1::/64", true)]
    public void Overlaps_TwoRanges_SymmetricAndFamilyAware(string a, string b, bool expected)
    {
        Assert.Equal(expected, Range(a).Overlaps(Range(b)));
        Assert.Equal(expected, Range(b).Overlaps(Range(a)));
    }
}

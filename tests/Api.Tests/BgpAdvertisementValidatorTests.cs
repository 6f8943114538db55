using BareLb.Api.Config;
using BareLb.Api.Tests.Support;

namespace BareLb.Api.Tests;

public sealed class BgpAdvertisementValidatorTests
{
    private static readonly Dictionary<string, BgpCommunity> Aliases = new()
    {
        ["NO_ADVERTISE"] = BgpCommunity.Standard(65535, 65282),
        ["customer-large"] = BgpCommunity.Large(64512, 1, 2),
    };

    public static TheoryData<string, string, string> InvalidAdvertisements => new()
    {
        { """{"aggregationLength":0}""", "spec.aggregationLength", "0 is out of range 1-32" },
        { """{"aggregationLength":33}""", "spec.aggregationLength", "33 is out of range 1-32" },
        { """{"aggregationLengthV6":0}""", "spec.aggregationLengthV6", "0 is out of range 1-128" },
        { """{"aggregationLengthV6":129}""", "spec.aggregationLengthV6", "129 is out of range 1-128" },
        { """{"localPref":-1}""", "spec.localPref", "-1 is out of range 0-4294967295" },
        { """{"localPref":4294967296}""", "spec.localPref", "4294967296 is out of range 0-4294967295" },
        { """{"communities":["65536:1"]}""", "spec.communities[0]", "\"65536\" in community \"65536:1\" is not a number from 0 to 65535" },
        { """{"communities":["65535:-1"]}""", "spec.communities[0]", "\"-1\" in community \"65535:-1\" is not a number from 0 to 65535" },
        { """{"communities":["65535:"]}""", "spec.communities[0]", "\"\" in community \"65535:\" is not a number from 0 to 65535" },
        { """{"communities":["large:1:2:4294967296"]}""", "spec.communities[0]", "\"4294967296\" in community \"large:1:2:4294967296\" is not a number from 0 to 4294967295" },
        { """{"communities":["no-such-alias"]}""", "spec.communities[0]",
            "\"no-such-alias\" is neither a community (\"AS:value\" or \"large:global:local1:local2\") nor the name of an alias defined in a valid Community object" },
        { """{"communities":["1:2:3"]}""", "spec.communities[0]",
            "\"1:2:3\" is neither a community (\"AS:value\" or \"large:global:local1:local2\") nor the name of an alias defined in a valid Community object" },
        { """{"communities":["65535:65281","65535:65281"]}""", "spec.communities[1]", "\"65535:65281\" is listed twice (also spec.communities[0])" },
        { """{"communities":[null]}""", "spec.communities[0]", "must be a string, not null" },
        { """{"ipAddressPools":["Default"]}""", "spec.ipAddressPools[0]",
            "\"Default\" is not a valid object name: lower-case letters, digits, '-' and '.' only, each dot-separated part starting and ending with a letter or digit" },
        { """{"ipAddressPools":["a","b","a"]}""", "spec.ipAddressPools[2]", "\"a\" is listed twice (also spec.ipAddressPools[0])" },
        { """{"ipAddressPoolSelectors":[{"matchExpressions":[{"key":"tier","operator":"Equals","values":["x"]}]}]}""",
            "spec.ipAddressPoolSelectors[0].matchExpressions[0].operator", "unknown operator \"Equals\"; expected In, NotIn, Exists or DoesNotExist" },
        { """{"nodeSelectors":[{"matchLabels":{"rack":"r1"}},{"matchLabels":{"rack":"r1"}}]}""", "spec.nodeSelectors[1]", "duplicates spec.nodeSelectors[0]" },
        { """{"peers":["router-a","router-a"]}""", "spec.peers[1]", "\"router-a\" is listed twice (also spec.peers[0])" },
        { """{"peers":[""]}""", "spec.peers[0]", "must not be empty" },
    };

    [Theory]
    [MemberData(nameof(InvalidAdvertisements))]
    public void Validate_InvalidSpec_ReportsFieldAndReason(string spec, string field, string reason)
    {
        var result = BgpAdvertisementValidator.Validate(Objects.Bgp(spec), Aliases);

        Assert.False(result.IsValid);
        Assert.Equal([new ValidationError(field, reason)], result.Errors);
    }

    [Fact]
    public void Validate_EmptySpec_AnnouncesEveryPoolToEveryPeerWithDefaults()
    {
        var result = BgpAdvertisementValidator.Validate(Objects.Bgp("{}"), Aliases);

        Assert.True(result.IsValid);
        var advertisement = result.Value;
        Assert.Equal(32, advertisement.AggregationLength);
        Assert.Equal(128, advertisement.AggregationLengthV6);
        Assert.Equal(0u, advertisement.LocalPref);
        Assert.Empty(advertisement.Communities);
        Assert.True(advertisement.Pools.SelectsAll);
        Assert.True(advertisement.AllPeers);
        Assert.True(advertisement.SelectsPeer("anyone"));
    }

    [Fact]
    public void Validate_CommunitiesAndAliases_ResolveToValues()
    {
        var result = BgpAdvertisementValidator.Validate(Objects.Bgp(
            """{"communities":["65535:65281","NO_ADVERTISE","large:4200000000:7:8","customer-large"],"localPref":4294967295,"aggregationLength":24,"aggregationLengthV6":64,"peers":["router-a"]}"""),
            Aliases);

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(
            [BgpCommunity.Standard(65535, 65281), BgpCommunity.Standard(65535, 65282), BgpCommunity.Large(4200000000, 7, 8), BgpCommunity.Large(64512, 1, 2)],
            result.Value.Communities);
        Assert.Equal(uint.MaxValue, result.Value.LocalPref);
        Assert.Equal(24, result.Value.AggregationLength);
        Assert.Equal(64, result.Value.AggregationLengthV6);
        Assert.True(result.Value.SelectsPeer("router-a"));
        Assert.False(result.Value.SelectsPeer("router-b"));
    }

    [Fact]
    public void Validate_AliasShadowsLiteral_AsInMetalLB()
    {
        var aliases = new Dictionary<string, BgpCommunity> { ["1:1"] = BgpCommunity.Standard(2, 2) };

        var result = BgpAdvertisementValidator.Validate(Objects.Bgp("""{"communities":["1:1"]}"""), aliases);

        Assert.Equal([BgpCommunity.Standard(2, 2)], result.Value!.Communities);
    }
}

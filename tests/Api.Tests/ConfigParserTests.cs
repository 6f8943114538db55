using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Api.Tests.Support;

namespace BareLb.Api.Tests;

public sealed class ConfigParserTests
{
    private static ConfigParseResult Parse(
        IPAddressPool[]? pools = null, L2Advertisement[]? l2 = null, BGPPeer[]? peers = null,
        BGPAdvertisement[]? bgp = null, Community[]? communities = null) =>
        ConfigParser.Parse(pools ?? [], l2 ?? [], peers ?? [], bgp ?? [], communities ?? []);

    [Fact]
    public void Parse_Nothing_IsAnEmptyConfig()
    {
        var result = Parse();

        Assert.Empty(result.Errors);
        Assert.Empty(result.Config.Pools);
        Assert.Empty(result.Config.L2AdvertisementsFor("any"));
        Assert.Empty(result.Config.BgpAdvertisementsFor("any"));
    }

    [Fact]
    public void Parse_BadObject_IsReportedAndSkippedWhileTheRestApplies()
    {
        var result = Parse(
            pools: [Objects.Pool("""{"addresses":["198.51.100.0/24"]}""", "good"), Objects.Pool("""{"addresses":["198.51.100.300/32"]}""", "bad")],
            l2: [Objects.L2("""{"interfaces":["eth 0"]}""", "bad-l2"), Objects.L2("{}", "all")]);

        Assert.Equal(["good"], result.Config.Pools.Select(p => p.Name));
        Assert.Equal(["all"], result.Config.L2Advertisements.Select(a => a.Name));
        Assert.Equal(
            [
                new ObjectErrors("IPAddressPool", Objects.Namespace, "bad",
                    [new ValidationError("spec.addresses[0]", "\"198.51.100.300\" in \"198.51.100.300/32\" is not an IP address")]),
                new ObjectErrors("L2Advertisement", Objects.Namespace, "bad-l2",
                    [new ValidationError("spec.interfaces[0]", "interface name \"eth 0\" contains 'whitespace', which Linux does not allow")]),
            ],
            result.Errors,
            ObjectErrorsComparer.Instance);
        Assert.Empty(result.ErrorsFor("IPAddressPool", "good"));
        Assert.Single(result.ErrorsFor("IPAddressPool", "bad"));
    }

    [Fact]
    public void Parse_InputOrder_DoesNotChangeTheOutcome()
    {
        var pools = new[]
        {
            Objects.Pool("""{"addresses":["203.0.113.0/24"]}""", "b"),
            Objects.Pool("""{"addresses":["198.51.100.0/24"]}""", "a"),
        };
        var communities = new[]
        {
            Objects.Community("""{"communities":[{"name":"X","value":"1:2"}]}""", "second"),
            Objects.Community("""{"communities":[{"name":"X","value":"1:1"}]}""", "first"),
        };

        var forward = Parse(pools: pools, communities: communities);
        var backward = Parse(pools: [.. pools.Reverse()], communities: [.. communities.Reverse()]);

        Assert.Equal(["a", "b"], forward.Config.Pools.Select(p => p.Name));
        Assert.Equal(Describe(forward.Config), Describe(backward.Config));
        Assert.Equal(BgpCommunity.Standard(1, 1), forward.Config.CommunityAliases["X"]);
        Assert.Equal(BgpCommunity.Standard(1, 1), backward.Config.CommunityAliases["X"]);
        Assert.Equal(forward.Errors, backward.Errors, ObjectErrorsComparer.Instance);
    }

    [Fact]
    public void Parse_AliasDefinedByTwoCommunities_RejectsTheLaterObject()
    {
        var result = Parse(communities:
        [
            Objects.Community("""{"communities":[{"name":"NO_ADVERTISE","value":"65535:65282"}]}""", "a"),
            Objects.Community("""{"communities":[{"name":"other","value":"1:1"},{"name":"NO_ADVERTISE","value":"65535:65282"}]}""", "b"),
        ]);

        Assert.Equal(["NO_ADVERTISE"], result.Config.CommunityAliases.Keys);
        Assert.Equal(
            [new ValidationError("spec.communities[1].name", "alias \"NO_ADVERTISE\" is already defined by Community a")],
            result.ErrorsFor("Community", "b"));
    }

    [Fact]
    public void Parse_ObjectsWithoutSpec_AreEmptyNotErrors()
    {
        var result = Parse(l2: [Objects.L2("null")], bgp: [Objects.Bgp("null")], communities: [Objects.Community("null")]);

        Assert.Empty(result.Errors);
        Assert.Single(result.Config.L2Advertisements);
        Assert.Single(result.Config.BgpAdvertisements);
        Assert.Empty(result.Config.CommunityAliases);
    }

    [Fact]
    public void Parse_PoolOrPeerWithoutSpec_IsRejected()
    {
        var result = Parse(pools: [Objects.Pool("null")], peers: [Objects.Peer("null")]);

        Assert.Equal([new ValidationError("spec", "must be set")], result.ErrorsFor("IPAddressPool", "pool"));
        Assert.Equal([new ValidationError("spec", "must be set")], result.ErrorsFor("BGPPeer", "peer"));
    }

    [Fact]
    public void Parse_AdvertisementUsingAliasOfInvalidCommunity_IsRejected()
    {
        var result = Parse(
            communities: [Objects.Community("""{"communities":[{"name":"good","value":"1:1"},{"name":"bad","value":"1:99999"}]}""")],
            bgp: [Objects.Bgp("""{"communities":["good"]}""")]);

        Assert.Empty(result.Config.BgpAdvertisements);
        Assert.Equal(
            [new ValidationError("spec.communities[0]", "\"good\" is neither a community (\"AS:value\" or \"large:global:local1:local2\") nor the name of an alias defined in a valid Community object")],
            result.ErrorsFor("BGPAdvertisement", "bgp"));
    }

    [Fact]
    public void Parse_Advertisements_AreMatchedToPoolsByNameSelectorOrAll()
    {
        var result = Parse(
            pools:
            [
                Objects.Pool("""{"addresses":["198.51.100.0/26"]}""", "web", labels: """{"tier":"public"}"""),
                Objects.Pool("""{"addresses":["198.51.100.64/26"]}""", "db"),
                Objects.Pool("""{"addresses":["198.51.100.128/26"]}""", "batch"),
            ],
            l2:
            [
                Objects.L2("""{"ipAddressPools":["db","missing"]}""", "by-name"),
                Objects.L2("""{"ipAddressPoolSelectors":[{"matchLabels":{"tier":"public"}}]}""", "by-label"),
                Objects.L2("{}", "everything"),
            ],
            bgp: [Objects.Bgp("""{"ipAddressPools":["batch"],"aggregationLength":26}""", "batch-only")]);

        Assert.Empty(result.Errors);
        Assert.Equal(["by-label", "everything"], result.Config.L2AdvertisementsFor("web").Select(a => a.Name));
        Assert.Equal(["by-name", "everything"], result.Config.L2AdvertisementsFor("db").Select(a => a.Name));
        Assert.Equal(["everything"], result.Config.L2AdvertisementsFor("batch").Select(a => a.Name));
        Assert.Equal(["batch-only"], result.Config.BgpAdvertisementsFor("batch").Select(a => a.Name));
        Assert.Empty(result.Config.BgpAdvertisementsFor("web"));
        Assert.NotNull(result.Config.FindPool("db"));
        Assert.Null(result.Config.FindPool("missing"));
    }

    [Theory]
    [InlineData("198.51.100.0/24", 24, null)]
    [InlineData("198.51.100.0/24", 16, "16 is shorter than /24, the widest block of 198.51.100.0/24 in IPAddressPool pool")]
    [InlineData("198.51.100.10-198.51.100.99", 27, null)]
    [InlineData("198.51.100.10-198.51.100.99", 26, "26 is shorter than /27, the widest block of 198.51.100.10-198.51.100.99 in IPAddressPool pool")]
    [InlineData("198.51.100.7/32", 32, null)]
    [InlineData("0.0.0.0/0", 1, null)]
    public void Parse_AggregationLength_MayNotBeShorterThanAPoolsWidestBlock(string addresses, int length, string? reason)
    {
        var result = Parse(
            pools: [Objects.Pool($$"""{"addresses":["{{addresses}}"]}""")],
            bgp: [Objects.Bgp($$"""{"aggregationLength":{{length}}}""")]);

        if (reason is null)
        {
            Assert.Empty(result.Errors);
            Assert.Single(result.Config.BgpAdvertisements);
        }
        else
        {
            Assert.Empty(result.Config.BgpAdvertisements);
            Assert.Equal([new ValidationError("spec.aggregationLength", reason)], result.ErrorsFor("BGPAdvertisement", "bgp"));
        }
    }

    [Theory]
    [InlineData("2001:db8::/64", 64, null)]
    [InlineData("2001:db8::/64", 48, "48 is shorter than /64, the widest block of 2001:db8::/64 in IPAddressPool pool")]
    [InlineData("2001:db8::1-2001:db8::ffff", 113, null)]
    [InlineData("2001:db8::1-2001:db8::ffff", 112, "112 is shorter than /113, the widest block of 2001:db8::1-2001:db8::ffff in IPAddressPool pool")]
    [InlineData("::/0", 1, null)]
    public void Parse_AggregationLengthV6_AppliesToIPv6Entries(string addresses, int length, string? reason)
    {
        var result = Parse(
            pools: [Objects.Pool($$"""{"addresses":["198.51.100.0/24","{{addresses}}"]}""")],
            bgp: [Objects.Bgp($$"""{"aggregationLength":24,"aggregationLengthV6":{{length}}}""")]);

        Assert.Equal(
            reason is null ? [] : [new ValidationError("spec.aggregationLengthV6", reason)],
            result.ErrorsFor("BGPAdvertisement", "bgp"));
    }

    [Fact]
    public void Parse_AggregationCheck_IgnoresPoolsTheAdvertisementDoesNotSelect()
    {
        var result = Parse(
            pools: [Objects.Pool("""{"addresses":["198.51.100.0/24"]}""", "wide"), Objects.Pool("""{"addresses":["203.0.113.0/28"]}""", "narrow")],
            bgp: [Objects.Bgp("""{"ipAddressPools":["narrow"],"aggregationLength":28}""")]);

        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Parse_TwoPeersForTheSameSession_RejectsTheLaterOne()
    {
        var result = Parse(peers:
        [
            Objects.Peer("""{"myASN":64512,"peerASN":64513,"peerAddress":"198.51.100.1"}""", "a"),
            Objects.Peer("""{"myASN":64512,"peerASN":64514,"peerAddress":"198.51.100.1","peerPort":179}""", "b"),
            Objects.Peer("""{"myASN":64512,"peerASN":64513,"peerAddress":"198.51.100.1","vrf":"red"}""", "c"),
            Objects.Peer("""{"myASN":64512,"peerASN":64513,"peerAddress":"198.51.100.1","nodeSelectors":[{"matchLabels":{"rack":"r1"}}]}""", "d"),
        ]);

        Assert.Equal(["a", "c", "d"], result.Config.Peers.Select(p => p.Name));
        Assert.Equal(
            [new ValidationError("spec.peerAddress", "BGPPeer a already peers with 198.51.100.1 port 179 in the default VRF from the same nodes")],
            result.ErrorsFor("BGPPeer", "b"));
    }

    [Fact]
    public void Parse_SamePoolNameInTwoNamespaces_KeepsTheFirst()
    {
        var other = Objects.Pool("""{"addresses":["203.0.113.0/24"]}""", "pool");
        other.Metadata.NamespaceProperty = "zz-other";

        var result = Parse(pools: [other, Objects.Pool("""{"addresses":["198.51.100.0/24"]}""", "pool")]);

        Assert.Equal("198.51.100.0/24", Assert.Single(result.Config.Pools).Ranges[0].ToString());
        var rejected = Assert.Single(result.Errors);
        Assert.Equal("zz-other", rejected.Namespace);
        Assert.Equal("metadata.name", Assert.Single(rejected.Errors).Field);
    }

    private static IEnumerable<string> Describe(BareLbConfig config) =>
        config.Pools.Select(p => $"{p.Name}: {string.Join(", ", p.Ranges)}");

    private sealed class ObjectErrorsComparer : IEqualityComparer<ObjectErrors>
    {
        public static readonly ObjectErrorsComparer Instance = new();

        public bool Equals(ObjectErrors? x, ObjectErrors? y) =>
            x is not null && y is not null && x.Kind == y.Kind && x.Namespace == y.Namespace && x.Name == y.Name && x.Errors.SequenceEqual(y.Errors);

        public int GetHashCode(ObjectErrors obj) => HashCode.Combine(obj.Kind, obj.Name);
    }
}

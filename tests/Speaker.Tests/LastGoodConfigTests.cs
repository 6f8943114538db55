using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Speaker.Planning;
using static BareLb.Speaker.Tests.ConfigObjects;

namespace BareLb.Speaker.Tests;

public sealed class LastGoodConfigTests
{
    /// <summary>The speaker's view of the configuration objects at one moment; each step of a test is a new one.</summary>
    private sealed record Objects(IPAddressPool[] Pools, L2Advertisement[] L2, BGPPeer[] Peers, BGPAdvertisement[] Bgp, Community[] Communities)
    {
        public ConfigParseResult ParseWith(LastGoodConfig lastGood) => lastGood.Parse(Pools, L2, Peers, Bgp, Communities);
    }

    private static Objects Valid(Action<BGPPeerSpec>? peer = null, Action<BGPAdvertisementSpec>? bgp = null, string poolRange = "198.51.100.0/24",
        (string, string)[]? aliases = null) =>
        new([Pool("main", poolRange)], [L2Adv("l2")], [Peer("router", peer)],
            [BgpAdv("main-bgp", a => { a.Communities = ["gold"]; bgp?.Invoke(a); })], [Community("names", aliases ?? [("gold", "65000:100")])]);

    [Fact]
    public void Parse_PeerEditedInvalid_PreviousVersionKeptAndErrorReported()
    {
        var lastGood = new LastGoodConfig();
        Assert.Empty(Valid(peer: p => p.HoldTime = "30s").ParseWith(lastGood).Errors);

        var result = Valid(peer: p => p.HoldTime = "2s").ParseWith(lastGood);

        Assert.Equal(TimeSpan.FromSeconds(30), Assert.Single(result.Config.Peers).HoldTime);
        var error = Assert.Single(result.ErrorsFor("BGPPeer", "router"));
        Assert.Equal("spec.holdTime", error.Field);
        Assert.Single(result.Errors);
    }

    [Fact]
    public void Parse_PeerEditedInvalid_PlanStillHasTheSessionAndItsRoutes()
    {
        var lastGood = new LastGoodConfig();
        var node = new NodeInfo("a", new Dictionary<string, string>(), InternalAddresses: [System.Net.IPAddress.Parse("203.0.113.10")]);
        var service = Service("web", "Cluster", "198.51.100.1");
        var endpoints = new Dictionary<string, ServiceEndpoints> { ["demo/web"] = new(new HashSet<string> { "a" }, true) };
        BgpPlan PlanOf(ConfigParseResult parsed) =>
            BgpPlanner.Plan(new BgpPlanInput(node, parsed.Config, [service], endpoints, null, _ => null, false));
        var before = PlanOf(Valid().ParseWith(lastGood));

        var after = PlanOf(Valid(peer: p => p.PeerASN = -5).ParseWith(lastGood));

        Assert.Equal(before.Peers.Select(p => (p.Name, p.Options)), after.Peers.Select(p => (p.Name, p.Options)));
        Assert.Equal(Assert.Single(before.Peers).Routes, Assert.Single(after.Peers).Routes);
        Assert.Single(after.Peers[0].Routes);
    }

    [Fact]
    public void Parse_AdvertisementEditedInvalid_PreviousVersionKept()
    {
        var lastGood = new LastGoodConfig();
        Valid(bgp: a => (a.AggregationLength, a.LocalPref) = (28, 150)).ParseWith(lastGood);

        var result = Valid(bgp: a => (a.AggregationLength, a.LocalPref) = (40, 300)).ParseWith(lastGood);

        var advertisement = Assert.Single(result.Config.BgpAdvertisementsFor("main"));
        Assert.Equal((28, 150u), (advertisement.AggregationLength, advertisement.LocalPref));
        Assert.Equal("spec.aggregationLength", Assert.Single(result.ErrorsFor("BGPAdvertisement", "main-bgp")).Field);
    }

    [Fact]
    public void Parse_PoolEditedInvalid_PreviousRangesKeptAndAdvertisementsStillApply()
    {
        var lastGood = new LastGoodConfig();
        Valid(poolRange: "198.51.100.0/24").ParseWith(lastGood);

        var result = Valid(poolRange: "198.51.100.0/33").ParseWith(lastGood);

        var pool = Assert.Single(result.Config.Pools);
        Assert.True(pool.Ranges.Single().Contains(System.Net.IPAddress.Parse("198.51.100.200")));
        Assert.Single(result.Config.BgpAdvertisementsFor("main"));
        Assert.Single(result.Config.L2AdvertisementsFor("main"));
        Assert.NotEmpty(result.ErrorsFor("IPAddressPool", "main"));
    }

    [Fact]
    public void Parse_CommunityEditedInvalid_AliasStillResolvesForTheAdvertisement()
    {
        var lastGood = new LastGoodConfig();
        Valid(aliases: [("gold", "65000:100")]).ParseWith(lastGood);

        var result = Valid(aliases: [("gold", "65000:999999")]).ParseWith(lastGood);

        Assert.Equal(BgpCommunity.Standard(65000, 100), result.Config.CommunityAliases["gold"]);
        Assert.Equal([BgpCommunity.Standard(65000, 100)], Assert.Single(result.Config.BgpAdvertisementsFor("main")).Communities);
        Assert.NotEmpty(result.ErrorsFor("Community", "names"));
        // The advertisement fails only through the alias; it is reported too, and its last good version applies.
        Assert.NotEmpty(result.ErrorsFor("BGPAdvertisement", "main-bgp"));
    }

    [Fact]
    public void Parse_L2AdvertisementEditedInvalid_PreviousVersionKept()
    {
        var lastGood = new LastGoodConfig();
        var good = Valid();
        good.L2[0].Spec.Interfaces = ["eth1"];
        good.ParseWith(lastGood);
        var bad = Valid();
        bad.L2[0].Spec.Interfaces = ["eth1", "eth1"];

        var result = bad.ParseWith(lastGood);

        Assert.Equal(["eth1"], Assert.Single(result.Config.L2AdvertisementsFor("main")).Interfaces);
        Assert.NotEmpty(result.ErrorsFor("L2Advertisement", "l2"));
    }

    [Fact]
    public void Parse_SeveralValidVersionsThenInvalid_TheLatestValidKept()
    {
        var lastGood = new LastGoodConfig();
        Valid(peer: p => p.HoldTime = "30s").ParseWith(lastGood);
        Valid(peer: p => p.HoldTime = "60s").ParseWith(lastGood);
        Valid(peer: p => p.HoldTime = "2s").ParseWith(lastGood);

        var result = Valid(peer: p => p.HoldTime = "1s").ParseWith(lastGood);

        Assert.Equal(TimeSpan.FromSeconds(60), Assert.Single(result.Config.Peers).HoldTime);
        Assert.NotEmpty(result.ErrorsFor("BGPPeer", "router"));
    }

    [Fact]
    public void Parse_InvalidEditCorrected_NewVersionApplies()
    {
        var lastGood = new LastGoodConfig();
        Valid(peer: p => p.HoldTime = "30s").ParseWith(lastGood);
        Valid(peer: p => p.HoldTime = "2s").ParseWith(lastGood);

        var result = Valid(peer: p => p.HoldTime = "9s").ParseWith(lastGood);

        Assert.Empty(result.Errors);
        Assert.Equal(TimeSpan.FromSeconds(9), Assert.Single(result.Config.Peers).HoldTime);
    }

    [Fact]
    public void Parse_DeletedObject_DisappearsAndIsNotRevivedByAnInvalidRecreate()
    {
        var lastGood = new LastGoodConfig();
        var withTwo = Valid() with { Peers = [Peer("router"), Peer("second", p => p.PeerAddress = "203.0.113.2")] };
        Assert.Equal(2, withTwo.ParseWith(lastGood).Config.Peers.Count);

        var deleted = Valid().ParseWith(lastGood);
        var recreatedInvalid = (Valid() with { Peers = [Peer("router"), Peer("second", p => p.PeerAddress = "not-an-address")] }).ParseWith(lastGood);

        Assert.Equal(["router"], deleted.Config.Peers.Select(p => p.Name));
        Assert.Empty(deleted.Errors);
        Assert.Equal(["router"], recreatedInvalid.Config.Peers.Select(p => p.Name));
        Assert.NotEmpty(recreatedInvalid.ErrorsFor("BGPPeer", "second"));
    }

    [Fact]
    public void Parse_DeletedPool_AdvertisementsNoLongerApply()
    {
        var lastGood = new LastGoodConfig();
        Valid().ParseWith(lastGood);

        var result = (Valid() with { Pools = [] }).ParseWith(lastGood);

        Assert.Empty(result.Config.Pools);
        Assert.Empty(result.Config.BgpAdvertisementsFor("main"));
        Assert.Empty(result.Errors);
    }

    [Fact]
    public void Parse_NeverValidObject_AbsentWithItsError()
    {
        var lastGood = new LastGoodConfig();
        var objects = Valid() with { Peers = [Peer("router"), Peer("broken", p => (p.PeerAddress, p.MyASN) = ("203.0.113.2", null))] };

        var first = objects.ParseWith(lastGood);
        var again = objects.ParseWith(lastGood);

        foreach (var result in new[] { first, again })
        {
            Assert.Equal(["router"], result.Config.Peers.Select(p => p.Name));
            Assert.Equal("spec.myASN", Assert.Single(result.ErrorsFor("BGPPeer", "broken")).Field);
        }
    }

    private static Objects TwoPeers(string aAddress, string bAddress = "203.0.113.2", string? cHoldTime = null) => Valid() with
    {
        Peers =
        [
            Peer("a", p => p.PeerAddress = aAddress),
            Peer("b", p => p.PeerAddress = bAddress),
            Peer("c", p => (p.PeerAddress, p.HoldTime) = ("203.0.113.3", cHoldTime)),
        ],
    };

    private static string Sessions(ConfigParseResult result) =>
        string.Join(" ", result.Config.Peers.Select(p => $"{p.Name}={p.Address}{(p.HoldTime is { } h ? $"/{h.TotalSeconds}s" : "")}"));

    [Fact]
    public void Parse_EditDuplicatesAnUnchangedPeersSession_TheEditIsHeldBackNotTheUnchangedPeer()
    {
        var lastGood = new LastGoodConfig();
        TwoPeers("203.0.113.1").ParseWith(lastGood);

        // "a" sorts first, so the parser reports "b" as the duplicate: yet "b" was not touched.
        var result = TwoPeers("203.0.113.2").ParseWith(lastGood);

        Assert.Equal("a=203.0.113.1 b=203.0.113.2 c=203.0.113.3", Sessions(result));
        Assert.NotEmpty(result.Errors);
    }

    [Fact]
    public void Parse_NewPeerDuplicatingAnExistingOne_ExistingKeptNewAbsent()
    {
        var lastGood = new LastGoodConfig();
        var before = Valid() with { Peers = [Peer("b", p => p.PeerAddress = "203.0.113.2")] };
        before.ParseWith(lastGood);

        var result = (before with { Peers = [Peer("a-copy", p => (p.PeerAddress, p.HoldTime) = ("203.0.113.2", "9s")), .. before.Peers] }).ParseWith(lastGood);

        Assert.Equal("b=203.0.113.2", Sessions(result));
    }

    [Fact]
    public void Parse_HeldBackEditAndAnUnrelatedValidEdit_TheUnrelatedOneApplies()
    {
        var lastGood = new LastGoodConfig();
        TwoPeers("203.0.113.1").ParseWith(lastGood);

        var result = TwoPeers("203.0.113.2", cHoldTime: "9s").ParseWith(lastGood);

        Assert.Equal("a=203.0.113.1 b=203.0.113.2 c=203.0.113.3/9s", Sessions(result));
    }

    [Fact]
    public void Parse_ConflictResolvedByTheUser_BothApply()
    {
        var lastGood = new LastGoodConfig();
        TwoPeers("203.0.113.1").ParseWith(lastGood);
        TwoPeers("203.0.113.2").ParseWith(lastGood);

        // The user moves "b" away: now "a"'s edit is fine.
        var result = TwoPeers("203.0.113.2", bAddress: "203.0.113.9").ParseWith(lastGood);

        Assert.Empty(result.Errors);
        Assert.Equal("a=203.0.113.2 b=203.0.113.9 c=203.0.113.3", Sessions(result));
    }

    [Fact]
    public void Parse_CommunityEditClashesWithAnUnchangedAlias_EditHeldBackAdvertisementsKeepTheirValues()
    {
        var lastGood = new LastGoodConfig();
        Community[] Communities(string aAlias) => [Community("a-names", (aAlias, "65000:1")), Community("b-names", ("silver", "65000:2"))];
        var before = Valid(bgp: a => a.Communities = ["gold", "silver"]) with { Communities = Communities("gold") };
        before.ParseWith(lastGood);

        var result = (before with { Communities = Communities("silver") }).ParseWith(lastGood);

        Assert.Equal(BgpCommunity.Standard(65000, 1), result.Config.CommunityAliases["gold"]);
        Assert.Equal(BgpCommunity.Standard(65000, 2), result.Config.CommunityAliases["silver"]);
        Assert.Equal([BgpCommunity.Standard(65000, 1), BgpCommunity.Standard(65000, 2)],
            Assert.Single(result.Config.BgpAdvertisementsFor("main")).Communities);
    }

    [Fact]
    public void Parse_ValidPoolEditInvalidatesAnUnchangedAdvertisement_PoolEditAppliesAsInTheController()
    {
        var lastGood = new LastGoodConfig();
        Valid(poolRange: "198.51.100.0/24", bgp: a => a.AggregationLength = 24).ParseWith(lastGood);

        // Narrower than the advertisement's aggregation: the advertisement is now invalid, the pool is not.
        var result = Valid(poolRange: "198.51.100.0/26", bgp: a => a.AggregationLength = 24).ParseWith(lastGood);

        var range = Assert.Single(Assert.Single(result.Config.Pools).Ranges);
        Assert.False(range.Contains(System.Net.IPAddress.Parse("198.51.100.100")));
        Assert.Empty(result.Config.BgpAdvertisementsFor("main"));
        Assert.Equal("spec.aggregationLength", Assert.Single(result.ErrorsFor("BGPAdvertisement", "main-bgp")).Field);
    }

    [Fact]
    public void Parse_InvalidEdit_OtherObjectsTakeTheirNewVersions()
    {
        var lastGood = new LastGoodConfig();
        var before = Valid() with { Peers = [Peer("router"), Peer("second", p => (p.PeerAddress, p.HoldTime) = ("203.0.113.2", "30s"))] };
        before.ParseWith(lastGood);
        var edited = Valid(peer: p => p.HoldTime = "2s");
        var after = edited with { Peers = [edited.Peers[0], Peer("second", p => (p.PeerAddress, p.HoldTime) = ("203.0.113.2", "45s"))] };

        var result = after.ParseWith(lastGood);

        Assert.Null(result.Config.Peers.Single(p => p.Name == "router").HoldTime);
        Assert.Equal(TimeSpan.FromSeconds(45), result.Config.Peers.Single(p => p.Name == "second").HoldTime);
        Assert.Equal(["router"], result.Errors.Select(e => e.Name));
    }
}

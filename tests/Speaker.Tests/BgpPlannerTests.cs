using System.Net;
using BareLb.Api;
using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Bgp;
using BareLb.Speaker.Planning;
using k8s.Models;
using static BareLb.Speaker.Tests.ConfigObjects;
using BgpCommunity = BareLb.Bgp.BgpCommunity;

namespace BareLb.Speaker.Tests;

public sealed class BgpPlannerTests
{
    private static readonly IReadOnlyDictionary<string, string> Rack1 = new Dictionary<string, string> { ["rack"] = "1" };
    private static readonly IReadOnlyDictionary<string, string> Rack2 = new Dictionary<string, string> { ["rack"] = "2" };
    private static readonly IPAddress NodeV4 = IPAddress.Parse("203.0.113.10");
    private static readonly IPAddress NodeV6 = IPAddress.Parse("2001:db8::10");

    private static readonly IPAddressPool MainPool = Pool("main", "198.51.100.0/24", "2001:db8:1::/64");

    private static BareLbConfig Config(IPAddressPool[] pools, BGPPeer[] peers, BGPAdvertisement[] advertisements, Community[]? communities = null)
    {
        var result = ConfigParser.Parse(pools, [], peers, advertisements, communities ?? []);
        Assert.Empty(result.Errors);
        return result.Config;
    }

    private static BareLbConfig Simple(Action<BGPPeerSpec>? peer = null, Action<BGPAdvertisementSpec>? advertisement = null) =>
        Config([MainPool], [Peer("router", peer)], [BgpAdv("all", advertisement)]);

    private static NodeInfo Node(string name = "a", IReadOnlyDictionary<string, string>? labels = null, bool networkUnavailable = false,
        params IPAddress[] addresses) =>
        new(name, labels ?? Rack1, networkUnavailable, addresses.Length == 0 ? [NodeV4, NodeV6] : addresses);

    /// <summary>By default every Service has a ready endpoint on node "a".</summary>
    private static BgpPlanInput Input(BareLbConfig config, IEnumerable<V1Service> services, NodeInfo? node = null,
        IReadOnlyDictionary<string, ServiceEndpoints>? endpoints = null, Func<SecretKeyReference, string?>? password = null,
        bool restarted = false, string? loadBalancerClass = null)
    {
        var list = services.ToList();
        endpoints ??= list.ToDictionary(Key, _ => new ServiceEndpoints(new HashSet<string> { "a" }, true));
        return new BgpPlanInput(node ?? Node(), config, list, endpoints, loadBalancerClass,
            password ?? (_ => throw new InvalidOperationException("no passwordSecret expected")), restarted);
    }

    private static (BgpPlan Plan, List<string> Problems) Plan(BgpPlanInput input)
    {
        var problems = new List<string>();
        return (BgpPlanner.Plan(input, problems), problems);
    }

    private static string Key(V1Service service) => $"{service.Metadata.NamespaceProperty}/{service.Metadata.Name}";

    private static IReadOnlyList<BgpRoute> Routes(BgpPlan plan, string peer) => plan.Peers.Single(p => p.Name == peer).Routes;

    private static IPNetwork[] Prefixes(BgpPlan plan, string peer) => [.. Routes(plan, peer).Select(r => r.Prefix)];

    private static IPNetwork Net(string text) => IPNetwork.Parse(text);

    // --- Routes -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("198.51.100.77", 32, 128, "198.51.100.77/32")]
    [InlineData("198.51.100.77", 30, 128, "198.51.100.76/30")]
    [InlineData("198.51.100.77", 26, 128, "198.51.100.64/26")]
    [InlineData("198.51.100.77", 25, 128, "198.51.100.0/25")]
    [InlineData("198.51.100.77", 24, 128, "198.51.100.0/24")]
    [InlineData("2001:db8:1::1:77", 32, 128, "2001:db8:1::1:77/128")]
    [InlineData("2001:db8:1::1:77", 32, 125, "2001:db8:1::1:70/125")]
    [InlineData("2001:db8:1::1:77", 32, 112, "2001:db8:1::1:0/112")]
    [InlineData("2001:db8:1:0:ffff::1", 32, 71, "2001:db8:1:0:fe00::/71")]
    [InlineData("2001:db8:1::1:77", 32, 64, "2001:db8:1::/64")]
    public void Plan_AggregationLength_AddressMaskedToThePrefix(string address, int length, int lengthV6, string expected)
    {
        var config = Simple(advertisement: a => (a.AggregationLength, a.AggregationLengthV6) = (length, lengthV6));

        var (plan, problems) = Plan(Input(config, [Service("web", "Cluster", address)]));

        Assert.Empty(problems);
        Assert.Equal([Net(expected)], Prefixes(plan, "router"));
    }

    [Fact]
    public void Plan_DefaultAggregation_HostRoutes()
    {
        var (plan, _) = Plan(Input(Simple(), [Service("web", "Cluster", "198.51.100.7", "2001:db8:1::7")]));

        Assert.Equal([Net("198.51.100.7/32"), Net("2001:db8:1::7/128")], Prefixes(plan, "router").Order(PrefixOrder));
    }

    [Fact]
    public void Plan_ServicesInOneAggregate_OneRouteAndEveryServiceListed()
    {
        var config = Simple(advertisement: a => a.AggregationLength = 24);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1"), Service("dns", "Cluster", "198.51.100.2")]));

        Assert.Equal([Net("198.51.100.0/24")], Prefixes(plan, "router"));
        Assert.Equal(["demo/dns", "demo/web"], plan.PeersByService.Keys.Order(StringComparer.Ordinal));
        Assert.All(plan.PeersByService.Values, peers => Assert.Equal(["router"], peers));
    }

    [Fact]
    public void Plan_TwoAdvertisementsWithDifferentLengths_BothPrefixes()
    {
        var config = Config([MainPool], [Peer("router")], [BgpAdv("host"), BgpAdv("block", a => a.AggregationLength = 24)]);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.9")]));

        Assert.Equal([Net("198.51.100.0/24"), Net("198.51.100.9/32")], Prefixes(plan, "router").Order(PrefixOrder));
    }

    public static TheoryData<string, string[], (string, string)[], uint[], BgpLargeCommunity[]> CommunityCases => new()
    {
        { "standard", ["65000:100"], [], [(65000u << 16) | 100], [] },
        { "large", ["large:64500:1:2"], [], [], [new(64500, 1, 2)] },
        { "alias of a standard", ["gold"], [("gold", "65000:300")], [(65000u << 16) | 300], [] },
        { "alias of a large", ["bulk"], [("bulk", "large:4200000000:7:8")], [], [new(4200000000, 7, 8)] },
        { "mixed, in any order", ["large:1:2:3", "65001:2", "gold", "65000:1"], [("gold", "65535:65535")],
            [(65000u << 16) | 1, (65001u << 16) | 2, 0xFFFFFFFF], [new(1, 2, 3)] },
        { "alias and literal of one value: once", ["65000:100", "gold"], [("gold", "65000:100")], [(65000u << 16) | 100], [] },
        { "none", [], [], [], [] },
    };

    [Theory]
    [MemberData(nameof(CommunityCases))]
    public void Plan_Communities_StandardAndLargeFromLiteralsAndAliases(string why, string[] listed, (string, string)[] aliases,
        uint[] standard, BgpLargeCommunity[] large)
    {
        var config = Config([MainPool], [Peer("router")], [BgpAdv("all", a => a.Communities = [.. listed])],
            aliases.Length == 0 ? [] : [Community("names", aliases)]);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")]));

        var route = Assert.Single(Routes(plan, "router"));
        Assert.True(standard.SequenceEqual(route.Communities.Select(c => c.Value)), $"{why}: {string.Join(",", route.Communities)}");
        Assert.True(large.SequenceEqual(route.LargeCommunities), $"{why}: {string.Join(",", route.LargeCommunities)}");
    }

    [Fact]
    public void Plan_SeveralAdvertisementsOfOnePrefix_OneRouteWithAllCommunitiesAndHighestLocalPref()
    {
        var config = Config([MainPool], [Peer("router", p => p.PeerASN = 64500)],
        [
            BgpAdv("one", a => (a.Communities, a.LocalPref) = (["65000:2", "large:1:1:1"], 100)),
            BgpAdv("two", a => (a.Communities, a.LocalPref) = (["65000:1", "65000:2"], 200)),
        ]);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")]));

        var route = Assert.Single(Routes(plan, "router"));
        Assert.Equal([new BgpCommunity(65000, 1), new BgpCommunity(65000, 2)], route.Communities);
        Assert.Equal([new BgpLargeCommunity(1, 1, 1)], route.LargeCommunities);
        Assert.Equal(200u, route.LocalPreference);
    }

    [Theory]
    [InlineData("iBGP with localPref", 64500L, 150L, 150u)]
    [InlineData("eBGP with localPref", 64501L, 150L, null)]
    [InlineData("iBGP, localPref unset", 64500L, null, null)]
    [InlineData("iBGP, localPref 0 (unset in MetalLB)", 64500L, 0L, null)]
    public void Plan_LocalPref_OnlyOnIbgpSessions(string why, long peerAsn, long? localPref, uint? expected)
    {
        var config = Simple(peer: p => p.PeerASN = peerAsn, advertisement: a => a.LocalPref = localPref);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")]));

        Assert.True(expected == Assert.Single(Routes(plan, "router")).LocalPreference, why);
    }

    [Fact]
    public void Plan_LocalPrefOnMixedPeers_IbgpGetsItEbgpDoesNot()
    {
        var config = Config([MainPool],
            [Peer("ebgp"), Peer("ibgp", p => (p.PeerASN, p.PeerAddress) = (64500, "203.0.113.2"))],
            [BgpAdv("all", a => a.LocalPref = 300)]);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")]));

        Assert.Null(Assert.Single(Routes(plan, "ebgp")).LocalPreference);
        Assert.Equal(300u, Assert.Single(Routes(plan, "ibgp")).LocalPreference);
    }

    [Fact]
    public void Plan_AdvertisementPeers_LimitWhichPeersGetTheRoute()
    {
        var config = Config([MainPool, Pool("edge", "203.0.113.128/25")],
            [Peer("core"), Peer("edge-router", p => p.PeerAddress = "203.0.113.2")],
            [BgpAdv("to-core", a => (a.IPAddressPools, a.Peers) = (["main"], ["core"])), BgpAdv("edge-everywhere", a => a.IPAddressPools = ["edge"])]);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1"), Service("gw", "Cluster", "203.0.113.129")]));

        Assert.Equal(["core", "edge-router"], plan.Peers.Select(p => p.Name));
        Assert.Equal([Net("198.51.100.1/32"), Net("203.0.113.129/32")], Prefixes(plan, "core").Order(PrefixOrder));
        Assert.Equal([Net("203.0.113.129/32")], Prefixes(plan, "edge-router"));
        Assert.Equal(["core"], plan.PeersByService["demo/web"]);
        Assert.Equal(["core", "edge-router"], plan.PeersByService["demo/gw"]);
    }

    [Fact]
    public void Plan_AdvertisementPeersNamingAPeerOfOtherNodes_NothingForIt()
    {
        var config = Config([MainPool], [Peer("rack2-router", p => p.NodeSelectors = [Labels("rack", "2")])],
            [BgpAdv("all", a => a.Peers = ["rack2-router"])]);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")], Node(labels: Rack1)));

        Assert.Empty(plan.Peers);
        Assert.Empty(plan.PeersByService);
    }

    public static TheoryData<string, IReadOnlyDictionary<string, string>, string[]> PeerSelectorCases => new()
    {
        { "rack 1 node", Rack1, ["everywhere", "rack1-router", "rack1-or-2"] },
        { "rack 2 node", Rack2, ["everywhere", "rack1-or-2"] },
        { "unlabelled node", new Dictionary<string, string>(), ["everywhere"] },
        { "rack 3 node", new Dictionary<string, string> { ["rack"] = "3" }, ["everywhere"] },
    };

    [Theory]
    [MemberData(nameof(PeerSelectorCases))]
    public void Plan_PeerNodeSelectors_SessionsOnlyWhereSelected(string why, IReadOnlyDictionary<string, string> labels, string[] expected)
    {
        var config = Config([MainPool],
        [
            Peer("everywhere"),
            Peer("rack1-router", p => (p.PeerAddress, p.NodeSelectors) = ("203.0.113.2", [Labels("rack", "1")])),
            Peer("rack1-or-2", p => (p.PeerAddress, p.NodeSelectors) = ("203.0.113.3",
                [new LabelSelector { MatchExpressions = [new LabelSelectorRequirement { Key = "rack", Operator = "In", Values = ["1", "2"] }] }])),
        ], [BgpAdv("all")]);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")], Node(labels: labels)));

        Assert.True(expected.Order(StringComparer.Ordinal).SequenceEqual(plan.Peers.Select(p => p.Name)), why);
        Assert.All(plan.Peers, p => Assert.Equal([Net("198.51.100.1/32")], p.Routes.Select(r => r.Prefix)));
        Assert.True(expected.Order(StringComparer.Ordinal).SequenceEqual(plan.PeersByService["demo/web"]), why);
    }

    [Fact]
    public void Plan_AdvertisementNotSelectingTheNode_SessionsStayWithoutRoutes()
    {
        var config = Simple(advertisement: a => a.NodeSelectors = [Labels("rack", "2")]);

        var onRack1 = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")], Node(labels: Rack1))).Plan;
        var onRack2 = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")], Node(labels: Rack2))).Plan;

        Assert.Empty(Routes(onRack1, "router"));
        Assert.Empty(onRack1.PeersByService);
        Assert.Equal([Net("198.51.100.1/32")], Prefixes(onRack2, "router"));
    }

    [Fact]
    public void Plan_NoPeerSelectsTheNode_EmptyPlan()
    {
        var config = Simple(peer: p => p.NodeSelectors = [Labels("rack", "2")]);

        var (plan, problems) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")], Node(labels: Rack1)));

        Assert.Empty(plan.Peers);
        Assert.Empty(plan.PeersByService);
        Assert.Empty(problems);
    }

    // --- Who may advertise ----------------------------------------------------------------------------------------

    public static TheoryData<string, string, ServiceEndpoints?, bool> EndpointCases => new()
    {
        { "Cluster, ready endpoint on another node", "Cluster", new ServiceEndpoints(new HashSet<string> { "b" }, true), true },
        { "Cluster, ready endpoint here", "Cluster", new ServiceEndpoints(new HashSet<string> { "a" }, true), true },
        { "Cluster, ready endpoint without a node name", "Cluster", new ServiceEndpoints(new HashSet<string>(), true), true },
        { "Cluster, nothing ready", "Cluster", ServiceEndpoints.None, false },
        { "Cluster, no EndpointSlice at all", "Cluster", null, false },
        { "Local, ready endpoint here", "Local", new ServiceEndpoints(new HashSet<string> { "a", "b" }, true), true },
        { "Local, ready endpoint only on another node", "Local", new ServiceEndpoints(new HashSet<string> { "b" }, true), false },
        { "Local, ready endpoint without a node name", "Local", new ServiceEndpoints(new HashSet<string>(), true), false },
        { "Local, nothing ready", "Local", ServiceEndpoints.None, false },
    };

    [Theory]
    [MemberData(nameof(EndpointCases))]
    public void Plan_ExternalTrafficPolicy_DecidesWhetherThisNodeAdvertises(string why, string policy, ServiceEndpoints? endpoints, bool advertised)
    {
        var service = Service("web", policy, "198.51.100.1");
        var byService = endpoints is null ? new Dictionary<string, ServiceEndpoints>() : new Dictionary<string, ServiceEndpoints> { ["demo/web"] = endpoints };

        var (plan, _) = Plan(Input(Simple(), [service], Node("a"), byService));

        Assert.True(advertised == (Routes(plan, "router").Count == 1), why);
        Assert.True(advertised == plan.PeersByService.ContainsKey("demo/web"), why);
        Assert.Single(plan.Peers); // the session itself stays
    }

    public static TheoryData<string, NodeInfo> ExcludedNodes => new()
    {
        { "NetworkUnavailable", Node(networkUnavailable: true) },
        { "exclude-from-external-load-balancers label", Node(labels: new Dictionary<string, string> { ["rack"] = "1", [NodeInfo.ExcludeFromExternalLoadBalancers] = "" }) },
    };

    [Theory]
    [MemberData(nameof(ExcludedNodes))]
    public void Plan_ExcludedNode_AdvertisesNothing(string why, NodeInfo node)
    {
        var (plan, _) = Plan(Input(Simple(), [Service("web", "Cluster", "198.51.100.1")], node));

        Assert.True(plan.Peers.All(p => p.Routes.Count == 0), why);
        Assert.Empty(plan.PeersByService);
    }

    [Fact]
    public void NodeInfoFrom_NetworkUnavailableConditionAndInternalIps()
    {
        var node = NodeInfo.From(new V1Node
        {
            Metadata = new V1ObjectMeta { Name = "a", Labels = new Dictionary<string, string> { ["rack"] = "1" } },
            Status = new V1NodeStatus
            {
                Conditions = [new V1NodeCondition { Type = "NetworkUnavailable", Status = "True" }, new V1NodeCondition { Type = "Ready", Status = "True" }],
                Addresses =
                [
                    new V1NodeAddress { Type = "Hostname", Address = "a" },
                    new V1NodeAddress { Type = "ExternalIP", Address = "198.51.100.99" },
                    new V1NodeAddress { Type = "InternalIP", Address = "2001:db8::10" },
                    new V1NodeAddress { Type = "InternalIP", Address = "203.0.113.10" },
                ],
            },
        });

        Assert.True(node.NetworkUnavailable);
        Assert.Equal([NodeV6, NodeV4], node.Addresses);
        Assert.Equal(NodeV6, node.InternalAddress);
    }

    public static TheoryData<string, Func<V1Service, V1Service?>> IgnoredServices => new()
    {
        { "deleted", _ => null },
        { "now ClusterIP", s => Edit(s, () => s.Spec.Type = "ClusterIP") },
        { "being deleted", s => Edit(s, () => s.Metadata.DeletionTimestamp = new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Utc)) },
        { "handed to another loadBalancerClass", s => Edit(s, () => s.Spec.LoadBalancerClass = "example.com/other") },
        { "address removed from its status", s => Edit(s, () => s.Status.LoadBalancer.Ingress = []) },
        { "Local, and no local endpoint", s => Edit(s, () => s.Spec.ExternalTrafficPolicy = "Local") },
    };

    private static V1Service Edit(V1Service service, Action change)
    {
        change();
        return service;
    }

    [Theory]
    [MemberData(nameof(IgnoredServices))]
    public void Plan_ServiceStopsQualifying_RouteWithdrawnInTheNextPlan(string why, Func<V1Service, V1Service?> change)
    {
        var web = Service("web", "Cluster", "198.51.100.1");
        var other = Service("other", "Cluster", "198.51.100.2");
        var endpoints = new Dictionary<string, ServiceEndpoints>
        {
            ["demo/web"] = new(new HashSet<string> { "b" }, true),
            ["demo/other"] = new(new HashSet<string> { "b" }, true),
        };
        var before = Plan(Input(Simple(), [web, other], endpoints: endpoints)).Plan;

        var changed = change(web);
        var after = Plan(Input(Simple(), changed is null ? [other] : [changed, other], endpoints: endpoints)).Plan;

        Assert.Equal([Net("198.51.100.1/32"), Net("198.51.100.2/32")], Prefixes(before, "router").Order(PrefixOrder));
        Assert.True(Prefixes(after, "router").SequenceEqual([Net("198.51.100.2/32")]), why);
        Assert.Equal(["demo/other"], after.PeersByService.Keys);
    }

    [Fact]
    public void Plan_LoadBalancerClass_OnlyServicesOfThatClass()
    {
        var mine = Service("mine", "Cluster", "198.51.100.1");
        mine.Spec.LoadBalancerClass = "barelb.io/bgp";
        var unclassed = Service("unclassed", "Cluster", "198.51.100.2");

        var (plan, _) = Plan(Input(Simple(), [mine, unclassed], loadBalancerClass: "barelb.io/bgp"));

        Assert.Equal([Net("198.51.100.1/32")], Prefixes(plan, "router"));
    }

    [Fact]
    public void Plan_PoolsWithoutBgpAdvertisementOrNoPool_NotAdvertised()
    {
        var config = Config([MainPool, Pool("l2-only", "203.0.113.128/25")], [Peer("router")], [BgpAdv("main", a => a.IPAddressPools = ["main"])]);

        var (plan, _) = Plan(Input(config,
            [Service("web", "Cluster", "198.51.100.1"), Service("l2", "Cluster", "203.0.113.130"), Service("stray", "Cluster", "203.0.113.5")]));

        Assert.Equal([Net("198.51.100.1/32")], Prefixes(plan, "router"));
        Assert.Equal(["demo/web"], plan.PeersByService.Keys);
    }

    [Fact]
    public void Plan_PoolSelectedByLabels_Advertised()
    {
        var pub = Pool("public", "198.51.100.0/24");
        pub.Metadata.Labels = new Dictionary<string, string> { ["exposure"] = "internet" };
        var config = Config([pub, Pool("private", "203.0.113.128/25")], [Peer("router")],
            [BgpAdv("internet", a => a.IPAddressPoolSelectors = [Labels("exposure", "internet")])]);

        var (plan, _) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1"), Service("db", "Cluster", "203.0.113.130")]));

        Assert.Equal([Net("198.51.100.1/32")], Prefixes(plan, "router"));
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("a-first", false)]
    [InlineData("b-second", true)]
    [InlineData("no-such-pool", false)]
    public void Plan_AnnotatedPool_DecidesTheAdvertisementWhenItHoldsTheAddress(string? annotated, bool advertised)
    {
        var config = Config([Pool("a-first", "198.51.100.0/24"), Pool("b-second", "198.51.100.0/28")], [Peer("router")],
            [BgpAdv("second-only", a => a.IPAddressPools = ["b-second"])]);
        var service = Service("web", "Cluster", "198.51.100.1");
        if (annotated is not null)
        {
            service.Metadata.Annotations = new Dictionary<string, string> { [Annotations.IPAllocatedFromPool] = annotated };
        }

        var (plan, _) = Plan(Input(config, [service]));

        Assert.Equal(advertised, Routes(plan, "router").Count == 1);
    }

    // --- Sessions -------------------------------------------------------------------------------------------------

    [Fact]
    public void Plan_EveryPeerField_MappedToTheSessionOptions()
    {
        var config = Simple(peer: p =>
        {
            p.MyASN = 4200000001;
            p.PeerASN = 64501;
            p.PeerAddress = "203.0.113.1";
            p.PeerPort = 1179;
            p.SourceAddress = "203.0.113.50";
            p.HoldTime = "30s";
            p.KeepaliveTime = "7s";
            p.ConnectTime = "5s";
            p.RouterID = "203.0.113.99";
            p.Password = "s3cret";
            p.EbgpMultiHop = true;
            p.EnableGracefulRestart = true;
        });

        var (plan, problems) = Plan(Input(config, [], restarted: true));

        Assert.Empty(problems);
        var expected = new BgpSessionOptions
        {
            LocalAsn = 4200000001,
            PeerAsn = 64501,
            PeerAddress = IPAddress.Parse("203.0.113.1"),
            PeerPort = 1179,
            SourceAddress = IPAddress.Parse("203.0.113.50"),
            HoldTime = TimeSpan.FromSeconds(30),
            KeepaliveTime = TimeSpan.FromSeconds(7),
            ConnectRetryTime = TimeSpan.FromSeconds(5),
            RouterId = IPAddress.Parse("203.0.113.99"),
            Password = "s3cret",
            EbgpMultiHop = true,
            GracefulRestart = true,
            Restarted = true,
            NextHopIPv4 = IPAddress.Parse("203.0.113.50"),
            NextHopIPv6 = NodeV6,
        };
        var session = Assert.Single(plan.Peers);
        Assert.Equal("router", session.Name);
        Assert.Equal(expected, session.Options);
        session.Options.Validate();
    }

    [Fact]
    public void Plan_MinimalPeer_Defaults()
    {
        var (plan, _) = Plan(Input(Simple(), []));

        var options = Assert.Single(plan.Peers).Options;
        Assert.Equal(new BgpSessionOptions
        {
            LocalAsn = 64500,
            PeerAsn = 64501,
            PeerAddress = IPAddress.Parse("203.0.113.1"),
            PeerPort = 179,
            HoldTime = BgpPlanner.DefaultHoldTime,
            ConnectRetryTime = BgpPlanner.DefaultConnectTime,
            RouterId = NodeV4,
            NextHopIPv4 = NodeV4,
            NextHopIPv6 = NodeV6,
        }, options);
        Assert.Equal(TimeSpan.FromSeconds(90), options.HoldTime);
        options.Validate();
    }

    [Theory]
    [InlineData("hold time alone: keepalive a third", "90s", null, 90, 30)]
    [InlineData("keepalive alone: hold three times it", null, "20s", 60, 20)]
    [InlineData("both", "9s", "3s", 9, 3)]
    [InlineData("hold time 0: no keepalives", "0s", null, 0, 0)]
    public void Plan_Timers_FromTheBgpPeer(string why, string? hold, string? keepalive, int holdSeconds, int keepaliveSeconds)
    {
        var (plan, _) = Plan(Input(Simple(peer: p => (p.HoldTime, p.KeepaliveTime) = (hold, keepalive)), []));

        var options = Assert.Single(plan.Peers).Options;
        Assert.True(TimeSpan.FromSeconds(holdSeconds) == options.HoldTime, why);
        Assert.True(TimeSpan.FromSeconds(keepaliveSeconds) == options.KeepaliveTime, why);
    }

    [Theory]
    [InlineData(true, true, true)]
    [InlineData(true, false, false)]
    [InlineData(false, true, false)]
    [InlineData(false, false, false)]
    public void Plan_Restarted_OnlyTellsGracefulRestartPeers(bool restarted, bool gracefulRestart, bool expected)
    {
        var (plan, _) = Plan(Input(Simple(peer: p => p.EnableGracefulRestart = gracefulRestart), [], restarted: restarted));

        var options = Assert.Single(plan.Peers).Options;
        Assert.Equal(gracefulRestart, options.GracefulRestart);
        Assert.Equal(expected, options.Restarted);
    }

    public static TheoryData<string, IPAddress[], Action<BGPPeerSpec>, IPAddress?, IPAddress?, IPAddress> NextHopCases => new()
    {
        { "dual-stack node, no source", [NodeV4, NodeV6], _ => { }, NodeV4, NodeV6, NodeV4 },
        { "IPv6 listed first", [NodeV6, NodeV4], _ => { }, NodeV4, NodeV6, NodeV4 },
        { "IPv4 sourceAddress", [NodeV4, NodeV6], p => p.SourceAddress = "203.0.113.50",
            IPAddress.Parse("203.0.113.50"), NodeV6, IPAddress.Parse("203.0.113.50") },
        { "IPv6 peer with IPv6 sourceAddress", [NodeV4, NodeV6], p => (p.PeerAddress, p.SourceAddress) = ("2001:db8::1", "2001:db8::50"),
            NodeV4, IPAddress.Parse("2001:db8::50"), NodeV4 },
        { "routerID set", [NodeV4, NodeV6], p => p.RouterID = "203.0.113.99", NodeV4, NodeV6, IPAddress.Parse("203.0.113.99") },
        { "IPv6-only node, routerID set", [NodeV6], p => (p.PeerAddress, p.RouterID) = ("2001:db8::1", "203.0.113.99"),
            null, NodeV6, IPAddress.Parse("203.0.113.99") },
        { "IPv6-only node, IPv4 sourceAddress", [NodeV6], p => p.SourceAddress = "203.0.113.50",
            IPAddress.Parse("203.0.113.50"), NodeV6, IPAddress.Parse("203.0.113.50") },
    };

    [Theory]
    [MemberData(nameof(NextHopCases))]
    public void Plan_NextHopAndRouterId_FromSourceAddressElseTheNodesInternalIp(string why, IPAddress[] nodeAddresses,
        Action<BGPPeerSpec> peer, IPAddress? nextHop4, IPAddress? nextHop6, IPAddress routerId)
    {
        var (plan, problems) = Plan(Input(Simple(peer: peer), [Service("web", "Cluster", "198.51.100.1", "2001:db8:1::1")],
            Node(addresses: nodeAddresses)));

        Assert.True(problems.Count == 0, $"{why}: {string.Join("; ", problems)}");
        var session = Assert.Single(plan.Peers);
        Assert.True(Equals(nextHop4, session.Options.NextHopIPv4), $"{why}: IPv4 next hop {session.Options.NextHopIPv4}");
        Assert.True(Equals(nextHop6, session.Options.NextHopIPv6), $"{why}: IPv6 next hop {session.Options.NextHopIPv6}");
        Assert.True(Equals(routerId, session.Options.RouterId), $"{why}: router ID {session.Options.RouterId}");
        // Routes carry no next hop of their own: the session's per-family one applies.
        Assert.All(session.Routes, r => Assert.Null(r.NextHop));
        session.Options.Validate();
    }

    [Fact]
    public void Plan_PasswordSecret_ResolvedFromTheBgpPeersNamespace()
    {
        var asked = new List<SecretKeyReference>();
        var config = Simple(peer: p => p.PasswordSecret = new SecretReference { Name = "bgp-auth" });

        var (plan, problems) = Plan(Input(config, [], password: r =>
        {
            asked.Add(r);
            return "from-secret";
        }));

        Assert.Empty(problems);
        Assert.Equal([new SecretKeyReference(Namespace, "bgp-auth")], asked);
        Assert.Equal("from-secret", Assert.Single(plan.Peers).Options.Password);
    }

    [Fact]
    public void Plan_PasswordSecretMissing_NoUnauthenticatedSessionAndAProblem()
    {
        var config = Config([MainPool],
            [Peer("secured", p => p.PasswordSecret = new SecretReference { Name = "bgp-auth" }), Peer("open", p => p.PeerAddress = "203.0.113.2")],
            [BgpAdv("all")]);

        var (plan, problems) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")], password: _ => null));

        Assert.Equal(["open"], plan.Peers.Select(p => p.Name));
        Assert.Equal(["open"], plan.PeersByService["demo/web"]);
        var problem = Assert.Single(problems);
        Assert.StartsWith("BGPPeer secured: ", problem, StringComparison.Ordinal);
        Assert.Contains("barelb-system/bgp-auth", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Plan_LiteralPassword_SecretNotConsulted()
    {
        var (plan, _) = Plan(Input(Simple(peer: p => p.Password = "literal"), []));

        Assert.Equal("literal", Assert.Single(plan.Peers).Options.Password);
    }

    public static TheoryData<string, Action<BGPPeerSpec>, IPAddress[], string> UnsupportedPeers => new()
    {
        { "unnumbered", p => (p.PeerAddress, p.Interface) = (null, "eth1"), [NodeV4, NodeV6], "spec.interface" },
        { "dynamicASN", p => (p.PeerASN, p.DynamicASN) = (null, "external"), [NodeV4, NodeV6], "spec.dynamicASN" },
        { "VRF", p => p.Vrf = "red", [NodeV4, NodeV6], "spec.vrf" },
        { "no IPv4 for the BGP identifier", p => p.PeerAddress = "2001:db8::1", [NodeV6], "spec.routerID" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedPeers))]
    public void Plan_UnsupportedPeer_ReportedWithoutSessionOthersUnaffected(string why, Action<BGPPeerSpec> edit, IPAddress[] nodeAddresses, string hint)
    {
        var config = Config([MainPool], [Peer("odd", edit), Peer("good", p => (p.PeerAddress, p.RouterID) = ("2001:db8::2", "203.0.113.99"))],
            [BgpAdv("all")]);

        var (plan, problems) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")], Node(addresses: nodeAddresses)));

        var problem = Assert.Single(problems);
        Assert.True(problem.StartsWith("BGPPeer odd: ", StringComparison.Ordinal) && problem.Contains(hint, StringComparison.Ordinal), $"{why}: {problem}");
        Assert.Equal(["good"], plan.Peers.Select(p => p.Name));
        Assert.Equal(["good"], plan.PeersByService["demo/web"]);
    }

    [Fact]
    public void Plan_UnsupportedPeerInTheAdvertisementsPeers_NotListedAsCarryingTheService()
    {
        var config = Config([MainPool], [Peer("dynamic", p => (p.PeerASN, p.DynamicASN) = (null, "internal"))],
            [BgpAdv("all", a => a.Peers = ["dynamic"])]);

        var (plan, problems) = Plan(Input(config, [Service("web", "Cluster", "198.51.100.1")]));

        Assert.Empty(plan.Peers);
        Assert.Empty(plan.PeersByService);
        Assert.Single(problems);
    }

    // --- Determinism ----------------------------------------------------------------------------------------------

    [Fact]
    public void Plan_SameInputInAnyOrder_SamePlan()
    {
        var pools = new[] { MainPool, Pool("edge", "203.0.113.128/25") };
        var peers = new[]
        {
            Peer("p1"), Peer("p2", p => (p.PeerAddress, p.PeerASN) = ("203.0.113.2", 64500)), Peer("p3", p => p.PeerAddress = "2001:db8::1"),
        };
        var advertisements = new[]
        {
            BgpAdv("a1", a => (a.Communities, a.LocalPref) = (["65000:9", "gold"], 120)),
            BgpAdv("a2", a => (a.AggregationLength, a.Peers, a.IPAddressPools) = (24, ["p1", "p3"], ["main"])),
            BgpAdv("a3", a => (a.Communities, a.LocalPref, a.AggregationLengthV6) = (["large:1:2:3", "65000:1"], 90, 64)),
        };
        var communities = new[] { Community("names", ("gold", "65000:5")) };
        var services = Enumerable.Range(1, 40)
            .Select(i => Service($"s{i}", i % 3 == 0 ? "Local" : "Cluster", $"198.51.100.{i}", $"2001:db8:1::{i:x}"))
            .Append(Service("gw", "Cluster", "203.0.113.140"))
            .ToList();
        var endpoints = services.ToDictionary(Key, s => new ServiceEndpoints(new HashSet<string> { s.Metadata.Name.Length % 2 == 0 ? "a" : "b" }, true));

        var one = BgpPlanner.Plan(Input(Config(pools, peers, advertisements, communities), services, endpoints: endpoints));
        var other = BgpPlanner.Plan(Input(Config([.. pools.Reverse()], [.. peers.Reverse()], [.. advertisements.Reverse()], communities),
            services.AsEnumerable().Reverse(), endpoints: endpoints.Reverse().ToDictionary()));

        Assert.Equal(["p1", "p2", "p3"], one.Peers.Select(p => p.Name));
        Assert.True(one.Peers.Sum(p => p.Routes.Count) > 40);
        Assert.Equal(one.Peers.Select(p => (p.Name, p.Options)), other.Peers.Select(p => (p.Name, p.Options)));
        foreach (var (a, b) in one.Peers.Zip(other.Peers))
        {
            Assert.Equal(a.Routes, b.Routes);
        }
        Assert.Equal(one.PeersByService.Keys, other.PeersByService.Keys);
        Assert.All(one.PeersByService, kv => Assert.Equal(kv.Value, other.PeersByService[kv.Key]));
    }

    private static readonly Comparer<IPNetwork> PrefixOrder = Comparer<IPNetwork>.Create((a, b) =>
    {
        var family = a.BaseAddress.AddressFamily.CompareTo(b.BaseAddress.AddressFamily);
        if (family != 0)
        {
            return family;
        }
        var bytes = a.BaseAddress.GetAddressBytes().AsSpan().SequenceCompareTo(b.BaseAddress.GetAddressBytes());
        return bytes != 0 ? bytes : a.PrefixLength.CompareTo(b.PrefixLength);
    });
}

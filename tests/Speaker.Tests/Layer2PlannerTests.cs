using System.Net;
using BareLb.Api;
using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Speaker.Planning;
using k8s.Models;

namespace BareLb.Speaker.Tests;

public sealed class Layer2PlannerTests
{
    private static readonly IReadOnlyDictionary<string, string> Rack1 = new Dictionary<string, string> { ["rack"] = "1" };
    private static readonly IReadOnlyDictionary<string, string> Rack2 = new Dictionary<string, string> { ["rack"] = "2" };

    private static IPAddressPool Pool(string name, params string[] addresses) => new()
    {
        Kind = "IPAddressPool",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "barelb-system" },
        Spec = new IPAddressPoolSpec { Addresses = [.. addresses] },
    };

    private static L2Advertisement Adv(string name, string[]? pools = null, string[]? interfaces = null, string? rack = null) => new()
    {
        Kind = "L2Advertisement",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "barelb-system" },
        Spec = new L2AdvertisementSpec
        {
            IPAddressPools = pools?.ToList(),
            Interfaces = interfaces?.ToList(),
            NodeSelectors = rack is null ? null : [new LabelSelector { MatchLabels = new Dictionary<string, string> { ["rack"] = rack } }],
        },
    };

    private static V1Service Svc(string name, string policy = "Cluster", params string[] ips) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "demo" },
        Spec = new V1ServiceSpec { Type = "LoadBalancer", ExternalTrafficPolicy = policy },
        Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [.. ips.Select(ip => new V1LoadBalancerIngress { Ip = ip })] } },
    };

    private static BareLbConfig Config(IPAddressPool[] pools, L2Advertisement[] advs)
    {
        var result = ConfigParser.Parse(pools, advs, [], [], []);
        Assert.Empty(result.Errors);
        return result.Config;
    }

    private static readonly BareLbConfig OnePool = Config([Pool("main", "198.51.100.0/26", "2001:db8::/120")], [Adv("all")]);

    /// <summary>Every Service in <paramref name="services"/> has ready endpoints on every node given (or everywhere when none).</summary>
    private static Layer2PlanInput Input(BareLbConfig config, IEnumerable<V1Service> services, IEnumerable<NodeInfo> nodes,
        IEnumerable<string>? alive = null, IReadOnlyDictionary<string, ServiceEndpoints>? endpoints = null)
    {
        var nodeMap = nodes.ToDictionary(n => n.Name);
        var list = services.ToList();
        endpoints ??= list.ToDictionary(Layer2Planner.Key, _ => new ServiceEndpoints(nodeMap.Keys.ToHashSet(), true));
        return new Layer2PlanInput("unused", config, list, nodeMap, (alive ?? nodeMap.Keys).ToHashSet(), endpoints, null);
    }

    private static NodeInfo Node(string name, IReadOnlyDictionary<string, string>? labels = null, bool networkUnavailable = false) =>
        new(name, labels ?? Rack1, networkUnavailable);

    [Fact]
    public void Plan_ManyAddresses_EachHasExactlyOneOwnerAndAllLiveNodesShare()
    {
        NodeInfo[] nodes = [Node("a"), Node("b"), Node("c")];
        var services = Enumerable.Range(0, 64).Select(i => Svc($"s{i}", "Cluster", $"198.51.100.{i}", $"2001:db8::{i:x}")).ToList();

        var plan = Layer2Planner.Plan(Input(OnePool, services, nodes));

        Assert.Equal(128, plan.Count);
        Assert.All(plan, a => Assert.NotNull(a.Owner));
        Assert.Equal(["a", "b", "c"], plan.Select(a => a.Owner!).Distinct().Order());
    }

    [Fact]
    public void Plan_DeadSpeaker_OwnsNothingAndOnlyItsAddressesMove()
    {
        NodeInfo[] nodes = [Node("a"), Node("b"), Node("c")];
        var services = Enumerable.Range(0, 64).Select(i => Svc($"s{i}", "Cluster", $"198.51.100.{i}")).ToList();
        var before = Layer2Planner.Plan(Input(OnePool, services, nodes)).ToDictionary(a => a.Address, a => a.Owner);

        var after = Layer2Planner.Plan(Input(OnePool, services, nodes, alive: ["a", "c"])).ToDictionary(a => a.Address, a => a.Owner);

        Assert.DoesNotContain("b", after.Values);
        Assert.All(before.Where(kv => kv.Value != "b"), kv => Assert.Equal(kv.Value, after[kv.Key]));
        Assert.Contains(before.Values, v => v == "b");
    }

    [Fact]
    public void Plan_NodeJoins_OnlyTheAddressesItGainsMove()
    {
        var services = Enumerable.Range(0, 64).Select(i => Svc($"s{i}", "Cluster", $"198.51.100.{i}")).ToList();
        var before = Layer2Planner.Plan(Input(OnePool, services, [Node("a"), Node("b")])).ToDictionary(a => a.Address, a => a.Owner);

        var after = Layer2Planner.Plan(Input(OnePool, services, [Node("a"), Node("b"), Node("c")])).ToDictionary(a => a.Address, a => a.Owner);

        Assert.All(after, kv => Assert.True(kv.Value == "c" || kv.Value == before[kv.Key], $"{kv.Key} moved from {before[kv.Key]} to {kv.Value}"));
        Assert.Contains(after.Values, v => v == "c");
    }

    public static TheoryData<string, NodeInfo, bool> NodeRules => new()
    {
        { "plain node", Node("x"), true },
        { "NetworkUnavailable", Node("x", networkUnavailable: true), false },
        { "excluded by label", Node("x", new Dictionary<string, string> { ["rack"] = "1", [NodeInfo.ExcludeFromExternalLoadBalancers] = "" }), false },
        { "not selected by the advertisement", Node("x", Rack2), false },
    };

    [Theory]
    [MemberData(nameof(NodeRules))]
    public void Plan_NodeRules_DecideCandidacy(string why, NodeInfo node, bool candidate)
    {
        var config = Config([Pool("main", "198.51.100.0/26")], [Adv("rack1", rack: "1")]);

        var plan = Layer2Planner.Plan(Input(config, [Svc("s", "Cluster", "198.51.100.1")], [node]));

        Assert.True(candidate == (plan.Single().Owner == "x"), why);
    }

    [Fact]
    public void Plan_LocalPolicy_OnlyNodesWithReadyLocalEndpoints()
    {
        NodeInfo[] nodes = [Node("a"), Node("b"), Node("c")];
        var services = Enumerable.Range(0, 32).Select(i => Svc($"s{i}", "Local", $"198.51.100.{i}")).ToList();
        var endpoints = services.ToDictionary(Layer2Planner.Key, _ => new ServiceEndpoints(new HashSet<string> { "b" }, true));

        var plan = Layer2Planner.Plan(Input(OnePool, services, nodes, endpoints: endpoints));

        Assert.All(plan, a => Assert.Equal("b", a.Owner));
        Assert.All(plan, a => Assert.Equal(["b"], a.Candidates));
    }

    [Fact]
    public void Plan_ClusterPolicyWithoutReadyEndpoint_NoOwner()
    {
        var service = Svc("s", "Cluster", "198.51.100.1");
        var endpoints = new Dictionary<string, ServiceEndpoints> { [Layer2Planner.Key(service)] = ServiceEndpoints.None };

        var plan = Layer2Planner.Plan(Input(OnePool, [service], [Node("a")], endpoints: endpoints));

        Assert.Null(plan.Single().Owner);
    }

    [Fact]
    public void Plan_SharedAddress_OneOwnerForAllItsServices()
    {
        var web = Svc("web", "Cluster", "198.51.100.7");
        var dns = Svc("dns", "Cluster", "198.51.100.7");

        var plan = Layer2Planner.Plan(Input(OnePool, [web, dns], [Node("a"), Node("b"), Node("c")]));

        var shared = Assert.Single(plan);
        Assert.Equal(["demo/dns", "demo/web"], shared.Services);
    }

    [Fact]
    public void Plan_SameInputOnEveryNode_SameOwners()
    {
        NodeInfo[] nodes = [Node("a"), Node("b"), Node("c")];
        var services = Enumerable.Range(0, 32).Select(i => Svc($"s{i}", "Cluster", $"198.51.100.{i}")).ToList();
        var shuffled = services.AsEnumerable().Reverse().ToList();

        var one = Layer2Planner.Plan(Input(OnePool, services, nodes)).Select(a => (a.Address, a.Owner));
        var other = Layer2Planner.Plan(Input(OnePool, shuffled, nodes.Reverse())).Select(a => (a.Address, a.Owner));

        Assert.Equal(one, other);
    }

    [Fact]
    public void Plan_PoolWithoutAdvertisement_NotInTheLayer2Plan()
    {
        var config = Config([Pool("main", "198.51.100.0/26"), Pool("quiet", "203.0.113.0/26")], [Adv("main-only", pools: ["main"])]);

        var plan = Layer2Planner.Plan(Input(config, [Svc("x", "Cluster", "198.51.100.1"), Svc("y", "Cluster", "203.0.113.1")], [Node("a")]));

        Assert.Equal([IPAddress.Parse("198.51.100.1")], plan.Select(a => a.Address));
        Assert.Equal("main", plan[0].Pool);
    }

    [Fact]
    public void Plan_AnnotatedPool_WinsWhenItHoldsTheAddress()
    {
        var config = Config([Pool("a-first", "198.51.100.0/26"), Pool("b-second", "198.51.100.0/28")], [Adv("all")]);
        var service = Svc("x", "Cluster", "198.51.100.1");
        service.Metadata.Annotations = new Dictionary<string, string> { [Annotations.IPAllocatedFromPool] = "b-second" };

        Assert.Equal("b-second", Layer2Planner.Plan(Input(config, [service], [Node("a")])).Single().Pool);
    }

    [Fact]
    public void Plan_InterfacesFromSeveralAdvertisements_UnionAndAllWins()
    {
        var services = new[] { Svc("x", "Cluster", "198.51.100.1") };

        var union = Layer2Planner.Plan(Input(Config([Pool("main", "198.51.100.0/26")],
            [Adv("one", interfaces: ["eth2"]), Adv("two", interfaces: ["eth1", "eth2"])]), services, [Node("a")]));
        var all = Layer2Planner.Plan(Input(Config([Pool("main", "198.51.100.0/26")],
            [Adv("one", interfaces: ["eth2"]), Adv("every")]), services, [Node("a")]));

        Assert.Equal(["eth1", "eth2"], union.Single().Interfaces);
        Assert.Null(all.Single().Interfaces);
    }

    [Fact]
    public void Plan_OtherClassNotLoadBalancerOrDeleting_Ignored()
    {
        var classed = Svc("classed", "Cluster", "198.51.100.1");
        classed.Spec.LoadBalancerClass = "example.com/other";
        var clusterIp = Svc("cip", "Cluster", "198.51.100.2");
        clusterIp.Spec.Type = "ClusterIP";
        var deleting = Svc("gone", "Cluster", "198.51.100.3");
        deleting.Metadata.DeletionTimestamp = DateTime.UtcNow;

        Assert.Empty(Layer2Planner.Plan(Input(OnePool, [classed, clusterIp, deleting], [Node("a")])));
    }

    [Fact]
    public void Endpoints_ReadyUnsetCountsAsReady_NotReadyDoesNot()
    {
        var slice = new V1EndpointSlice
        {
            AddressType = "IPv4",
            Endpoints =
            [
                new V1Endpoint { Addresses = ["203.0.113.10"], NodeName = "a" },
                new V1Endpoint { Addresses = ["203.0.113.11"], NodeName = "b", Conditions = new V1EndpointConditions { Ready = false } },
                new V1Endpoint { Addresses = ["203.0.113.12"], NodeName = "c", Conditions = new V1EndpointConditions { Ready = true } },
            ],
        };

        var endpoints = ServiceEndpoints.From([slice]);

        Assert.True(endpoints.AnyReady);
        Assert.Equal(["a", "c"], endpoints.NodesWithReadyEndpoints.Order());
    }
}

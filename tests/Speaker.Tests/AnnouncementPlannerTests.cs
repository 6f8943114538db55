using BareLb.Api.Config;
using BareLb.Api.Models;
using k8s;
using k8s.Models;
using BareLb.Speaker.Layer2;

namespace BareLb.Speaker.Tests;

public sealed class AnnouncementPlannerTests
{
    private static readonly IReadOnlyDictionary<string, string> Rack1 = new Dictionary<string, string> { ["rack"] = "1" };
    private static readonly IReadOnlyDictionary<string, string> Rack2 = new Dictionary<string, string> { ["rack"] = "2" };

    private static IPAddressPool Pool(string name, params string[] addresses) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "barelb-system" },
        Spec = new IPAddressPoolSpec { Addresses = [.. addresses] },
    };

    private static L2Advertisement Adv(string name, string[]? pools = null, string[]? interfaces = null, string? rack = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "barelb-system" },
        Spec = new L2AdvertisementSpec
        {
            IPAddressPools = pools?.ToList(),
            Interfaces = interfaces?.ToList(),
            NodeSelectors = rack is null ? null : [new LabelSelector { MatchLabels = new Dictionary<string, string>() { ["rack"] = rack } }],
        },
    };

    private static V1Service Svc(string name, params string[] ips) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "demo" },
        Spec = new V1ServiceSpec { Type = "LoadBalancer" },
        Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = ips.Select(ip => new V1LoadBalancerIngress { Ip = ip }).ToList() } },
    };

    private static BareLbConfig Config(IPAddressPool[] pools, L2Advertisement[] advs)
    {
        var result = ConfigParser.Parse(pools, advs, [], [], []);
        Assert.Empty(result.Errors);
        return result.Config;
    }

    [Fact]
    public void Plan_ManyAddresses_EachAnnouncedByExactlyOneReadyNode()
    {
        var config = Config([Pool("main", "198.51.100.0/26", "2001:db8::/120")], [Adv("all")]);
        NodeInfo[] nodes = [new("a", Rack1, true), new("b", Rack1, true), new("c", Rack2, true), new("down", Rack2, false)];
        var services = Enumerable.Range(0, 64).Select(i => Svc($"s{i}", $"198.51.100.{i}", $"2001:db8::{i:x}")).ToList();

        var plans = nodes.ToDictionary(n => n.Name, n => AnnouncementPlanner.Plan(n.Name, config, services, nodes, null));

        Assert.Empty(plans["down"]);
        var all = plans.Values.SelectMany(p => p).Select(a => a.Address).ToList();
        Assert.Equal(128, all.Count);
        Assert.Equal(128, all.Distinct().Count());
        Assert.All(new[] { "a", "b", "c" }, n => Assert.NotEmpty(plans[n]));
    }

    [Fact]
    public void Plan_NodeSelector_OnlySelectedNodesAnnounce()
    {
        var config = Config([Pool("main", "198.51.100.0/26")], [Adv("rack2", rack: "2", interfaces: ["eth1"])]);
        NodeInfo[] nodes = [new("a", Rack1, true), new("c", Rack2, true)];
        var services = Enumerable.Range(0, 16).Select(i => Svc($"s{i}", $"198.51.100.{i}")).ToList();

        Assert.Empty(AnnouncementPlanner.Plan("a", config, services, nodes, null));
        var plan = AnnouncementPlanner.Plan("c", config, services, nodes, null);
        Assert.Equal(16, plan.Count);
        Assert.All(plan, a => Assert.Equal(["eth1"], a.Interfaces));
    }

    [Fact]
    public void Plan_PoolWithoutAdvertisement_NotAnnounced()
    {
        var config = Config([Pool("main", "198.51.100.0/26"), Pool("quiet", "203.0.113.0/26")], [Adv("main-only", pools: ["main"])]);
        NodeInfo[] nodes = [new("a", Rack1, true)];

        var plan = AnnouncementPlanner.Plan("a", config, [Svc("x", "198.51.100.1"), Svc("y", "203.0.113.1")], nodes, null);

        Assert.Equal(["198.51.100.1"], plan.Select(a => a.Address));
        Assert.Equal("main", plan[0].Pool);
    }

    [Fact]
    public void Plan_InterfacesFromSeveralAdvertisements_UnionAndAllWins()
    {
        NodeInfo[] nodes = [new("a", Rack1, true)];
        var services = new[] { Svc("x", "198.51.100.1") };

        var union = AnnouncementPlanner.Plan("a", Config([Pool("main", "198.51.100.0/26")],
            [Adv("one", interfaces: ["eth2"]), Adv("two", interfaces: ["eth1", "eth2"])]), services, nodes, null);
        var all = AnnouncementPlanner.Plan("a", Config([Pool("main", "198.51.100.0/26")],
            [Adv("one", interfaces: ["eth2"]), Adv("every")]), services, nodes, null);

        Assert.Equal(["eth1", "eth2"], union.Single().Interfaces);
        Assert.Empty(all.Single().Interfaces);
    }

    [Fact]
    public void Plan_OtherClassOrNotLoadBalancer_Ignored()
    {
        var config = Config([Pool("main", "198.51.100.0/26")], [Adv("all")]);
        NodeInfo[] nodes = [new("a", Rack1, true)];
        var classed = Svc("classed", "198.51.100.1");
        classed.Spec.LoadBalancerClass = "example.com/other";
        var clusterIp = Svc("cip", "198.51.100.2");
        clusterIp.Spec.Type = "ClusterIP";

        Assert.Empty(AnnouncementPlanner.Plan("a", config, [classed, clusterIp], nodes, null));
    }
}

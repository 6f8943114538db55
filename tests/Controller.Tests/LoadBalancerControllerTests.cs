using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using k8s;
using k8s.Models;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>The controller end to end, over loopback HTTP against the in-memory API server.</summary>
public sealed class LoadBalancerControllerTests
{
    [Fact]
    public async Task Service_WithPool_GetsAddressAnnotationAndEvent()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.10-198.51.100.20");

        await f.CreateServiceAsync(LoadBalancer("web"));

        var service = await f.WaitForIngressAsync("web");
        Assert.Equal(["198.51.100.10"], Ingress(service));
        Assert.Equal("main", PoolAnnotation(service));
        var ev = await f.WaitForEventAsync("web", "IPAllocated");
        Assert.Equal("Assigned IP 198.51.100.10 from pool main", ev.Message);
    }

    [Fact]
    public async Task Service_DualStack_GetsBothFamiliesFromOnePoolPrimaryFirst()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("v4only", "203.0.113.0/28");
        await f.CreatePoolAsync("dual", "198.51.100.0/28", "2001:db8:1::/64");

        await f.CreateServiceAsync(LoadBalancer("dual", families: ["IPv6", "IPv4"], policy: "RequireDualStack"));

        var service = await f.WaitForIngressAsync("dual", 2);
        Assert.Equal(["2001:db8:1::", "198.51.100.0"], Ingress(service));
    }

    [Fact]
    public async Task Service_OtherClassOrNotLoadBalancer_Ignored()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/24");
        await f.CreateServiceAsync(LoadBalancer("other", lbClass: "example.com/other"));
        await f.CreateServiceAsync(LoadBalancer("mine"));

        await f.WaitForIngressAsync("mine");
        Assert.Empty(Ingress(await f.GetServiceAsync("other")));
    }

    [Fact]
    public async Task Service_WithLbClassFlag_OnlyThatClassServed()
    {
        await using var f = await StartAsync(loadBalancerClass: "barelb.io/lb");
        await f.CreatePoolAsync("main", "198.51.100.0/24");
        await f.CreateServiceAsync(LoadBalancer("classless"));
        await f.CreateServiceAsync(LoadBalancer("classed", lbClass: "barelb.io/lb"));

        await f.WaitForIngressAsync("classed");
        Assert.Empty(Ingress(await f.GetServiceAsync("classless")));
    }

    [Fact]
    public async Task Service_TypeChangedToClusterIP_ReleasesAndClearsStatus()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.7/32");
        await f.CreateServiceAsync(LoadBalancer("a"));
        var a = await f.WaitForIngressAsync("a");

        await f.PatchServiceAsync("a", """{"spec":{"type":"ClusterIP"}}""");

        await f.WaitForEventAsync("a", "ClearAssignment", contains: "no longer of type LoadBalancer");
        Assert.Empty(Ingress(await f.GetServiceAsync("a")));
        Assert.Null(PoolAnnotation(await f.GetServiceAsync("a")));
        // The only address is free again for another Service.
        await f.CreateServiceAsync(LoadBalancer("b"));
        Assert.Equal(Ingress(a), Ingress(await f.WaitForIngressAsync("b")));
    }

    [Fact]
    public async Task Service_Deleted_AddressReused()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.7/32");
        await f.CreateServiceAsync(LoadBalancer("a"));
        await f.WaitForIngressAsync("a");
        await f.CreateServiceAsync(LoadBalancer("b"));
        await f.WaitForEventAsync("b", "AllocationFailed", contains: "pool exhausted");

        await f.Client.DeleteAsync(CoreResources.Services, AppNamespace, "a", null, default);

        Assert.Equal(["198.51.100.7"], Ingress(await f.WaitForIngressAsync("b")));
    }

    public static TheoryData<string, Dictionary<string, string>, string> FailureCases => new()
    {
        { "unknown pool", new() { [Annotations.AddressPool] = "nope" }, "no compatible pool" },
        { "address outside pools", new() { [Annotations.LoadBalancerIPs] = "203.0.113.9" }, "no compatible pool" },
        { "malformed address", new() { [Annotations.LoadBalancerIPs] = "203.0.113.999" }, "invalid request: metadata.annotations[barelb.io/loadBalancerIPs]: \"203.0.113.999\" is not an IP address" },
    };

    [Theory]
    [MemberData(nameof(FailureCases))]
    public async Task Service_BadRequest_AllocationFailedEventNamesReason(string name, Dictionary<string, string> annotations, string expected)
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");

        await f.CreateServiceAsync(LoadBalancer("bad", annotations));

        var ev = await f.WaitForEventAsync("bad", "AllocationFailed", contains: expected);
        Assert.Contains(expected, ev.Message);
        Assert.Equal("Warning", ev.Type);
        Assert.Empty(Ingress(await f.GetServiceAsync("bad")));
        _ = name; // the case label: it names the row in the test output
    }

    [Fact]
    public async Task Service_RequestMadeInvalidLater_KeepsItsAddress()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("web"));
        var before = Ingress(await f.WaitForIngressAsync("web"));

        await f.AnnotateServiceAsync("web", Annotations.LoadBalancerIPs, "not-an-ip");

        // Only the event about the edit: an earlier "no compatible pool" may precede the pool reaching the cache.
        var ev = await f.WaitForEventAsync("web", "AllocationFailed", contains: "invalid request");
        Assert.Contains("(keeping 198.51.100.0)", ev.Message);
        Assert.Equal(before, Ingress(await f.GetServiceAsync("web")));
    }

    [Fact]
    public async Task Service_LegacyAnnotation_HonouredWithWarningEvent()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.CreatePoolAsync("gold", new IPAddressPoolSpec { Addresses = ["203.0.113.0/28"], AutoAssign = false });

        await f.CreateServiceAsync(LoadBalancer("web", new() { ["metallb.universe.tf/address-pool"] = "gold" }));

        Assert.Equal(["203.0.113.0"], Ingress(await f.WaitForIngressAsync("web")));
        await f.WaitForEventAsync("web", "DeprecatedConfiguration", contains: "use barelb.io/address-pool");
    }

    [Fact]
    public async Task SharedIp_CompatibleServicesShareIncompatibleRejected()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var key = new Dictionary<string, string> { [Annotations.AllowSharedIP] = "k" };

        await f.CreateServiceAsync(LoadBalancer("http", new(key), port: 80));
        var first = Ingress(await f.WaitForIngressAsync("http"));
        await f.CreateServiceAsync(LoadBalancer("https", new(key) { [Annotations.LoadBalancerIPs] = first[0] }, port: 443));
        Assert.Equal(first, Ingress(await f.WaitForIngressAsync("https")));

        await f.CreateServiceAsync(LoadBalancer("clash", new(key) { [Annotations.LoadBalancerIPs] = first[0] }, port: 80));
        var ev = await f.WaitForEventAsync("clash", "AllocationFailed", contains: "TCP/80");
        Assert.Contains("TCP/80", ev.Message);
        Assert.Contains("demo/http", ev.Message);
    }

    [Fact]
    public async Task Restart_NewHigherPriorityPool_RunningServicesKeepAddresses()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        for (var i = 0; i < 5; i++)
        {
            await f.CreateServiceAsync(LoadBalancer($"s{i}"));
        }
        var before = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            before.AddRange(Ingress(await f.WaitForIngressAsync($"s{i}")));
        }

        await f.StopControllerAsync();
        // While the controller is down a pool appears that would sort first, and one Service is deleted.
        await f.CreatePoolAsync("aaa-first", new IPAddressPoolSpec { Addresses = ["203.0.113.0/28"], ServiceAllocation = new ServiceAllocation { Priority = 1 } });
        await f.Client.DeleteAsync(CoreResources.Services, AppNamespace, "s0", null, default);
        await f.StartControllerAsync();
        await f.CreateServiceAsync(LoadBalancer("new"));

        Assert.StartsWith("203.0.113.", Ingress(await f.WaitForIngressAsync("new"))[0]);
        for (var i = 1; i < 5; i++)
        {
            Assert.Equal(before[i], Ingress(await f.GetServiceAsync($"s{i}"))[0]);
        }
    }

    [Fact]
    public async Task PoolDeleted_ServicesMoveToCompatiblePool_ThenPoolGoes()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("old", "198.51.100.0/30");
        await f.CreateServiceAsync(LoadBalancer("web"));
        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("web")));
        await f.SettleAsync();
        Assert.True(PoolHasFinalizer(await f.GetPoolAsync("old")));
        await f.CreatePoolAsync("new", "203.0.113.0/30");

        await f.Client.DeleteAsync(BareLbResources.IPAddressPools, SystemNamespace, "old", null, default);

        await f.WaitForEventAsync("web", "IPReassigned", contains: "from pool new");
        Assert.Equal(["203.0.113.0"], Ingress(await f.GetServiceAsync("web")));
        Assert.Equal("new", PoolAnnotation(await f.GetServiceAsync("web")));
        Assert.False(await f.PoolExistsAsync("old"));
    }

    [Fact]
    public async Task PoolDeleted_NoOtherPool_ServiceKeepsAddressPoolDraining()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("only", "198.51.100.0/30");
        await f.CreateServiceAsync(LoadBalancer("web"));
        var before = Ingress(await f.WaitForIngressAsync("web"));
        await f.SettleAsync();
        Assert.True(PoolHasFinalizer(await f.GetPoolAsync("only")));

        await f.Client.DeleteAsync(BareLbResources.IPAddressPools, SystemNamespace, "only", null, default);

        await f.WaitForPoolConditionAsync("only", PoolConditions.Draining, "True", contains: "demo/web");
        Assert.Equal(before, Ingress(await f.GetServiceAsync("web")));

        // Once the last holder goes, the finalizer is removed and the pool disappears.
        await f.Client.DeleteAsync(CoreResources.Services, AppNamespace, "web", null, default);
        await f.SettleAsync();
        Assert.False(await f.PoolExistsAsync("only"));
    }

    [Fact]
    public async Task PoolShrunk_ServiceOutsideMovesWithinPool()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/30");
        await f.CreateServiceAsync(LoadBalancer("web", new() { [Annotations.AddressPool] = "main" }));
        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("web")));

        await f.UpdatePoolAsync("main", pool => pool.Spec.Addresses = ["198.51.100.2/31"]);

        Assert.Equal(["198.51.100.2"], Ingress(await f.WaitForIngressAsync("web")));
    }

    [Fact]
    public async Task PoolEditedInvalid_KeepsLastValidAndReportsField()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/30");
        await f.CreateServiceAsync(LoadBalancer("web"));
        var before = Ingress(await f.WaitForIngressAsync("web"));

        // Reversed range: passes the schema's pattern, fails the controller's own validation.
        await f.UpdatePoolAsync("main", pool => pool.Spec.Addresses = ["198.51.100.20-198.51.100.10"]);

        var invalid = await f.WaitForPoolConditionAsync("main", PoolConditions.Valid, "False", contains: "spec.addresses[0]");
        Assert.Contains("last valid addresses stay in use", invalid.Status!.Conditions!.First(c => c.Type == PoolConditions.Valid).Message);
        Assert.Equal(before, Ingress(await f.GetServiceAsync("web")));
        await f.WaitForEventAsync("main", "InvalidConfiguration", ns: SystemNamespace, contains: "spec.addresses[0]");
    }

    [Fact]
    public async Task Restart_PoolInvalidMeanwhile_ServicesKeepAddressesUntilFixed()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/30");
        await f.CreatePoolAsync("other", "203.0.113.0/28");
        await f.CreateServiceAsync(LoadBalancer("web", new() { [Annotations.AddressPool] = "main" }));
        await f.CreateServiceAsync(LoadBalancer("api"));
        var web = Ingress(await f.WaitForIngressAsync("web"));
        var api = Ingress(await f.WaitForIngressAsync("api"));
        Assert.StartsWith("198.51.100.", web[0]);

        await f.StopControllerAsync();
        await f.UpdatePoolAsync("main", pool => pool.Spec.Addresses = ["198.51.100.20-198.51.100.10"]);
        await f.StartControllerAsync();

        // The restarted controller never saw a valid "main": it must still not move main's Services.
        await f.WaitForPoolConditionAsync("main", PoolConditions.Valid, "False", contains: "spec.addresses[0]");
        await f.CreateServiceAsync(LoadBalancer("probe"));
        await f.WaitForIngressAsync("probe");
        Assert.Equal(web, Ingress(await f.GetServiceAsync("web")));
        Assert.Equal(api, Ingress(await f.GetServiceAsync("api")));
        Assert.DoesNotContain(await f.EventsForAsync("web"), e => e.Reason == "IPReassigned");

        // Fixing the pool (to a range without web's address) is a real shrink: now it moves, within "main".
        await f.UpdatePoolAsync("main", pool => pool.Spec.Addresses = ["198.51.100.2/31"]);
        Assert.Contains(Ingress(await f.WaitForIngressAsync("web"))[0], new[] { "198.51.100.2", "198.51.100.3" });
    }

    [Fact]
    public async Task PoolsOverlap_BothConflictingNoAddressTwice()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("a", "198.51.100.0/31");
        await f.CreatePoolAsync("b", "198.51.100.1-198.51.100.2");

        await f.WaitForPoolConditionAsync("a", PoolConditions.Conflicting, "True", contains: "b (198.51.100.1");
        await f.WaitForPoolConditionAsync("b", PoolConditions.Conflicting, "True", contains: "a (198.51.100.1");
        await f.WaitForEventAsync("a", "PoolsOverlap", ns: SystemNamespace, contains: "pools a and b overlap");

        for (var i = 0; i < 4; i++)
        {
            await f.CreateServiceAsync(LoadBalancer($"s{i}"));
        }
        var held = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            held.AddRange(Ingress(await f.WaitForIngressAsync($"s{i}")));
        }
        Assert.Equal(3, held.Distinct().Count());
        await f.WaitForEventAsync("s3", "AllocationFailed", contains: "pool exhausted");
        Assert.Empty(Ingress(await f.GetServiceAsync("s3")));
    }

    [Fact]
    public async Task PoolStatus_CountsPerFamily()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", new IPAddressPoolSpec { Addresses = ["198.51.100.0/24", "2001:db8::/120"], AvoidBuggyIPs = true });
        await f.CreateServiceAsync(LoadBalancer("v4"));
        await f.CreateServiceAsync(LoadBalancer("v6", families: ["IPv6"]));
        await f.WaitForIngressAsync("v4");
        await f.WaitForIngressAsync("v6");

        await f.SettleAsync();
        var pool = await f.GetPoolAsync("main");
        Assert.Equal(1, pool.Status!.AssignedIPv4);
        Assert.Equal(1, pool.Status.AssignedIPv6);
        Assert.Equal(253, pool.Status!.AvailableIPv4); // 256 minus .0, .255 and the one assigned
        Assert.Equal(255, pool.Status.AvailableIPv6);
        Assert.Equal("True", pool.Status.Conditions!.Single(c => c.Type == PoolConditions.Valid).Status);
    }

    [Fact]
    public async Task ServiceSelectorAndNamespacePools_PinnedByPriority()
    {
        await using var f = await StartAsync();
        await f.CreateNamespaceAsync("team-a", new() { ["tier"] = "gold" });
        await f.CreatePoolAsync("general", "198.51.100.0/28");
        await f.CreatePoolAsync("gold", new IPAddressPoolSpec
        {
            Addresses = ["203.0.113.0/28"],
            ServiceAllocation = new ServiceAllocation
            {
                Priority = 10,
                NamespaceSelectors = [new LabelSelector { MatchLabels = new Dictionary<string, string>() { ["tier"] = "gold" } }],
            },
        });

        // Pools first, as an operator would: a Service that arrives before its pool keeps what it got meanwhile.
        await f.SettleAsync();
        await f.CreateServiceAsync(LoadBalancer("web", ns: "team-a"));
        await f.CreateServiceAsync(LoadBalancer("web"));

        Assert.StartsWith("203.0.113.", Ingress(await f.WaitForIngressAsync("web", ns: "team-a"))[0]);
        Assert.StartsWith("198.51.100.", Ingress(await f.WaitForIngressAsync("web"))[0]);
    }

    private static bool PoolHasFinalizer(IPAddressPool pool) => pool.Metadata.Finalizers?.Contains(Finalizers.PoolProtection) == true;
}

using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using k8s.Models;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>
/// What happens to addresses already given when pools or Services change, as MetalLB does it: an address stays
/// wherever a live pool still contains it and serves the Service; only otherwise the Service gets a new one.
/// </summary>
public sealed class ReassignmentTests
{
    [Fact]
    public async Task PoolRenamed_ServiceKeepsAddressAnnotationNamesNewPoolCountedOnce()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("old", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("web"));
        var before = Ingress(await f.WaitForIngressAsync("web"));

        // A rename: the same addresses under a new name, then the old pool deleted.
        await f.CreatePoolAsync("new", "198.51.100.0/28");
        await f.Client.DeleteAsync(BareLbResources.IPAddressPools, SystemNamespace, "old", null, default);
        await f.SettleAsync();

        var web = await f.GetServiceAsync("web");
        Assert.Equal(before, Ingress(web));
        Assert.Equal("new", PoolAnnotation(web));
        Assert.False(await f.PoolExistsAsync("old"));
        var pool = await f.GetPoolAsync("new");
        Assert.Equal(1, pool.Status!.AssignedIPv4);
        Assert.Equal(15, pool.Status.AvailableIPv4);
        Assert.DoesNotContain(await f.EventsForAsync("web"), e => e.Reason == "IPReassigned");
    }

    [Fact]
    public async Task PoolSplit_EachServiceKeepsAddressAndNamesThePoolHoldingIt()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("all", "198.51.100.0/24");
        await f.CreateServiceAsync(LoadBalancer("low", new() { [Annotations.LoadBalancerIPs] = "198.51.100.10" }));
        await f.CreateServiceAsync(LoadBalancer("high", new() { [Annotations.LoadBalancerIPs] = "198.51.100.200" }));
        await f.SettleAsync();

        // The upper half becomes its own pool.
        await f.UpdatePoolAsync("all", p => p.Spec.Addresses = ["198.51.100.0/25"]);
        await f.CreatePoolAsync("upper", "198.51.100.128/25");
        await f.SettleAsync();

        Assert.Equal(["198.51.100.10"], Ingress(await f.GetServiceAsync("low")));
        Assert.Equal("all", PoolAnnotation(await f.GetServiceAsync("low")));
        Assert.Equal(["198.51.100.200"], Ingress(await f.GetServiceAsync("high")));
        Assert.Equal("upper", PoolAnnotation(await f.GetServiceAsync("high")));
        Assert.Equal(1, (await f.GetPoolAsync("all")).Status!.AssignedIPv4);
        Assert.Equal(1, (await f.GetPoolAsync("upper")).Status!.AssignedIPv4);
    }

    [Fact]
    public async Task BuggyAddressMovedIntoAvoidBuggyPool_GetsValidAddressFromThatPool()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("old", "198.51.100.0/24");
        await f.CreateServiceAsync(LoadBalancer("web"));
        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("web")));

        // The same range moves to a pool with avoidBuggyIPs; a pool that would be preferred for new Services exists.
        await f.CreatePoolAsync("preferred", new IPAddressPoolSpec { Addresses = ["203.0.113.0/28"], ServiceAllocation = new ServiceAllocation { Priority = 1 } });
        await f.CreatePoolAsync("strict", new IPAddressPoolSpec { Addresses = ["198.51.100.0/24"], AvoidBuggyIPs = true });
        await f.Client.DeleteAsync(BareLbResources.IPAddressPools, SystemNamespace, "old", null, default);
        await f.SettleAsync();

        var web = await f.GetServiceAsync("web");
        Assert.Equal(["198.51.100.1"], Ingress(web));
        Assert.Equal("strict", PoolAnnotation(web));
        await f.WaitForEventAsync("web", "IPReassigned", contains: "moved to 198.51.100.1 from pool strict");
        Assert.False(await f.PoolExistsAsync("old"));
    }

    [Fact]
    public async Task PoolStopsAdmittingService_MovesToPoolThatDoes()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("open", new IPAddressPoolSpec { Addresses = ["198.51.100.0/28"], ServiceAllocation = new ServiceAllocation { Priority = 10 } });
        await f.CreatePoolAsync("spare", new IPAddressPoolSpec { Addresses = ["203.0.113.0/28"], ServiceAllocation = new ServiceAllocation { Priority = 50 } });
        await f.CreateServiceAsync(LoadBalancer("web"));
        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("web")));

        await f.UpdatePoolAsync("open", p => p.Spec.ServiceAllocation = new ServiceAllocation { Priority = 10, Namespaces = ["team-a"] });

        Assert.Equal(["203.0.113.0"], Ingress(await f.WaitForIngressAsync("web")));
        Assert.Equal("spare", PoolAnnotation(await f.GetServiceAsync("web")));
    }

    [Fact]
    public async Task TypeChangedWhileControllerDown_StatusAndAnnotationClearedAtStart()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("web"));
        await f.WaitForIngressAsync("web");
        Assert.Equal("main", PoolAnnotation(await f.GetServiceAsync("web")));

        await f.StopControllerAsync();
        await f.PatchServiceAsync("web", """{"spec":{"type":"NodePort"}}""");
        await f.StartControllerAsync();
        await f.SettleAsync();

        var web = await f.GetServiceAsync("web");
        Assert.Empty(Ingress(web));
        Assert.Null(PoolAnnotation(web));
        await f.WaitForEventAsync("web", "ClearAssignment", contains: "no longer of type LoadBalancer");
        // The address is free again.
        await f.CreateServiceAsync(LoadBalancer("next"));
        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("next")));
    }

    [Fact]
    public async Task StatusNotOurs_OtherClass_NeverTouched()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        // A LoadBalancer of another implementation, showing an address from our pool: not ours to clear. (A NodePort
        // Service showing ingress cannot be made on kube-apiserver 1.29+, which refuses that status, nor on the emulator.)
        await f.CreateServiceAsync(LoadBalancer("other", lbClass: "example.com/other"));
        await f.Client.PatchAsync(CoreResources.Services, AppNamespace, "other",
            System.Text.Json.Nodes.JsonNode.Parse("""{"status":{"loadBalancer":{"ingress":[{"ip":"198.51.100.9"}]}}}""")!, status: true, default);

        await f.StopControllerAsync();
        await f.StartControllerAsync();
        await f.SettleAsync();

        Assert.Equal(["198.51.100.9"], Ingress(await f.GetServiceAsync("other")));
    }

    [Fact]
    public async Task SharingPossibleAgain_HolderChangesBack_WaitingServiceGetsSharedAddress()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var shared = new Dictionary<string, string> { [Annotations.AllowSharedIP] = "k", [Annotations.LoadBalancerIPs] = "198.51.100.5" };
        await f.CreateServiceAsync(LoadBalancer("s2", new(shared), port: 80));
        await f.CreateServiceAsync(LoadBalancer("s1", new(shared), port: 443));
        Assert.Equal(["198.51.100.5"], Ingress(await f.WaitForIngressAsync("s1")));
        Assert.Equal(["198.51.100.5"], Ingress(await f.GetServiceAsync("s2")));

        // s2's edit makes sharing impossible: s2, the one that changed, loses the shared address and waits.
        await f.PatchServiceAsync("s2", """{"spec":{"externalTrafficPolicy":"Local"}}""");
        await f.WaitForEventAsync("s2", "AllocationFailed", contains: "externalTrafficPolicy");
        Assert.Empty(Ingress(await f.GetServiceAsync("s2")));

        // s1 now changes to match: s2 is retried (s1 is its co-sharer) and gets the shared address back.
        await f.PatchServiceAsync("s1", """{"spec":{"externalTrafficPolicy":"Local","selector":{"app":"s2"}}}""");
        Assert.Equal(["198.51.100.5"], Ingress(await f.WaitForIngressAsync("s2")));
        Assert.Equal(["198.51.100.5"], Ingress(await f.GetServiceAsync("s1")));
    }

    [Fact]
    public async Task SharingPossibleAgain_HolderOfAddressChanges_WaitingServiceRetried()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var s2 = LoadBalancer("s2", new() { [Annotations.AllowSharedIP] = "k", [Annotations.LoadBalancerIPs] = "198.51.100.5" }, port: 80);
        s2.Spec.ExternalTrafficPolicy = "Local";
        await f.CreateServiceAsync(s2);
        await f.CreateServiceAsync(LoadBalancer("s1", new() { [Annotations.AllowSharedIP] = "k", [Annotations.LoadBalancerIPs] = "198.51.100.5" }, port: 443));
        await f.WaitForEventAsync("s1", "AllocationFailed", contains: "externalTrafficPolicy");

        await f.PatchServiceAsync("s2", """{"spec":{"externalTrafficPolicy":"Cluster"}}""");

        Assert.Equal(["198.51.100.5"], Ingress(await f.WaitForIngressAsync("s1")));
    }
}

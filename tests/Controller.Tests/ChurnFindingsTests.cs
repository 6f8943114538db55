using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Tests.Support;
using BareLb.Kubernetes;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>Faults the churn property test found, each pinned down by a deterministic test.</summary>
public sealed class ChurnFindingsTests
{
    /// <summary>
    /// A write decided under one request must not land after the request changed: on its 409 the writer sees the
    /// new request and leaves the decision to the reconcile of that change.
    /// </summary>
    [Fact]
    public async Task WriteInFlight_RequestEditedMeanwhile_OldDecisionNotWritten()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var gate = new GateClient(f.Cluster.Client);
        await f.StartControllerAsync(gate);
        await using var invariant = await AddressInvariant.StartAsync(f.Cluster.Client);
        var shared = new Dictionary<string, string> { [Annotations.AllowSharedIP] = "k", [Annotations.LoadBalancerIPs] = "198.51.100.5" };
        await f.CreateServiceAsync(LoadBalancer("s0", new(shared), port: 80));
        await f.WaitForIngressAsync("s0");

        gate.Close(AppNamespace, "s1");
        await f.CreateServiceAsync(LoadBalancer("s1", new(shared), port: 81));
        await gate.HeldAsync(AppNamespace, "s1");
        // While its write (198.51.100.5, shared with s0) is on its way, s1 stops sharing.
        await f.AnnotateServiceAsync("s1", Annotations.AllowSharedIP, null);
        gate.Open(AppNamespace, "s1");
        await f.SettleAsync();

        await invariant.CatchUpAsync(f.Cluster.Client);
        invariant.AssertHeld();
        Assert.DoesNotContain("198.51.100.5", invariant.HistoryOf(AppNamespace, "s1"));
        Assert.Empty(Ingress(await f.GetServiceAsync("s1")));
        await f.WaitForEventAsync("s1", "AllocationFailed", contains: "address in use");
    }

    /// <summary>
    /// After a restart with a pool that is invalid and was never seen valid, addresses outside every known pool stay
    /// put, but not when the Service's own edit means it may no longer share its address with the others.
    /// </summary>
    [Fact]
    public async Task UnknownInvalidPool_ServiceStopsSharing_LosesSharedAddress()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var shared = new Dictionary<string, string> { [Annotations.AllowSharedIP] = "k", [Annotations.LoadBalancerIPs] = "198.51.100.5" };
        await f.CreateServiceAsync(LoadBalancer("s0", new(shared), port: 80));
        await f.CreateServiceAsync(LoadBalancer("s1", new(shared), port: 81));
        await f.WaitForIngressAsync("s1");
        await f.StopControllerAsync();
        await f.UpdatePoolAsync("main", p => p.Spec.Addresses = ["198.51.100.20-198.51.100.10"]);
        await f.StartControllerAsync();
        await using var invariant = await AddressInvariant.StartAsync(f.Cluster.Client);

        await f.AnnotateServiceAsync("s1", Annotations.AllowSharedIP, null);
        await f.SettleAsync();

        Assert.Empty(Ingress(await f.GetServiceAsync("s1")));
        Assert.Equal(["198.51.100.5"], Ingress(await f.GetServiceAsync("s0")));
        await invariant.CatchUpAsync(f.Cluster.Client);
        invariant.AssertHeld();
    }

    /// <summary>A pool whose edit left a Service's address outside it does not hold that Service: deleting it completes.</summary>
    [Fact]
    public async Task PoolEditedThenDeleted_ServiceKeepsOldAddress_PoolNotHeldTerminating()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("p1", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("web", new() { [Annotations.AddressPool] = "p1" }));
        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("web")));

        await f.UpdatePoolAsync("p1", p => p.Spec.Addresses = ["2001:db8::/120"]);
        await f.SettleAsync();
        Assert.Equal(["198.51.100.0"], Ingress(await f.GetServiceAsync("web")));
        await f.Client.DeleteAsync(BareLbResources.IPAddressPools, SystemNamespace, "p1", null, default);
        await f.SettleAsync();

        Assert.False(await f.PoolExistsAsync("p1"));
        Assert.Equal(["198.51.100.0"], Ingress(await f.GetServiceAsync("web")));
    }

    /// <summary>Pools overlap: a Service's address counts in both, whichever of them it is named after.</summary>
    [Fact]
    public async Task OverlappingPools_AllocationCountsInBoth()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("wide", "198.51.100.0/28");
        await f.CreatePoolAsync("narrow", new IPAddressPoolSpec { Addresses = ["198.51.100.0/30"], AutoAssign = false });
        await f.SettleAsync();

        await f.CreateServiceAsync(LoadBalancer("web"));
        await f.WaitForIngressAsync("web");

        Assert.Equal(1, (await f.GetPoolAsync("wide")).Status!.AssignedIPv4);
        Assert.Equal(1, (await f.GetPoolAsync("narrow")).Status!.AssignedIPv4);
    }

    /// <summary>
    /// The controller died after deciding to clear a Service that stopped being ours, before the clearing write
    /// landed: the next controller must not give that address away until its own clearing write lands. (A Service
    /// being deleted but held by a finalizer keeps its status on every server version; a type change may not, as
    /// kube-apiserver clears the status itself.)
    /// </summary>
    [Fact]
    public async Task Restart_NotOursButStillShowsAddress_AddressReservedUntilCleared()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("one", "198.51.100.7/32");
        await f.CreatePoolAsync("side", new IPAddressPoolSpec { Addresses = ["203.0.113.20/32"], AutoAssign = false });
        await f.CreateServiceAsync(LoadBalancer("a"));
        await f.WaitForIngressAsync("a");
        await f.CreateServiceAsync(LoadBalancer("b"));
        await f.WaitForEventAsync("b", "AllocationFailed", contains: "pool exhausted");
        await f.StopControllerAsync();
        await f.PatchServiceAsync("a", """{"metadata":{"finalizers":["test.barelb.io/hold"]}}""");
        await f.Client.DeleteAsync(CoreResources.Services, AppNamespace, "a", null, default);

        var gate = new GateClient(f.Cluster.Client);
        gate.Close(AppNamespace, "a");
        await using var invariant = await AddressInvariant.StartAsync(f.Cluster.Client);
        await f.StartControllerAsync(gate);
        await gate.HeldAsync(AppNamespace, "a");
        await f.CreateServiceAsync(LoadBalancer("c", new() { [Annotations.AddressPool] = "side" }));
        await invariant.WaitForAddressAsync(AppNamespace, "c");
        Assert.Empty(Ingress(await f.GetServiceAsync("b")));

        gate.Open(AppNamespace, "a");
        Assert.Equal(["198.51.100.7"], Ingress(await f.WaitForIngressAsync("b")));
        Assert.Empty(Ingress(await f.GetServiceAsync("a")));
        await invariant.CatchUpAsync(f.Cluster.Client);
        invariant.AssertHeld();
        await f.PatchServiceAsync("a", """{"metadata":{"finalizers":null}}""");
    }
}

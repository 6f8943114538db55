using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Tests.Support;
using BareLb.Kubernetes;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>
/// An address that is being freed stays reserved until the write that frees it has landed; only then may another
/// Service receive it. Checked from the API's side: every state the API went through is watched.
/// </summary>
public sealed class AddressSafetyTests
{
    [Fact]
    public async Task Move_WaitingServiceGetsOldAddressOnlyAfterMoveWriteLands()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("one", "198.51.100.7/32");
        await f.CreatePoolAsync("two", new IPAddressPoolSpec { Addresses = ["203.0.113.7/32"], AutoAssign = false });
        await f.CreatePoolAsync("side", new IPAddressPoolSpec { Addresses = ["203.0.113.20/32"], AutoAssign = false });
        var gate = new GateClient(f.Cluster.Client);
        await f.StartControllerAsync(gate);
        await using var invariant = await AddressInvariant.StartAsync(f.Cluster.Client);
        await f.CreateServiceAsync(LoadBalancer("a"));
        Assert.Equal(["198.51.100.7"], Ingress(await f.WaitForIngressAsync("a")));
        await f.CreateServiceAsync(LoadBalancer("b"));
        await f.WaitForEventAsync("b", "AllocationFailed", contains: "pool exhausted");

        gate.Close(AppNamespace, "a");
        await f.AnnotateServiceAsync("a", Annotations.AddressPool, "two");
        await gate.HeldAsync(AppNamespace, "a");
        // Another Service after a's decision: the loop takes items in order, so once c's allocation is recorded,
        // whatever the loop would do for b after a's decision has been done, and its events are queued before c's.
        await f.CreateServiceAsync(LoadBalancer("c", new() { [Annotations.AddressPool] = "side" }));
        await invariant.WaitForAddressAsync(AppNamespace, "c");
        await f.FlushEventsAsync();

        Assert.DoesNotContain(await f.EventsForAsync("b"), e => e.Reason == "IPAllocated");
        Assert.Equal(["198.51.100.7"], Ingress(await f.GetServiceAsync("a")));
        Assert.Empty(Ingress(await f.GetServiceAsync("b")));

        gate.Open(AppNamespace, "a");
        Assert.Equal(["198.51.100.7"], Ingress(await f.WaitForIngressAsync("b")));
        Assert.Equal(["203.0.113.7"], Ingress(await f.GetServiceAsync("a")));
        await invariant.CatchUpAsync(f.Cluster.Client);
        invariant.AssertHeld();
    }

    [Fact]
    public async Task Release_WaitingServiceGetsAddressOnlyAfterClearingWriteLands()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("one", "198.51.100.7/32");
        await f.CreatePoolAsync("side", new IPAddressPoolSpec { Addresses = ["203.0.113.20/32"], AutoAssign = false });
        var gate = new GateClient(f.Cluster.Client);
        await f.StartControllerAsync(gate);
        await using var invariant = await AddressInvariant.StartAsync(f.Cluster.Client);
        await f.CreateServiceAsync(LoadBalancer("a"));
        await f.WaitForIngressAsync("a");
        await f.CreateServiceAsync(LoadBalancer("b"));
        await f.WaitForEventAsync("b", "AllocationFailed", contains: "pool exhausted");

        gate.Close(AppNamespace, "a");
        await f.PatchServiceAsync("a", """{"spec":{"type":"ClusterIP"}}""");
        await gate.HeldAsync(AppNamespace, "a");
        await f.CreateServiceAsync(LoadBalancer("c", new() { [Annotations.AddressPool] = "side" }));
        await invariant.WaitForAddressAsync(AppNamespace, "c");
        await f.FlushEventsAsync();

        Assert.DoesNotContain(await f.EventsForAsync("b"), e => e.Reason == "IPAllocated");
        Assert.Empty(Ingress(await f.GetServiceAsync("b")));

        gate.Open(AppNamespace, "a");
        Assert.Equal(["198.51.100.7"], Ingress(await f.WaitForIngressAsync("b")));
        Assert.Empty(Ingress(await f.GetServiceAsync("a")));
        await invariant.CatchUpAsync(f.Cluster.Client);
        invariant.AssertHeld();
    }

    /// <summary>
    /// A move of s1 to another pool frees its address for the waiting s3. The controller is killed at each of its
    /// writes in turn (that write and all later ones never reach the API); a fresh controller then finishes the
    /// job. Whatever the crash point: no address is ever shown by two Services, s1 never shows no address, and the
    /// end state is the crash-free one.
    /// </summary>
    [Fact]
    public async Task CrashAtAnyWrite_RestartLosesNothingAndMovesNothing()
    {
        var expected = await RunMoveAsync(crashAt: null);
        Assert.True(expected.Writes >= 3, $"the crash-free run made {expected.Writes} writes");
        for (var k = 1; k <= expected.Writes; k++)
        {
            var crashed = await RunMoveAsync(crashAt: k);
            Assert.True(crashed.State == expected.State, $"crash at write {k}: {crashed.State}, expected {expected.State}");
        }
    }

    private static async Task<(int Writes, string State)> RunMoveAsync(int? crashAt)
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("a", "198.51.100.10/32");
        await f.CreatePoolAsync("b", new IPAddressPoolSpec { Addresses = ["203.0.113.10-203.0.113.11"], AutoAssign = false });
        await f.StartControllerAsync();
        await f.CreateServiceAsync(LoadBalancer("s1"));
        await f.WaitForIngressAsync("s1");
        await f.CreateServiceAsync(LoadBalancer("s3"));
        await f.WaitForEventAsync("s3", "AllocationFailed");
        await f.StopControllerAsync();

        var counting = new CountingClient(f.Cluster.Client);
        var crash = crashAt is { } k ? new CrashClient(counting, k) : null;
        await using var invariant = await AddressInvariant.StartAsync(f.Cluster.Client);
        await f.StartControllerAsync((IKubernetesClient?)crash ?? counting);
        await f.AnnotateServiceAsync("s1", Annotations.AddressPool, "b");
        if (crash is not null)
        {
            await crash.Crashed.Task.WaitAsync(ControllerFixture.Timeout);
            await f.StopControllerAsync();
            await f.StartControllerAsync();
        }
        await f.SettleAsync();
        await invariant.CatchUpAsync(f.Cluster.Client);
        invariant.AssertHeld();
        Assert.DoesNotContain("", invariant.HistoryOf(AppNamespace, "s1"));

        var s1 = await f.GetServiceAsync("s1");
        var s3 = await f.GetServiceAsync("s3");
        var state = $"s1={string.Join(",", Ingress(s1))}@{PoolAnnotation(s1)} s3={string.Join(",", Ingress(s3))}@{PoolAnnotation(s3)}";
        var writes = counting.Writes - counting.Snapshot().Where(kv => kv.Key.EndsWith(" Event", StringComparison.Ordinal)).Sum(kv => kv.Value);
        return (writes, state);
    }
}

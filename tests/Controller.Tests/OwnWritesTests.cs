using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Informers;
using BareLb.Controller.Tests.Support;
using BareLb.Kubernetes;
using BareLb.TestSupport;
using k8s.Models;
using Xunit.Abstractions;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>
/// The controller does not react to its own writes: a pool-status write starts no pool pass and retries no waiting
/// Service, a retry that fails the same way records nothing, and a settled cluster makes no writes at all.
/// </summary>
public sealed class OwnWritesTests(ITestOutputHelper output)
{
    [Fact]
    public async Task UnrelatedAllocations_WaitingServiceEventRecordedOnce()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("full", new IPAddressPoolSpec { Addresses = ["198.51.100.7/32"], AutoAssign = false });
        await f.CreatePoolAsync("other", "203.0.113.0/28");
        await f.CreateServiceAsync(LoadBalancer("holder", new() { [Annotations.AddressPool] = "full" }));
        await f.WaitForIngressAsync("holder");
        await f.CreateServiceAsync(LoadBalancer("waiting", new() { [Annotations.AddressPool] = "full" }));
        await f.WaitForEventAsync("waiting", "AllocationFailed", contains: "pool exhausted");

        for (var i = 0; i < 5; i++)
        {
            await f.CreateServiceAsync(LoadBalancer($"s{i}"));
            await f.WaitForIngressAsync($"s{i}");
            Assert.Equal(i + 1, (await f.GetPoolAsync("other")).Status!.AssignedIPv4);
        }

        var failed = (await f.EventsForAsync("waiting")).Where(e => e.Reason == "AllocationFailed").ToList();
        Assert.Equal(1, failed.Sum(e => e.Count ?? 1));
    }

    [Fact]
    public async Task UnrelatedAddressFreed_WaitingRetriedSameFailureNotRecordedAgain()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("full", new IPAddressPoolSpec { Addresses = ["198.51.100.7/32"], AutoAssign = false });
        await f.CreatePoolAsync("other", "203.0.113.0/28");
        await f.CreateServiceAsync(LoadBalancer("holder", new() { [Annotations.AddressPool] = "full" }));
        await f.CreateServiceAsync(LoadBalancer("waiting", new() { [Annotations.AddressPool] = "full" }));
        await f.CreateServiceAsync(LoadBalancer("unrelated"));
        await f.WaitForEventAsync("waiting", "AllocationFailed", contains: "pool exhausted");

        // Freeing an address retries every waiting Service; this one fails exactly as before.
        await f.PatchServiceAsync("unrelated", """{"spec":{"type":"ClusterIP"}}""");
        await f.SettleAsync();

        Assert.Empty(Ingress(await f.GetServiceAsync("waiting")));
        var failed = (await f.EventsForAsync("waiting")).Where(e => e.Reason == "AllocationFailed").ToList();
        Assert.Equal(1, failed.Sum(e => e.Count ?? 1));
    }

    [Fact]
    public async Task WaitingService_EditedButStillFailing_RecordedAgain()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("full", new IPAddressPoolSpec { Addresses = ["198.51.100.7/32"], AutoAssign = false });
        await f.CreateServiceAsync(LoadBalancer("holder", new() { [Annotations.AddressPool] = "full" }));
        await f.CreateServiceAsync(LoadBalancer("waiting", new() { [Annotations.AddressPool] = "full" }));
        await f.WaitForEventAsync("waiting", "AllocationFailed", contains: "pool exhausted");

        await f.PatchServiceAsync("waiting", """{"metadata":{"labels":{"edited":"yes"}}}""");
        await f.SettleAsync();

        var failed = (await f.EventsForAsync("waiting")).Where(e => e.Reason == "AllocationFailed").ToList();
        Assert.Equal(2, failed.Sum(e => e.Count ?? 1));
    }

    [Fact]
    public async Task SettledCluster_TimePasses_NoWritesNoRelists()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/30");
        await f.CreatePoolAsync("full", new IPAddressPoolSpec { Addresses = ["203.0.113.7/32"], AutoAssign = false });
        var counting = new CountingClient(f.Cluster.Client);
        var clock = new FakeTimeProvider();
        var options = DefaultOptions();
        options.PoolStatusInterval = TimeSpan.Zero;
        await f.StartControllerAsync(counting, clock, options);
        await f.CreateServiceAsync(LoadBalancer("web"));
        await f.CreateServiceAsync(LoadBalancer("legacy", new() { ["metallb.universe.tf/allow-shared-ip"] = "k" }, port: 81));
        await f.CreateServiceAsync(LoadBalancer("holder", new() { [Annotations.AddressPool] = "full" }));
        await f.CreateServiceAsync(LoadBalancer("waiting", new() { [Annotations.AddressPool] = "full" }));
        await f.SettleAsync();
        var before = counting.Snapshot();

        // Ten minutes: every watchdog fires several times, the event recorder's aggregation window passes.
        for (var i = 0; i < 20; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(30));
        }
        // A write of each watched kind after the quiet period: once the controller has seen all three, it has seen
        // whatever its reopened watches delivered before them.
        await f.CreateNamespaceAsync("probe");
        await f.UpdatePoolAsync("full", p => p.Metadata.Labels = new Dictionary<string, string> { ["probe"] = "1" });
        await f.Client.CreateAsync(CoreResources.Services, new V1Service
        {
            Metadata = new V1ObjectMeta { Name = "probe", NamespaceProperty = "probe" },
            Spec = new V1ServiceSpec { Type = "ClusterIP", Ports = [new V1ServicePort { Port = 80 }] },
        }, default);
        await f.SettleAsync();

        var after = counting.Snapshot();
        output.WriteLine($"settled: {CountingClient.Describe(before)}");
        output.WriteLine($"after the quiet period: {CountingClient.Describe(after)}");
        Assert.Equal(CountingClient.Describe(before), CountingClient.Describe(after));
    }

    public static TheoryData<int, bool> WaitingCounts => new() { { 0, false }, { 50, false }, { 0, true }, { 50, true } };

    /// <summary>
    /// Requests the controller makes for one new Service, with 0 or 50 other Services waiting for an exhausted pool:
    /// the same. Against a server that keeps metadata written through /status, as kube-apiserver (and the emulator)
    /// does, status and annotation are one request; against one that drops it, the annotation takes a second patch.
    /// </summary>
    [Theory]
    [MemberData(nameof(WaitingCounts))]
    public async Task NewService_RequestsPerAllocation_FlatInWaitingServices(int waitingCount, bool metadataOnStatus)
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("full", new IPAddressPoolSpec { Addresses = ["198.51.100.7/32"], AutoAssign = false });
        await f.CreatePoolAsync("other", "203.0.113.0/28");
        var counting = new CountingClient(metadataOnStatus ? f.Cluster.Client : new MetadataDroppedOnStatusClient(f.Cluster.Client));
        await f.StartControllerAsync(counting);
        await f.CreateServiceAsync(LoadBalancer("holder", new() { [Annotations.AddressPool] = "full" }));
        for (var i = 0; i < waitingCount; i++)
        {
            await f.CreateServiceAsync(LoadBalancer($"waiting{i}", new() { [Annotations.AddressPool] = "full" }));
        }
        await f.CreateServiceAsync(LoadBalancer("first"));
        await f.SettleAsync();
        var before = counting.Snapshot();

        await f.CreateServiceAsync(LoadBalancer("new"));
        Assert.Equal(["203.0.113.1"], Ingress(await f.WaitForIngressAsync("new")));

        var after = counting.Snapshot();
        var delta = after.Select(kv => (kv.Key, N: kv.Value - before.GetValueOrDefault(kv.Key))).Where(d => d.N > 0)
            .ToDictionary(d => d.Key, d => d.N);
        output.WriteLine($"waiting {waitingCount}, metadata kept on /status {metadataOnStatus}: {CountingClient.Describe(delta)} (total {delta.Values.Sum()})");
        var expected = new Dictionary<string, int>
        {
            ["patch Service/status"] = 1,
            ["create Event"] = 1,
            ["patch IPAddressPool/status"] = 1,
        };
        if (!metadataOnStatus)
        {
            expected["patch Service"] = 1;
        }
        Assert.Equal(CountingClient.Describe(expected), CountingClient.Describe(delta));
    }

    public static TheoryData<string, string, bool> PoolChanges => new()
    {
        { "status only", "status", false },
        { "labels only", "labels", false },
        { "spec (generation)", "generation", true },
        { "deletion", "deletion", true },
        { "finalizers", "finalizers", true },
    };

    [Theory]
    [MemberData(nameof(PoolChanges))]
    public void AllocationRelevantChange_OnlySpecDeletionFinalizers(string name, string change, bool expected)
    {
        var old = new IPAddressPool
        {
            Metadata = new V1ObjectMeta { Name = "p", Generation = 1, ResourceVersion = "1", Finalizers = [Finalizers.PoolProtection] },
            Spec = new IPAddressPoolSpec { Addresses = ["198.51.100.0/24"] },
        };
        var now = new IPAddressPool
        {
            Metadata = new V1ObjectMeta { Name = "p", Generation = 1, ResourceVersion = "2", Finalizers = [Finalizers.PoolProtection] },
            Spec = new IPAddressPoolSpec { Addresses = ["198.51.100.0/24"] },
            Status = new IPAddressPoolStatus { AssignedIPv4 = 1 },
        };
        switch (change)
        {
            case "labels": now.Metadata.Labels = new Dictionary<string, string> { ["x"] = "y" }; break;
            case "generation": now.Metadata.Generation = 2; now.Spec.Addresses = ["198.51.100.0/25"]; break;
            case "deletion": now.Metadata.DeletionTimestamp = DateTime.UnixEpoch; break;
            case "finalizers": now.Metadata.Finalizers = []; break;
        }

        Assert.Equal(expected, ControllerInformers.AllocationRelevantChange(old, now));
        _ = name;
    }
}

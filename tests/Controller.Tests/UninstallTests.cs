using System.Net;
using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Pools;
using BareLb.Kubernetes;
using BareLb.TestSupport;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>
/// The uninstall documented in docs/operations.md completes while Services still hold addresses: nothing stays
/// Terminating. The pool-protection finalizer never outlives an uninstall.
/// </summary>
public sealed class UninstallTests
{
    private const string Hold = "test.barelb.io/play-cleanup";

    [Fact]
    public async Task DocumentedUninstall_CrdsThenManifests_NothingLeftTerminating()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.CreatePoolAsync("spare", "203.0.113.0/28");
        await f.CreateServiceAsync(LoadBalancer("web"));
        await f.CreateServiceAsync(LoadBalancer("api"));
        await f.SettleAsync();
        Assert.All((await f.Client.ListAsync(BareLbResources.IPAddressPools, SystemNamespace, null, default)).Items,
            p => Assert.Contains(Finalizers.PoolProtection, p.Metadata.Finalizers ?? []));

        // Step 1: kubectl delete -f crds/ (the controller still runs).
        foreach (var crd in Crds())
        {
            await DeleteCrdAsRealServerDoesAsync(f, crd);
        }
        // Step 2: kubectl delete -f manifests/ — the namespace among them.
        await f.StopControllerAsync();
        await f.Client.DeleteAsync(CoreResources.Namespaces, null, SystemNamespace, null, default);

        foreach (var crd in Crds())
        {
            await AssertGoneAsync(() => f.Client.GetAsync(PoolFinalizers.CustomResourceDefinitions, null, crd, default), $"CRD {crd}");
        }
        await AssertGoneAsync(() => f.Client.GetAsync(CoreResources.Namespaces, null, SystemNamespace, default), $"namespace {SystemNamespace}");
        // The Services themselves are the user's: they stay, with the addresses they were given.
        Assert.Single(Ingress(await f.GetServiceAsync("web")));
    }

    [Fact]
    public async Task NamespaceDeleted_ServicesHoldAddresses_FinalizersRemovedNamespaceGoes()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("web"));
        await f.SettleAsync();
        Assert.Contains(Finalizers.PoolProtection, (await f.GetPoolAsync("main")).Metadata.Finalizers ?? []);

        await f.Client.DeleteAsync(CoreResources.Namespaces, null, SystemNamespace, null, default);
        await f.SettleAsync();

        await AssertGoneAsync(() => f.Client.GetAsync(CoreResources.Namespaces, null, SystemNamespace, default), $"namespace {SystemNamespace}");
        Assert.Single(Ingress(await f.GetServiceAsync("web")));
    }

    [Fact]
    public async Task PoolDeletedOutsideUninstall_FinalizerKeptWhileServiceHoldsIt()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("web"));
        await f.SettleAsync();

        await f.Client.DeleteAsync(BareLbResources.IPAddressPools, SystemNamespace, "main", null, default);
        await f.SettleAsync();

        // An operator deleting a pool is not an uninstall: the pool drains (no CRD or namespace is being deleted).
        var pool = await f.GetPoolAsync("main");
        Assert.NotNull(pool.Metadata.DeletionTimestamp);
        Assert.Contains(Finalizers.PoolProtection, pool.Metadata.Finalizers ?? []);
    }

    /// <summary>Refuses the controller's pool writes while set, so that a running controller cannot react.</summary>
    private sealed class PoolWritesRefused(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
    {
        public volatile bool Refuse = true;

        public override Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) =>
            Refuse && type.Kind == "IPAddressPool" && !status
                ? Task.FromException<T>(KubernetesApiException.From(HttpStatusCode.ServiceUnavailable, new V1Status { Code = 503, Reason = "ServiceUnavailable", Message = "unavailable" }))
                : base.PatchAsync(type, ns, name, mergePatch, status, ct);
    }

    [Fact]
    public async Task GracefulStopWhileNamespaceDeleting_FinalizersRemovedOnTheWayOut()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.Client.PatchAsync(BareLbResources.IPAddressPools, SystemNamespace, "main",
            Finalizer(Finalizers.PoolProtection), status: false, default);
        await f.CreateServiceAsync(LoadBalancer("web"));
        var refused = new PoolWritesRefused(f.Cluster.Client);
        var events = ControllerEvents.CreateRecorder(refused, "test", NullLogger.Instance);
        var service = new ControllerService(refused, events,
            new ControllerCommandLine(null, SystemNamespace, null, LeaderElect: false, Identity: "test", Qps: 0, Burst: 0),
            NullLoggerFactory.Instance, TimeProvider.System, new Kubernetes.LeaderElection.LeaderElectionOptions());
        using var host = new CancellationTokenSource();
        await service.StartAsync(host.Token);
        await EventuallyAsync(async () => Ingress(await f.GetServiceAsync("web")).Count == 1 ? "" : null, "the controller to run");

        await f.Cluster.Client.DeleteAsync(CoreResources.Namespaces, null, SystemNamespace, null, default);
        refused.Refuse = false;
        await host.CancelAsync();
        await service.StopAsync(CancellationToken.None);

        await AssertGoneAsync(() => f.Client.GetAsync(CoreResources.Namespaces, null, SystemNamespace, default), $"namespace {SystemNamespace}");
    }

    [Fact]
    public async Task ReleaseIfUninstalling_NotUninstalling_KeepsFinalizers()
    {
        await using var f = await StartAsync();
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.SettleAsync();
        await f.StopControllerAsync();

        await PoolFinalizers.ReleaseIfUninstallingAsync(f.Cluster.Client, SystemNamespace, NullLogger.Instance, default);

        Assert.Contains(Finalizers.PoolProtection, (await f.GetPoolAsync("main")).Metadata.Finalizers ?? []);
    }

    private static IEnumerable<string> Crds() =>
        Directory.GetFiles(TestCluster.CrdDirectory, "*.yaml").Select(Path.GetFileNameWithoutExtension).Select(n => n!.Split('_')[1] + "." + n.Split('_')[0]);

    /// <summary>
    /// A CRD deletion as kube-apiserver performs it: the CRD gets a deletionTimestamp (held by its cleanup
    /// finalizer), every object of the kind is deleted (finalizers of those objects are honoured), and the CRD goes
    /// when none is left. The in-memory server removes a CRD's objects at once, finalizers or not; the test plays
    /// the real cleanup with a finalizer of its own.
    /// </summary>
    private static async Task DeleteCrdAsRealServerDoesAsync(ControllerFixture f, string crd)
    {
        var client = f.Cluster.Client;
        await client.PatchAsync(PoolFinalizers.CustomResourceDefinitions, null, crd,
            Finalizer(Hold), status: false, default);
        await client.DeleteAsync(PoolFinalizers.CustomResourceDefinitions, null, crd, null, default);
        if (crd == PoolFinalizers.PoolCrdName)
        {
            foreach (var pool in (await client.ListAsync(BareLbResources.IPAddressPools, null, null, default)).Items)
            {
                await f.Client.DeleteAsync(BareLbResources.IPAddressPools, pool.Metadata.NamespaceProperty, pool.Metadata.Name!, null, default);
            }
            await f.SettleAsync();
            var left = (await client.ListAsync(BareLbResources.IPAddressPools, null, null, default)).Items;
            Assert.True(left.Count == 0, "pools left Terminating: " + string.Join(", ", left.Select(p => $"{p.Metadata.Name} [{string.Join(",", p.Metadata.Finalizers ?? [])}]")));
        }
        await client.PatchAsync(PoolFinalizers.CustomResourceDefinitions, null, crd,
            JsonNode.Parse("""{"metadata":{"finalizers":null}}""")!, status: false, default);
    }

    private static JsonObject Finalizer(string name) =>
        new() { ["metadata"] = new JsonObject { ["finalizers"] = new JsonArray(JsonValue.Create(name)) } };

    private static async Task AssertGoneAsync<T>(Func<Task<T>> get, string what)
    {
        try
        {
            await get();
            Assert.Fail($"{what} is still there (Terminating)");
        }
        catch (NotFoundException)
        {
        }
    }
}

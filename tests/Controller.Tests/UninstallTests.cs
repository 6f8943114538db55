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

        // Step 1: kubectl delete -f crds/ (the controller still runs). As on kube-apiserver, each CRD stays
        // Terminating until every object of its kind is gone, finalizers honoured: the controller must let go.
        foreach (var crd in Crds())
        {
            await f.Client.DeleteAsync(PoolFinalizers.CustomResourceDefinitions, null, crd, null, default);
        }
        // The controller sees the CRD Terminating and lets go; the server then removes the pools and the CRD.
        await EventuallyAsync(async () =>
        {
            IReadOnlyList<IPAddressPool> left;
            try
            {
                left = (await f.Client.ListAsync(BareLbResources.IPAddressPools, null, null, default)).Items;
            }
            catch (NotFoundException)
            {
                left = []; // the kind itself is gone: its CRD finished deleting
            }
            return left.Count == 0 ? "" : null;
        }, "every pool to go with its CRD");
        // Step 2: kubectl delete -f manifests/ — the namespace among them.
        await f.StopControllerAsync();
        await f.Client.DeleteAsync(CoreResources.Namespaces, null, SystemNamespace, null, default);
        await f.Cluster.Server.WhenControllersIdleAsync();

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
        await f.Cluster.Server.WhenControllersIdleAsync();

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

        // Namespace deletion finishes in the background (the emulated namespace controller, as on a real cluster).
        await f.Cluster.Server.WhenControllersIdleAsync();
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

    private static JsonObject Finalizer(string name) =>
        new() { ["metadata"] = new JsonObject { ["finalizers"] = new JsonArray(JsonValue.Create(name)) } };

    /// <summary>Deletion ends in the background (the server's namespace and CRD cleanup): gone within a few seconds.</summary>
    private static Task AssertGoneAsync<T>(Func<Task<T>> get, string what) =>
        EventuallyAsync(async () =>
        {
            try
            {
                await get();
                return null;
            }
            catch (NotFoundException)
            {
                return "";
            }
        }, $"{what} to be gone rather than left Terminating");

}

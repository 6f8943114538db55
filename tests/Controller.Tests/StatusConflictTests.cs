using System.Text.Json.Nodes;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Models;
using Microsoft.Extensions.Logging.Abstractions;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

public sealed class StatusConflictTests
{
    /// <summary>
    /// Passes everything through, but before the first status update of each Service another writer changes the
    /// Service (a label), so the controller's PUT carries a stale resourceVersion and the server answers 409.
    /// </summary>
    private sealed class InterferingClient(IKubernetesClient inner) : IKubernetesClient
    {
        private readonly HashSet<string> _interfered = [];
        public int Conflicts;

        public async Task<T> UpdateStatusAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject
        {
            if (obj is Service && _interfered.Add(obj.Metadata.Name!))
            {
                var patch = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["touched"] = "yes" } } };
                await inner.PatchAsync(type, obj.Metadata.Namespace, obj.Metadata.Name!, patch, status: false, ct);
            }
            try
            {
                return await inner.UpdateStatusAsync(type, obj, ct);
            }
            catch (ConflictException)
            {
                Interlocked.Increment(ref Conflicts);
                throw;
            }
        }

        public Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) where T : class, IKubernetesObject => inner.GetAsync(type, ns, name, ct);
        public Task<KubernetesList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) where T : class, IKubernetesObject => inner.ListAsync(type, ns, options, ct);
        public Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject => inner.CreateAsync(type, obj, ct);
        public Task<T> UpdateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject => inner.UpdateAsync(type, obj, ct);
        public Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) where T : class, IKubernetesObject => inner.PatchAsync(type, ns, name, mergePatch, status, ct);
        public Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) where T : class, IKubernetesObject => inner.DeleteAsync(type, ns, name, options, ct);
        public IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, CancellationToken ct) where T : class, IKubernetesObject => inner.WatchAsync(type, ns, options, ct);
    }

    [Fact]
    public async Task StatusWrite_StaleResourceVersion_RetriedWithFreshReadKeepingOtherWritersChange()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var client = new InterferingClient(f.Client);
        using var stop = new CancellationTokenSource();
        var events = new EventRecorder(client, new EventRecorderOptions { Component = "barelb-controller" }, NullLogger.Instance);
        var controller = new LoadBalancerController(client, new ControllerOptions { Namespace = SystemNamespace }, events, NullLoggerFactory.Instance);
        var running = Task.WhenAll(events.RunAsync(stop.Token), controller.RunAsync(stop.Token));

        await f.CreateServiceAsync(LoadBalancer("web"));
        var service = await f.WaitForIngressAsync("web");

        Assert.Equal(["198.51.100.0"], Ingress(service));
        Assert.Equal("yes", service.Metadata.Labels?["touched"]);
        Assert.True(client.Conflicts >= 1, "the interfering write did not cause a 409");
        await stop.CancelAsync();
        await running;
    }
}

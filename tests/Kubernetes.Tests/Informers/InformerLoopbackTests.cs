using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using BareLb.ApiServer;
using BareLb.Kubernetes.Informers;
using BareLb.Kubernetes.Models;
using BareLb.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using static BareLb.Kubernetes.Tests.Informers.InformerTestKit;

namespace BareLb.Kubernetes.Tests.Informers;

/// <summary>The informer over the real HTTP client against the in-memory API server on loopback, in real time.</summary>
public sealed class InformerLoopbackTests
{
    [Fact]
    public async Task RunAsync_AgainstApiServer_SyncsPagedAndRelistsExactDifferenceAfterCompaction()
    {
        await using var cluster = await TestCluster.StartAsync(new ApiServerOptions());
        using var stop = new CancellationTokenSource();
        var client = new GatedWatchClient(cluster.Client);
        var initial = new Dictionary<string, Service>();
        foreach (var name in new[] { "keep", "modify", "delete", "recreate", "other" })
        {
            initial[name] = await cluster.Client.CreateAsync(CoreResources.Services, Service("default", name), stop.Token);
        }

        ResourceInformer<Service>? informer = null;
        var handler = new RecordingHandler(() => informer!.HasSynced);
        informer = new ResourceInformer<Service>(client, CoreResources.Services, new ResourceInformerOptions
        {
            Namespace = "default",
            PageSize = 2,
            MinWatchTimeout = TimeSpan.FromSeconds(1),
            InitialBackoff = TimeSpan.FromMilliseconds(20),
            MaxBackoff = TimeSpan.FromMilliseconds(200),
        }, NullLogger.Instance);
        informer.AddEventHandler(handler);
        var run = informer.RunAsync(stop.Token);

        await informer.WaitForSyncAsync(stop.Token).Within();
        Assert.Equal(5, handler.Changes.Count);
        Assert.All(handler.HasSyncedDuringDelivery, Assert.False);
        Assert.Equal(3, client.Lists);

        // The server ends each watch within 1-2 s (timeoutSeconds); hold the reconnect, change things behind the
        // informer's back, and compact the server's history so that resuming is impossible.
        var held = client.HoldNextWatch();
        await held.Within();
        var modified = await cluster.Client.PatchAsync(CoreResources.Services, "default", "modify",
            new JsonObject { ["spec"] = new JsonObject { ["loadBalancerIP"] = "198.51.100.9" } }, status: false, stop.Token);
        await cluster.Client.DeleteAsync(CoreResources.Services, "default", "delete", null, stop.Token);
        await cluster.Client.DeleteAsync(CoreResources.Services, "default", "recreate", null, stop.Token);
        var recreated = await cluster.Client.CreateAsync(CoreResources.Services, Service("default", "recreate"), stop.Token);
        var added = await cluster.Client.CreateAsync(CoreResources.Services, Service("default", "added"), stop.Token);
        cluster.Server.CompactWatchHistory();
        var listsBefore = client.Lists;
        client.ReleaseWatches();

        await handler.WaitForCountAsync(10);
        Assert.True(client.Lists > listsBefore, "no relist after the 410");
        Assert.Equal(
            new[]
            {
                $"update default/modify@{initial["modify"].Metadata.ResourceVersion}->{modified.Metadata.ResourceVersion}",
                $"delete default/delete@{initial["delete"].Metadata.ResourceVersion}",
                $"delete default/recreate@{initial["recreate"].Metadata.ResourceVersion}",
                $"add default/recreate@{recreated.Metadata.ResourceVersion}",
                $"add default/added@{added.Metadata.ResourceVersion}",
            }.Order(),
            handler.Changes.Skip(5).Order());

        var sentinel = await cluster.Client.CreateAsync(CoreResources.Services, Service("default", "sentinel"), stop.Token);
        await handler.WaitForCountAsync(11);
        Assert.Equal($"add default/sentinel@{sentinel.Metadata.ResourceVersion}", handler.Changes[^1]);
        var server = await cluster.Client.ListAsync(CoreResources.Services, "default", null, stop.Token);
        Assert.Equal(
            server.Items.Select(s => $"{s.Metadata.Name}@{s.Metadata.ResourceVersion}").Order(),
            informer.List().Select(s => $"{s.Metadata.Name}@{s.Metadata.ResourceVersion}").Order());

        stop.Cancel();
        await run.Within();
        Assert.Equal(11, handler.Changes.Count);
    }

    /// <summary>Passes everything to the real client, but can hold new watch requests at a gate.</summary>
    private sealed class GatedWatchClient(IKubernetesClient inner) : IKubernetesClient
    {
        private readonly object _gate = new();
        private TaskCompletionSource? _hold;
        private TaskCompletionSource? _arrived;
        private int _lists;

        public int Lists => Volatile.Read(ref _lists);

        /// <summary>Holds watch requests from now on; the task completes when one arrives at the gate.</summary>
        public Task HoldNextWatch()
        {
            lock (_gate)
            {
                _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _arrived.Task;
            }
        }

        public void ReleaseWatches()
        {
            lock (_gate)
            {
                _hold?.TrySetResult();
                _hold = null;
            }
        }

        public Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) where T : class, IKubernetesObject =>
            inner.GetAsync(type, ns, name, ct);

        public Task<KubernetesList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) where T : class, IKubernetesObject
        {
            Interlocked.Increment(ref _lists);
            return inner.ListAsync(type, ns, options, ct);
        }

        public Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject => inner.CreateAsync(type, obj, ct);

        public Task<T> UpdateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject => inner.UpdateAsync(type, obj, ct);

        public Task<T> UpdateStatusAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject => inner.UpdateStatusAsync(type, obj, ct);

        public Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) where T : class, IKubernetesObject =>
            inner.PatchAsync(type, ns, name, mergePatch, status, ct);

        public Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) where T : class, IKubernetesObject =>
            inner.DeleteAsync(type, ns, name, options, ct);

        public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options,
            [EnumeratorCancellation] CancellationToken ct) where T : class, IKubernetesObject
        {
            Task? hold;
            lock (_gate)
            {
                hold = _hold?.Task;
                _arrived?.TrySetResult();
            }
            if (hold is not null)
            {
                await hold.WaitAsync(ct);
            }
            await foreach (var e in inner.WatchAsync(type, ns, options, ct))
            {
                yield return e;
            }
        }
    }
}

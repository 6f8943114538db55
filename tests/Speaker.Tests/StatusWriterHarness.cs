using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.ApiServer;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Informers;
using BareLb.Speaker.Status;
using BareLb.TestSupport;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Speaker.Tests;

/// <summary>
/// An <see cref="AnnouncementStatusWriter{T}"/> for node <see cref="Me"/> against the in-memory API server, wired as
/// the speaker wires it (its informer's events signal it). The writer writes through <see cref="Client"/>, which
/// records every call and can fail the next ones; the informer and the test's own writes use the cluster's plain
/// client. Waits are event-driven (informer events and client calls), bounded by a generous real-time limit.
/// </summary>
internal sealed class StatusWriterHarness<T> : IAsyncDisposable where T : CustomResource, new()
{
    public const string Ns = "barelb-system";
    public const string Me = "node-a";
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private readonly object _gate = new();
    private TaskCompletionSource _pulse = NewPulse();
    private int _markers;

    private StatusWriterHarness(TestCluster cluster, ResourceType<T> type, string prefix, Func<T, object?> statusOf)
    {
        Cluster = cluster;
        Type = type;
        Prefix = prefix;
        Client = new RecordingClient(cluster.Client, Pulse);
        Informer = new ResourceInformer<T>(cluster.Client, type, new ResourceInformerOptions { Namespace = Ns }, NullLogger.Instance);
        Writer = new AnnouncementStatusWriter<T>(Client, type, prefix, Ns, Me, Informer, statusOf, () => new T(), Time, Log);
        Informer.AddEventHandler(new ResourceEventHandler<T>(
            _ => { Writer.Signal(); Pulse(); }, (_, _) => { Writer.Signal(); Pulse(); }, _ => { Writer.Signal(); Pulse(); }));
    }

    public TestCluster Cluster { get; }
    public ResourceType<T> Type { get; }
    public string Prefix { get; }
    public RecordingClient Client { get; }
    public ResourceInformer<T> Informer { get; }
    public AnnouncementStatusWriter<T> Writer { get; }
    /// <summary>The writer's clock: only its retry backoff runs on it.</summary>
    public FakeTimeProvider Time { get; } = new();
    /// <summary>The writer's log.</summary>
    public ListLogger Log { get; } = new();

    public static async Task<StatusWriterHarness<T>> StartAsync(ResourceType<T> type, string prefix, Func<T, object?> statusOf,
        bool runInformer = true, bool runWriter = true)
    {
        var cluster = await TestCluster.StartAsync(new ApiServerOptions { CrdDirectory = TestCluster.CrdDirectory });
        var harness = new StatusWriterHarness<T>(cluster, type, prefix, statusOf);
        await cluster.Client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = Ns } }, default);
        if (runInformer)
        {
            harness._running.Add(harness.Informer.RunAsync(harness._stop.Token));
            await harness.Informer.WaitForSyncAsync(default).WaitAsync(Limit);
        }
        if (runWriter)
        {
            harness._running.Add(harness.Writer.RunAsync(harness._stop.Token));
        }
        return harness;
    }

    public string NameFor(string node, string service, string serviceNamespace = "demo") =>
        AnnouncementStatusWriter<T>.NameFor(Prefix, node, serviceNamespace, service);

    /// <summary>Writes a status object as another speaker (or an earlier run of this one) would have.</summary>
    public async Task<T> SeedAsync(string node, string service, JsonObject? status = null, string serviceNamespace = "demo", string? name = null)
    {
        name ??= NameFor(node, service, serviceNamespace);
        var obj = new T
        {
            Kind = Type.Kind,
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = Ns,
                Labels = new Dictionary<string, string>
                {
                    [StatusLabels.Node] = node,
                    [StatusLabels.ServiceName] = service,
                    [StatusLabels.ServiceNamespace] = serviceNamespace,
                },
            },
        };
        var created = await Cluster.Client.CreateAsync(Type, obj, default);
        if (status is not null)
        {
            created = await Cluster.Client.PatchAsync(Type, Ns, name, new JsonObject { ["status"] = status }, status: true, default);
        }
        return created;
    }

    /// <summary>Seeds and waits until the writer's informer has it, so the writer's next pass sees it.</summary>
    public async Task SeedAndCacheAsync(string node, string service, string serviceNamespace = "demo")
    {
        var name = NameFor(node, service, serviceNamespace);
        await SeedAsync(node, service, serviceNamespace: serviceNamespace);
        await WaitUntilAsync(() => Informer.TryGet(Ns, name, out _), $"{name} cached");
    }

    public bool Exists(string name) => Informer.TryGet(Ns, name, out _);

    public T? Cached(string name) => Informer.TryGet(Ns, name, out var obj) ? obj : null;

    public async Task<T?> GetAsync(string name)
    {
        try
        {
            return await Cluster.Client.GetAsync(Type, Ns, name, default);
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    public IReadOnlyList<string> Names() => [.. Informer.List().Select(o => o.Metadata.Name).Order(StringComparer.Ordinal)];

    /// <summary>
    /// Returns once a whole reconcile pass that started after this call has ended: passes run one after another, and
    /// each deletes this node's stale objects, so the deletion of a second marker proves the pass before it finished.
    /// </summary>
    public async Task FullPassAsync()
    {
        for (var i = 0; i < 2; i++)
        {
            var marker = Interlocked.Increment(ref _markers);
            var name = $"{Prefix}-marker-{marker}";
            var before = Client.Deleted.Count(n => n == name);
            await SeedAsync(Me, $"marker-{marker}", name: name);
            await WaitUntilAsync(() => Client.Deleted.Count(n => n == name) > before && !Exists(name), $"marker {name} deleted by a reconcile pass");
        }
    }

    /// <summary>Re-checks <paramref name="condition"/> on every informer event and client call.</summary>
    public async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            Task pulse;
            lock (_gate)
            {
                pulse = _pulse.Task;
            }
            if (condition())
            {
                return;
            }
            foreach (var task in _running.Where(t => t.IsFaulted))
            {
                await task; // surfaces the writer's or informer's failure
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"timed out waiting for {what}; objects: {string.Join(", ", Names())}; writer log:{Environment.NewLine}{Log}");
            }
            await Task.WhenAny(pulse, Task.Delay(left));
        }
    }

    private void Pulse()
    {
        TaskCompletionSource done;
        lock (_gate)
        {
            done = _pulse;
            _pulse = NewPulse();
        }
        done.TrySetResult();
    }

    private static TaskCompletionSource NewPulse() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        foreach (var task in _running)
        {
            try
            {
                await task;
            }
            catch (OperationCanceledException)
            {
            }
        }
        _stop.Dispose();
        await Cluster.DisposeAsync();
    }

    /// <summary>Records the writer's calls after they complete, and fails the next ones on demand.</summary>
    public sealed class RecordingClient(IKubernetesClient inner, Action pulse) : DelegatingKubernetesClient(inner)
    {
        public ConcurrentQueue<string> Created { get; } = new();
        public ConcurrentQueue<string> Patched { get; } = new();
        public ConcurrentQueue<string> Deleted { get; } = new();
        /// <summary>Calls that were failed on purpose, as "verb name".</summary>
        public ConcurrentQueue<string> Failed { get; } = new();

        public int FailCreates;
        public int FailPatches;
        public int FailDeletes;

        public override async Task<TObj> CreateAsync<TObj>(ResourceType<TObj> type, TObj obj, CancellationToken ct)
        {
            Fail(ref FailCreates, "create", obj.Metadata.Name);
            var created = await Inner.CreateAsync(type, obj, ct);
            Created.Enqueue(obj.Metadata.Name);
            pulse();
            return created;
        }

        public override async Task<TObj> PatchAsync<TObj>(ResourceType<TObj> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
        {
            Fail(ref FailPatches, "patch", name);
            var patched = await Inner.PatchAsync(type, ns, name, mergePatch, status, ct);
            Patched.Enqueue(name);
            pulse();
            return patched;
        }

        public override async Task DeleteAsync<TObj>(ResourceType<TObj> type, string? ns, string name, DeleteOptions? options, CancellationToken ct)
        {
            Fail(ref FailDeletes, "delete", name);
            await Inner.DeleteAsync(type, ns, name, options, ct);
            Deleted.Enqueue(name);
            pulse();
        }

        private void Fail(ref int budget, string verb, string name)
        {
            int left;
            do
            {
                left = Volatile.Read(ref budget);
                if (left <= 0)
                {
                    return;
                }
            }
            while (Interlocked.CompareExchange(ref budget, left - 1, left) != left);
            Failed.Enqueue($"{verb} {name}");
            pulse();
            throw KubernetesApiException.From(HttpStatusCode.InternalServerError,
                new V1Status { Code = 500, Reason = "InternalError", Message = "etcd hiccup (injected)" });
        }
    }
}

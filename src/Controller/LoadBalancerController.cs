using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.Allocator;
using BareLb.Api;
using BareLb.Api.Models;

using BareLb.Controller.Pools;
using BareLb.Controller.Reconciliation;
using BareLb.Controller.Services;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Informers;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller;

/// <summary>
/// The controller's main loop: informers feed a queue, one consumer reconciles Services and pools against the
/// allocator and writes the results back. Everything that decides lives in <see cref="ServiceReconciler"/> and
/// <see cref="PoolReconciler"/>; this class does the I/O around them.
/// </summary>
public sealed partial class LoadBalancerController
{
    private readonly IKubernetesClient _client;
    private readonly ControllerOptions _options;
    private readonly EventRecorder _events;
    private readonly ILogger _logger;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeProvider _time;
    private readonly ReconcileQueue<WorkItem> _queue = new();
    private readonly ServiceReconciler _services;
    private readonly PoolReconciler _pools;
    private readonly HashSet<string> _dirtyPools = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<WorkItem, int> _failures = new();
    private readonly ServiceStatusWriter _writer;

    private ResourceInformer<V1Service>? _serviceInformer;
    private ResourceInformer<V1Namespace>? _namespaceInformer;
    private ResourceInformer<IPAddressPool>? _poolInformer;

    public LoadBalancerController(IKubernetesClient client, ControllerOptions options, EventRecorder events,
        ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _client = client;
        _options = options;
        _events = events;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LoadBalancerController>();
        _time = time ?? TimeProvider.System;
        Allocator = new PoolAllocator();
        _pools = new PoolReconciler(Allocator);
        _services = new ServiceReconciler(Allocator, options.LoadBalancerClass, _pools.IsFrozen);
        _writer = new ServiceStatusWriter(client, options.MaxConcurrentWrites, loggerFactory.CreateLogger<ServiceStatusWriter>());
    }

    /// <summary>Used only from the loop's thread (and the restore before it), so it needs no locks.</summary>
    private PoolAllocator Allocator { get; }

    /// <summary>Completes once caches have synced and every existing assignment has been restored.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Runs until <paramref name="ct"/> is cancelled (then returns normally) or an informer fails.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var informerLogger = _loggerFactory.CreateLogger<ResourceInformer<V1Service>>();
        _serviceInformer = new ResourceInformer<V1Service>(_client, CoreResources.Services, null, informerLogger, _time);
        _namespaceInformer = new ResourceInformer<V1Namespace>(_client, CoreResources.Namespaces, null, informerLogger, _time);
        _poolInformer = new ResourceInformer<IPAddressPool>(_client, BareLbResources.IPAddressPools,
            new ResourceInformerOptions { Namespace = _options.Namespace }, informerLogger, _time);

        _serviceInformer.AddEventHandler(new ResourceEventHandler<V1Service>(
            s => EnqueueService(s), (_, s) => EnqueueService(s), s => EnqueueService(s)));
        _namespaceInformer.AddEventHandler(new ResourceEventHandler<V1Namespace>(
            onAdd: added => _queue.Add(WorkItem.ForNamespace(added.Metadata.Name ?? "")),
            onUpdate: (old, now) =>
            {
                if (!LabelsEqual(old.Metadata.LabelsOrEmpty(), now.Metadata.LabelsOrEmpty()))
                {
                    _queue.Add(WorkItem.ForNamespace(now.Metadata.Name ?? ""));
                }
            }));
        _poolInformer.AddEventHandler(new ResourceEventHandler<IPAddressPool>(
            _ => _queue.Add(WorkItem.Pools), (_, _) => _queue.Add(WorkItem.Pools), _ => _queue.Add(WorkItem.Pools)));

        IResourceInformer[] informers = [_serviceInformer, _namespaceInformer, _poolInformer];
        var running = new[]
        {
            _serviceInformer.RunAsync(stop.Token),
            _namespaceInformer.RunAsync(stop.Token),
            _poolInformer.RunAsync(stop.Token),
        };
        try
        {
            var synced = InformerSync.WaitAllAsync(informers, stop.Token);
            // An informer that dies before syncing must stop us rather than leave us waiting forever.
            await Task.WhenAny(synced, Task.WhenAny(running)).ConfigureAwait(false);
            ThrowIfAnyFaulted(running);
            await synced.ConfigureAwait(false);
            LogSynced();

            await RestoreAsync(stop.Token).ConfigureAwait(false);
            _ready.TrySetResult();

            var loop = ProcessQueueAsync(stop.Token);
            var first = await Task.WhenAny(running.Append(loop)).ConfigureAwait(false);
            await first.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping (shutdown or lost leadership) is the normal end, as for the informers.
        }
        finally
        {
            _ready.TrySetCanceled(ct);
            await stop.CancelAsync().ConfigureAwait(false);
            await _writer.DrainAsync().ConfigureAwait(false);
            foreach (var task in running)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    /// <summary>
    /// Claims every address that Services already show, oldest Service first, before anything new is allocated:
    /// a restart or a change of leader never moves a running Service.
    /// </summary>
    private async Task RestoreAsync(CancellationToken ct)
    {
        _pools.Sync(_poolInformer!.List());
        var services = _serviceInformer!.List()
            .OrderBy(s => s.Metadata.CreationTimestamp ?? DateTimeOffset.MaxValue)
            .ThenBy(s => s.Metadata.NamespaceProperty, StringComparer.Ordinal)
            .ThenBy(s => s.Metadata.Name, StringComparer.Ordinal);
        var restored = 0;
        foreach (var service in services)
        {
            var result = _services.Restore(service, NamespaceLabels(service.Metadata.NamespaceProperty));
            if (result is null)
            {
                continue;
            }
            if (result.Succeeded)
            {
                restored++;
            }
            else
            {
                // Two Services claim one address: the older keeps it, this one is given a new one when reconciled.
                LogRestoreFailed(Key(service), result.Message);
                _events.Record(service, CoreResources.Services, EventType.Warning, "AllocationFailed",
                    $"address in status could not be kept after restart: {result.Message}");
            }
        }
        LogRestored(restored);
        try
        {
            await SyncPoolsAsync(ct).ConfigureAwait(false);
        }
        catch (Exception e) when (TransientErrors.Is(e, ct))
        {
            // The allocator already holds every restored address; only a write failed, and the pool pass redoes it.
            LogRetry(WorkItem.Pools.ToString(), e.Message);
            RetryLater(WorkItem.Pools, ct);
        }
        foreach (var service in _serviceInformer.List())
        {
            EnqueueService(service);
        }
    }

    private async Task ProcessQueueAsync(CancellationToken ct)
    {
        var lastFlush = _time.GetTimestamp();
        while (!ct.IsCancellationRequested)
        {
            if (_dirtyPools.Count > 0 && (_queue.Count == 0 || _time.GetElapsedTime(lastFlush) >= _options.PoolStatusInterval))
            {
                await FlushPoolStatusAsync(ct).ConfigureAwait(false);
                lastFlush = _time.GetTimestamp();
            }
            var item = await _queue.TakeAsync(ct).ConfigureAwait(false);
            try
            {
                await ProcessAsync(item, ct).ConfigureAwait(false);
                if (item.Kind != WorkKind.Service)
                {
                    // A Service item succeeds only once its write has landed (see WriteAsync).
                    _failures.TryRemove(item, out _);
                }
            }
            catch (Exception e) when (TransientErrors.Is(e, ct))
            {
                LogRetry(item.ToString(), e.Message);
                RetryLater(item, ct, e);
            }
        }
    }

    /// <summary>
    /// Requeues after a delay that doubles with each consecutive failure of the item, up to a minute, with jitter;
    /// never sooner than the API server asked for with a 429's retryAfterSeconds.
    /// </summary>
    private void RetryLater(WorkItem item, CancellationToken ct, Exception? cause = null)
    {
        var failures = _failures.AddOrUpdate(item, 1, (_, n) => Math.Min(n + 1, 16));
        var delay = TimeSpan.FromTicks(Math.Min(_options.RetryDelay.Ticks << (failures - 1), TimeSpan.FromMinutes(1).Ticks));
        delay *= 0.8 + (Random.Shared.NextDouble() * 0.4);
        if (cause is TooManyRequestsException { Status.Details.RetryAfterSeconds: { } seconds } && TimeSpan.FromSeconds(seconds) > delay)
        {
            delay = TimeSpan.FromSeconds(seconds);
        }
        _ = Task.Delay(delay, _time, ct).ContinueWith(t =>
        {
            if (!t.IsCanceled)
            {
                _queue.Add(item);
            }
        }, TaskScheduler.Default);
    }

    private async Task ProcessAsync(WorkItem item, CancellationToken ct)
    {
        switch (item.Kind)
        {
            case WorkKind.Service:
                var key = new ServiceKey(item.Namespace, item.Name);
                _serviceInformer!.TryGet(item.Namespace, item.Name, out var service);
                if (service is not null && !_namespaceInformer!.TryGet(null, item.Namespace, out _))
                {
                    // The namespace exists (the API server checked) but its watch event has not reached us yet;
                    // deciding now would match pools against no labels. Its arrival requeues the namespace's Services.
                    return;
                }
                var decision = _services.Reconcile(key, service, NamespaceLabels(item.Namespace));
                await ApplyAsync(key, service, decision, ct).ConfigureAwait(false);
                return;
            case WorkKind.Namespace:
                foreach (var s in _serviceInformer!.List().Where(s => s.Metadata.NamespaceProperty == item.Name))
                {
                    EnqueueService(s);
                }
                return;
            default:
                await SyncPoolsAsync(ct).ConfigureAwait(false);
                return;
        }
    }

    private async Task SyncPoolsAsync(CancellationToken ct)
    {
        var pools = _poolInformer!.List();
        var result = _pools.Sync(pools);
        foreach (var (pool, errors) in result.NewlyInvalid)
        {
            LogInvalidPool(pool.Metadata.Name, string.Join("; ", errors));
            _events.Record(pool, BareLbResources.IPAddressPools, EventType.Warning, "InvalidConfiguration",
                string.Join("; ", errors));
        }
        foreach (var overlap in result.NewOverlaps)
        {
            var message = $"pools {overlap.PoolA} and {overlap.PoolB} overlap on {overlap.Shared}; an address in both is given to one Service only";
            foreach (var name in new[] { overlap.PoolA, overlap.PoolB })
            {
                if (pools.FirstOrDefault(p => p.Metadata.Name == name) is { } pool)
                {
                    _events.Record(pool, BareLbResources.IPAddressPools, EventType.Warning, "PoolsOverlap", message);
                }
            }
        }
        foreach (var pool in result.NeedFinalizer)
        {
            await SetFinalizerAsync(pool, add: true, ct).ConfigureAwait(false);
        }

        await RelocateOrphansAsync(ct).ConfigureAwait(false);

        foreach (var pool in pools)
        {
            _dirtyPools.Add(pool.Metadata.Name ?? "");
            if (_pools.CanRelease(pool))
            {
                await SetFinalizerAsync(pool, add: false, ct).ConfigureAwait(false);
            }
        }
        // Services that found no address before may fit now; those that have one keep it (Allocate is idempotent).
        foreach (var waiting in _services.Waiting)
        {
            _queue.Add(WorkItem.ForService(waiting.Namespace, waiting.Name));
        }
    }

    /// <summary>
    /// Services whose address left every usable pool (the pool was deleted or shrunk) move to another compatible
    /// pool; where none can take them they keep their address and the pool reports them as Draining.
    /// </summary>
    private async Task RelocateOrphansAsync(CancellationToken ct)
    {
        var stuck = new List<(string Pool, ServiceKey Service)>();
        foreach (var orphan in Allocator.Misplaced())
        {
            var key = orphan.Service;
            if (!_serviceInformer!.TryGet(key.Namespace, key.Name, out var service))
            {
                Allocator.Release(key);
                continue;
            }
            var fromPool = orphan.Pool ?? AnnotatedPool(service);
            var decision = _services.Relocate(key, service, NamespaceLabels(key.Namespace));
            if (decision.Outcome == ServiceOutcome.Unchanged)
            {
                continue;
            }
            if (decision.Outcome == ServiceOutcome.Assigned)
            {
                _events.Record(service, CoreResources.Services, EventType.Normal, "IPReassigned",
                    $"pool {fromPool ?? "(none)"} no longer offers {Join(decision.Previous?.Addresses)}: moved to {Join(decision.Addresses)} from pool {decision.Assignment?.Pool}");
                await ApplyAsync(key, service, decision with { Outcome = ServiceOutcome.Unchanged }, ct).ConfigureAwait(false);
            }
            else if (fromPool is not null)
            {
                stuck.Add((fromPool, key));
            }
        }
        _pools.SetStuck(stuck);
    }

    private async Task ApplyAsync(ServiceKey key, V1Service? service, ServiceDecision decision, CancellationToken ct)
    {
        MarkDirty(decision.Previous?.Pool);
        MarkDirty(decision.Assignment?.Pool);
        if (decision.FreedAddresses)
        {
            foreach (var waiting in _services.Waiting)
            {
                _queue.Add(WorkItem.ForService(waiting.Namespace, waiting.Name));
            }
            // A Service stuck outside every pool may fit into one now; the pool pass moves it.
            if (Allocator.Misplaced().Count > 0)
            {
                _queue.Add(WorkItem.Pools);
            }
        }
        if (service is null || decision.Outcome == ServiceOutcome.NotOurs)
        {
            return;
        }
        foreach (var warning in decision.Warnings)
        {
            _events.Record(service, CoreResources.Services, EventType.Warning, "DeprecatedConfiguration", warning);
        }

        var addresses = OrderByFamily(decision.Addresses, service.Spec.IpFamilies?.ToList());
        switch (decision.Outcome)
        {
            case ServiceOutcome.Assigned:
                LogAssigned(key.ToString(), Join(addresses), decision.Assignment?.Pool);
                _events.Record(service, CoreResources.Services, EventType.Normal, "IPAllocated",
                    $"Assigned IP {Join(addresses)} from pool {decision.Assignment?.Pool ?? "(none)"}");
                break;
            case ServiceOutcome.Released:
                LogReleased(key.ToString(), decision.Message);
                _events.Record(service, CoreResources.Services, EventType.Normal, "ClearAssignment",
                    $"Released IP {Join(decision.Previous?.Addresses)}: {decision.Message}");
                break;
            case ServiceOutcome.Failed:
            case ServiceOutcome.Invalid:
                var kept = decision.Assignment is null ? "" : $" (keeping {Join(addresses)})";
                LogFailed(key.ToString(), decision.Failure.ToString(), decision.Message);
                _events.Record(service, CoreResources.Services, EventType.Warning, "AllocationFailed",
                    $"{Describe(decision.Failure)}: {decision.Message}{kept}");
                break;
        }

        // An address that lies in no current pool keeps the pool it came from on record: a restart needs it to
        // know where the address belongs.
        var pool = decision.Assignment is null ? null : decision.Assignment.Pool ?? AnnotatedPool(service);
        var item = WorkItem.ForService(key.Namespace, key.Name);
        await _writer.WriteAsync(key, service, addresses, pool,
            onSuccess: () => _failures.TryRemove(item, out _),
            onFailure: e =>
            {
                LogRetry(key.ToString(), e.Message);
                RetryLater(item, ct, e);
            }, ct).ConfigureAwait(false);
    }

    /// <summary>Adds or removes the pool-protection finalizer, guarded by the resourceVersion we read.</summary>
    private async Task SetFinalizerAsync(IPAddressPool pool, bool add, CancellationToken ct)
    {
        var finalizers = (pool.Metadata.Finalizers ?? []).Where(f => f != Finalizers.PoolProtection).ToList();
        if (add)
        {
            finalizers.Add(Finalizers.PoolProtection);
        }
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["resourceVersion"] = pool.Metadata.ResourceVersion,
                ["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode)JsonValue.Create(f)).ToArray()),
            },
        };
        try
        {
            await _client.PatchAsync(BareLbResources.IPAddressPools, pool.Metadata.NamespaceProperty, pool.Metadata.Name!, patch, status: false, ct).ConfigureAwait(false);
            if (!add)
            {
                LogPoolReleased(pool.Metadata.Name);
            }
        }
        catch (ConflictException)
        {
            // The pool changed since we read it; its watch event brings us back here with the new version.
        }
        catch (NotFoundException)
        {
        }
    }

    private async Task FlushPoolStatusAsync(CancellationToken ct)
    {
        var names = _dirtyPools.ToList();
        _dirtyPools.Clear();
        var now = _time.GetUtcNow();
        foreach (var name in names)
        {
            if (!_poolInformer!.TryGet(_options.Namespace, name, out var pool))
            {
                continue;
            }
            var status = _pools.DesiredStatus(pool, now);
            if (PoolReconciler.StatusEquals(pool.Status, status))
            {
                continue;
            }
            var patch = new JsonObject { ["status"] = JsonNode.Parse(KubernetesJson.Serialize(status)) };
            try
            {
                await _client.PatchAsync(BareLbResources.IPAddressPools, _options.Namespace, name, patch, status: true, ct).ConfigureAwait(false);
            }
            catch (NotFoundException)
            {
            }
            catch (Exception e) when (TransientErrors.Is(e, ct))
            {
                // The pool pass marks every pool dirty again, after a backoff.
                LogRetry($"status of pool {name}", e.Message);
                RetryLater(WorkItem.Pools, ct, e);
            }
        }
    }

    private void EnqueueService(V1Service service) =>
        _queue.Add(WorkItem.ForService(service.Metadata.NamespaceProperty ?? "default", service.Metadata.Name ?? ""));

    private void MarkDirty(string? pool)
    {
        if (pool is not null)
        {
            _dirtyPools.Add(pool);
        }
    }

    private IReadOnlyDictionary<string, string>? NamespaceLabels(string? ns) =>
        ns is not null && _namespaceInformer!.TryGet(null, ns, out var namespaceObject) ? namespaceObject.Metadata.LabelsOrEmpty() : null;

    private static string? AnnotatedPool(V1Service service) =>
        service.Metadata.Annotations is { } a && a.TryGetValue(Annotations.IPAllocatedFromPool, out var pool) ? pool : null;

    private static ServiceKey Key(V1Service service) => new(service.Metadata.NamespaceProperty ?? "default", service.Metadata.Name ?? "");

    private static IReadOnlyList<IPAddress> OrderByFamily(IReadOnlyList<IPAddress> addresses, List<string>? families)
    {
        if (addresses.Count < 2 || families is not { Count: > 0 })
        {
            return addresses;
        }
        var primary = families[0] == "IPv6" ? IpFamily.IPv6 : IpFamily.IPv4;
        return addresses.OrderBy(a => IpAddressMath.FamilyOf(a) == primary ? 0 : 1).ToList();
    }

    private static bool LabelsEqual(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static string Join(IEnumerable<IPAddress>? addresses) => string.Join(", ", addresses ?? []);

    private static string Describe(AllocationFailure failure) => failure switch
    {
        AllocationFailure.PoolExhausted => "pool exhausted",
        AllocationFailure.NoCompatiblePool => "no compatible pool",
        AllocationFailure.AddressInUse => "address in use",
        AllocationFailure.InvalidRequest => "invalid request",
        _ => failure.ToString(),
    };

    private static void ThrowIfAnyFaulted(Task[] tasks)
    {
        foreach (var task in tasks)
        {
            if (task.IsFaulted)
            {
                task.GetAwaiter().GetResult();
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Caches synced")]
    private partial void LogSynced();

    [LoggerMessage(2, LogLevel.Information, "Restored {Count} existing assignments from Service status")]
    private partial void LogRestored(int count);

    [LoggerMessage(3, LogLevel.Warning, "Service {Service}: address in status could not be restored: {Reason}")]
    private partial void LogRestoreFailed(ServiceKey service, string? reason);

    [LoggerMessage(4, LogLevel.Information, "Service {Service}: assigned {Addresses} from pool {Pool}")]
    private partial void LogAssigned(string service, string addresses, string? pool);

    [LoggerMessage(5, LogLevel.Information, "Service {Service}: released its address: {Reason}")]
    private partial void LogReleased(string service, string? reason);

    [LoggerMessage(6, LogLevel.Warning, "Service {Service}: allocation failed ({Failure}): {Reason}")]
    private partial void LogFailed(string service, string failure, string? reason);

    [LoggerMessage(7, LogLevel.Warning, "IPAddressPool {Pool} is invalid: {Errors}")]
    private partial void LogInvalidPool(string? pool, string errors);

    [LoggerMessage(8, LogLevel.Warning, "Retrying {Item}: {Reason}")]
    private partial void LogRetry(string item, string reason);

    [LoggerMessage(9, LogLevel.Information, "IPAddressPool {Pool} drained: finalizer removed")]
    private partial void LogPoolReleased(string? pool);
}

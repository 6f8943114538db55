using BareLb.Allocator;
using BareLb.Controller.Informers;
using BareLb.Controller.Pools;
using BareLb.Controller.Reconciliation;
using BareLb.Controller.Services;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller;

/// <summary>
/// One controller term: informers feed a queue; one consumer takes items and hands each to its concern
/// (<see cref="ServiceSync"/>, <see cref="PoolSync"/>, <see cref="PoolFinalizers"/>, <see cref="PoolStatusWriter"/>),
/// which answers with a <see cref="SyncResult"/> that says what happens next; failed items come back after their
/// own backoff (<see cref="RetryBackoff"/>). The allocator is used from the consumer only, so it needs no locks.
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
    private readonly ControllerActivity _activity = new();
    private readonly WriteEchoes _echoes;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _started;

    public LoadBalancerController(IKubernetesClient client, ControllerOptions options, EventRecorder events,
        ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _client = client;
        _options = options;
        _events = events;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<LoadBalancerController>();
        _time = time ?? TimeProvider.System;
        _echoes = new WriteEchoes(_activity);
    }

    /// <summary>Completes once caches have synced and every existing assignment has been restored.</summary>
    public Task Ready => _ready.Task;

    /// <summary>
    /// Completes at a moment when the controller owes nothing: caches synced, assignments restored, no item queued
    /// or being processed, no write in flight, no retry or pool-status timer armed, and every write it made has come
    /// back through its watch and been looked at. "Nothing happened" is then a fact, not a guess.
    /// </summary>
    public async Task WaitForIdleAsync(CancellationToken ct)
    {
        await _ready.Task.WaitAsync(ct).ConfigureAwait(false);
        await _activity.WhenSettledAsync(ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Makes <see cref="WaitForIdleAsync"/> wait until the controller's watch has seen a write someone else made
    /// (a test, an operator tool) to a Service, Namespace or IPAddressPool, and has reacted to it.
    /// </summary>
    /// <param name="kind">Service, Namespace or IPAddressPool.</param>
    /// <param name="key">"namespace/name", or "name" for a Namespace.</param>
    /// <param name="resourceVersion">The resourceVersion the API server answered the write with.</param>
    public void ExpectWrite(string kind, string key, string? resourceVersion) => _echoes.Expect(kind, key, resourceVersion);

    /// <summary>Like <see cref="ExpectWrite"/>, for an object that was deleted (and is gone, not held by finalizers).</summary>
    public void ExpectDeletion(string kind, string key) => _echoes.ExpectDeleted(kind, key);

    /// <summary>Runs until <paramref name="ct"/> is cancelled (then returns normally) or an informer or the loop fails.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("a LoadBalancerController runs once; make a new one for a new term");
        }
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var echoes = _echoes;
        var informers = new ControllerInformers(_client, _options, _events, echoes, Enqueue, _loggerFactory, _time);
        var backoff = new RetryBackoff(_options.RetryDelay, _options.MaxRetryDelay, _time, Enqueue, _activity);
        var allocator = new PoolAllocator();
        var pools = new PoolReconciler(allocator);
        var poolStatus = new PoolStatusWriter(_client, _options, pools, informers, echoes, _time, Enqueue, _activity);
        var poolSync = new PoolSync(pools, informers, _events, poolStatus, Enqueue, _loggerFactory.CreateLogger<PoolSync>());
        var finalizers = new PoolFinalizers(_client, _options, pools, informers, echoes, _loggerFactory.CreateLogger<PoolFinalizers>());
        var writer = new ServiceStatusWriter(_client, _options.MaxConcurrentWrites, echoes, _activity, () => Enqueue(WorkItem.WritesCompleted),
            _loggerFactory.CreateLogger<ServiceStatusWriter>(), stop.Token);
        var reconciler = new ServiceReconciler(allocator, _options.LoadBalancerClass, () => pools.HasUnknownInvalidPools,
            address => allocator.PoolsContaining(address).Count > 0);
        var services = new ServiceSync(reconciler, pools, informers, writer, new WaitingServices(Enqueue), new ServiceEvents(_events),
            poolStatus, backoff, Enqueue, _loggerFactory.CreateLogger<ServiceSync>());
        var loop = new Loop(this, informers, backoff, poolSync, finalizers, poolStatus, writer, services);

        var running = informers.Start(stop.Token);
        try
        {
            var synced = informers.WaitForSyncAsync(stop.Token);
            // An informer that dies before syncing must stop us rather than leave us waiting forever.
            await Task.WhenAny(synced, Task.WhenAny(running)).ConfigureAwait(false);
            ThrowIfAnyFaulted(running);
            await synced.ConfigureAwait(false);
            LogSynced();

            // Restore before anything is allocated: pools first (so addresses are placed), then every Service's status.
            poolSync.Sync();
            services.Restore();
            services.ReprocessAll();
            _ready.TrySetResult();

            var processing = loop.RunAsync(stop.Token);
            var first = await Task.WhenAny(running.Append(processing)).ConfigureAwait(false);
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
            await writer.DrainAsync().ConfigureAwait(false);
            backoff.Clear();
            poolStatus.Stop();
            echoes.Clear();
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

    private void Enqueue(WorkItem item)
    {
        // Counted before it is visible to the consumer, which ends the count once it has processed the item.
        _activity.Begin();
        if (!_queue.Add(item))
        {
            _activity.End();
        }
    }

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

    /// <summary>The consumer: takes items one at a time and acts on each one's result.</summary>
    private sealed class Loop(
        LoadBalancerController owner,
        ControllerInformers informers,
        RetryBackoff backoff,
        PoolSync poolSync,
        PoolFinalizers finalizers,
        PoolStatusWriter poolStatus,
        ServiceStatusWriter writer,
        ServiceSync services)
    {
        public async Task RunAsync(CancellationToken ct)
        {
            while (!ct.IsCancellationRequested)
            {
                var item = await owner._queue.TakeAsync(ct).ConfigureAwait(false);
                try
                {
                    SyncResult result;
                    try
                    {
                        result = await ProcessAsync(item, ct).ConfigureAwait(false);
                    }
                    catch (Exception e) when (TransientErrors.Is(e, ct))
                    {
                        result = SyncResult.Retry(e);
                    }
                    catch (Exception e) when (ct.IsCancellationRequested && e is not OperationCanceledException)
                    {
                        // A request cut short by the stop fails as whatever the transport makes of it; stopping is
                        // what happened, and the next term starts from the API's state anyway.
                        throw new OperationCanceledException("stopped during a write", e, ct);
                    }
                    Apply(item, result);
                }
                finally
                {
                    owner._activity.End();
                }
            }
        }

        private async Task<SyncResult> ProcessAsync(WorkItem item, CancellationToken ct)
        {
            switch (item.Kind)
            {
                case WorkKind.Service:
                    return services.Reconcile(new ServiceKey(item.Namespace, item.Name));
                case WorkKind.Namespace:
                    foreach (var service in informers.Services.List().Where(s => s.Metadata.NamespaceProperty == item.Name))
                    {
                        owner.Enqueue(WorkItem.ForService(item.Name, service.Metadata.Name ?? ""));
                    }
                    return SyncResult.Success;
                case WorkKind.Pools:
                    return poolSync.Sync();
                case WorkKind.PoolFinalizers:
                    return await finalizers.SyncAsync(ct).ConfigureAwait(false);
                case WorkKind.PoolStatus:
                    return await poolStatus.FlushAsync(ct).ConfigureAwait(false);
                case WorkKind.WritesCompleted:
                    foreach (var outcome in writer.TakeCompleted())
                    {
                        services.OnWritten(outcome);
                    }
                    return SyncResult.Success;
                default:
                    throw new InvalidOperationException($"unknown work item {item}");
            }
        }

        private void Apply(WorkItem item, SyncResult result)
        {
            switch (result.State)
            {
                case SyncState.Success:
                    backoff.Forget(item);
                    break;
                case SyncState.ReprocessAll:
                    backoff.Forget(item);
                    services.ReprocessAll();
                    break;
                case SyncState.ErrorRetry:
                    var delay = backoff.Schedule(item, result.Error);
                    owner.LogRetry(item.ToString(), delay, result.Error?.Message ?? "");
                    break;
                case SyncState.ErrorNoRetry:
                    backoff.Forget(item);
                    owner.LogGaveUp(item.ToString(), result.Error?.Message ?? "");
                    break;
            }
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Caches synced")]
    private partial void LogSynced();

    [LoggerMessage(2, LogLevel.Warning, "Retrying {Item} in {Delay}: {Reason}")]
    private partial void LogRetry(string item, TimeSpan delay, string reason);

    [LoggerMessage(3, LogLevel.Error, "{Item} failed and is not retried until it changes: {Reason}")]
    private partial void LogGaveUp(string item, string reason);
}

using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Kubernetes.Informers;

/// <summary>
/// Keeps a local cache of one kind (optionally one namespace and selector) in step with the API server and tells
/// handlers about every change: a paged list fills the cache, a watch from the list's resourceVersion keeps it
/// current, a closed watch is resumed from the last resourceVersion seen (bookmarks included), and an expired
/// resourceVersion (410) triggers a relist whose difference to the cache is delivered as adds, updates and deletes.
/// </summary>
/// <remarks>
/// The cache is updated before the change is queued for the handlers, so a handler may find the cache already
/// ahead of the change it is processing (as with client-go). Handlers run one at a time on a single dispatcher,
/// so a slow handler delays later changes but never reorders them.
/// </remarks>
public sealed class ResourceInformer<T> : IResourceInformer where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly IKubernetesClient _client;
    private readonly ResourceType<T> _type;
    private readonly ResourceInformerOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly ReconnectBackoff _backoff;
    private readonly object _cacheGate = new();
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Dictionary<string, T> _cache = new(StringComparer.Ordinal);
    private IResourceEventHandler<T>[] _handlers = [];
    private Action<UnreadableObject>[] _unreadableHandlers = [];
    // Key -> resourceVersion of objects reported as unreadable, so each version is reported once.
    private readonly Dictionary<string, string?> _unreadable = new(StringComparer.Ordinal);
    private bool _listedOnce;
    private int _started;
    private volatile bool _hasSynced;

    public ResourceInformer(IKubernetesClient client, ResourceType<T> type, ResourceInformerOptions? options, ILogger logger,
        TimeProvider? timeProvider = null, Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(logger);
        options ??= new ResourceInformerOptions();
        options.Validate();
        if (!type.Namespaced && !string.IsNullOrEmpty(options.Namespace))
        {
            throw new ArgumentException($"Namespace must be null for {type}: the kind is cluster-scoped (got '{options.Namespace}')", nameof(options));
        }

        _client = client;
        _type = type;
        _options = options;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? Random.Shared;
        _backoff = new ReconnectBackoff(options.InitialBackoff, options.MaxBackoff, _random);
        Name = string.IsNullOrEmpty(options.Namespace) ? type.ToString() : $"{type} in {options.Namespace}";
    }

    public string Name { get; }

    public bool HasSynced => _hasSynced;

    public Task WaitForSyncAsync(CancellationToken ct) => _synced.Task.WaitAsync(ct);

    /// <summary>Registers a handler; only before <see cref="RunAsync"/>, so that every handler sees the whole initial list.</summary>
    public void AddEventHandler(IResourceEventHandler<T> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_cacheGate)
        {
            if (Volatile.Read(ref _started) != 0)
            {
                throw new InvalidOperationException($"Informer {Name}: handlers must be added before RunAsync is called");
            }
            _handlers = [.. _handlers, handler];
        }
    }

    /// <summary>
    /// Registers a callback for objects the models cannot read (before <see cref="RunAsync"/>). Such an object is left
    /// out of the cache, or, if an earlier version was readable, that version stays; every other object syncs as usual.
    /// Each unreadable version is logged and reported once.
    /// </summary>
    public void AddUnreadableHandler(Action<UnreadableObject> handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        lock (_cacheGate)
        {
            if (Volatile.Read(ref _started) != 0)
            {
                throw new InvalidOperationException($"Informer {Name}: handlers must be added before RunAsync is called");
            }
            _unreadableHandlers = [.. _unreadableHandlers, handler];
        }
    }

    /// <param name="ns">Null or empty for cluster-scoped kinds.</param>
    public bool TryGet(string? ns, string name, [MaybeNullWhen(false)] out T obj)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = Key(ns, name);
        lock (_cacheGate)
        {
            return _cache.TryGetValue(key, out obj);
        }
    }

    /// <summary>A snapshot of the cache; later changes do not affect it.</summary>
    public IReadOnlyList<T> List()
    {
        lock (_cacheGate)
        {
            return [.. _cache.Values];
        }
    }

    /// <summary>Lists, watches and delivers changes until <paramref name="ct"/> is cancelled, then returns.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        lock (_cacheGate)
        {
            if (_started != 0)
            {
                throw new InvalidOperationException($"Informer {Name}: RunAsync may be called only once");
            }
            Volatile.Write(ref _started, 1);
        }

        var changes = Channel.CreateUnbounded<Change>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var dispatcher = Task.Run(() => DispatchAsync(changes.Reader, ct), CancellationToken.None);
        try
        {
            await ListAndWatchAsync(changes.Writer, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            changes.Writer.TryComplete();
            await dispatcher.ConfigureAwait(false);
        }
    }

    private async Task ListAndWatchAsync(ChannelWriter<Change> changes, CancellationToken ct)
    {
        string? resourceVersion = null;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            if (resourceVersion is null)
            {
                try
                {
                    resourceVersion = await ListAsync(changes, ct).ConfigureAwait(false);
                }
                catch (Exception ex) when (!ct.IsCancellationRequested)
                {
                    var delay = _backoff.Next();
                    InformerLog.ListFailed(_logger, Name, delay, ex);
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                    continue;
                }
            }

            var watch = await WatchAsync(resourceVersion, changes, ct).ConfigureAwait(false);
            if (watch.Healthy)
            {
                _backoff.Reset();
            }

            switch (watch.End)
            {
                case WatchEnd.Silent:
                    InformerLog.WatchSilent(_logger, Name, _options.WatchdogTimeout, watch.ResourceVersion);
                    break;
                case WatchEnd.Closed when watch.Healthy:
                    InformerLog.WatchClosed(_logger, Name, watch.Events, watch.ResourceVersion, TimeSpan.Zero);
                    break;
                case WatchEnd.Closed:
                {
                    var delay = _backoff.Next();
                    InformerLog.WatchClosed(_logger, Name, watch.Events, watch.ResourceVersion, delay);
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                    break;
                }
                case WatchEnd.Expired:
                {
                    var delay = _backoff.Next();
                    InformerLog.WatchExpired(_logger, Name, watch.ResourceVersion, delay);
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                    break;
                }
                default:
                {
                    var delay = _backoff.Next();
                    InformerLog.WatchFailed(_logger, Name, watch.Events, watch.ResourceVersion, delay, watch.Error!);
                    await Task.Delay(delay, _time, ct).ConfigureAwait(false);
                    break;
                }
            }

            resourceVersion = watch.End == WatchEnd.Expired ? null : watch.ResourceVersion;
        }
    }

    /// <summary>Reads the whole collection page by page, replaces the cache with it and returns its resourceVersion.</summary>
    private async Task<string> ListAsync(ChannelWriter<Change> changes, CancellationToken ct)
    {
        var items = new List<T>();
        var unreadable = new List<UnreadableObject>();
        string? resourceVersion = null;
        string? continueToken = null;
        int? limit = _options.PageSize;
        var restarts = 0;
        while (true)
        {
            ResourceList<T> page;
            try
            {
                page = await _client.ListAsync(_type, _options.Namespace, new ListOptions
                {
                    LabelSelector = _options.LabelSelector,
                    FieldSelector = _options.FieldSelector,
                    Limit = limit,
                    Continue = continueToken,
                }, ct).ConfigureAwait(false);
            }
            catch (GoneException) when (continueToken is not null)
            {
                // The snapshot behind the continue token was compacted away. Pages from different snapshots
                // cannot be stitched together, so start over; if that happens again the collection is changing
                // faster than we page through it, and one unpaged list (client-go's fallback) is the way out.
                restarts++;
                if (restarts > 1)
                {
                    limit = null;
                }
                InformerLog.ContinueExpired(_logger, Name, limit is null ? "without paging" : "from the first page");
                items.Clear();
                unreadable.Clear();
                continueToken = null;
                continue;
            }

            items.AddRange(page.Items);
            unreadable.AddRange(page.Unreadable);
            resourceVersion = page.ResourceVersion;
            continueToken = page.Continue;
            if (continueToken is null)
            {
                break;
            }
        }

        if (string.IsNullOrEmpty(resourceVersion))
        {
            throw new InvalidOperationException($"Informer {Name}: the list response has no metadata.resourceVersion to watch from");
        }

        Replace(items, unreadable, resourceVersion, changes);
        return resourceVersion;
    }

    private void Replace(List<T> items, List<UnreadableObject> unreadable, string resourceVersion, ChannelWriter<Change> changes)
    {
        var fresh = new Dictionary<string, T>(items.Count, StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (!string.IsNullOrEmpty(item.Metadata.Name))
            {
                fresh[Key(item)] = item;
            }
        }

        Dictionary<string, T> previous;
        lock (_cacheGate)
        {
            previous = _cache;
            // An object that became unreadable keeps its last readable version: dropping it would tell the handlers
            // it was deleted (a pool "deleted" moves every Service out of it).
            foreach (var bad in unreadable)
            {
                if (previous.TryGetValue(bad.Key, out var last))
                {
                    fresh[bad.Key] = last;
                }
            }
            _cache = fresh;
        }
        foreach (var bad in unreadable)
        {
            ReportUnreadable(bad);
        }
        lock (_unreadable)
        {
            foreach (var key in _unreadable.Keys.Where(k => unreadable.All(u => u.Key != k)).ToList())
            {
                _unreadable.Remove(key);
            }
        }

        int added = 0, updated = 0, deleted = 0;
        foreach (var (key, old) in previous)
        {
            if (!fresh.ContainsKey(key))
            {
                deleted++;
                changes.TryWrite(Change.Deleted(old));
            }
        }

        foreach (var item in fresh.Values)
        {
            if (!previous.TryGetValue(Key(item), out var old))
            {
                added++;
                changes.TryWrite(Change.Added(item));
            }
            else if (!SameUid(old, item))
            {
                // Deleted and recreated under the same name while we were not watching: two changes, not one.
                deleted++;
                added++;
                changes.TryWrite(Change.Deleted(old));
                changes.TryWrite(Change.Added(item));
            }
            else if (!string.Equals(old.Metadata.ResourceVersion, item.Metadata.ResourceVersion, StringComparison.Ordinal))
            {
                updated++;
                changes.TryWrite(Change.Updated(old, item));
            }
        }

        if (!_listedOnce)
        {
            _listedOnce = true;
            changes.TryWrite(Change.SyncMarker);
        }

        InformerLog.Listed(_logger, Name, fresh.Count, resourceVersion, added, updated, deleted);
    }

    private async Task<WatchResult> WatchAsync(string resourceVersion, ChannelWriter<Change> changes, CancellationToken ct)
    {
        var options = new WatchOptions
        {
            ResourceVersion = resourceVersion,
            LabelSelector = _options.LabelSelector,
            FieldSelector = _options.FieldSelector,
            AllowWatchBookmarks = true,
            TimeoutSeconds = (int)(_options.MinWatchTimeout.TotalSeconds * (1 + _random.NextDouble())),
        };

        using var watchCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var watchdog = new Watchdog(watchCts);
        using var timer = _time.CreateTimer(static s => ((Watchdog)s!).Fire(), watchdog, _options.WatchdogTimeout, Timeout.InfiniteTimeSpan);
        var started = _time.GetTimestamp();
        var events = 0;
        var current = resourceVersion;
        bool Healthy() => events > 0 || _time.GetElapsedTime(started) >= _options.HealthyWatchDuration;

        try
        {
            await foreach (var e in _client.WatchAsync(_type, _options.Namespace, options, watchCts.Token).ConfigureAwait(false))
            {
                timer.Change(_options.WatchdogTimeout, Timeout.InfiniteTimeSpan);
                events++;
                current = Apply(e, changes) ?? current;
            }
            return new WatchResult(watchdog.Fired ? WatchEnd.Silent : WatchEnd.Closed, current, events, Healthy(), null);
        }
        catch (OperationCanceledException) when (watchdog.Fired && !ct.IsCancellationRequested)
        {
            return new WatchResult(WatchEnd.Silent, current, events, Healthy(), null);
        }
        catch (GoneException ex)
        {
            return new WatchResult(WatchEnd.Expired, current, events, Healthy(), ex);
        }
        catch (Exception ex) when (!ct.IsCancellationRequested)
        {
            return new WatchResult(WatchEnd.Failed, current, events, Healthy(), ex);
        }
    }

    /// <summary>Applies one watch event to the cache, queues the change, and returns the event's resourceVersion.</summary>
    private string? Apply(WatchEvent<T> e, ChannelWriter<Change> changes)
    {
        var obj = e.Object;
        var resourceVersion = e.ResourceVersion;
        if (e.Type == WatchEventType.Bookmark)
        {
            return string.IsNullOrEmpty(resourceVersion) ? null : resourceVersion;
        }

        if (e.Unreadable is { } bad && !string.IsNullOrEmpty(bad.Metadata.Name))
        {
            if (e.Type == WatchEventType.Deleted)
            {
                bool removed;
                T? last;
                lock (_cacheGate)
                {
                    removed = _cache.Remove(bad.Key, out last);
                }
                lock (_unreadable)
                {
                    _unreadable.Remove(bad.Key);
                }
                if (removed)
                {
                    changes.TryWrite(Change.Deleted(last!));
                }
            }
            else
            {
                // The cache keeps the last readable version, if there was one; see Replace.
                ReportUnreadable(bad);
            }
            return string.IsNullOrEmpty(resourceVersion) ? null : resourceVersion;
        }

        if (obj is null || string.IsNullOrEmpty(obj.Metadata?.Name))
        {
            InformerLog.MalformedEvent(_logger, Name, e.Type);
            return string.IsNullOrEmpty(resourceVersion) ? null : resourceVersion;
        }

        var key = Key(obj);
        lock (_unreadable)
        {
            _unreadable.Remove(key);
        }
        if (e.Type == WatchEventType.Deleted)
        {
            bool removed;
            lock (_cacheGate)
            {
                removed = _cache.Remove(key);
            }
            if (removed)
            {
                changes.TryWrite(Change.Deleted(obj));
            }
        }
        else
        {
            T? old;
            lock (_cacheGate)
            {
                _cache.TryGetValue(key, out old);
                _cache[key] = obj;
            }

            if (old is null)
            {
                changes.TryWrite(Change.Added(obj));
            }
            else if (!SameUid(old, obj))
            {
                changes.TryWrite(Change.Deleted(old));
                changes.TryWrite(Change.Added(obj));
            }
            else if (!string.Equals(old.Metadata.ResourceVersion, resourceVersion, StringComparison.Ordinal))
            {
                changes.TryWrite(Change.Updated(old, obj));
            }
        }

        return string.IsNullOrEmpty(resourceVersion) ? null : resourceVersion;
    }

    private async Task DispatchAsync(ChannelReader<Change> reader, CancellationToken ct)
    {
        try
        {
            while (await reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (reader.TryRead(out var change))
                {
                    ct.ThrowIfCancellationRequested();
                    Deliver(change);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void Deliver(Change change)
    {
        if (change.Kind == ChangeKind.Synced)
        {
            _hasSynced = true;
            InformerLog.Synced(_logger, Name);
            _synced.TrySetResult();
            return;
        }

        foreach (var handler in _handlers)
        {
            try
            {
                switch (change.Kind)
                {
                    case ChangeKind.Added:
                        handler.OnAdd(change.New!);
                        break;
                    case ChangeKind.Updated:
                        handler.OnUpdate(change.Old!, change.New!);
                        break;
                    case ChangeKind.Deleted:
                        handler.OnDelete(change.Old!);
                        break;
                }
            }
            catch (Exception ex)
            {
                InformerLog.HandlerFailed(_logger, Name, handler.GetType().Name, change.Kind.ToString(), Key(change.New ?? change.Old!), ex);
            }
        }
    }

    private void ReportUnreadable(UnreadableObject bad)
    {
        lock (_unreadable)
        {
            if (_unreadable.TryGetValue(bad.Key, out var reported) && reported == bad.Metadata.ResourceVersion)
            {
                return;
            }
            _unreadable[bad.Key] = bad.Metadata.ResourceVersion;
        }
        InformerLog.Unreadable(_logger, Name, bad.Key, bad.Metadata.ResourceVersion ?? "", bad.Error);
        foreach (var handler in _unreadableHandlers)
        {
            try
            {
                handler(bad);
            }
            catch (Exception ex)
            {
                InformerLog.HandlerFailed(_logger, Name, handler.Method.Name, "Unreadable", bad.Key, ex);
            }
        }
    }

    private static bool SameUid(T a, T b) =>
        string.IsNullOrEmpty(a.Metadata.Uid) || string.IsNullOrEmpty(b.Metadata.Uid) ||
        string.Equals(a.Metadata.Uid, b.Metadata.Uid, StringComparison.Ordinal);

    private static string Key(T obj) => Key(obj.Metadata.NamespaceProperty, obj.Metadata.Name!);

    private static string Key(string? ns, string name) => string.IsNullOrEmpty(ns) ? name : ns + "/" + name;

    private enum ChangeKind { Added, Updated, Deleted, Synced }

    private readonly record struct Change(ChangeKind Kind, T? Old, T? New)
    {
        public static Change SyncMarker => new(ChangeKind.Synced, null, null);
        public static Change Added(T obj) => new(ChangeKind.Added, null, obj);
        public static Change Updated(T old, T obj) => new(ChangeKind.Updated, old, obj);
        public static Change Deleted(T obj) => new(ChangeKind.Deleted, obj, null);
    }

    private enum WatchEnd { Closed, Silent, Expired, Failed }

    private readonly record struct WatchResult(WatchEnd End, string ResourceVersion, int Events, bool Healthy, Exception? Error);

    private sealed class Watchdog(CancellationTokenSource watch)
    {
        private volatile bool _fired;

        public bool Fired => _fired;

        public void Fire()
        {
            _fired = true;
            try
            {
                watch.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The watch ended while the timer was firing.
            }
        }
    }
}

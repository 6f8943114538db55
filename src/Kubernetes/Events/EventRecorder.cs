using System.Globalization;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Kubernetes.Events;

/// <summary>
/// Writes core/v1 Events about objects, in the background: callers enqueue and go on; a full queue drops its
/// oldest entry; a failed write is logged, never thrown. A repeat of the same event (same object, type, reason
/// and message) within <see cref="EventRecorderOptions.AggregationWindow"/> of its previous occurrence increments
/// the existing Event's count and lastTimestamp by merge patch instead of creating another object.
/// </summary>
public sealed class EventRecorder
{
    // Longest object name that still leaves room for ".<16 hex digits>" within the 253-character name limit.
    private const int MaxNamePrefix = 253 - 17;
    private const int MaxReportingInstance = 128;
    private static readonly TimeSpan DropLogInterval = TimeSpan.FromSeconds(10);

    private readonly IKubernetesClient _client;
    private readonly EventRecorderOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Channel<PendingEvent> _queue;
    private readonly Dictionary<AggregationKey, RecordedEvent> _recorded = [];
    private long _lastSuffix;
    private long _dropped;
    private long _lastDropLog = long.MinValue;
    private int _started;

    public EventRecorder(IKubernetesClient client, EventRecorderOptions options, ILogger logger, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _client = client;
        _options = options;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        _queue = Channel.CreateBounded<PendingEvent>(
            new BoundedChannelOptions(options.QueueCapacity)
            {
                FullMode = BoundedChannelFullMode.DropOldest,
                SingleReader = true,
            },
            OnDropped);
    }

    /// <summary>Queues an Event about <paramref name="obj"/> and returns at once.</summary>
    public void Record<T>(T obj, ResourceType<T> type, EventType eventType, string reason, string message)
        where T : class, IKubernetesObject<V1ObjectMeta> =>
        Enqueue(obj, type, eventType, reason, message, completion: null);

    /// <summary>
    /// Queues an Event; the task completes with true once it is written, false if it was dropped or could not be
    /// written (the reason is logged). <paramref name="ct"/> stops the waiting only, not the write.
    /// </summary>
    public Task<bool> RecordAsync<T>(T obj, ResourceType<T> type, EventType eventType, string reason, string message, CancellationToken ct)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var completion = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(obj, type, eventType, reason, message, completion);
        return completion.Task.WaitAsync(ct);
    }

    /// <summary>Writes queued Events until <paramref name="ct"/> is cancelled; Events still queued then are dropped.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("EventRecorder.RunAsync may be called only once");
        }

        try
        {
            await foreach (var pending in _queue.Reader.ReadAllAsync(ct).ConfigureAwait(false))
            {
                var written = false;
                try
                {
                    written = await WriteAsync(pending, ct).ConfigureAwait(false);
                }
                finally
                {
                    pending.Completion?.TrySetResult(written);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left))
            {
                left.Completion?.TrySetResult(false);
            }
        }
    }

    private void Enqueue<T>(T obj, ResourceType<T> type, EventType eventType, string reason, string message, TaskCompletionSource<bool>? completion)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(obj);
        ArgumentNullException.ThrowIfNull(type);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ArgumentNullException.ThrowIfNull(message);
        if (!Enum.IsDefined(eventType))
        {
            throw new ArgumentOutOfRangeException(nameof(eventType), eventType, "event type must be Normal or Warning");
        }
        if (string.IsNullOrEmpty(obj.Metadata?.Name))
        {
            throw new ArgumentException($"the {type.Kind} has no metadata.name to refer to", nameof(obj));
        }
        if (type.Namespaced && string.IsNullOrEmpty(obj.Metadata.NamespaceProperty))
        {
            throw new ArgumentException($"the {type.Kind} '{obj.Metadata.Name}' has no metadata.namespace, but {type} is namespaced", nameof(obj));
        }

        var involved = new V1ObjectReference
        {
            ApiVersion = type.ApiVersion,
            Kind = type.Kind,
            NamespaceProperty = type.Namespaced ? obj.Metadata.NamespaceProperty : null,
            Name = obj.Metadata.Name,
            Uid = obj.Metadata.Uid,
            ResourceVersion = obj.Metadata.ResourceVersion,
        };
        Enqueue(involved, eventType, reason, message, completion);
    }

    /// <summary>
    /// Queues an Event about an object known only by reference, such as one the models could not read
    /// (<see cref="UnreadableObject"/>).
    /// </summary>
    public void Record(V1ObjectReference involved, EventType eventType, string reason, string message)
    {
        ArgumentNullException.ThrowIfNull(involved);
        ArgumentException.ThrowIfNullOrWhiteSpace(involved.Name);
        ArgumentException.ThrowIfNullOrWhiteSpace(reason);
        ArgumentNullException.ThrowIfNull(message);
        Enqueue(involved, eventType, reason, message, completion: null);
    }

    private void Enqueue(V1ObjectReference involved, EventType eventType, string reason, string message, TaskCompletionSource<bool>? completion)
    {
        var pending = new PendingEvent(involved, eventType, reason, message, _time.GetUtcNow(), _time.GetTimestamp(), completion);
        if (!_queue.Writer.TryWrite(pending))
        {
            // Only after RunAsync has stopped.
            completion?.TrySetResult(false);
        }
    }

    private async Task<bool> WriteAsync(PendingEvent pending, CancellationToken ct)
    {
        var key = new AggregationKey(pending.Involved.Kind, pending.Involved.NamespaceProperty, pending.Involved.Name!, pending.Involved.Uid,
            pending.Type, pending.Reason, pending.Message);
        try
        {
            if (_recorded.TryGetValue(key, out var previous) &&
                _time.GetElapsedTime(previous.LastSeen, pending.Timestamp) < _options.AggregationWindow)
            {
                // The count moves on even if the patch fails, so the next successful patch still counts this occurrence.
                previous.Count++;
                previous.LastSeen = pending.Timestamp;
                try
                {
                    await _client.PatchAsync(CoreResources.Events, previous.Namespace, previous.Name, new JsonObject
                    {
                        ["count"] = previous.Count,
                        ["lastTimestamp"] = pending.Time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                    }, status: false, ct).ConfigureAwait(false);
                    EventRecorderLog.Recorded(_logger, pending.Type.ToString(), pending.Reason, pending.Involved.Kind, Describe(pending.Involved), previous.Name, previous.Count);
                    return true;
                }
                catch (NotFoundException)
                {
                    // Events expire on the server (one hour by default); start a new one.
                    _recorded.Remove(key);
                }
            }

            var created = await CreateAsync(pending, ct).ConfigureAwait(false);
            Remember(key, new RecordedEvent(created.Metadata.NamespaceProperty!, created.Metadata.Name!, pending.Timestamp));
            EventRecorderLog.Recorded(_logger, pending.Type.ToString(), pending.Reason, pending.Involved.Kind, Describe(pending.Involved), created.Metadata.Name!, 1);
            return true;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            EventRecorderLog.RecordFailed(_logger, pending.Type.ToString(), pending.Reason, pending.Involved.Kind, Describe(pending.Involved), pending.Message, ex);
            return false;
        }
    }

    private async Task<Corev1Event> CreateAsync(PendingEvent pending, CancellationToken ct)
    {
        // Cluster-scoped objects have no namespace of their own; their Events go to "default", as kubelet's do.
        var ns = pending.Involved.NamespaceProperty ?? "default";
        var instance = _options.Host is { Length: > MaxReportingInstance } host ? host[..MaxReportingInstance] : _options.Host;
        for (var attempt = 0; ; attempt++)
        {
            var evt = new Corev1Event
            {
                Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = NewName(pending.Involved.Name!) },
                InvolvedObject = pending.Involved,
                Type = pending.Type.ToString(),
                Reason = pending.Reason,
                Message = pending.Message,
                Count = 1,
                // metav1.Time has whole seconds; a client sending more would see them cut by the server anyway.
                FirstTimestamp = TruncateToSeconds(pending.Time),
                LastTimestamp = TruncateToSeconds(pending.Time),
                Source = new V1EventSource { Component = _options.Component, Host = _options.Host },
                ReportingComponent = _options.Component,
                ReportingInstance = instance,
            };
            try
            {
                return await _client.CreateAsync(CoreResources.Events, evt, ct).ConfigureAwait(false);
            }
            catch (AlreadyExistsException) when (attempt == 0)
            {
                // Another recorder picked the same name in the same nanosecond; a fresh suffix settles it.
            }
        }
    }

    /// <summary>"&lt;object name&gt;.&lt;hex&gt;", the hex being Unix time in nanoseconds made strictly increasing, as client-go names Events.</summary>
    private string NewName(string objectName)
    {
        var nanos = (_time.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) * 100;
        _lastSuffix = Math.Max(nanos, _lastSuffix + 1);
        var prefix = objectName.Length <= MaxNamePrefix ? objectName : objectName[..MaxNamePrefix].TrimEnd('.', '-');
        return prefix + "." + _lastSuffix.ToString("x", CultureInfo.InvariantCulture);
    }

    private void Remember(AggregationKey key, RecordedEvent recorded)
    {
        _recorded[key] = recorded;
        if (_recorded.Count <= _options.MaxTrackedEvents)
        {
            return;
        }

        var now = _time.GetTimestamp();
        foreach (var (k, v) in _recorded)
        {
            if (_time.GetElapsedTime(v.LastSeen, now) >= _options.AggregationWindow)
            {
                _recorded.Remove(k);
            }
        }
        while (_recorded.Count > _options.MaxTrackedEvents)
        {
            _recorded.Remove(_recorded.MinBy(e => e.Value.LastSeen).Key);
        }
    }

    private void OnDropped(PendingEvent dropped)
    {
        dropped.Completion?.TrySetResult(false);
        var total = Interlocked.Increment(ref _dropped);
        var now = _time.GetTimestamp();
        var last = Volatile.Read(ref _lastDropLog);
        if ((last == long.MinValue || _time.GetElapsedTime(last, now) >= DropLogInterval) &&
            Interlocked.CompareExchange(ref _lastDropLog, now, last) == last)
        {
            EventRecorderLog.Dropped(_logger, total);
        }
    }

    private static string Describe(V1ObjectReference o) => o.NamespaceProperty is null ? o.Name! : $"{o.NamespaceProperty}/{o.Name}";

    private static DateTime TruncateToSeconds(DateTimeOffset time) =>
        new(time.UtcTicks - time.UtcTicks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);

    private sealed record PendingEvent(V1ObjectReference Involved, EventType Type, string Reason, string Message, DateTimeOffset Time,
        long Timestamp, TaskCompletionSource<bool>? Completion);

    private readonly record struct AggregationKey(string? Kind, string? Namespace, string Name, string? Uid, EventType Type, string Reason, string Message);

    private sealed class RecordedEvent(string ns, string name, long lastSeen)
    {
        public string Namespace { get; } = ns;
        public string Name { get; } = name;
        public long LastSeen { get; set; } = lastSeen;
        public int Count { get; set; } = 1;
    }
}

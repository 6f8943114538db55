using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using BareLb.Kubernetes.Models;

namespace BareLb.Kubernetes.Tests.Fakes;

/// <summary>One request as the fake saw it; Options is the ListOptions, WatchOptions, DeleteOptions, patch text, or the object sent.</summary>
public sealed record FakeRequest(string Verb, string Resource, string? Namespace, string? Name, object? Options = null);

/// <summary>
/// An in-memory API server behind <see cref="IKubernetesClient"/>, strict where the real one is strict:
/// one global resourceVersion that every write advances, 409 on an update or patch carrying a stale
/// resourceVersion, 409 AlreadyExists on create, 410 for a watch or continue token older than the last
/// <see cref="Compact"/>, paged lists served from a snapshot, watches that replay history from the requested
/// resourceVersion and then stream live changes, bookmarks on demand, and label/field selectors with the
/// real server's "stopped matching = DELETED" rule. It checks its own invariants (resourceVersions delivered to
/// each watch strictly increase) and throws <see cref="InvalidOperationException"/> if one breaks.
/// </summary>
/// <remarks>
/// Not modelled: watch timeoutSeconds (tests end watches with <see cref="CloseWatches"/>), admission,
/// namespace existence, finalizers (deletes are immediate), list resourceVersion semantics beyond "latest".
/// Requests complete synchronously unless <see cref="OnRequest"/> makes them wait.
/// </remarks>
public sealed class FakeKubernetesClient : IKubernetesClient
{
    private static readonly HashSet<string> StatusSubresources = ["services", "nodes", "pods", "namespaces"];

    private readonly object _gate = new();
    private readonly Dictionary<(string Resource, string Namespace, string Name), JsonObject> _objects = [];
    private readonly List<HistoryEntry> _history = [];
    private readonly List<IWatcher> _watchers = [];
    private readonly Dictionary<string, ListSnapshot> _continueTokens = [];
    private readonly List<FakeRequest> _requests = [];
    private readonly List<(Func<FakeRequest, bool> Match, int Count, TaskCompletionSource Done)> _requestWaiters = [];
    private readonly TimeProvider _time;
    private long _resourceVersion = 100;
    private long _compactedBefore;

    public FakeKubernetesClient(TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>Runs at the start of every request; throw to fail it, await to delay it.</summary>
    public Func<FakeRequest, CancellationToken, ValueTask>? OnRequest { get; set; }

    public long CurrentResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion;
            }
        }
    }

    public IReadOnlyList<FakeRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public int OpenWatches
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> requests matching <paramref name="match"/> have been made (counting those already made).</summary>
    public Task WaitForRequestsAsync(Func<FakeRequest, bool> match, int count, CancellationToken ct)
    {
        lock (_gate)
        {
            if (_requests.Count(match) >= count)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _requestWaiters.Add((match, count, done));
            return done.Task.WaitAsync(ct);
        }
    }

    /// <summary>Completes once <paramref name="count"/> watch streams are open at the same time.</summary>
    public async Task WaitForOpenWatchesAsync(int count, CancellationToken ct)
    {
        while (OpenWatches < count)
        {
            TaskCompletionSource changed;
            lock (_gate)
            {
                if (_watchers.Count >= count)
                {
                    return;
                }
                changed = _watcherSetChanged;
            }
            await changed.Task.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private TaskCompletionSource _watcherSetChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Forgets history: watches from, and continue tokens of, any resourceVersion older than now get 410.</summary>
    public void Compact()
    {
        lock (_gate)
        {
            _compactedBefore = _resourceVersion;
            _history.RemoveAll(h => h.ResourceVersion <= _resourceVersion);
        }
    }

    /// <summary>Ends every open watch stream normally, as the server does when a watch times out.</summary>
    public void CloseWatches()
    {
        foreach (var w in TakeWatchers())
        {
            w.Close(null);
        }
    }

    /// <summary>Ends every open watch stream with a 410 ERROR event, as the server does when its window moves past the watch.</summary>
    public void ExpireWatches()
    {
        foreach (var w in TakeWatchers())
        {
            w.Close(Error(HttpStatusCode.Gone, "Expired", "too old resource version"));
        }
    }

    /// <summary>Sends a BOOKMARK at the current resourceVersion to every watch that allowed bookmarks.</summary>
    public void SendBookmarks()
    {
        lock (_gate)
        {
            foreach (var w in _watchers)
            {
                w.Bookmark(_resourceVersion);
            }
        }
    }

    public async Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) where T : class, IKubernetesObject
    {
        await BeginAsync(new FakeRequest("get", type.ToString(), ns, name), ct).ConfigureAwait(false);
        lock (_gate)
        {
            var key = Key(type, ns, name);
            return _objects.TryGetValue(key, out var stored)
                ? Deserialize(type, stored)
                : throw NotFound(type, name);
        }
    }

    public async Task<KubernetesList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) where T : class, IKubernetesObject
    {
        options ??= new ListOptions();
        await BeginAsync(new FakeRequest("list", type.ToString(), ns, null, options), ct).ConfigureAwait(false);
        lock (_gate)
        {
            ListSnapshot snapshot;
            if (!string.IsNullOrEmpty(options.Continue))
            {
                if (!_continueTokens.TryGetValue(options.Continue, out snapshot!))
                {
                    throw Error(HttpStatusCode.BadRequest, "BadRequest", "invalid continue token");
                }
                if (snapshot.ResourceVersion < _compactedBefore)
                {
                    throw Error(HttpStatusCode.Gone, "Expired", "The provided continue parameter is too old to display a consistent list result.");
                }
            }
            else
            {
                var labels = LabelSelector.Parse(options.LabelSelector);
                var fields = FieldSelector.Parse(options.FieldSelector);
                var items = _objects
                    .Where(kv => kv.Key.Resource == type.ToString() && InNamespace(kv.Key.Namespace, ns) && labels.Matches(kv.Value) && fields.Matches(kv.Value))
                    .OrderBy(kv => kv.Key.Namespace, StringComparer.Ordinal).ThenBy(kv => kv.Key.Name, StringComparer.Ordinal)
                    .Select(kv => kv.Value)
                    .ToArray();
                snapshot = new ListSnapshot(_resourceVersion, items, 0);
            }

            var take = options.Limit is > 0 and var limit ? Math.Min(limit, snapshot.Items.Length - snapshot.Offset) : snapshot.Items.Length - snapshot.Offset;
            var result = new KubernetesList<T>
            {
                ApiVersion = type.ApiVersion,
                Kind = type.Kind + "List",
                Metadata = new ListMeta { ResourceVersion = snapshot.ResourceVersion.ToString(CultureInfo.InvariantCulture) },
            };
            for (var i = snapshot.Offset; i < snapshot.Offset + take; i++)
            {
                result.Items.Add(Deserialize(type, snapshot.Items[i]));
            }

            var remaining = snapshot.Items.Length - snapshot.Offset - take;
            if (remaining > 0)
            {
                var token = Guid.NewGuid().ToString("N");
                _continueTokens[token] = snapshot with { Offset = snapshot.Offset + take };
                result.Metadata.Continue = token;
                result.Metadata.RemainingItemCount = remaining;
            }
            return result;
        }
    }

    public async Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject
    {
        await BeginAsync(new FakeRequest("create", type.ToString(), obj.Metadata.NamespaceProperty, obj.Metadata.Name, obj), ct).ConfigureAwait(false);
        lock (_gate)
        {
            var node = Serialize(type, obj);
            var meta = node["metadata"]!.AsObject();
            var ns = CheckNamespace(type, obj.Metadata.NamespaceProperty);
            if (!string.IsNullOrEmpty(obj.Metadata.ResourceVersion))
            {
                throw Invalid(type, obj.Metadata.Name, "metadata.resourceVersion", "resourceVersion should not be set on objects to be created");
            }
            var name = obj.Metadata.Name;
            if (string.IsNullOrEmpty(name))
            {
                name = !string.IsNullOrEmpty(obj.Metadata.GenerateName)
                    ? obj.Metadata.GenerateName + Guid.NewGuid().ToString("N")[..5]
                    : throw Invalid(type, null, "metadata.name", "name or generateName is required");
                meta["name"] = name;
            }
            Validate(type, node);

            var key = (type.ToString(), ns ?? "", name);
            if (_objects.ContainsKey(key))
            {
                throw new AlreadyExistsException(HttpStatusCode.Conflict, new Status
                {
                    Code = 409,
                    Reason = "AlreadyExists",
                    Message = $"{type} \"{name}\" already exists",
                    Details = new StatusDetails { Name = name, Kind = type.Plural },
                });
            }

            meta["uid"] = Guid.NewGuid().ToString();
            meta["creationTimestamp"] = _time.GetUtcNow().UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            meta["generation"] = 1L;
            node["apiVersion"] = type.ApiVersion;
            node["kind"] = type.Kind;
            return Deserialize(type, Commit(type, key, WatchEventType.Added, null, node));
        }
    }

    public Task<T> UpdateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject =>
        ReplaceAsync(type, obj, "update", statusOnly: false, ct);

    public Task<T> UpdateStatusAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject =>
        ReplaceAsync(type, obj, "updatestatus", statusOnly: true, ct);

    public async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) where T : class, IKubernetesObject
    {
        await BeginAsync(new FakeRequest(status ? "patchstatus" : "patch", type.ToString(), ns, name, mergePatch.ToJsonString()), ct).ConfigureAwait(false);
        lock (_gate)
        {
            var key = Key(type, ns, name);
            if (!_objects.TryGetValue(key, out var stored))
            {
                throw NotFound(type, name);
            }
            if (mergePatch is not JsonObject patch)
            {
                throw Error(HttpStatusCode.BadRequest, "BadRequest", "a merge patch must be a JSON object");
            }

            var expectedVersion = patch["metadata"]?["resourceVersion"]?.GetValue<string>();
            if (expectedVersion is not null && expectedVersion != stored["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                throw Conflict(type, name);
            }

            JsonObject effective;
            if (status)
            {
                effective = new JsonObject();
                if (patch["status"] is { } statusPatch)
                {
                    effective["status"] = statusPatch.DeepClone();
                }
            }
            else
            {
                effective = patch.DeepClone().AsObject();
                if (StatusSubresources.Contains(type.Plural))
                {
                    effective.Remove("status");
                }
            }

            var updated = MergePatch(stored, effective)!.AsObject();
            KeepImmutableMetadata(stored, updated);
            Validate(type, updated);
            BumpGeneration(stored, updated);
            return Deserialize(type, Commit(type, key, WatchEventType.Modified, stored, updated));
        }
    }

    public async Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) where T : class, IKubernetesObject
    {
        await BeginAsync(new FakeRequest("delete", type.ToString(), ns, name, options), ct).ConfigureAwait(false);
        lock (_gate)
        {
            var key = Key(type, ns, name);
            if (!_objects.TryGetValue(key, out var stored))
            {
                throw NotFound(type, name);
            }
            if (options?.PreconditionUid is { } uid && uid != stored["metadata"]!["uid"]!.GetValue<string>())
            {
                throw Conflict(type, name);
            }
            if (options?.PreconditionResourceVersion is { } rv && rv != stored["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                throw Conflict(type, name);
            }
            Commit(type, key, WatchEventType.Deleted, stored, stored.DeepClone().AsObject());
        }
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options,
        [EnumeratorCancellation] CancellationToken ct) where T : class, IKubernetesObject
    {
        await BeginAsync(new FakeRequest("watch", type.ToString(), ns, null, options), ct).ConfigureAwait(false);
        Watcher<T> watcher;
        lock (_gate)
        {
            watcher = new Watcher<T>(type, ns, LabelSelector.Parse(options.LabelSelector), FieldSelector.Parse(options.FieldSelector), options.AllowWatchBookmarks);
            if (string.IsNullOrEmpty(options.ResourceVersion))
            {
                // "Start at most recent": the current state as synthetic ADDED events, then changes.
                foreach (var (key, obj) in _objects.OrderBy(kv => long.Parse(kv.Value["metadata"]!["resourceVersion"]!.GetValue<string>(), CultureInfo.InvariantCulture)))
                {
                    if (key.Resource == type.ToString())
                    {
                        watcher.Replay(obj);
                    }
                }
                watcher.StartAt(_resourceVersion);
            }
            else
            {
                if (!long.TryParse(options.ResourceVersion, CultureInfo.InvariantCulture, out var from))
                {
                    throw Error(HttpStatusCode.BadRequest, "BadRequest", $"invalid resourceVersion '{options.ResourceVersion}'");
                }
                if (from < _compactedBefore)
                {
                    throw Error(HttpStatusCode.Gone, "Expired", $"too old resource version: {from} ({_compactedBefore})");
                }
                watcher.StartAt(from);
                foreach (var entry in _history)
                {
                    if (entry.ResourceVersion > from)
                    {
                        watcher.Offer(entry);
                    }
                }
            }
            _watchers.Add(watcher);
            SignalWatcherSetChanged();
        }

        try
        {
            while (await watcher.Reader.WaitToReadAsync(ct).ConfigureAwait(false))
            {
                while (watcher.Reader.TryRead(out var item))
                {
                    if (item.Error is not null)
                    {
                        throw item.Error;
                    }
                    yield return item.Event;
                }
            }
        }
        finally
        {
            lock (_gate)
            {
                if (_watchers.Remove(watcher))
                {
                    SignalWatcherSetChanged();
                }
            }
        }
    }

    private async Task<T> ReplaceAsync<T>(ResourceType<T> type, T obj, string verb, bool statusOnly, CancellationToken ct) where T : class, IKubernetesObject
    {
        await BeginAsync(new FakeRequest(verb, type.ToString(), obj.Metadata.NamespaceProperty, obj.Metadata.Name, obj), ct).ConfigureAwait(false);
        lock (_gate)
        {
            var ns = CheckNamespace(type, obj.Metadata.NamespaceProperty);
            var name = obj.Metadata.Name ?? throw Invalid(type, null, "metadata.name", "name is required");
            var key = (type.ToString(), ns ?? "", name);
            if (!_objects.TryGetValue(key, out var stored))
            {
                throw NotFound(type, name);
            }
            var rv = obj.Metadata.ResourceVersion;
            if (!string.IsNullOrEmpty(rv) && rv != stored["metadata"]!["resourceVersion"]!.GetValue<string>())
            {
                throw Conflict(type, name);
            }
            if (!string.IsNullOrEmpty(obj.Metadata.Uid) && obj.Metadata.Uid != stored["metadata"]!["uid"]!.GetValue<string>())
            {
                throw Conflict(type, name);
            }

            var incoming = Serialize(type, obj);
            JsonObject updated;
            if (statusOnly)
            {
                updated = stored.DeepClone().AsObject();
                updated.Remove("status");
                if (incoming["status"] is { } status)
                {
                    updated["status"] = status.DeepClone();
                }
            }
            else
            {
                updated = incoming;
                if (StatusSubresources.Contains(type.Plural))
                {
                    updated.Remove("status");
                    if (stored["status"] is { } status)
                    {
                        updated["status"] = status.DeepClone();
                    }
                }
            }
            updated["apiVersion"] = type.ApiVersion;
            updated["kind"] = type.Kind;
            KeepImmutableMetadata(stored, updated);
            Validate(type, updated);
            BumpGeneration(stored, updated);
            return Deserialize(type, Commit(type, key, WatchEventType.Modified, stored, updated));
        }
    }

    private async ValueTask BeginAsync(FakeRequest request, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        List<TaskCompletionSource>? done = null;
        lock (_gate)
        {
            _requests.Add(request);
            for (var i = _requestWaiters.Count - 1; i >= 0; i--)
            {
                var (match, count, tcs) = _requestWaiters[i];
                if (_requests.Count(match) >= count)
                {
                    (done ??= []).Add(tcs);
                    _requestWaiters.RemoveAt(i);
                }
            }
        }
        done?.ForEach(t => t.TrySetResult());

        if (OnRequest is { } hook)
        {
            await hook(request, ct).ConfigureAwait(false);
        }
    }

    private JsonObject Commit<T>(ResourceType<T> type, (string, string, string) key, WatchEventType eventType, JsonObject? old, JsonObject obj)
        where T : class, IKubernetesObject
    {
        var rv = ++_resourceVersion;
        obj["metadata"]!["resourceVersion"] = rv.ToString(CultureInfo.InvariantCulture);
        if (eventType == WatchEventType.Deleted)
        {
            _objects.Remove(key);
        }
        else
        {
            _objects[key] = obj;
        }

        var entry = new HistoryEntry(rv, type.ToString(), key.Item2, eventType, old, obj);
        if (_history.Count > 0 && _history[^1].ResourceVersion >= rv)
        {
            throw new InvalidOperationException($"fake API server invariant broken: resourceVersion {rv} not above {_history[^1].ResourceVersion}");
        }
        _history.Add(entry);
        foreach (var w in _watchers)
        {
            w.Offer(entry);
        }
        return obj;
    }

    private List<IWatcher> TakeWatchers()
    {
        lock (_gate)
        {
            var all = _watchers.ToList();
            _watchers.Clear();
            SignalWatcherSetChanged();
            return all;
        }
    }

    private void SignalWatcherSetChanged()
    {
        var previous = _watcherSetChanged;
        _watcherSetChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    private static string? CheckNamespace<T>(ResourceType<T> type, string? ns) where T : class, IKubernetesObject
    {
        if (type.Namespaced && string.IsNullOrEmpty(ns))
        {
            throw Invalid(type, null, "metadata.namespace", $"{type} is namespaced: a namespace is required");
        }
        if (!type.Namespaced && !string.IsNullOrEmpty(ns))
        {
            throw Invalid(type, null, "metadata.namespace", $"{type} is cluster-scoped: namespace must be empty");
        }
        return ns;
    }

    /// <summary>Per-kind checks the real API server makes and our clients are prone to get wrong.</summary>
    private static void Validate<T>(ResourceType<T> type, JsonObject node) where T : class, IKubernetesObject
    {
        if (type.Plural == "leases")
        {
            foreach (var field in new[] { "acquireTime", "renewTime" })
            {
                if (node["spec"]?[field] is { } value &&
                    !DateTime.TryParseExact(value.GetValue<string>(), "yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out _))
                {
                    throw Invalid(type, null, $"spec.{field}", $"'{value}' is not a MicroTime (six fractional digits)");
                }
            }
        }
        if (type.Plural == "events")
        {
            var ns = node["metadata"]?["namespace"]?.GetValue<string>();
            var involvedNs = node["involvedObject"]?["namespace"]?.GetValue<string>();
            if (!string.IsNullOrEmpty(involvedNs) ? involvedNs != ns : ns != "default")
            {
                throw Invalid(type, null, "involvedObject.namespace", $"does not match event.namespace '{ns}'");
            }
        }
    }

    private static void KeepImmutableMetadata(JsonObject stored, JsonObject updated)
    {
        var meta = updated["metadata"] as JsonObject ?? new JsonObject();
        updated["metadata"] = meta;
        foreach (var field in new[] { "uid", "creationTimestamp", "namespace", "name", "generation" })
        {
            meta.Remove(field);
            if (stored["metadata"]![field] is { } value)
            {
                meta[field] = value.DeepClone();
            }
        }
    }

    private static void BumpGeneration(JsonObject stored, JsonObject updated)
    {
        static JsonObject Spec(JsonObject o)
        {
            var copy = o.DeepClone().AsObject();
            copy.Remove("metadata");
            copy.Remove("status");
            return copy;
        }
        if (!JsonNode.DeepEquals(Spec(stored), Spec(updated)))
        {
            var generation = stored["metadata"]!["generation"] is { } g ? long.Parse(g.ToJsonString(), CultureInfo.InvariantCulture) : 0;
            updated["metadata"]!["generation"] = generation + 1;
        }
    }

    /// <summary>RFC 7386: objects merge recursively, null removes, anything else replaces.</summary>
    private static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }
        var result = target is JsonObject targetObject ? targetObject.DeepClone().AsObject() : new JsonObject();
        foreach (var (name, value) in patchObject)
        {
            if (value is null)
            {
                result.Remove(name);
                continue;
            }
            var existing = result[name];
            result.Remove(name);
            result[name] = MergePatch(existing, value);
        }
        return result;
    }

    private static bool InNamespace(string objectNamespace, string? requested) =>
        string.IsNullOrEmpty(requested) || objectNamespace == requested;

    private static (string, string, string) Key<T>(ResourceType<T> type, string? ns, string name) where T : class, IKubernetesObject =>
        (type.ToString(), type.Namespaced ? ns ?? "" : "", name);

    private static JsonObject Serialize<T>(ResourceType<T> type, T obj) where T : class, IKubernetesObject =>
        JsonSerializer.SerializeToNode(obj, type.TypeInfo)!.AsObject();

    private static T Deserialize<T>(ResourceType<T> type, JsonNode node) where T : class, IKubernetesObject =>
        node.Deserialize(type.TypeInfo)!;

    private static KubernetesApiException Error(HttpStatusCode code, string reason, string message) =>
        KubernetesApiException.From(code, new Status { Code = (int)code, Reason = reason, Message = message, StatusValue = "Failure" });

    private static KubernetesApiException NotFound<T>(ResourceType<T> type, string name) where T : class, IKubernetesObject =>
        Error(HttpStatusCode.NotFound, "NotFound", $"{type} \"{name}\" not found");

    private static KubernetesApiException Conflict<T>(ResourceType<T> type, string name) where T : class, IKubernetesObject =>
        Error(HttpStatusCode.Conflict, "Conflict",
            $"Operation cannot be fulfilled on {type} \"{name}\": the object has been modified; please apply your changes to the latest version and try again");

    private static KubernetesApiException Invalid<T>(ResourceType<T> type, string? name, string field, string message) where T : class, IKubernetesObject =>
        KubernetesApiException.From(HttpStatusCode.UnprocessableEntity, new Status
        {
            Code = 422,
            Reason = "Invalid",
            Message = $"{type.Kind} \"{name}\" is invalid",
            Details = new StatusDetails { Name = name, Kind = type.Kind, Causes = [new StatusCause { Field = field, Message = message, Reason = "FieldValueInvalid" }] },
        });

    private sealed record HistoryEntry(long ResourceVersion, string Resource, string Namespace, WatchEventType Type, JsonObject? Old, JsonObject New);

    private sealed record ListSnapshot(long ResourceVersion, JsonObject[] Items, int Offset);

    private interface IWatcher
    {
        void Offer(HistoryEntry entry);
        void Bookmark(long resourceVersion);
        void Close(Exception? error);
    }

    private readonly record struct WatchItem<T>(WatchEvent<T> Event, Exception? Error) where T : class, IKubernetesObject;

    private sealed class Watcher<T>(ResourceType<T> type, string? ns, LabelSelector labels, FieldSelector fields, bool bookmarks) : IWatcher
        where T : class, IKubernetesObject
    {
        private readonly Channel<WatchItem<T>> _channel = Channel.CreateUnbounded<WatchItem<T>>();
        private long _lastSent;

        public ChannelReader<WatchItem<T>> Reader => _channel.Reader;

        public void StartAt(long resourceVersion) => _lastSent = resourceVersion;

        public void Replay(JsonObject obj) =>
            _channel.Writer.TryWrite(new(new WatchEvent<T>(WatchEventType.Added, Deserialize(type, obj)), null));

        public void Offer(HistoryEntry entry)
        {
            if (entry.Resource != type.ToString() || !InNamespace(entry.Namespace, ns))
            {
                return;
            }
            if (entry.ResourceVersion <= _lastSent)
            {
                throw new InvalidOperationException($"fake API server invariant broken: watch would go from resourceVersion {_lastSent} back to {entry.ResourceVersion}");
            }

            var matchedBefore = entry.Old is not null && labels.Matches(entry.Old) && fields.Matches(entry.Old);
            var matchesNow = labels.Matches(entry.New) && fields.Matches(entry.New);
            WatchEventType? eventType = entry.Type switch
            {
                WatchEventType.Added => matchesNow ? WatchEventType.Added : null,
                WatchEventType.Deleted => matchedBefore ? WatchEventType.Deleted : null,
                _ => (matchedBefore, matchesNow) switch
                {
                    (true, true) => WatchEventType.Modified,
                    (false, true) => WatchEventType.Added,
                    (true, false) => WatchEventType.Deleted,
                    _ => null,
                },
            };
            _lastSent = entry.ResourceVersion;
            if (eventType is { } t)
            {
                _channel.Writer.TryWrite(new(new WatchEvent<T>(t, Deserialize(type, entry.New)), null));
            }
        }

        public void Bookmark(long resourceVersion)
        {
            if (!bookmarks)
            {
                return;
            }
            var node = new JsonObject
            {
                ["apiVersion"] = type.ApiVersion,
                ["kind"] = type.Kind,
                ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion.ToString(CultureInfo.InvariantCulture) },
            };
            _lastSent = Math.Max(_lastSent, resourceVersion);
            _channel.Writer.TryWrite(new(new WatchEvent<T>(WatchEventType.Bookmark, Deserialize(type, node)), null));
        }

        public void Close(Exception? error)
        {
            if (error is not null)
            {
                _channel.Writer.TryWrite(new(default, error));
            }
            _channel.Writer.TryComplete();
        }
    }

    private sealed class LabelSelector
    {
        private readonly List<(string Key, string? Value, bool Negate)> _terms = [];

        public static LabelSelector Parse(string? text)
        {
            var selector = new LabelSelector();
            if (string.IsNullOrWhiteSpace(text))
            {
                return selector;
            }
            foreach (var raw in text.Split(','))
            {
                var term = raw.Trim();
                if (term.Contains("!=", StringComparison.Ordinal))
                {
                    var parts = term.Split("!=", 2);
                    selector._terms.Add((parts[0].Trim(), parts[1].Trim(), true));
                }
                else if (term.Contains('='))
                {
                    var parts = term.Split('=', 2, StringSplitOptions.TrimEntries);
                    selector._terms.Add((parts[0], parts[1].TrimStart('=').Trim(), false));
                }
                else if (term.StartsWith('!'))
                {
                    selector._terms.Add((term[1..].Trim(), null, true));
                }
                else
                {
                    selector._terms.Add((term, null, false));
                }
            }
            return selector;
        }

        public bool Matches(JsonObject obj)
        {
            var labels = obj["metadata"]?["labels"] as JsonObject;
            foreach (var (key, value, negate) in _terms)
            {
                var actual = labels?[key]?.GetValue<string>();
                var ok = value is null ? actual is not null : actual == value;
                if (ok == negate)
                {
                    return false;
                }
            }
            return true;
        }
    }

    private sealed class FieldSelector
    {
        private readonly List<(string Field, string Value, bool Negate)> _terms = [];

        public static FieldSelector Parse(string? text)
        {
            var selector = new FieldSelector();
            if (string.IsNullOrWhiteSpace(text))
            {
                return selector;
            }
            foreach (var raw in text.Split(','))
            {
                var negate = raw.Contains("!=", StringComparison.Ordinal);
                var parts = negate ? raw.Split("!=", 2) : raw.Split('=', 2);
                var field = parts[0].Trim();
                if (parts.Length != 2 || field is not ("metadata.name" or "metadata.namespace"))
                {
                    throw Error(HttpStatusCode.BadRequest, "BadRequest", $"field label not supported: {field}");
                }
                selector._terms.Add((field, parts[1].TrimStart('=').Trim(), negate));
            }
            return selector;
        }

        public bool Matches(JsonObject obj)
        {
            foreach (var (field, value, negate) in _terms)
            {
                var actual = obj["metadata"]?[field["metadata.".Length..]]?.GetValue<string>() ?? "";
                if ((actual == value) == negate)
                {
                    return false;
                }
            }
            return true;
        }
    }
}

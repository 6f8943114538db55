using System.Text.Json.Nodes;

namespace BareLb.ApiServer.Storage;

/// <summary>A stored object's table and key.</summary>
internal readonly record struct ObjectLocation(string StorageKey, string Key);

internal sealed record ListPage(List<StoredObject> Items, long ResourceVersion, string? Continue, long? RemainingItemCount);

// All objects of all kinds, the global resourceVersion counter, the event history and the open watches.
// Callers hold Gate for a whole read-modify-write so that admission, allocation and commit are atomic
// (one writer at a time, like a single etcd key space). Every commit costs O(log n) plus O(watchers).
internal sealed class ObjectStore(int historySize, int maxPendingPerWatcher)
{
    private readonly Dictionary<string, Table> _tables = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Watcher>> _watchers = new(StringComparer.Ordinal);
    private readonly EventHistory _history = new(historySize);
    private readonly Dictionary<string, ObjectLocation> _byUid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<ObjectLocation>> _dependents = new(StringComparer.Ordinal);
    private readonly List<Action<WatchEvent>> _observers = [];
    private long _rv;

    public Lock Gate { get; } = new();

    public long CurrentResourceVersion => Volatile.Read(ref _rv);

    public long CompactedResourceVersion
    {
        get
        {
            lock (Gate)
            {
                return _history.CompactedResourceVersion;
            }
        }
    }

    public StoredObject? Get(string storageKey, string key) =>
        _tables.TryGetValue(storageKey, out var t) && t.Items.TryGetValue(key, out var o) ? o : null;

    public bool HasAny(string storageKey, string? ns) =>
        _tables.TryGetValue(storageKey, out var t) && (ns is null ? t.Items.Count > 0 : t.Range(ns, null).Min is not null);

    /// <summary>Where the object with this uid is stored, if it is.</summary>
    public ObjectLocation? FindUid(string uid) => _byUid.TryGetValue(uid, out var at) ? at : null;

    /// <summary>The objects whose ownerReferences name this uid (an owner's dependents).</summary>
    public IReadOnlyCollection<ObjectLocation> DependentsOf(string uid) =>
        _dependents.TryGetValue(uid, out var set) ? [.. set] : [];

    /// <summary>Called under Gate after every commit, in resourceVersion order (the emulated controllers' informer).</summary>
    public void AddObserver(Action<WatchEvent> observer) => _observers.Add(observer);

    public StoredObject Put(string storageKey, JsonObject canonical, StoredObject? previous)
    {
        var stored = StoredObject.Create(canonical, ++_rv);
        var table = TableFor(storageKey);
        table.Items[stored.Key] = stored;
        if (previous is null)
        {
            table.Keys.Add(stored.Key);
        }

        Index(storageKey, previous, stored);
        Publish(new WatchEvent(previous is null ? WatchEventType.Added : WatchEventType.Modified, storageKey, stored, previous));
        return stored;
    }

    public StoredObject Remove(string storageKey, StoredObject existing, JsonObject finalState)
    {
        var stored = StoredObject.Create(finalState, ++_rv);
        var table = TableFor(storageKey);
        table.Items.Remove(existing.Key);
        table.Keys.Remove(existing.Key);
        Index(storageKey, existing, null);
        Publish(new WatchEvent(WatchEventType.Deleted, storageKey, stored, existing));
        return stored;
    }

    public List<StoredObject> Snapshot(string storageKey, string? ns)
    {
        if (!_tables.TryGetValue(storageKey, out var t))
        {
            return [];
        }

        var list = new List<StoredObject>(t.Items.Count);
        foreach (var key in t.Range(ns, null))
        {
            list.Add(t.Items[key]);
        }

        return list;
    }

    /// <summary>One page in key order; with a token, the page is the state as of the token's resourceVersion.</summary>
    public ListPage List(string storageKey, string? ns, Func<StoredObject, bool>? filter, int limit, ContinueToken? token)
    {
        var table = TableFor(storageKey);
        var listRv = token?.ResourceVersion ?? _rv;
        var startAfter = token?.StartKey;

        // Undo every later event so the page matches the snapshot the first page came from.
        Dictionary<string, StoredObject?>? asOf = null;
        if (listRv < _rv)
        {
            asOf = new Dictionary<string, StoredObject?>(StringComparer.Ordinal);
            foreach (var evt in _history.After(listRv))
            {
                if (evt.StorageKey == storageKey && (ns is null || evt.Object.Namespace == ns) && !asOf.ContainsKey(evt.Object.Key))
                {
                    asOf[evt.Object.Key] = evt.Type == WatchEventType.Added ? null : evt.Previous;
                }
            }
        }

        var items = new List<StoredObject>(limit > 0 ? Math.Min(limit, 4096) : Math.Min(table.Items.Count, 4096));
        string? lastKey = null;
        var more = false;
        foreach (var key in Candidates(table, ns, startAfter, asOf))
        {
            StoredObject? obj;
            if (asOf is not null && asOf.TryGetValue(key, out var historical))
            {
                obj = historical;
            }
            else
            {
                obj = table.Items[key];
            }

            if (obj is null)
            {
                continue;
            }

            if (limit > 0 && items.Count >= limit)
            {
                more = true;
                break;
            }

            lastKey = key;
            if (filter is null || filter(obj))
            {
                items.Add(obj);
            }
        }

        string? cont = null;
        long? remaining = null;
        if (more && lastKey is not null)
        {
            cont = new ContinueToken(listRv, lastKey + "\u0000").Encode();
            if (filter is null && asOf is null)
            {
                remaining = table.Range(ns, lastKey + "\u0000").Count;
            }
        }

        return new ListPage(items, listRv, cont, remaining);
    }

    private static IEnumerable<string> Candidates(Table table, string? ns, string? startAfter, Dictionary<string, StoredObject?>? asOf)
    {
        var current = table.Range(ns, startAfter);
        if (asOf is null)
        {
            foreach (var k in current)
            {
                yield return k;
            }

            yield break;
        }

        // Keys that existed at the snapshot but are gone now, merged into the current key order.
        var gone = asOf.Where(kv => kv.Value is not null && !table.Items.ContainsKey(kv.Key) &&
                                    (startAfter is null || string.CompareOrdinal(kv.Key, startAfter) > 0))
            .Select(kv => kv.Key)
            .Order(StringComparer.Ordinal)
            .ToList();
        var gi = 0;
        foreach (var k in current)
        {
            while (gi < gone.Count && string.CompareOrdinal(gone[gi], k) < 0)
            {
                yield return gone[gi++];
            }

            yield return k;
        }

        while (gi < gone.Count)
        {
            yield return gone[gi++];
        }
    }

    public bool CanServeFrom(long resourceVersion) => _history.CanServeFrom(resourceVersion);

    /// <summary>Registers a watcher; with fromResourceVersion null every current object is sent first as ADDED.</summary>
    public Watcher Watch(string storageKey, string? ns, long? fromResourceVersion)
    {
        var watcher = new Watcher(storageKey, ns, maxPendingPerWatcher);
        if (fromResourceVersion is null)
        {
            foreach (var obj in Snapshot(storageKey, ns))
            {
                watcher.Offer(new WatchItem(new WatchEvent(WatchEventType.Added, storageKey, obj, null), 0), initial: true);
            }
        }
        else
        {
            foreach (var evt in _history.After(fromResourceVersion.Value))
            {
                if (evt.StorageKey == storageKey && (ns is null || evt.Object.Namespace == ns))
                {
                    watcher.Offer(new WatchItem(evt, 0), initial: true);
                }
            }
        }

        if (!_watchers.TryGetValue(storageKey, out var list))
        {
            list = [];
            _watchers[storageKey] = list;
        }

        list.Add(watcher);
        return watcher;
    }

    public void StopWatch(Watcher watcher)
    {
        lock (Gate)
        {
            if (_watchers.TryGetValue(watcher.StorageKey, out var list))
            {
                list.Remove(watcher);
            }
        }

        watcher.Close();
    }

    public void Bookmark(Watcher watcher)
    {
        lock (Gate)
        {
            watcher.Offer(new WatchItem(null, _rv));
        }
    }

    public void Compact()
    {
        lock (Gate)
        {
            _history.Compact(_rv);
        }
    }

    /// <summary>Ends every watch on one kind (its CRD is gone); caller holds Gate.</summary>
    public void CloseWatchers(string storageKey)
    {
        if (_watchers.Remove(storageKey, out var list))
        {
            foreach (var w in list)
            {
                w.Close();
            }
        }
    }

    public void CloseAllWatchers()
    {
        lock (Gate)
        {
            foreach (var list in _watchers.Values)
            {
                foreach (var w in list)
                {
                    w.Close();
                }

                list.Clear();
            }
        }
    }

    private void Index(string storageKey, StoredObject? previous, StoredObject? current)
    {
        if (previous is not null)
        {
            var at = new ObjectLocation(storageKey, previous.Key);
            if (Uid(previous) is { } uid)
            {
                _byUid.Remove(uid);
            }

            foreach (var owner in OwnerUids(previous))
            {
                if (_dependents.TryGetValue(owner, out var set) && set.Remove(at) && set.Count == 0)
                {
                    _dependents.Remove(owner);
                }
            }
        }

        if (current is not null)
        {
            var at = new ObjectLocation(storageKey, current.Key);
            if (Uid(current) is { } uid)
            {
                _byUid[uid] = at;
            }

            foreach (var owner in OwnerUids(current))
            {
                if (!_dependents.TryGetValue(owner, out var set))
                {
                    set = [];
                    _dependents[owner] = set;
                }

                set.Add(at);
            }
        }
    }

    private static string? Uid(StoredObject obj) => Api.JsonTree.Str(obj.Object["metadata"], "uid");

    private static IEnumerable<string> OwnerUids(StoredObject obj)
    {
        foreach (var reference in Api.JsonTree.Arr(obj.Object["metadata"], "ownerReferences") ?? [])
        {
            if (Api.JsonTree.Str(reference, "uid") is { Length: > 0 } uid)
            {
                yield return uid;
            }
        }
    }

    private void Publish(WatchEvent evt)
    {
        _history.Add(evt);
        foreach (var observer in _observers)
        {
            observer(evt);
        }

        if (!_watchers.TryGetValue(evt.StorageKey, out var list) || list.Count == 0)
        {
            return;
        }

        for (var i = list.Count - 1; i >= 0; i--)
        {
            var w = list[i];
            if (w.Namespace is not null && w.Namespace != evt.Object.Namespace)
            {
                continue;
            }

            w.Offer(new WatchItem(evt, 0));
            if (w.Overflowed)
            {
                list.RemoveAt(i);
            }
        }
    }

    private Table TableFor(string storageKey)
    {
        if (!_tables.TryGetValue(storageKey, out var t))
        {
            t = new Table();
            _tables[storageKey] = t;
        }

        return t;
    }

    private sealed class Table
    {
        public Dictionary<string, StoredObject> Items { get; } = new(StringComparer.Ordinal);

        public SortedSet<string> Keys { get; } = new(StringComparer.Ordinal);

        // Keys in one namespace (or all), strictly after startAfter when given.
        public SortedSet<string> Range(string? ns, string? startAfter)
        {
            if (Keys.Count == 0)
            {
                return Keys;
            }

            var lower = ns is null ? "" : ns + "/";
            var upper = ns is null ? "\uffff" : ns + "/\uffff";
            if (startAfter is not null && string.CompareOrdinal(startAfter, lower) > 0)
            {
                lower = startAfter;
            }

            if (string.CompareOrdinal(lower, upper) > 0)
            {
                return new SortedSet<string>(StringComparer.Ordinal);
            }

            // Inclusive bounds are fine: startAfter always ends in "\0", which no stored key contains.
            return Keys.GetViewBetween(lower, upper);
        }
    }
}

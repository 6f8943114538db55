namespace BareLb.ApiServer.Resources;

// Every served group/version/resource. Readers (HTTP threads) see an immutable snapshot; CRD changes
// (made under the store lock) publish a new one, so a CRD's kinds are servable the moment it is committed.
internal sealed class ResourceCatalog
{
    private readonly List<ResourceKind> _builtIns;
    private readonly Dictionary<string, IReadOnlyList<ResourceKind>> _crds = new(StringComparer.Ordinal);
    private volatile Snapshot _snapshot;

    public ResourceCatalog(List<ResourceKind> builtIns)
    {
        _builtIns = builtIns;
        Namespaces = builtIns.Single(k => k.Plural == "namespaces");
        CustomResourceDefinitions = builtIns.Single(k => k.Plural == "customresourcedefinitions");
        _snapshot = Build();
    }

    public ResourceKind Namespaces { get; }

    public ResourceKind CustomResourceDefinitions { get; }

    public IReadOnlyList<ResourceKind> All => _snapshot.All;

    public ResourceKind? Find(string group, string version, string plural) =>
        _snapshot.ByPath.GetValueOrDefault(group + "/" + version + "/" + plural);

    /// <summary>The kind an ownerReference names (apiVersion and kind), if it is served.</summary>
    public ResourceKind? FindKind(string apiVersion, string kind) =>
        _snapshot.All.FirstOrDefault(k => k.ApiVersion == apiVersion && k.Kind == kind);

    /// <summary>A kind stored in this table (the first registered, e.g. core/v1 for events).</summary>
    public ResourceKind? ForStorage(string storageKey) => _snapshot.ByStorage.GetValueOrDefault(storageKey);

    public bool HasGroupVersion(string group, string version) => _snapshot.All.Any(k => k.Group == group && k.Version == version);

    /// <summary>One kind per storage table of namespaced objects (custom resources appear once, not per version).</summary>
    public IEnumerable<ResourceKind> NamespacedStorageKinds() => _snapshot.NamespacedStorage;

    public IReadOnlyList<ResourceKind> KindsForCrd(string crdName)
    {
        lock (_crds)
        {
            return _crds.GetValueOrDefault(crdName) ?? [];
        }
    }

    public void RegisterCrd(string crdName, IReadOnlyList<ResourceKind> kinds)
    {
        lock (_crds)
        {
            _crds[crdName] = kinds;
            _snapshot = Build();
        }
    }

    public void UnregisterCrd(string crdName)
    {
        lock (_crds)
        {
            if (_crds.Remove(crdName))
            {
                _snapshot = Build();
            }
        }
    }

    /// <summary>API groups (without the legacy core group) with their versions, preferred version first.</summary>
    public IReadOnlyList<(string Group, IReadOnlyList<string> Versions)> Groups() => _snapshot.Groups;

    private Snapshot Build()
    {
        var all = new List<ResourceKind>(_builtIns);
        foreach (var kinds in _crds.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value))
        {
            all.AddRange(kinds);
        }

        var byPath = new Dictionary<string, ResourceKind>(StringComparer.Ordinal);
        foreach (var k in all)
        {
            byPath.TryAdd(k.Group + "/" + k.Version + "/" + k.Plural, k);
        }

        var groups = new List<(string, IReadOnlyList<string>)>();
        foreach (var g in all.Where(k => k.Group.Length > 0).Select(k => k.Group).Distinct())
        {
            var versions = all.Where(k => k.Group == g).Select(k => k.Version).Distinct().OrderBy(v => v, KubeVersionComparer.Instance).ToList();
            groups.Add((g, versions));
        }

        var byStorage = new Dictionary<string, ResourceKind>(StringComparer.Ordinal);
        foreach (var k in all)
        {
            byStorage.TryAdd(k.StorageKey, k);
        }

        var namespaced = all.Where(k => k.Namespaced).GroupBy(k => k.StorageKey).Select(g => g.First()).ToList();
        return new Snapshot(all, byPath, groups, namespaced, byStorage);
    }

    private sealed record Snapshot(
        List<ResourceKind> All,
        Dictionary<string, ResourceKind> ByPath,
        List<(string, IReadOnlyList<string>)> Groups,
        List<ResourceKind> NamespacedStorage,
        Dictionary<string, ResourceKind> ByStorage);
}

// Kubernetes version priority: GA before beta before alpha, higher numbers first, others alphabetically last.
internal sealed class KubeVersionComparer : IComparer<string>
{
    public static readonly KubeVersionComparer Instance = new();

    public int Compare(string? x, string? y)
    {
        var a = Parse(x ?? "");
        var b = Parse(y ?? "");
        if (a.Rank != b.Rank)
        {
            return a.Rank.CompareTo(b.Rank);
        }

        if (a.Rank == 3)
        {
            return string.CompareOrdinal(x, y);
        }

        if (a.Major != b.Major)
        {
            return b.Major.CompareTo(a.Major);
        }

        return b.Minor.CompareTo(a.Minor);
    }

    private static (int Rank, int Major, int Minor) Parse(string v)
    {
        var m = System.Text.RegularExpressions.Regex.Match(v, "^v([1-9][0-9]*)(?:(alpha|beta)([1-9][0-9]*))?$");
        if (!m.Success)
        {
            return (3, 0, 0);
        }

        var major = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (!m.Groups[2].Success)
        {
            return (0, major, 0);
        }

        var minor = int.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture);
        return (m.Groups[2].Value == "beta" ? 1 : 2, major, minor);
    }
}

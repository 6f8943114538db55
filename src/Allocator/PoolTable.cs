namespace BareLb.Allocator;

// The current pools, which of them are draining, and the ordering rules that say which pools a Service may
// get addresses from and which pool an existing assignment belongs to.
internal sealed class PoolTable
{
    private readonly Dictionary<string, ConfiguredPool> _byName;
    private readonly ConfiguredPool[] _byPreference;
    private HashSet<string> _draining;

    public PoolTable(IReadOnlyList<PoolDefinition> pools, IEnumerable<string> draining)
    {
        _byName = new Dictionary<string, ConfiguredPool>(StringComparer.Ordinal);
        foreach (var definition in pools)
        {
            ArgumentNullException.ThrowIfNull(definition);
            if (string.IsNullOrEmpty(definition.Name))
            {
                throw new ArgumentException("a pool has an empty name", nameof(pools));
            }

            foreach (var range in definition.Ranges)
            {
                if (!Enum.IsDefined(range.Family) || range.First > range.Last || range.Last > IpAddressMath.MaxValue(range.Family))
                {
                    throw new ArgumentException(
                        $"pool \"{definition.Name}\" has an invalid range ({range.Family} {range.First}-{range.Last}); build ranges with IpRange.TryParse",
                        nameof(pools));
                }
            }

            if (!_byName.TryAdd(definition.Name, new ConfiguredPool(definition)))
            {
                throw new ArgumentException($"pool \"{definition.Name}\" is defined twice", nameof(pools));
            }
        }

        _byPreference = [.. _byName.Values];
        Array.Sort(_byPreference, ConfiguredPool.CompareByPreference);
        _draining = new HashSet<string>(draining, StringComparer.Ordinal);
    }

    public IReadOnlyCollection<string> Draining => _draining;

    public void SetDraining(IEnumerable<string> draining) => _draining = new HashSet<string>(draining, StringComparer.Ordinal);

    public ConfiguredPool? Find(string name) => _byName.GetValueOrDefault(name);

    public bool IsDraining(string name) => _draining.Contains(name);

    public IReadOnlyList<string> Containing(FamilyAddress address) =>
        [.. _byPreference.Where(p => p.Contains(address.Family, address.Value)).Select(p => p.Name)];

    // Pools a new allocation may come from, most preferred first. Draining pools hand out nothing new.
    public IReadOnlyList<ConfiguredPool> CandidatesFor(ServiceRequest request, AllocationPlan plan)
    {
        if (request.RequestedPool is { } requested)
        {
            return Find(requested) is { } pool && !IsDraining(pool.Name) && pool.Admits(request) ? [pool] : [];
        }

        // Requested addresses only need a pool that admits the service; autoAssign is about picking for it.
        var needsAutoAssign = plan.Requested.Count == 0;
        return [.. _byPreference.Where(p => !IsDraining(p.Name) && p.Admits(request) && (p.AutoAssign || !needsAutoAssign))];
    }

    // The pool an assignment is reported in: a deterministic function of the request and the addresses, so that a
    // restarted controller that restores the same addresses reports the same pool. Among the pools containing
    // every address: the requested pool; then pools that serve the service (live, admit it, would hand the
    // addresses out); then live before draining; then the pool recorded for the service before (a rename or a
    // split therefore keeps naming the pool the operator sees, and overlapping pools do not flip across
    // restarts); then pools that could have picked the addresses for it (autoAssign, or asked for); then
    // preference order. That is the order Allocate tries pools in, so a fresh allocation reports the pool it was
    // taken from.
    public ConfiguredPool? PoolOf(ServiceRequest request, IReadOnlyList<FamilyAddress> addresses)
    {
        ConfiguredPool? best = null;
        (int, int, int, int, int, int) bestRank = default;
        for (var index = 0; index < _byPreference.Length; index++)
        {
            var pool = _byPreference[index];
            if (!addresses.All(a => pool.Contains(a.Family, a.Value)))
            {
                continue;
            }

            var picks = pool.AutoAssign || request.RequestedPool is not null || request.RequestedAddresses.Count > 0;
            var rank = (
                string.Equals(request.RequestedPool, pool.Name, StringComparison.Ordinal) ? 0 : 1,
                Serves(pool, request, addresses) ? 0 : 1,
                IsDraining(pool.Name) ? 1 : 0,
                string.Equals(request.RecordedPool, pool.Name, StringComparison.Ordinal) ? 0 : 1,
                picks ? 0 : 1,
                index);
            if (best is null || rank.CompareTo(bestRank) < 0)
            {
                best = pool;
                bestRank = rank;
            }
        }

        return best;
    }

    // Whether the pool may keep serving these addresses to the service: it is live, admits the service and
    // would hand every address out.
    public bool Serves(ConfiguredPool pool, ServiceRequest request, IReadOnlyList<FamilyAddress> addresses) =>
        !IsDraining(pool.Name) && pool.Admits(request) && addresses.All(a => pool.CanHandOut(a.Family, a.Value));

    // Every pair of pools sharing addresses, once per pair of intersecting ranges (merged within each pool).
    public IReadOnlyList<PoolOverlap> Overlaps()
    {
        var merged = _byName.Values
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => (p.Name, Ranges: Merge(p.Definition.Ranges)))
            .ToArray();
        var overlaps = new List<PoolOverlap>();
        for (var i = 0; i < merged.Length; i++)
        {
            for (var j = i + 1; j < merged.Length; j++)
            {
                foreach (var a in merged[i].Ranges)
                {
                    foreach (var b in merged[j].Ranges)
                    {
                        if (a.Intersect(b) is { } shared)
                        {
                            overlaps.Add(new PoolOverlap(merged[i].Name, merged[j].Name, shared));
                        }
                    }
                }
            }
        }

        return overlaps;
    }

    // A pool's ranges as disjoint, sorted ranges, so that usage and overlap never count an address twice.
    public static IReadOnlyList<IpRange> Merge(IEnumerable<IpRange> ranges)
    {
        var merged = new List<IpRange>();
        foreach (var range in ranges.OrderBy(r => r.Family).ThenBy(r => r.First))
        {
            if (merged.Count > 0 && merged[^1] is var last && last.Family == range.Family
                && (range.First <= last.Last || range.First == last.Last + 1))
            {
                merged[^1] = last with { Last = UInt128.Max(last.Last, range.Last) };
            }
            else
            {
                merged.Add(range);
            }
        }

        return merged;
    }
}

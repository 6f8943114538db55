namespace BareLb.Allocator.Tests;

// The selection rules for a fresh single-family allocation without sharing, written the slow and obvious way:
// walk every address of every range of every candidate pool. Only usable with tiny pools, which is the point.
internal static class ReferenceAllocator
{
    public static (AllocationFailure Failure, string? Pool, UInt128? Address) FirstFree(
        IReadOnlyList<PoolDefinition> pools,
        IReadOnlySet<string> draining,
        ServiceRequest request,
        IReadOnlySet<(IpFamily, UInt128)> held)
    {
        var family = request.Families[0];
        List<PoolDefinition> candidates;
        if (request.RequestedPool is { } requested)
        {
            var pool = pools.FirstOrDefault(p => p.Name == requested);
            candidates = pool is not null && !draining.Contains(pool.Name) && Admits(pool, request) ? [pool] : [];
        }
        else
        {
            candidates = [.. pools
                .Where(p => p.AutoAssign && !draining.Contains(p.Name) && Admits(p, request))
                .OrderBy(p => p.ServiceAllocation is { } a && (a.Namespaces.Count > 0 || a.NamespaceSelectors.Count > 0 || a.ServiceSelectors.Count > 0) ? 0 : 1)
                .ThenBy(p => p.ServiceAllocation?.Priority is null ? 1 : 0)
                .ThenBy(p => p.ServiceAllocation?.Priority ?? 0)
                .ThenBy(p => p.Name, StringComparer.Ordinal)];
        }

        var eligible = candidates.Where(p => p.Ranges.Any(r => r.Family == family)).ToList();
        if (eligible.Count == 0)
        {
            return (AllocationFailure.NoCompatiblePool, null, null);
        }

        foreach (var pool in eligible)
        {
            foreach (var range in pool.Ranges.Where(r => r.Family == family))
            {
                for (var value = range.First; value <= range.Last; value++)
                {
                    var buggy = family == IpFamily.IPv4 && (value % 256 == 0 || value % 256 == 255);
                    if (!held.Contains((family, value)) && !(pool.AvoidBuggyIPs && buggy))
                    {
                        return (AllocationFailure.None, pool.Name, value);
                    }
                }
            }
        }

        return (AllocationFailure.PoolExhausted, null, null);
    }

    // serviceAllocation written out again, independently of ConfiguredPool.
    public static bool Admits(PoolDefinition pool, ServiceRequest request)
    {
        var policy = pool.ServiceAllocation;
        if (policy is null)
        {
            return true;
        }

        var byNamespace = policy.Namespaces.Count == 0 || policy.Namespaces.Contains(request.Key.Namespace);
        var byNamespaceLabels = policy.NamespaceSelectors.Count == 0 || policy.NamespaceSelectors.Any(s => SelectorMatches(s, request.NamespaceLabels));
        var byServiceLabels = policy.ServiceSelectors.Count == 0 || policy.ServiceSelectors.Any(s => SelectorMatches(s, request.ServiceLabels));
        return byNamespace && byNamespaceLabels && byServiceLabels;
    }

    // The generated selectors only use matchLabels.
    private static bool SelectorMatches(LabelMatcher matcher, IReadOnlyDictionary<string, string> labels) =>
        matcher.MatchExpressions.Count == 0
        && matcher.MatchLabels.All(l => labels.TryGetValue(l.Key, out var v) && v == l.Value);
}

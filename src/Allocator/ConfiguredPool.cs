namespace BareLb.Allocator;

// A pool definition prepared for lookups: ranges split by family (in the order the admin wrote them, which is the
// order addresses are handed out) and the serviceAllocation admission rule.
internal sealed class ConfiguredPool
{
    private readonly IpRange[] _ipv4;
    private readonly IpRange[] _ipv6;

    public ConfiguredPool(PoolDefinition definition)
    {
        Definition = definition;
        _ipv4 = [.. definition.Ranges.Where(r => r.Family == IpFamily.IPv4)];
        _ipv6 = [.. definition.Ranges.Where(r => r.Family == IpFamily.IPv6)];
    }

    public PoolDefinition Definition { get; }

    public string Name => Definition.Name;

    public bool AutoAssign => Definition.AutoAssign;

    public bool AvoidBuggyIPs => Definition.AvoidBuggyIPs;

    public int? Priority => Definition.ServiceAllocation?.Priority;

    /// <summary>Reserved for some Services (namespaces or selectors): such a pool is tried before open ones.</summary>
    public bool IsPinned => Definition.ServiceAllocation is { } policy &&
        (policy.Namespaces.Count > 0 || policy.NamespaceSelectors.Count > 0 || policy.ServiceSelectors.Count > 0);

    public IReadOnlyList<IpRange> RangesOf(IpFamily family) => family == IpFamily.IPv4 ? _ipv4 : _ipv6;

    public bool Has(IpFamily family) => RangesOf(family).Count > 0;

    public bool Contains(IpFamily family, UInt128 value)
    {
        foreach (var range in RangesOf(family))
        {
            if (range.Contains(value))
            {
                return true;
            }
        }

        return false;
    }

    // Whether this pool could hand out the address: inside a range and not excluded by avoidBuggyIPs.
    public bool CanHandOut(IpFamily family, UInt128 value) =>
        Contains(family, value) && !(AvoidBuggyIPs && IpAddressMath.IsBuggy(family, value));

    // serviceAllocation: every list that is set must match; a pool without it admits everyone.
    public bool Admits(ServiceRequest request)
    {
        if (Definition.ServiceAllocation is not { } policy)
        {
            return true;
        }

        if (policy.Namespaces is { Count: > 0 } namespaces && !namespaces.Contains(request.Key.Namespace, StringComparer.Ordinal))
        {
            return false;
        }

        if (policy.NamespaceSelectors is { Count: > 0 } namespaceSelectors
            && !namespaceSelectors.Any(s => s.Matches(request.NamespaceLabels)))
        {
            return false;
        }

        return policy.ServiceSelectors is not { Count: > 0 } serviceSelectors
            || serviceSelectors.Any(s => s.Matches(request.ServiceLabels));
    }

    // Pools pinned to the Service (by namespace or selector) first, as MetalLB does; then lower priority first,
    // unset priority after every set one; then name (ordinal): never random.
    public static int CompareByPreference(ConfiguredPool x, ConfiguredPool y)
    {
        var byPinning = y.IsPinned.CompareTo(x.IsPinned);
        if (byPinning != 0)
        {
            return byPinning;
        }

        var byPriority = (x.Priority is null).CompareTo(y.Priority is null);
        if (byPriority == 0 && x.Priority is { } px && y.Priority is { } py)
        {
            byPriority = px.CompareTo(py);
        }

        return byPriority != 0 ? byPriority : string.CompareOrdinal(x.Name, y.Name);
    }
}

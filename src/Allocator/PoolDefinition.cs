namespace BareLb.Allocator;

public sealed record ServiceAllocationPolicy(
    int? Priority,
    IReadOnlyList<string> Namespaces,
    IReadOnlyList<LabelMatcher> NamespaceSelectors,
    IReadOnlyList<LabelMatcher> ServiceSelectors);

public sealed record PoolDefinition(
    string Name,
    IReadOnlyList<IpRange> Ranges,
    bool AutoAssign = true,
    bool AvoidBuggyIPs = false,
    ServiceAllocationPolicy? ServiceAllocation = null);

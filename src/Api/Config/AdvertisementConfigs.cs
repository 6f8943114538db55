using BareLb.Allocator;

namespace BareLb.Api.Config;

/// <summary>
/// Which pools an advertisement applies to: by name, by label, or — when both lists are empty — every pool
/// (MetalLB's rule).
/// </summary>
public sealed record PoolSelection(IReadOnlyList<string> Names, IReadOnlyList<LabelMatcher> Selectors)
{
    public bool SelectsAll => Names.Count == 0 && Selectors.Count == 0;

    public bool Selects(string pool, IReadOnlyDictionary<string, string> poolLabels) =>
        SelectsAll || Names.Contains(pool, StringComparer.Ordinal) || Selectors.Any(selector => selector.Matches(poolLabels));
}

public sealed record L2AdvertisementConfig(
    string Name,
    PoolSelection Pools,
    IReadOnlyList<LabelMatcher> NodeSelectors,
    IReadOnlyList<string> Interfaces)
{
    /// <summary>Empty means every interface.</summary>
    public bool AllInterfaces => Interfaces.Count == 0;

    public bool SelectsNode(IReadOnlyDictionary<string, string> nodeLabels) => FieldLists.AnyMatches(NodeSelectors, nodeLabels);
}

public sealed record BgpAdvertisementConfig(
    string Name,
    PoolSelection Pools,
    int AggregationLength,
    int AggregationLengthV6,
    uint LocalPref,
    IReadOnlyList<BgpCommunity> Communities,
    IReadOnlyList<LabelMatcher> NodeSelectors,
    IReadOnlyList<string> Peers)
{
    /// <summary>Empty means every peer.</summary>
    public bool AllPeers => Peers.Count == 0;

    public bool SelectsNode(IReadOnlyDictionary<string, string> nodeLabels) => FieldLists.AnyMatches(NodeSelectors, nodeLabels);

    public bool SelectsPeer(string peer) => AllPeers || Peers.Contains(peer, StringComparer.Ordinal);
}

using BareLb.Allocator;

namespace BareLb.Api.Config;

/// <summary>
/// One consistent snapshot of every valid configuration object, shared by the controller (pools) and the speaker
/// (advertisements, peers). Advertisements are already matched to pools, so both sides agree on which pool is
/// announced how.
/// </summary>
public sealed class BareLbConfig
{
    private readonly IReadOnlyDictionary<string, IReadOnlyList<L2AdvertisementConfig>> _l2ByPool;
    private readonly IReadOnlyDictionary<string, IReadOnlyList<BgpAdvertisementConfig>> _bgpByPool;

    internal BareLbConfig(
        IReadOnlyList<PoolDefinition> pools,
        IReadOnlyList<L2AdvertisementConfig> l2Advertisements,
        IReadOnlyList<BgpPeerConfig> peers,
        IReadOnlyList<BgpAdvertisementConfig> bgpAdvertisements,
        IReadOnlyDictionary<string, BgpCommunity> communityAliases,
        IReadOnlyDictionary<string, IReadOnlyList<L2AdvertisementConfig>> l2ByPool,
        IReadOnlyDictionary<string, IReadOnlyList<BgpAdvertisementConfig>> bgpByPool)
    {
        Pools = pools;
        L2Advertisements = l2Advertisements;
        Peers = peers;
        BgpAdvertisements = bgpAdvertisements;
        CommunityAliases = communityAliases;
        _l2ByPool = l2ByPool;
        _bgpByPool = bgpByPool;
    }

    public static BareLbConfig Empty { get; } = new([], [], [], [], new Dictionary<string, BgpCommunity>(),
        new Dictionary<string, IReadOnlyList<L2AdvertisementConfig>>(), new Dictionary<string, IReadOnlyList<BgpAdvertisementConfig>>());

    /// <summary>Valid pools, sorted by name; overlaps between pools are the allocator's to report.</summary>
    public IReadOnlyList<PoolDefinition> Pools { get; }
    public IReadOnlyList<L2AdvertisementConfig> L2Advertisements { get; }
    public IReadOnlyList<BgpPeerConfig> Peers { get; }
    public IReadOnlyList<BgpAdvertisementConfig> BgpAdvertisements { get; }
    public IReadOnlyDictionary<string, BgpCommunity> CommunityAliases { get; }

    public PoolDefinition? FindPool(string name) => Pools.FirstOrDefault(pool => pool.Name == name);

    /// <summary>The L2 advertisements that announce the pool, sorted by name; empty: not announced over L2.</summary>
    public IReadOnlyList<L2AdvertisementConfig> L2AdvertisementsFor(string pool) =>
        _l2ByPool.TryGetValue(pool, out var advertisements) ? advertisements : [];

    /// <summary>The BGP advertisements that announce the pool, sorted by name; empty: not announced over BGP.</summary>
    public IReadOnlyList<BgpAdvertisementConfig> BgpAdvertisementsFor(string pool) =>
        _bgpByPool.TryGetValue(pool, out var advertisements) ? advertisements : [];
}

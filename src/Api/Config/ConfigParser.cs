using BareLb.Kubernetes;
using BareLb.Allocator;
using BareLb.Api.Models;
using k8s;
using k8s.Models;

namespace BareLb.Api.Config;

/// <summary>The errors of one rejected object. Kind is the API kind ("IPAddressPool").</summary>
public sealed record ObjectErrors(string Kind, string? Namespace, string Name, IReadOnlyList<ValidationError> Errors)
{
    public override string ToString() => $"{Kind} {Namespace}/{Name}: {string.Join("; ", Errors)}";
}

public sealed record ConfigParseResult(BareLbConfig Config, IReadOnlyList<ObjectErrors> Errors)
{
    /// <summary>The errors of one object; empty when it is valid (or was not given).</summary>
    public IReadOnlyList<ValidationError> ErrorsFor(string kind, string name) =>
        Errors.FirstOrDefault(e => e.Kind == kind && e.Name == name)?.Errors ?? [];
}

/// <summary>
/// Parses every configuration object at once into a <see cref="BareLbConfig"/>. Unlike MetalLB, which refuses
/// the whole configuration over one bad object, a bad object is reported and left out while the rest applies:
/// a typo in a new pool must not stop address allocation for every other pool. Objects are taken in
/// (namespace, name) order, so the outcome does not depend on the order of the input lists.
/// </summary>
public static class ConfigParser
{
    public static ConfigParseResult Parse(
        IEnumerable<IPAddressPool> pools,
        IEnumerable<L2Advertisement> l2Advertisements,
        IEnumerable<BGPPeer> peers,
        IEnumerable<BGPAdvertisement> bgpAdvertisements,
        IEnumerable<Community> communities)
    {
        ArgumentNullException.ThrowIfNull(pools);
        ArgumentNullException.ThrowIfNull(l2Advertisements);
        ArgumentNullException.ThrowIfNull(peers);
        ArgumentNullException.ThrowIfNull(bgpAdvertisements);
        ArgumentNullException.ThrowIfNull(communities);

        var errors = new List<ObjectErrors>();
        var aliases = ParseCommunities(Sorted(communities), errors);
        var (poolDefinitions, poolLabels) = ParsePools(Sorted(pools), errors);
        var l2 = ParseL2Advertisements(Sorted(l2Advertisements), errors);
        var bgpPeers = ParsePeers(Sorted(peers), errors);
        var bgp = ParseBgpAdvertisements(Sorted(bgpAdvertisements), aliases, poolDefinitions, poolLabels, errors);

        var config = new BareLbConfig(
            poolDefinitions,
            l2,
            bgpPeers,
            bgp,
            aliases,
            ByPool(poolDefinitions, poolLabels, l2, a => a.Pools),
            ByPool(poolDefinitions, poolLabels, bgp, a => a.Pools));
        return new ConfigParseResult(config, errors);
    }

    private static List<T> Sorted<T>(IEnumerable<T> objects) where T : CustomResource =>
        [.. objects.OrderBy(o => o.Metadata?.NamespaceProperty, StringComparer.Ordinal).ThenBy(o => o.Metadata?.Name, StringComparer.Ordinal)];

    private static Dictionary<string, BgpCommunity> ParseCommunities(List<Community> communities, List<ObjectErrors> errors)
    {
        var aliases = new Dictionary<string, BgpCommunity>(StringComparer.Ordinal);
        var definedBy = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var community in communities)
        {
            var result = CommunityValidator.Validate(community);
            if (!result.IsValid)
            {
                Report(errors, BareLbResources.Communities.Kind, community, result.Errors);
                continue;
            }

            var entries = community.Spec?.Communities ?? [];
            var clashes = new List<ValidationError>();
            for (var i = 0; i < entries.Count; i++)
            {
                if (definedBy.TryGetValue(entries[i].Name!, out var owner))
                {
                    clashes.Add(new($"spec.communities[{i}].name", $"alias \"{entries[i].Name}\" is already defined by Community {owner}"));
                }
            }

            if (clashes.Count > 0)
            {
                Report(errors, BareLbResources.Communities.Kind, community, clashes);
                continue;
            }

            foreach (var (name, value) in result.Value)
            {
                aliases[name] = value;
                definedBy[name] = community.Metadata.Name!;
            }
        }

        return aliases;
    }

    private static (List<PoolDefinition>, Dictionary<string, IReadOnlyDictionary<string, string>>) ParsePools(
        List<IPAddressPool> pools, List<ObjectErrors> errors)
    {
        var definitions = new List<PoolDefinition>();
        var labels = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var pool in pools)
        {
            var result = PoolValidator.Validate(pool);
            if (!result.IsValid)
            {
                Report(errors, BareLbResources.IPAddressPools.Kind, pool, result.Errors);
            }
            else if (labels.ContainsKey(result.Value.Name))
            {
                Report(errors, BareLbResources.IPAddressPools.Kind, pool,
                    [new("metadata.name", $"a pool named \"{result.Value.Name}\" exists in another namespace; pool names must be unique")]);
            }
            else
            {
                definitions.Add(result.Value);
                labels[result.Value.Name] = pool.Metadata.LabelsOrEmpty();
            }
        }

        return (definitions, labels);
    }

    private static List<L2AdvertisementConfig> ParseL2Advertisements(List<L2Advertisement> advertisements, List<ObjectErrors> errors)
    {
        var result = new List<L2AdvertisementConfig>();
        foreach (var advertisement in advertisements)
        {
            var validated = L2AdvertisementValidator.Validate(advertisement);
            if (validated.IsValid)
            {
                result.Add(validated.Value);
            }
            else
            {
                Report(errors, BareLbResources.L2Advertisements.Kind, advertisement, validated.Errors);
            }
        }

        return result;
    }

    // Two peers with the same address (or interface), VRF and port on the same nodes would be two sessions to
    // one router from one node. Nodes are compared by the selectors as written: different selectors that happen
    // to select the same node are not detected here.
    private static List<BgpPeerConfig> ParsePeers(List<BGPPeer> peers, List<ObjectErrors> errors)
    {
        var result = new List<BgpPeerConfig>();
        var sessions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var peer in peers)
        {
            var validated = BgpPeerValidator.Validate(peer);
            if (!validated.IsValid)
            {
                Report(errors, BareLbResources.BGPPeers.Kind, peer, validated.Errors);
                continue;
            }

            var config = validated.Value;
            var selectors = string.Join("/", (peer.Spec.NodeSelectors ?? []).Select(LabelSelectors.Canonical).Order(StringComparer.Ordinal));
            var session = $"{config.Address?.ToString() ?? "%" + config.Interface}|{config.Vrf}|{config.Port}|{selectors}";
            if (sessions.TryGetValue(session, out var owner))
            {
                var field = config.Address is null ? "spec.interface" : "spec.peerAddress";
                var target = config.Address?.ToString() ?? config.Interface;
                var vrf = config.Vrf is null ? "the default VRF" : $"VRF {config.Vrf}";
                Report(errors, BareLbResources.BGPPeers.Kind, peer,
                    [new(field, $"BGPPeer {owner} already peers with {target} port {config.Port} in {vrf} from the same nodes")]);
                continue;
            }

            sessions[session] = config.Name;
            result.Add(config);
        }

        return result;
    }

    private static List<BgpAdvertisementConfig> ParseBgpAdvertisements(
        List<BGPAdvertisement> advertisements,
        IReadOnlyDictionary<string, BgpCommunity> aliases,
        List<PoolDefinition> pools,
        Dictionary<string, IReadOnlyDictionary<string, string>> poolLabels,
        List<ObjectErrors> errors)
    {
        var result = new List<BgpAdvertisementConfig>();
        foreach (var advertisement in advertisements)
        {
            var validated = BgpAdvertisementValidator.Validate(advertisement, aliases);
            if (!validated.IsValid)
            {
                Report(errors, BareLbResources.BGPAdvertisements.Kind, advertisement, validated.Errors);
                continue;
            }

            var aggregationErrors = CheckAggregation(validated.Value, pools, poolLabels);
            if (aggregationErrors.Count > 0)
            {
                Report(errors, BareLbResources.BGPAdvertisements.Kind, advertisement, aggregationErrors);
                continue;
            }

            result.Add(validated.Value);
        }

        return result;
    }

    // MetalLB's rule: the aggregation length may not be shorter than the widest CIDR block of any announced pool
    // entry (a range counts as the blocks it splits into).
    private static List<ValidationError> CheckAggregation(
        BgpAdvertisementConfig advertisement, List<PoolDefinition> pools, Dictionary<string, IReadOnlyDictionary<string, string>> poolLabels)
    {
        var errors = new List<ValidationError>();
        foreach (var pool in pools)
        {
            if (!advertisement.Pools.Selects(pool.Name, poolLabels[pool.Name]))
            {
                continue;
            }

            foreach (var range in pool.Ranges)
            {
                var (field, length) = range.Family == IpFamily.IPv4
                    ? ("spec.aggregationLength", advertisement.AggregationLength)
                    : ("spec.aggregationLengthV6", advertisement.AggregationLengthV6);
                var widest = WidestPrefix(range);
                if (length < widest)
                {
                    errors.Add(new(field, $"{length} is shorter than /{widest}, the widest block of {range} in IPAddressPool {pool.Name}"));
                }
            }
        }

        return errors;
    }

    // Shortest prefix among the CIDR blocks a range splits into (at most 2 × 128 blocks, computed, not listed).
    internal static int WidestPrefix(IpRange range)
    {
        var bits = IpAddressMath.BitCount(range.Family);
        var widest = bits;
        var current = range.First;
        while (true)
        {
            var alignment = current == UInt128.Zero ? bits : Math.Min(bits, (int)UInt128.TrailingZeroCount(current));
            var remaining = range.Last - current;
            var fits = remaining == UInt128.MaxValue ? 128 : 127 - (int)UInt128.LeadingZeroCount(remaining + 1);
            var blockBits = Math.Min(alignment, fits);
            widest = Math.Min(widest, bits - blockBits);
            if (blockBits == 128)
            {
                return widest;
            }

            var blockLast = current + ((UInt128.One << blockBits) - 1);
            if (blockLast >= range.Last)
            {
                return widest;
            }

            current = blockLast + 1;
        }
    }

    private static Dictionary<string, IReadOnlyList<T>> ByPool<T>(
        List<PoolDefinition> pools,
        Dictionary<string, IReadOnlyDictionary<string, string>> poolLabels,
        List<T> advertisements,
        Func<T, PoolSelection> selection)
    {
        var result = new Dictionary<string, IReadOnlyList<T>>(StringComparer.Ordinal);
        foreach (var pool in pools)
        {
            var selected = advertisements.Where(a => selection(a).Selects(pool.Name, poolLabels[pool.Name])).ToList();
            if (selected.Count > 0)
            {
                result[pool.Name] = selected;
            }
        }

        return result;
    }

    private static void Report(List<ObjectErrors> errors, string kind, CustomResource obj, IReadOnlyList<ValidationError> objectErrors) =>
        errors.Add(new ObjectErrors(kind, obj.Metadata?.NamespaceProperty, obj.Metadata?.Name ?? "", objectErrors));
}

using BareLb.Api.Models;

namespace BareLb.Api.Config;

public static class BgpAdvertisementValidator
{
    public const int DefaultAggregationLength = 32;
    public const int DefaultAggregationLengthV6 = 128;

    /// <param name="aliases">Community aliases from the valid Community objects, by name.</param>
    public static ValidationResult<BgpAdvertisementConfig> Validate(
        BGPAdvertisement advertisement, IReadOnlyDictionary<string, BgpCommunity> aliases)
    {
        ArgumentNullException.ThrowIfNull(advertisement);
        ArgumentNullException.ThrowIfNull(aliases);
        var errors = new List<ValidationError>();
        var name = advertisement.Metadata?.Name;
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(new("metadata.name", "must be set"));
        }

        var spec = advertisement.Spec ?? new BGPAdvertisementSpec();
        var length = spec.AggregationLength ?? DefaultAggregationLength;
        if (length is < 1 or > 32)
        {
            errors.Add(new("spec.aggregationLength", $"{length} is out of range 1-32"));
        }

        var lengthV6 = spec.AggregationLengthV6 ?? DefaultAggregationLengthV6;
        if (lengthV6 is < 1 or > 128)
        {
            errors.Add(new("spec.aggregationLengthV6", $"{lengthV6} is out of range 1-128"));
        }

        var localPref = spec.LocalPref ?? 0;
        if (localPref is < 0 or > uint.MaxValue)
        {
            errors.Add(new("spec.localPref", $"{localPref} is out of range 0-4294967295"));
        }

        var communities = ParseCommunities(spec.Communities, aliases, errors);
        var pools = new PoolSelection(
            FieldLists.Names(spec.IPAddressPools, "spec.ipAddressPools", KubernetesNames.CheckDnsSubdomain, errors),
            FieldLists.Selectors(spec.IPAddressPoolSelectors, "spec.ipAddressPoolSelectors", errors));
        var nodes = FieldLists.Selectors(spec.NodeSelectors, "spec.nodeSelectors", errors);
        var peers = FieldLists.Names(spec.Peers, "spec.peers", KubernetesNames.CheckDnsSubdomain, errors);
        return ValidationResult<BgpAdvertisementConfig>.Of(errors, () => new BgpAdvertisementConfig(
            name!, pools, length, lengthV6, (uint)localPref, communities, nodes, peers));
    }

    // An alias wins over a literal (MetalLB looks aliases up first). Text shaped like a community must parse;
    // anything else must name an alias.
    private static List<BgpCommunity> ParseCommunities(
        List<string>? items, IReadOnlyDictionary<string, BgpCommunity> aliases, List<ValidationError> errors)
    {
        var result = new List<BgpCommunity>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < (items?.Count ?? 0); i++)
        {
            var field = $"spec.communities[{i}]";
            var text = items![i];
            if (text is null)
            {
                errors.Add(new(field, "must be a string, not null"));
                continue;
            }

            if (seen.TryGetValue(text, out var first))
            {
                errors.Add(new(field, $"\"{text}\" is listed twice (also spec.communities[{first}])"));
                continue;
            }

            seen[text] = i;
            if (aliases.TryGetValue(text, out var aliased))
            {
                result.Add(aliased);
            }
            else if (!BgpCommunity.LooksLikeCommunity(text))
            {
                errors.Add(new(field, $"\"{text}\" is neither a community (\"AS:value\" or \"large:global:local1:local2\") nor the name of an alias defined in a valid Community object"));
            }
            else if (BgpCommunity.TryParse(text, out var community, out var error))
            {
                result.Add(community);
            }
            else
            {
                errors.Add(new(field, error));
            }
        }

        return result;
    }
}

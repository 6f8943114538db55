using BareLb.Api.Config;
using BareLb.Api.Models;

namespace BareLb.Speaker.Planning;

/// <summary>
/// Parses the configuration objects, keeping for each object whose current version is invalid its last valid version:
/// a typo in an edit of a BGPPeer or advertisement must not end sessions or withdraw routes. The errors are still
/// reported. (Pools are treated the same way, so the speaker and the controller agree on them.)
/// </summary>
public sealed class LastGoodConfig
{
    private readonly Dictionary<(string Kind, string Name), CustomResource> _lastGood = [];

    public ConfigParseResult Parse(IReadOnlyList<IPAddressPool> pools, IReadOnlyList<L2Advertisement> l2,
        IReadOnlyList<BGPPeer> peers, IReadOnlyList<BGPAdvertisement> bgp, IReadOnlyList<Community> communities)
    {
        var first = ConfigParser.Parse(pools, l2, peers, bgp, communities);
        var invalid = first.Errors.Select(e => (e.Kind, e.Name)).ToHashSet();
        var result = invalid.Count == 0 ? first : ConfigParser.Parse(
            Substitute(pools, "IPAddressPool", invalid), Substitute(l2, "L2Advertisement", invalid), Substitute(peers, "BGPPeer", invalid),
            Substitute(bgp, "BGPAdvertisement", invalid), Substitute(communities, "Community", invalid));
        Remember(pools, "IPAddressPool", invalid);
        Remember(l2, "L2Advertisement", invalid);
        Remember(peers, "BGPPeer", invalid);
        Remember(bgp, "BGPAdvertisement", invalid);
        Remember(communities, "Community", invalid);
        return new ConfigParseResult(result.Config, first.Errors);
    }

    private List<T> Substitute<T>(IReadOnlyList<T> objects, string kind, HashSet<(string, string)> invalid) where T : CustomResource =>
        [.. objects.Select(o => invalid.Contains((kind, o.Metadata.Name)) && _lastGood.TryGetValue((kind, o.Metadata.Name), out var good) ? (T)good : o)];

    private void Remember<T>(IReadOnlyList<T> objects, string kind, HashSet<(string, string)> invalid) where T : CustomResource
    {
        foreach (var gone in _lastGood.Keys.Where(k => k.Kind == kind && objects.All(o => o.Metadata.Name != k.Name)).ToList())
        {
            _lastGood.Remove(gone);
        }
        foreach (var o in objects.Where(o => !invalid.Contains((kind, o.Metadata.Name))))
        {
            _lastGood[(kind, o.Metadata.Name)] = o;
        }
    }
}

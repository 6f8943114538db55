using System.Text.Json.Nodes;
using BareLb.Api.Config;
using BareLb.Api.Models;
using k8s;

namespace BareLb.Speaker.Planning;

/// <summary>
/// Parses the configuration objects, keeping for each object whose current version is invalid its last valid version:
/// a typo in an edit of a BGPPeer or advertisement must not end sessions or withdraw routes. The errors are still
/// reported. (Pools are treated the same way, so the speaker and the controller agree on them.) An edit that is valid
/// on its own but invalidates an object nobody touched (a second BGPPeer for the same router, an alias name defined
/// twice) is held back the same way: the parser blames whichever object sorts later, but the edit is what changed.
/// Pool edits are never held back: the controller allocates from every pool that is valid by itself, and the speaker
/// must announce what it allocates.
/// </summary>
public sealed class LastGoodConfig
{
    private const string Pool = "IPAddressPool";
    private const string L2 = "L2Advertisement";
    private const string Peer = "BGPPeer";
    private const string Bgp = "BGPAdvertisement";
    private const string Community = "Community";
    private static readonly string[] Kinds = [Pool, L2, Peer, Bgp, Community];

    private readonly Dictionary<(string Kind, string Name), CustomResource> _lastGood = [];

    public ConfigParseResult Parse(IReadOnlyList<IPAddressPool> pools, IReadOnlyList<L2Advertisement> l2,
        IReadOnlyList<BGPPeer> peers, IReadOnlyList<BGPAdvertisement> bgp, IReadOnlyList<Community> communities)
    {
        var current = new Dictionary<(string Kind, string Name), CustomResource>();
        Add(current, Pool, pools);
        Add(current, L2, l2);
        Add(current, Peer, peers);
        Add(current, Bgp, bgp);
        Add(current, Community, communities);

        var first = ParseAll(current);
        // The version used of each object: its current one, its last good one, or (held back, never valid) none.
        var chosen = new Dictionary<(string Kind, string Name), CustomResource>(current);
        foreach (var key in ErrorKeys(first))
        {
            if (_lastGood.TryGetValue(key, out var good))
            {
                chosen[key] = good;
            }
        }
        var result = chosen.Count == current.Count && chosen.All(kv => ReferenceEquals(kv.Value, current[kv.Key])) ? first : ParseAll(chosen);
        if (ErrorKeys(result).Any(key => Unchanged(key, current)))
        {
            result = HoldBackEdits(current, chosen);
        }

        foreach (var gone in _lastGood.Keys.Where(key => !current.ContainsKey(key)).ToList())
        {
            _lastGood.Remove(gone);
        }
        var invalid = ErrorKeys(result);
        foreach (var (key, version) in chosen.Where(kv => ReferenceEquals(kv.Value, current[kv.Key]) && !invalid.Contains(kv.Key)))
        {
            _lastGood[key] = version;
        }
        return new ConfigParseResult(result.Config, first.Errors);
    }

    /// <summary>
    /// Some object that has not changed since it was last valid is invalid now: an edit elsewhere broke it. Every edit
    /// is held back, then each is let in again (in a fixed order) unless it makes some object invalid that was not.
    /// </summary>
    private ConfigParseResult HoldBackEdits(Dictionary<(string Kind, string Name), CustomResource> current,
        Dictionary<(string Kind, string Name), CustomResource> chosen)
    {
        var edited = chosen
            .Where(kv => kv.Key.Kind != Pool && ReferenceEquals(kv.Value, current[kv.Key]) && !Unchanged(kv.Key, current))
            .Select(kv => kv.Key)
            .OrderBy(key => Array.IndexOf(Kinds, key.Kind))
            .ThenBy(key => key.Name, StringComparer.Ordinal)
            .ToList();
        foreach (var key in edited)
        {
            HoldBack(chosen, key);
        }
        var result = ParseAll(chosen);
        foreach (var key in edited)
        {
            chosen[key] = current[key];
            var trial = ParseAll(chosen);
            if (ErrorKeys(trial).IsSubsetOf(ErrorKeys(result)))
            {
                result = trial;
            }
            else
            {
                HoldBack(chosen, key);
            }
        }
        return result;
    }

    private void HoldBack(Dictionary<(string Kind, string Name), CustomResource> chosen, (string Kind, string Name) key)
    {
        if (_lastGood.TryGetValue(key, out var good))
        {
            chosen[key] = good;
        }
        else
        {
            chosen.Remove(key);
        }
    }

    private bool Unchanged((string Kind, string Name) key, Dictionary<(string Kind, string Name), CustomResource> current) =>
        current.TryGetValue(key, out var now) && _lastGood.TryGetValue(key, out var good) && SameContent(now, good);

    // What the parser reads of an object: its spec, and its labels (advertisements select pools by label).
    private static bool SameContent(CustomResource a, CustomResource b)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }
        var x = JsonNode.Parse(KubernetesJson.Serialize(a));
        var y = JsonNode.Parse(KubernetesJson.Serialize(b));
        return JsonNode.DeepEquals(x?["spec"], y?["spec"]) && JsonNode.DeepEquals(x?["metadata"]?["labels"], y?["metadata"]?["labels"]);
    }

    private static void Add(Dictionary<(string Kind, string Name), CustomResource> into, string kind, IEnumerable<CustomResource> objects)
    {
        foreach (var o in objects)
        {
            into[(kind, o.Metadata?.Name ?? "")] = o;
        }
    }

    private static ConfigParseResult ParseAll(Dictionary<(string Kind, string Name), CustomResource> objects)
    {
        IEnumerable<CustomResource> Of(string kind) => objects.Where(kv => kv.Key.Kind == kind).Select(kv => kv.Value);
        return ConfigParser.Parse(Of(Pool).Cast<IPAddressPool>(), Of(L2).Cast<L2Advertisement>(), Of(Peer).Cast<BGPPeer>(),
            Of(Bgp).Cast<BGPAdvertisement>(), Of(Community).Cast<Community>());
    }

    private static HashSet<(string Kind, string Name)> ErrorKeys(ConfigParseResult result) => [.. result.Errors.Select(e => (e.Kind, e.Name))];
}

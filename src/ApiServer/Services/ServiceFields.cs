using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Services;

// Questions about a Service spec that defaulting, validation, update merging and allocation all ask
// (the needsClusterIP / needsNodePort / needsHCNodePort helpers of pkg/registry/core/service).
internal static class ServiceFields
{
    public static bool NeedsClusterIp(JsonObject spec) => JsonTree.Str(spec, "type") != "ExternalName";

    public static bool NeedsNodePort(JsonObject spec) => JsonTree.Str(spec, "type") is "NodePort" or "LoadBalancer";

    public static bool NeedsHealthCheckPort(JsonObject spec) =>
        JsonTree.Str(spec, "type") == "LoadBalancer" && JsonTree.Str(spec, "externalTrafficPolicy") == "Local";

    public static bool NeedsExternalTrafficPolicy(JsonObject spec) => JsonTree.Str(spec, "type") is "NodePort" or "LoadBalancer";

    /// <summary>The non-zero nodePort of every port.</summary>
    public static IEnumerable<long> NodePorts(JsonObject spec)
    {
        foreach (var p in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (JsonTree.TryGetLong(p["nodePort"], out var np) && np != 0)
            {
                yield return np;
            }
        }
    }

    /// <summary>Every node port a stored Service holds: its ports' and its health check's.</summary>
    public static IEnumerable<long> AllNodePorts(JsonObject? obj)
    {
        var spec = JsonTree.Obj(obj, "spec");
        if (spec is null)
        {
            yield break;
        }

        foreach (var p in NodePorts(spec))
        {
            yield return p;
        }

        if (JsonTree.TryGetLong(spec["healthCheckNodePort"], out var hc) && hc != 0)
        {
            yield return hc;
        }
    }

    /// <summary>The allocated cluster IPs of a stored Service ("None" and blanks excluded).</summary>
    public static IEnumerable<string> ClusterIps(JsonObject? obj) =>
        (JsonTree.Arr(JsonTree.Obj(obj, "spec"), "clusterIPs") ?? []).Select(n => JsonTree.AsString(n) ?? "").Where(s => s is not ("" or "None"));

    /// <summary>clusterIP and clusterIPs[0] are two views of one value; fills whichever is missing.</summary>
    public static void SyncClusterIps(JsonObject spec)
    {
        var ip = JsonTree.Str(spec, "clusterIP");
        var ips = spec["clusterIPs"] as JsonArray;
        if (!string.IsNullOrEmpty(ip) && (ips is null || ips.Count == 0))
        {
            spec["clusterIPs"] = new JsonArray(ip);
        }
        else if (string.IsNullOrEmpty(ip) && ips is { Count: > 0 } && JsonTree.AsString(ips[0]) is { Length: > 0 } first)
        {
            spec["clusterIP"] = first;
        }
    }

    /// <summary>Go's %#v of a []string, as the allocator's messages print it.</summary>
    public static string GoStringSlice(IEnumerable<string> values) => "[]string{" + string.Join(", ", values.Select(JsonTree.Quote)) + "}";
}

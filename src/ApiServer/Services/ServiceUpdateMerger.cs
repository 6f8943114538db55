using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using static BareLb.ApiServer.Services.ServiceFields;

namespace BareLb.ApiServer.Services;

// What the real server does to an updated Service before validating it: keeps the allocated values the client
// left out (patchAllocatedValues, pkg/registry/core/service/storage/storage.go) and drops the fields the new type
// no longer uses, clearing status.loadBalancer unless the Service stays a LoadBalancer (dropTypeDependentFields,
// pkg/registry/core/service/strategy.go).
internal static class ServiceUpdateMerger
{
    public static void Merge(JsonObject obj, JsonObject old)
    {
        var spec = JsonTree.EnsureObject(obj, "spec");
        var oldSpec = JsonTree.Obj(old, "spec") ?? [];
        KeepAllocatedValues(spec, oldSpec);
        TrimForDualStackDowngrade(spec, oldSpec);
        DropTypeDependentFields(spec, oldSpec);
        if (JsonTree.Str(spec, "type") != "LoadBalancer" && obj["status"] is JsonObject status)
        {
            // Load balancer de-provisioning is asynchronous, but clients are not shown that.
            status["loadBalancer"] = new JsonObject();
        }

        SyncClusterIps(spec);
    }

    private static void KeepAllocatedValues(JsonObject spec, JsonObject oldSpec)
    {
        if (NeedsClusterIp(oldSpec) && NeedsClusterIp(spec))
        {
            if (string.IsNullOrEmpty(JsonTree.Str(spec, "clusterIP")) && oldSpec["clusterIP"] is { } ip)
            {
                spec["clusterIP"] = ip.DeepClone();
            }

            if ((spec["clusterIPs"] as JsonArray ?? []).Count == 0 && oldSpec["clusterIPs"] is JsonArray { Count: > 0 } ips)
            {
                spec["clusterIPs"] = ips.DeepClone();
            }
        }

        if (NeedsNodePort(oldSpec) && NeedsNodePort(spec) && spec["ports"] is JsonArray ports)
        {
            // Ports already used by both versions cannot be patched in elsewhere.
            var used = new HashSet<long>(NodePorts(spec));
            used.IntersectWith(NodePorts(oldSpec));
            var byName = new Dictionary<string, long>();
            foreach (var p in (oldSpec["ports"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (JsonTree.TryGetLong(p["nodePort"], out var np))
                {
                    byName[JsonTree.Str(p, "name") ?? ""] = np;
                }
            }

            foreach (var p in ports.OfType<JsonObject>())
            {
                if ((!JsonTree.TryGetLong(p["nodePort"], out var np) || np == 0) &&
                    byName.TryGetValue(JsonTree.Str(p, "name") ?? "", out var oldNp) && !used.Contains(oldNp))
                {
                    p["nodePort"] = oldNp;
                }
            }
        }

        if (NeedsHealthCheckPort(oldSpec) && NeedsHealthCheckPort(spec) &&
            (!JsonTree.TryGetLong(spec["healthCheckNodePort"], out var hc) || hc == 0) && oldSpec["healthCheckNodePort"] is { } oldHc)
        {
            spec["healthCheckNodePort"] = oldHc.DeepClone();
        }
    }

    // Setting ipFamilyPolicy to SingleStack on a dual-stack Service keeps only the primary family and IP.
    private static void TrimForDualStackDowngrade(JsonObject spec, JsonObject oldSpec)
    {
        if ((oldSpec["ipFamilies"] as JsonArray ?? []).Count < 2 || JsonTree.Str(spec, "ipFamilyPolicy") != "SingleStack")
        {
            return;
        }

        foreach (var field in (string[])["clusterIPs", "ipFamilies"])
        {
            if (spec[field] is JsonArray { Count: > 1 } list)
            {
                spec[field] = new JsonArray(list[0]?.DeepClone());
            }
        }
    }

    // A field is only wiped when it no longer applies, may have been set automatically, and the client did not also
    // change it (a changed value is left for validation to refuse).
    private static void DropTypeDependentFields(JsonObject spec, JsonObject oldSpec)
    {
        bool Same(string field) => JsonNode.DeepEquals(spec[field], oldSpec[field]);
        if (NeedsClusterIp(oldSpec) && !NeedsClusterIp(spec))
        {
            if (Same("clusterIP") && Same("clusterIPs"))
            {
                spec.Remove("clusterIP");
                spec.Remove("clusterIPs");
            }

            if (Same("ipFamilies"))
            {
                spec.Remove("ipFamilies");
            }

            if (Same("ipFamilyPolicy"))
            {
                spec.Remove("ipFamilyPolicy");
            }
        }

        // Users may add, remove or change ports as long as they add no new node port.
        if (NeedsNodePort(oldSpec) && !NeedsNodePort(spec) && new HashSet<long>(NodePorts(oldSpec)).IsSupersetOf(NodePorts(spec)))
        {
            foreach (var p in (spec["ports"] as JsonArray ?? []).OfType<JsonObject>())
            {
                p.Remove("nodePort");
            }
        }

        if (NeedsHealthCheckPort(oldSpec) && !NeedsHealthCheckPort(spec) && Same("healthCheckNodePort"))
        {
            spec.Remove("healthCheckNodePort");
        }

        var wasLoadBalancer = JsonTree.Str(oldSpec, "type") == "LoadBalancer";
        var isLoadBalancer = JsonTree.Str(spec, "type") == "LoadBalancer";
        if (wasLoadBalancer && !isLoadBalancer)
        {
            if (spec["allocateLoadBalancerNodePorts"] is not null && oldSpec["allocateLoadBalancerNodePorts"] is not null &&
                Same("allocateLoadBalancerNodePorts"))
            {
                spec.Remove("allocateLoadBalancerNodePorts");
            }

            if (Same("loadBalancerClass"))
            {
                spec.Remove("loadBalancerClass");
            }
        }

        if (NeedsExternalTrafficPolicy(oldSpec) && !NeedsExternalTrafficPolicy(spec) && Same("externalTrafficPolicy"))
        {
            spec.Remove("externalTrafficPolicy");
        }
    }
}

using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Services;

// SetDefaults_Service (pkg/apis/core/v1/defaults.go), applied to every decoded Service, status writes included.
internal static class ServiceDefaulter
{
    public static void Apply(JsonObject obj)
    {
        var spec = JsonTree.EnsureObject(obj, "spec");
        spec["sessionAffinity"] ??= "None";
        if (JsonTree.Str(spec, "sessionAffinity") == "None")
        {
            spec.Remove("sessionAffinityConfig");
        }
        else if (JsonTree.Str(spec, "sessionAffinity") == "ClientIP" && spec["sessionAffinityConfig"] is null)
        {
            spec["sessionAffinityConfig"] = new JsonObject { ["clientIP"] = new JsonObject { ["timeoutSeconds"] = 10800 } };
        }

        spec["type"] ??= "ClusterIP";
        var type = JsonTree.Str(spec, "type");
        if (spec["ports"] is JsonArray ports)
        {
            foreach (var p in ports.OfType<JsonObject>())
            {
                p["protocol"] ??= "TCP";
                var target = p["targetPort"];
                if (target is null || (JsonTree.TryGetLong(target, out var t) && t == 0) || JsonTree.AsString(target) == "")
                {
                    p["targetPort"] = p["port"]?.DeepClone();
                }
            }
        }

        if (type is "NodePort" or "LoadBalancer")
        {
            spec["externalTrafficPolicy"] ??= "Cluster";
        }

        if (type is "NodePort" or "LoadBalancer" or "ClusterIP")
        {
            spec["internalTrafficPolicy"] ??= "Cluster";
        }

        if (type != "LoadBalancer")
        {
            return;
        }

        spec["allocateLoadBalancerNodePorts"] ??= true;
        // LoadBalancerIPMode (GA in 1.32): an IP ingress without a mode is a VIP.
        if (JsonTree.Arr(JsonTree.Obj(obj["status"], "loadBalancer"), "ingress") is { } ingress)
        {
            foreach (var ing in ingress.OfType<JsonObject>())
            {
                if (!string.IsNullOrEmpty(JsonTree.Str(ing, "ip")) && !ing.ContainsKey("ipMode"))
                {
                    ing["ipMode"] = "VIP";
                }
            }
        }
    }
}

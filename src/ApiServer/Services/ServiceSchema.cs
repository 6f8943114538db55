using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Schema;

namespace BareLb.ApiServer.Services;

// The field names of core/v1 Service (as of 1.32), used only to drop unknown fields the way decoding into the
// Go struct does (and to report them for fieldValidation=Strict/Warn). Types are not checked here.
internal static class ServiceSchema
{
    public static readonly StructuralSchema Instance = Build();

    private static StructuralSchema Build()
    {
        var json = JsonNode.Parse("""
            {"type":"object","properties":{
              "spec":{"type":"object","properties":{
                "allocateLoadBalancerNodePorts":{"type":"boolean"},
                "clusterIP":{"type":"string"},
                "clusterIPs":{"type":"array","items":{"type":"string"}},
                "externalIPs":{"type":"array","items":{"type":"string"}},
                "externalName":{"type":"string"},
                "externalTrafficPolicy":{"type":"string"},
                "healthCheckNodePort":{"type":"integer"},
                "internalTrafficPolicy":{"type":"string"},
                "ipFamilies":{"type":"array","items":{"type":"string"}},
                "ipFamilyPolicy":{"type":"string"},
                "loadBalancerClass":{"type":"string"},
                "loadBalancerIP":{"type":"string"},
                "loadBalancerSourceRanges":{"type":"array","items":{"type":"string"}},
                "ports":{"type":"array","items":{"type":"object","properties":{
                  "appProtocol":{"type":"string"},"name":{"type":"string"},"nodePort":{"type":"integer"},
                  "port":{"type":"integer"},"protocol":{"type":"string"},"targetPort":{"x-kubernetes-int-or-string":true}}}},
                "publishNotReadyAddresses":{"type":"boolean"},
                "selector":{"type":"object","additionalProperties":{"type":"string"}},
                "sessionAffinity":{"type":"string"},
                "sessionAffinityConfig":{"type":"object","properties":{"clientIP":{"type":"object","properties":{"timeoutSeconds":{"type":"integer"}}}}},
                "trafficDistribution":{"type":"string"},
                "type":{"type":"string"}}},
              "status":{"type":"object","properties":{
                "conditions":{"type":"array","items":{"type":"object","properties":{
                  "lastTransitionTime":{"type":"string"},"message":{"type":"string"},"observedGeneration":{"type":"integer"},
                  "reason":{"type":"string"},"status":{"type":"string"},"type":{"type":"string"}}}},
                "loadBalancer":{"type":"object","properties":{"ingress":{"type":"array","items":{"type":"object","properties":{
                  "hostname":{"type":"string"},"ip":{"type":"string"},"ipMode":{"type":"string"},
                  "ports":{"type":"array","items":{"type":"object","properties":{
                    "error":{"type":"string"},"port":{"type":"integer"},"protocol":{"type":"string"}}}}}}}}}}}}}
            """)!.AsObject();
        var errors = new List<FieldError>();
        var schema = StructuralSchema.Parse(json, "", errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException("built-in Service schema is malformed: " + string.Join("; ", errors));
        }

        return schema;
    }
}

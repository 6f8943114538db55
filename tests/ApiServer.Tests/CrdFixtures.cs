using System.Text.Json.Nodes;

namespace BareLb.ApiServer.Tests;

// Small CRDs written for these tests (independent of the project's real CRDs in crds/).
internal static class CrdFixtures
{
    public const string WidgetsPath = "/apis/example.com/v1/namespaces/default/widgets";
    public const string PoolsPath = "/apis/net.example.com/v1beta1/pools";

    // Namespaced, status subresource, two served versions (v1 storage).
    public static JsonObject WidgetCrd() => KubeHttp.J("""
        {
          "apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition",
          "metadata": {"name": "widgets.example.com"},
          "spec": {
            "group": "example.com",
            "scope": "Namespaced",
            "names": {"kind": "Widget", "plural": "widgets", "singular": "widget", "shortNames": ["wd"], "categories": ["all"]},
            "versions": [
              {
                "name": "v1", "served": true, "storage": true,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {
                  "type": "object",
                  "properties": {
                    "spec": {"type": "object", "properties": {"size": {"type": "integer"}, "color": {"type": "string", "default": "blue"}}},
                    "status": {"type": "object", "properties": {"phase": {"type": "string"}}}
                  }
                }}
              },
              {
                "name": "v1beta1", "served": true, "storage": false,
                "subresources": {"status": {}},
                "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}}
              }
            ]
          }
        }
        """);

    // Cluster-scoped with a schema exercising every validation rule the server implements.
    public static JsonObject PoolCrd() => KubeHttp.J("""
        {
          "apiVersion": "apiextensions.k8s.io/v1",
          "kind": "CustomResourceDefinition",
          "metadata": {"name": "pools.net.example.com"},
          "spec": {
            "group": "net.example.com",
            "scope": "Cluster",
            "names": {"kind": "Pool", "plural": "pools", "singular": "pool", "shortNames": ["pl"]},
            "versions": [{
              "name": "v1beta1", "served": true, "storage": true,
              "subresources": {"status": {}},
              "additionalPrinterColumns": [
                {"name": "Addresses", "type": "string", "jsonPath": ".spec.addresses"},
                {"name": "Auto", "type": "boolean", "jsonPath": ".spec.autoAssign"},
                {"name": "Assigned", "type": "string", "jsonPath": ".status.assignedIPv4"},
                {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
              ],
              "schema": {"openAPIV3Schema": {
                "type": "object",
                "properties": {
                  "spec": {
                    "type": "object",
                    "required": ["addresses"],
                    "properties": {
                      "addresses": {"type": "array", "minItems": 1, "maxItems": 3,
                                    "items": {"type": "string", "pattern": "^[0-9.]+/[0-9]+$"}},
                      "autoAssign": {"type": "boolean", "default": true},
                      "mode": {"type": "string", "enum": ["layer2", "bgp"], "default": "layer2"},
                      "priority": {"type": "integer", "format": "int32", "minimum": 0, "maximum": 100},
                      "weight": {"type": "number", "minimum": 0, "exclusiveMinimum": true},
                      "name": {"type": "string", "minLength": 2, "maxLength": 5},
                      "tags": {"type": "array", "uniqueItems": true, "items": {"type": "string"}},
                      "port": {"x-kubernetes-int-or-string": true},
                      "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}},
                      "options": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                      "note": {"type": "string", "nullable": true},
                      "limits": {"type": "object", "properties": {"max": {"type": "integer", "default": 10}}, "default": {}}
                    }
                  },
                  "status": {"type": "object", "properties": {"assignedIPv4": {"type": "integer"}}}
                }
              }}
            }]
          }
        }
        """);
}

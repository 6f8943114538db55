using System.Text.Json.Nodes;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Discovery;

// /version, /api, /apis, /apis/{g}, /apis/{g}/{v}, /api/v1 and the aggregated discovery (apidiscovery.k8s.io/v2)
// documents kubectl 1.32 asks for first.
internal sealed class DiscoveryDocuments(ResourceCatalog catalog)
{
    public static JsonObject Version() => new()
    {
        ["major"] = "1",
        ["minor"] = "32",
        ["gitVersion"] = "v1.32.0",
        ["gitCommit"] = "barelb-in-memory-apiserver",
        ["gitTreeState"] = "clean",
        ["buildDate"] = "2025-01-01T00:00:00Z",
        ["goVersion"] = "go1.23.4",
        ["compiler"] = "gc",
        ["platform"] = "linux/amd64",
    };

    public static JsonObject CoreVersions(string serverAddress) => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public JsonObject GroupList()
    {
        var groups = new JsonArray();
        foreach (var (group, versions) in catalog.Groups())
        {
            groups.Add(Group(group, versions));
        }

        return new JsonObject { ["kind"] = "APIGroupList", ["apiVersion"] = "v1", ["groups"] = groups };
    }

    public JsonObject? Group(string name)
    {
        foreach (var (group, versions) in catalog.Groups())
        {
            if (group == name)
            {
                var g = Group(group, versions);
                g["kind"] = "APIGroup";
                g["apiVersion"] = "v1";
                return g;
            }
        }

        return null;
    }

    private static JsonObject Group(string group, IReadOnlyList<string> versions)
    {
        var list = new JsonArray();
        foreach (var v in versions)
        {
            list.Add(new JsonObject { ["groupVersion"] = group + "/" + v, ["version"] = v });
        }

        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = list,
            ["preferredVersion"] = new JsonObject { ["groupVersion"] = group + "/" + versions[0], ["version"] = versions[0] },
        };
    }

    public JsonObject? ResourceList(string group, string version)
    {
        var kinds = catalog.All.Where(k => k.Group == group && k.Version == version).ToList();
        if (kinds.Count == 0)
        {
            return null;
        }

        var resources = new JsonArray();
        foreach (var k in kinds)
        {
            var r = new JsonObject
            {
                ["name"] = k.Plural,
                ["singularName"] = k.Singular,
                ["namespaced"] = k.Namespaced,
                ["kind"] = k.Kind,
                ["verbs"] = Strings(k.Verbs),
            };
            if (k.ShortNames.Count > 0)
            {
                r["shortNames"] = Strings(k.ShortNames);
            }

            if (k.Categories.Count > 0)
            {
                r["categories"] = Strings(k.Categories);
            }

            resources.Add(r);
            if (k.HasStatus)
            {
                resources.Add(new JsonObject
                {
                    ["name"] = k.Plural + "/status",
                    ["singularName"] = "",
                    ["namespaced"] = k.Namespaced,
                    ["kind"] = k.Kind,
                    ["verbs"] = Strings(["get", "patch", "update"]),
                });
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : group + "/" + version,
            ["resources"] = resources,
        };
    }

    /// <summary>apidiscovery.k8s.io/v2 APIGroupDiscoveryList for /api (core only) or /apis (all named groups).</summary>
    public JsonObject Aggregated(bool core)
    {
        var items = new JsonArray();
        var groups = core ? [("", (IReadOnlyList<string>)["v1"])] : catalog.Groups();
        foreach (var (group, versions) in groups)
        {
            var versionList = new JsonArray();
            foreach (var v in versions)
            {
                var resources = new JsonArray();
                foreach (var k in catalog.All.Where(k => k.Group == group && k.Version == v))
                {
                    var r = new JsonObject
                    {
                        ["resource"] = k.Plural,
                        ["responseKind"] = new JsonObject { ["group"] = k.Group, ["version"] = k.Version, ["kind"] = k.Kind },
                        ["scope"] = k.Namespaced ? "Namespaced" : "Cluster",
                        ["singularResource"] = k.Singular,
                        ["verbs"] = Strings(k.Verbs),
                    };
                    if (k.ShortNames.Count > 0)
                    {
                        r["shortNames"] = Strings(k.ShortNames);
                    }

                    if (k.Categories.Count > 0)
                    {
                        r["categories"] = Strings(k.Categories);
                    }

                    if (k.HasStatus)
                    {
                        r["subresources"] = new JsonArray(new JsonObject
                        {
                            ["subresource"] = "status",
                            ["responseKind"] = new JsonObject { ["group"] = k.Group, ["version"] = k.Version, ["kind"] = k.Kind },
                            ["verbs"] = Strings(["get", "patch", "update"]),
                        });
                    }

                    resources.Add(r);
                }

                versionList.Add(new JsonObject { ["version"] = v, ["resources"] = resources, ["freshness"] = "Current" });
            }

            items.Add(new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = group, ["creationTimestamp"] = null },
                ["versions"] = versionList,
            });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = "apidiscovery.k8s.io/v2",
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
    }

    private static JsonArray Strings(IEnumerable<string> values) => new(values.Select(v => (JsonNode?)v).ToArray());
}

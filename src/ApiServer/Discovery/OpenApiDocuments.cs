using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;
using Microsoft.AspNetCore.Http;

namespace BareLb.ApiServer.Discovery;

// OpenAPI v3, reduced to what clients read from it: per group-version documents whose operations carry
// x-kubernetes-group-version-kind and the query parameters the server supports (kubectl checks PATCH for
// fieldValidation before relying on server-side field validation), and CRD schemas for custom kinds.
// The PATCH request bodies deliberately list only JSON merge and JSON patch, so kubectl computes strategic
// merge patches for built-in kinds from its compiled-in types instead of from these (schema-less) documents.
// /openapi/v2 is not served (404), as on servers with it disabled; kubectl falls back to v3.
internal sealed class OpenApiDocuments(ResourceCatalog catalog)
{
    public async Task HandleAsync(HttpContext context, ReadOnlyMemory<string> segments)
    {
        var parts = segments.Span;
        if (parts.Length == 0 || parts[0] != "v3")
        {
            throw ApiErrors.NotFoundPath();
        }

        if (parts.Length == 1)
        {
            var paths = new JsonObject();
            foreach (var gv in GroupVersions())
            {
                var key = gv.Group.Length == 0 ? "api/" + gv.Version : $"apis/{gv.Group}/{gv.Version}";
                paths[key] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{key}?hash={Hash(gv.Group, gv.Version)}" };
            }

            await Http.ApiRequestHandler.WriteJsonAsync(context, 200, new JsonObject { ["paths"] = paths }).ConfigureAwait(false);
            return;
        }

        string group;
        string version;
        if (parts[1] == "api" && parts.Length == 3)
        {
            group = "";
            version = parts[2];
        }
        else if (parts[1] == "apis" && parts.Length == 4)
        {
            group = parts[2];
            version = parts[3];
        }
        else
        {
            throw ApiErrors.NotFoundPath();
        }

        var kinds = catalog.All.Where(k => k.Group == group && k.Version == version).ToList();
        if (kinds.Count == 0)
        {
            throw ApiErrors.NotFoundPath();
        }

        context.Response.Headers.ETag = "\"" + Hash(group, version) + "\"";
        await Http.ApiRequestHandler.WriteJsonAsync(context, 200, Document(kinds)).ConfigureAwait(false);
    }

    private IEnumerable<(string Group, string Version)> GroupVersions() =>
        catalog.All.Select(k => (k.Group, k.Version)).Distinct();

    private string Hash(string group, string version)
    {
        var sb = new StringBuilder();
        foreach (var k in catalog.All.Where(k => k.Group == group && k.Version == version))
        {
            sb.Append(k.Plural).Append('|').Append(k.Kind).Append('|').Append(k.Namespaced).Append('|').Append(k.HasStatus).Append('|')
                .Append(k.Schema is null ? "" : JsonTree.ToJsonString(k.Schema.Source)).Append(';');
        }

        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())))[..32];
    }

    private static JsonObject Document(List<ResourceKind> kinds)
    {
        var paths = new JsonObject();
        var schemas = new JsonObject();
        foreach (var k in kinds)
        {
            var schemaName = SchemaName(k);
            schemas[schemaName] = k.Schema is not null
                ? k.Schema.Source.DeepClone()
                : new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
            ((JsonObject)schemas[schemaName]!)["x-kubernetes-group-version-kind"] = new JsonArray(Gvk(k));
            var prefix = k.Group.Length == 0 ? "/api/" + k.Version : $"/apis/{k.Group}/{k.Version}";
            var collection = k.Namespaced ? $"{prefix}/namespaces/{{namespace}}/{k.Plural}" : $"{prefix}/{k.Plural}";
            paths[collection] = new JsonObject
            {
                ["get"] = Operation(k, "list", schemaName, ["labelSelector", "fieldSelector", "limit", "continue", "resourceVersion", "watch", "timeoutSeconds", "allowWatchBookmarks"]),
                ["post"] = Operation(k, "create", schemaName, ["dryRun", "fieldManager", "fieldValidation"], body: ["application/json", "application/yaml"]),
                ["delete"] = Operation(k, "deletecollection", schemaName, ["labelSelector", "fieldSelector", "dryRun"]),
            };
            paths[collection + "/{name}"] = new JsonObject
            {
                ["get"] = Operation(k, "get", schemaName, []),
                ["put"] = Operation(k, "update", schemaName, ["dryRun", "fieldManager", "fieldValidation"], body: ["application/json", "application/yaml"]),
                ["patch"] = Operation(k, "patch", schemaName, ["dryRun", "fieldManager", "fieldValidation", "force"],
                    body: ["application/json-patch+json", "application/merge-patch+json"]),
                ["delete"] = Operation(k, "delete", schemaName, ["dryRun", "gracePeriodSeconds", "propagationPolicy"]),
            };
            if (k.HasStatus)
            {
                paths[collection + "/{name}/status"] = new JsonObject
                {
                    ["get"] = Operation(k, "get", schemaName, []),
                    ["put"] = Operation(k, "update", schemaName, ["dryRun", "fieldManager", "fieldValidation"], body: ["application/json", "application/yaml"]),
                    ["patch"] = Operation(k, "patch", schemaName, ["dryRun", "fieldManager", "fieldValidation", "force"],
                        body: ["application/json-patch+json", "application/merge-patch+json"]),
                };
            }
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = "v1.32.0" },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    private static JsonObject Operation(ResourceKind k, string action, string schemaName, string[] queryParams, string[]? body = null)
    {
        var parameters = new JsonArray();
        foreach (var p in queryParams)
        {
            parameters.Add(new JsonObject { ["name"] = p, ["in"] = "query", ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true } });
        }

        var op = new JsonObject
        {
            ["operationId"] = action + k.Kind,
            ["parameters"] = parameters,
            ["responses"] = new JsonObject
            {
                ["200"] = new JsonObject
                {
                    ["description"] = "OK",
                    ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = Ref(schemaName) } },
                },
            },
            ["x-kubernetes-action"] = action,
            ["x-kubernetes-group-version-kind"] = Gvk(k),
        };
        if (body is not null)
        {
            var content = new JsonObject();
            foreach (var b in body)
            {
                content[b] = new JsonObject { ["schema"] = Ref(schemaName) };
            }

            op["requestBody"] = new JsonObject { ["content"] = content, ["required"] = true };
        }

        return op;
    }

    private static JsonObject Ref(string schemaName) => new() { ["$ref"] = "#/components/schemas/" + schemaName };

    private static JsonObject Gvk(ResourceKind k) => new() { ["group"] = k.Group, ["kind"] = k.Kind, ["version"] = k.Version };

    private static string SchemaName(ResourceKind k)
    {
        var reversed = string.Join('.', (k.Group.Length == 0 ? "core" : k.Group).Split('.').Reverse());
        return $"{reversed}.{k.Version}.{k.Kind}";
    }
}

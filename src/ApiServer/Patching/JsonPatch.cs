using System.Globalization;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Patching;

internal sealed class JsonPatchException(string message) : Exception(message);

// RFC 6902 JSON Patch with RFC 6901 pointers.
internal static class JsonPatch
{
    public static JsonNode? Apply(JsonNode? document, JsonArray operations)
    {
        var doc = document;
        foreach (var opNode in operations)
        {
            if (opNode is not JsonObject op)
            {
                throw new JsonPatchException("operation must be an object");
            }

            var kind = JsonTree.Str(op, "op") ?? throw new JsonPatchException("missing 'op'");
            var path = JsonTree.Str(op, "path") ?? throw new JsonPatchException($"missing 'path' in {kind} operation");
            switch (kind)
            {
                case "add":
                    doc = Add(doc, path, Value(op));
                    break;
                case "remove":
                    doc = Remove(doc, path, out _);
                    break;
                case "replace":
                    doc = Remove(doc, path, out _);
                    doc = Add(doc, path, Value(op));
                    break;
                case "move":
                {
                    var from = JsonTree.Str(op, "from") ?? throw new JsonPatchException("missing 'from' in move operation");
                    doc = Remove(doc, from, out var moved);
                    doc = Add(doc, path, moved);
                    break;
                }

                case "copy":
                {
                    var from = JsonTree.Str(op, "from") ?? throw new JsonPatchException("missing 'from' in copy operation");
                    doc = Add(doc, path, Get(doc, from)?.DeepClone());
                    break;
                }

                case "test":
                    if (!JsonNode.DeepEquals(Get(doc, path), Value(op)))
                    {
                        throw new JsonPatchException($"testing value {path} failed: test failed");
                    }

                    break;
                default:
                    throw new JsonPatchException($"Unexpected kind: {kind}");
            }
        }

        return doc;
    }

    private static JsonNode? Value(JsonObject op)
    {
        if (!op.TryGetPropertyValue("value", out var v))
        {
            throw new JsonPatchException("missing 'value' parameter");
        }

        return v?.DeepClone();
    }

    private static List<string> Tokens(string pointer)
    {
        if (pointer.Length == 0)
        {
            return [];
        }

        if (pointer[0] != '/')
        {
            throw new JsonPatchException($"invalid JSON pointer: {pointer}");
        }

        return pointer[1..].Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static JsonNode? Get(JsonNode? doc, string pointer)
    {
        var node = doc;
        foreach (var t in Tokens(pointer))
        {
            node = node switch
            {
                JsonObject o when o.TryGetPropertyValue(t, out var child) => child,
                JsonArray a when int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => throw new JsonPatchException($"unable to get nonexistent key: {t}: missing value"),
            };
        }

        return node;
    }

    private static JsonNode? Add(JsonNode? doc, string pointer, JsonNode? value)
    {
        var tokens = Tokens(pointer);
        if (tokens.Count == 0)
        {
            return value;
        }

        var parent = Get(doc, "/" + string.Join('/', tokens.Take(tokens.Count - 1).Select(Escape)));
        if (tokens.Count == 1)
        {
            parent = doc;
        }

        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o.Remove(last);
                o[last] = value;
                break;
            case JsonArray a:
                if (last == "-")
                {
                    a.Add(value);
                }
                else if (int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count)
                {
                    a.Insert(i, value);
                }
                else
                {
                    throw new JsonPatchException($"Unable to access invalid index: {last}: invalid index referenced");
                }

                break;
            default:
                throw new JsonPatchException($"add operation does not apply: doc is missing path: \"{pointer}\": missing value");
        }

        return doc;
    }

    private static JsonNode? Remove(JsonNode? doc, string pointer, out JsonNode? removed)
    {
        var tokens = Tokens(pointer);
        if (tokens.Count == 0)
        {
            removed = doc;
            return null;
        }

        var parent = tokens.Count == 1 ? doc : Get(doc, "/" + string.Join('/', tokens.Take(tokens.Count - 1).Select(Escape)));
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var child):
                removed = child;
                o.Remove(last);
                break;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                break;
            default:
                throw new JsonPatchException($"remove operation does not apply: doc is missing path: \"{pointer}\": missing value");
        }

        // Detach so the node can be re-inserted elsewhere (move).
        removed = removed?.DeepClone();
        return doc;
    }

    private static string Escape(string token) => token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
}

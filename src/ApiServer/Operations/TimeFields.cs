using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Operations;

/// <summary>A metav1.Time (or MicroTime) field of a built-in kind; "*" steps into every item of a list.</summary>
internal sealed record TimeField(string Path, bool Micro = false)
{
    public string[] Segments { get; } = Path.Split('.');
}

// Decoding a built-in object parses its time fields and encoding writes them back (KubeTime), so what a client
// sends comes back truncated to seconds (Time) or microseconds (MicroTime), and an unparsable time fails the
// request with the decoder's 400. Custom resources are unstructured: their strings are never reinterpreted, but
// their ObjectMeta is (structural objectmeta.Coerce), which is why the metadata fields apply to every kind.
internal static class TimeFields
{
    private static readonly TimeField[] Metadata = [new("metadata.creationTimestamp"), new("metadata.deletionTimestamp")];

    public static void Apply(ResourceKind kind, JsonObject obj)
    {
        try
        {
            foreach (var field in Metadata)
            {
                Walk(obj, field.Segments, 0, field.Micro);
            }

            if (!kind.IsCustom)
            {
                foreach (var field in kind.TimeFields)
                {
                    Walk(obj, field.Segments, 0, field.Micro);
                }
            }
        }
        catch (FormatException e)
        {
            throw ApiErrors.BadRequest($"{kind.Kind} in version {JsonTree.Quote(kind.Version)} cannot be handled as a {kind.Kind}: {e.Message}");
        }
    }

    private static void Walk(JsonNode? node, string[] path, int depth, bool micro)
    {
        var segment = path[depth];
        if (segment == "*")
        {
            if (node is JsonArray items)
            {
                foreach (var item in items)
                {
                    Walk(item, path, depth + 1, micro);
                }
            }

            return;
        }

        if (node is not JsonObject obj || !obj.TryGetPropertyValue(segment, out var child))
        {
            return;
        }

        if (depth + 1 < path.Length)
        {
            Walk(child, path, depth + 1, micro);
            return;
        }

        switch (child)
        {
            case null:
                return;
            case JsonValue v when JsonTree.AsString(v) is { } text:
                obj[segment] = KubeTime.Normalize(text, micro);
                return;
            default:
                throw new FormatException($"json: cannot unmarshal {JsonTree.Kind(child).ToString().ToLowerInvariant()} into Go value of type string");
        }
    }
}

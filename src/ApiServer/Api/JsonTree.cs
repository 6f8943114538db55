using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace BareLb.ApiServer.Api;

// Objects are kept with keys sorted (what the real server emits for unstructured objects, and what makes
// "did anything change?" a byte comparison); stored trees are never mutated after they are committed.
internal static class JsonTree
{
    // Go's encoder escapes only what JSON requires (plus <, >, & which clients never depend on).
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        SkipValidation = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonNode? Canonical(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var keys = new List<KeyValuePair<string, JsonNode?>>(obj.Count);
                foreach (var kv in obj)
                {
                    keys.Add(kv);
                }

                keys.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
                var copy = new JsonObject();
                foreach (var kv in keys)
                {
                    copy.Add(kv.Key, Canonical(kv.Value));
                }

                return copy;
            case JsonArray arr:
                var list = new JsonArray();
                foreach (var item in arr)
                {
                    list.Add(Canonical(item));
                }

                return list;
            default:
                return node.DeepClone();
        }
    }

    public static JsonObject CanonicalObject(JsonObject obj) => (JsonObject)Canonical(obj)!;

    public static byte[] Serialize(JsonNode? node)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            if (node is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                node.WriteTo(writer);
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static string ToJsonString(JsonNode? node) => System.Text.Encoding.UTF8.GetString(Serialize(node));

    /// <summary>Sets key keeping the object's keys sorted (inserting at the ordinal position when new).</summary>
    public static void SetSorted(JsonObject obj, string key, JsonNode? value)
    {
        if (obj.ContainsKey(key))
        {
            obj[key] = value;
            return;
        }

        var index = 0;
        foreach (var kv in obj)
        {
            if (string.CompareOrdinal(kv.Key, key) > 0)
            {
                break;
            }

            index++;
        }

        obj.Insert(index, key, value);
    }

    public static JsonObject? Obj(JsonNode? node, string key) => (node as JsonObject)?[key] as JsonObject;

    public static JsonArray? Arr(JsonNode? node, string key) => (node as JsonObject)?[key] as JsonArray;

    public static string? Str(JsonNode? node, string key)
    {
        if ((node as JsonObject)?[key] is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            return v.GetValue<string>();
        }

        return null;
    }

    public static string? AsString(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;

    public static bool TryGetLong(JsonNode? node, out long value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        if (v.TryGetValue(out JsonElement e))
        {
            if (e.TryGetInt64(out value))
            {
                return true;
            }

            return e.TryGetDouble(out var ed) && IsIntegral(ed, out value);
        }

        if (v.TryGetValue(out long l))
        {
            value = l;
            return true;
        }

        if (v.TryGetValue(out int i))
        {
            value = i;
            return true;
        }

        return TryGetDouble(node, out var d) && IsIntegral(d, out value);
    }

    private static bool IsIntegral(double d, out long value)
    {
        value = 0;
        if (Math.Floor(d) != d || Math.Abs(d) >= 9.2e18)
        {
            return false;
        }

        value = (long)d;
        return true;
    }

    public static bool TryGetDouble(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != JsonValueKind.Number)
        {
            return false;
        }

        if (v.TryGetValue(out JsonElement e))
        {
            return e.TryGetDouble(out value);
        }

        if (v.TryGetValue(out double d))
        {
            value = d;
            return true;
        }

        if (v.TryGetValue(out long l))
        {
            value = l;
            return true;
        }

        if (v.TryGetValue(out int i))
        {
            value = i;
            return true;
        }

        if (v.TryGetValue(out decimal m))
        {
            value = (double)m;
            return true;
        }

        if (v.TryGetValue(out float f))
        {
            value = f;
            return true;
        }

        return false;
    }

    public static bool? AsBool(JsonNode? node) => node is JsonValue v && v.GetValueKind() is JsonValueKind.True or JsonValueKind.False
        ? v.GetValueKind() == JsonValueKind.True
        : null;

    public static JsonValueKind Kind(JsonNode? node) => node switch
    {
        null => JsonValueKind.Null,
        JsonObject => JsonValueKind.Object,
        JsonArray => JsonValueKind.Array,
        _ => node.GetValueKind(),
    };

    public static JsonObject EnsureObject(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[key] = created;
        return created;
    }

    public static bool DeepEquals(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);

    /// <summary>Go's %#v-like rendering used inside field error messages: strings quoted, numbers bare.</summary>
    public static string Render(JsonNode? node) => node switch
    {
        null => "null",
        JsonValue v when v.GetValueKind() == JsonValueKind.String => Quote(v.GetValue<string>()),
        _ => ToJsonString(node),
    };

    public static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < ' ')
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    public static JsonObject ParseObject(ReadOnlySpan<byte> utf8)
    {
        var node = JsonNode.Parse(utf8, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        return node as JsonObject ?? throw new JsonException("expected a JSON object");
    }
}

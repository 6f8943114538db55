using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Events;

// core/v1 and events.k8s.io/v1 Events are one storage (core/v1 form) seen through the conversion of
// pkg/apis/events/v1/conversion.go: regarding <-> involvedObject, note <-> message, deprecatedSource <-> source,
// deprecatedFirstTimestamp/LastTimestamp/Count <-> firstTimestamp/lastTimestamp/count, reportingController <->
// reportingComponent (the core/v1 JSON name of the same field); the rest keeps its name. Both directions write the
// shape Go's encoder gives the typed structs: non-pointer structs and times always present ({} or null), omitempty
// strings and counts left out when empty.
internal static class EventConversion
{
    private static readonly string[] ReferenceFields = ["apiVersion", "fieldPath", "kind", "name", "namespace", "resourceVersion", "uid"];

    public static JsonObject ToV1(JsonObject core)
    {
        var v1 = new JsonObject
        {
            ["apiVersion"] = "events.k8s.io/v1",
            ["kind"] = "Event",
            ["metadata"] = core["metadata"]?.DeepClone(),
            ["eventTime"] = core["eventTime"]?.DeepClone(),
            ["regarding"] = Reference(core["involvedObject"]),
            ["deprecatedSource"] = Source(core["source"]),
            ["deprecatedFirstTimestamp"] = core["firstTimestamp"]?.DeepClone(),
            ["deprecatedLastTimestamp"] = core["lastTimestamp"]?.DeepClone(),
        };
        CopyString(core, "reportingComponent", v1, "reportingController");
        CopyString(core, "reportingInstance", v1, "reportingInstance");
        CopyString(core, "action", v1, "action");
        CopyString(core, "reason", v1, "reason");
        CopyString(core, "message", v1, "note");
        CopyString(core, "type", v1, "type");
        CopyCount(core, "count", v1, "deprecatedCount");
        if (core["series"] is JsonObject series)
        {
            v1["series"] = Series(series);
        }

        if (core["related"] is JsonObject related)
        {
            v1["related"] = Reference(related);
        }

        return v1;
    }

    /// <summary>Rewrites an events.k8s.io/v1 Event into the stored core/v1 form, keeping the metadata node itself.</summary>
    public static void ToCoreInPlace(JsonObject obj)
    {
        var v1 = (JsonObject)obj.DeepClone();
        foreach (var key in obj.Select(kv => kv.Key).Where(k => k != "metadata").ToList())
        {
            obj.Remove(key);
        }

        obj["apiVersion"] = "v1";
        obj["kind"] = "Event";
        obj["involvedObject"] = v1["regarding"]?.DeepClone() ?? new JsonObject();
        obj["source"] = v1["deprecatedSource"]?.DeepClone() ?? new JsonObject();
        obj["firstTimestamp"] = v1["deprecatedFirstTimestamp"]?.DeepClone();
        obj["lastTimestamp"] = v1["deprecatedLastTimestamp"]?.DeepClone();
        obj["eventTime"] = v1["eventTime"]?.DeepClone();
        obj["reportingComponent"] = v1["reportingController"]?.DeepClone() ?? "";
        obj["reportingInstance"] = v1["reportingInstance"]?.DeepClone() ?? "";
        foreach (var (from, to) in (ReadOnlySpan<(string, string)>)[("note", "message"), ("deprecatedCount", "count"), ("reason", "reason"),
                     ("type", "type"), ("action", "action"), ("series", "series"), ("related", "related")])
        {
            if (v1[from] is { } value)
            {
                obj[to] = value.DeepClone();
            }
        }
    }

    /// <summary>The stored core/v1 Event as Go encodes a core/v1 Event struct.</summary>
    public static void ShapeCore(JsonObject core)
    {
        core["involvedObject"] = Reference(core["involvedObject"]);
        core["source"] = Source(core["source"]);
        foreach (var time in (string[])["firstTimestamp", "lastTimestamp", "eventTime"])
        {
            if (!core.ContainsKey(time))
            {
                core[time] = null;
            }
        }

        foreach (var text in (string[])["reason", "message", "type", "action"])
        {
            if (core[text] is JsonValue v && JsonTree.AsString(v) == "")
            {
                core.Remove(text);
            }
        }

        foreach (var text in (string[])["reportingComponent", "reportingInstance"])
        {
            core[text] ??= "";
        }

        if (JsonTree.TryGetLong(core["count"], out var count) && count == 0)
        {
            core.Remove("count");
        }

        if (core["related"] is JsonObject related)
        {
            core["related"] = Reference(related);
        }

        if (core["series"] is JsonObject series)
        {
            core["series"] = Series(series);
        }
    }

    private static JsonObject Reference(JsonNode? node)
    {
        var reference = new JsonObject();
        if (node is JsonObject source)
        {
            foreach (var field in ReferenceFields)
            {
                if (source[field] is { } value && JsonTree.AsString(value) != "")
                {
                    reference[field] = value.DeepClone();
                }
            }
        }

        return reference;
    }

    private static JsonObject Source(JsonNode? node)
    {
        var source = new JsonObject();
        foreach (var field in (string[])["component", "host"])
        {
            if ((node as JsonObject)?[field] is { } value && JsonTree.AsString(value) != "")
            {
                source[field] = value.DeepClone();
            }
        }

        return source;
    }

    private static JsonObject Series(JsonObject series)
    {
        var copy = new JsonObject();
        if (JsonTree.TryGetLong(series["count"], out var count) && count != 0)
        {
            copy["count"] = count;
        }

        copy["lastObservedTime"] = series["lastObservedTime"]?.DeepClone();
        return copy;
    }

    private static void CopyString(JsonObject from, string fromKey, JsonObject to, string toKey)
    {
        if (from[fromKey] is { } value && JsonTree.AsString(value) != "")
        {
            to[toKey] = value.DeepClone();
        }
    }

    private static void CopyCount(JsonObject from, string fromKey, JsonObject to, string toKey)
    {
        if (JsonTree.TryGetLong(from[fromKey], out var count) && count != 0)
        {
            to[toKey] = count;
        }
    }
}

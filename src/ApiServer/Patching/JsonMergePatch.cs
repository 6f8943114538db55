using System.Text.Json.Nodes;

namespace BareLb.ApiServer.Patching;

// RFC 7386 JSON Merge Patch.
internal static class JsonMergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObj)
        {
            return patch?.DeepClone();
        }

        var result = target as JsonObject ?? new JsonObject();
        foreach (var (key, value) in patchObj)
        {
            if (value is null)
            {
                result.Remove(key);
                continue;
            }

            var existing = result[key];
            if (existing is not null)
            {
                result.Remove(key);
            }

            result[key] = Apply(existing, value);
        }

        return result;
    }
}

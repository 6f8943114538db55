using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Patching;

// Strategic merge patch for built-in kinds, the subset kubectl apply/patch produce:
// - maps merge recursively, null deletes a key;
// - lists of maps with a known patchMergeKey (table below, from the Go struct tags of the kinds we serve)
//   merge item-by-item on that key; `{"$patch":"delete", key: ..}` items delete, `{"$patch":"replace"}` replaces the list;
// - lists of primitives with patchStrategy=merge (metadata.finalizers, spec.podCIDRs) merge as a set;
// - all other lists are replaced (atomic), as for fields without a patch strategy;
// - `$patch: replace|delete` on maps, `$retainKeys`, `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`
//   are honoured.
// Approximations: merge keys are looked up by field path (not by Go type), so a kind we don't know gets plain
// replace semantics for its lists; ordering from $setElementOrder is applied, items not named keep patch order.
internal static class StrategicMergePatch
{
    private static readonly Dictionary<string, string> MergeKeys = new(StringComparer.Ordinal)
    {
        ["metadata.ownerReferences"] = "uid",
        ["spec.ports"] = "port",
        ["spec.containers"] = "name",
        ["spec.initContainers"] = "name",
        ["spec.ephemeralContainers"] = "name",
        ["spec.volumes"] = "name",
        ["spec.imagePullSecrets"] = "name",
        ["spec.hostAliases"] = "ip",
        ["spec.containers.ports"] = "containerPort",
        ["spec.containers.env"] = "name",
        ["spec.containers.volumeMounts"] = "mountPath",
        ["spec.containers.volumeDevices"] = "devicePath",
        ["spec.initContainers.ports"] = "containerPort",
        ["spec.initContainers.env"] = "name",
        ["spec.initContainers.volumeMounts"] = "mountPath",
        ["spec.taints"] = "key",
        ["status.conditions"] = "type",
        ["status.addresses"] = "type",
    };

    private static readonly HashSet<string> MergedPrimitiveLists = new(StringComparer.Ordinal) { "metadata.finalizers", "spec.podCIDRs" };

    public static JsonObject Apply(JsonObject original, JsonObject patch) => (JsonObject)(MergeMap(original, patch, "") ?? new JsonObject());

    private static JsonNode? MergeMap(JsonObject? original, JsonObject patch, string path)
    {
        var directive = JsonTree.Str(patch, "$patch");
        if (directive == "delete")
        {
            return null;
        }

        if (directive == "replace")
        {
            return Strip(patch);
        }

        var result = original ?? new JsonObject();
        foreach (var (key, value) in patch)
        {
            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray list && value is JsonArray remove)
                {
                    for (var i = list.Count - 1; i >= 0; i--)
                    {
                        if (remove.Any(r => JsonNode.DeepEquals(r, list[i])))
                        {
                            list.RemoveAt(i);
                        }
                    }
                }
            }
        }

        foreach (var (key, value) in patch)
        {
            if (key.StartsWith('$'))
            {
                continue;
            }

            var childPath = path.Length == 0 ? key : path + "." + key;
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

            JsonNode? merged = value switch
            {
                JsonObject o => MergeMap(existing as JsonObject, o, childPath),
                JsonArray a => MergeList(existing as JsonArray, a, childPath),
                _ => value.DeepClone(),
            };
            if (merged is not null)
            {
                result[key] = merged;
            }
        }

        foreach (var (key, value) in patch)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) && value is JsonArray order)
            {
                var field = key["$setElementOrder/".Length..];
                if (result[field] is JsonArray list)
                {
                    var childPath = path.Length == 0 ? field : path + "." + field;
                    result[field] = Reorder(list, order, MergeKeys.GetValueOrDefault(childPath));
                }
            }
        }

        if (patch["$retainKeys"] is JsonArray retain)
        {
            var keep = retain.Select(r => JsonTree.AsString(r)).ToHashSet();
            foreach (var key in result.Select(kv => kv.Key).ToList())
            {
                if (!keep.Contains(key))
                {
                    result.Remove(key);
                }
            }
        }

        return result;
    }

    private static JsonArray MergeList(JsonArray? original, JsonArray patch, string path)
    {
        var listPath = System.Text.RegularExpressions.Regex.Replace(path, @"\[\d+\]", "");
        if (patch.OfType<JsonObject>().Any(o => JsonTree.Str(o, "$patch") == "replace"))
        {
            return new JsonArray(patch.Where(p => !(p is JsonObject o && JsonTree.Str(o, "$patch") == "replace")).Select(Strip).ToArray());
        }

        if (MergedPrimitiveLists.Contains(listPath))
        {
            var merged = original is null ? new JsonArray() : (JsonArray)original.DeepClone();
            foreach (var item in patch)
            {
                if (!merged.Any(m => JsonNode.DeepEquals(m, item)))
                {
                    merged.Add(item?.DeepClone());
                }
            }

            return merged;
        }

        if (!MergeKeys.TryGetValue(listPath, out var mergeKey))
        {
            return new JsonArray(patch.Select(Strip).ToArray());
        }

        var result = original is null ? new JsonArray() : (JsonArray)original.DeepClone();
        foreach (var item in patch)
        {
            if (item is not JsonObject patchItem)
            {
                continue;
            }

            var keyValue = patchItem[mergeKey];
            var index = -1;
            for (var i = 0; i < result.Count; i++)
            {
                if (result[i] is JsonObject candidate && JsonNode.DeepEquals(candidate[mergeKey], keyValue))
                {
                    index = i;
                    break;
                }
            }

            if (JsonTree.Str(patchItem, "$patch") == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                var current = (JsonObject)result[index]!;
                result.RemoveAt(index);
                result.Insert(index, MergeMap(current, patchItem, path));
            }
            else
            {
                result.Add(Strip(patchItem));
            }
        }

        return result;
    }

    private static JsonArray Reorder(JsonArray list, JsonArray order, string? mergeKey)
    {
        int Rank(JsonNode? item)
        {
            for (var i = 0; i < order.Count; i++)
            {
                var matches = mergeKey is null
                    ? JsonNode.DeepEquals(order[i], item)
                    : item is JsonObject o && order[i] is JsonObject k && JsonNode.DeepEquals(o[mergeKey], k[mergeKey]);
                if (matches)
                {
                    return i;
                }
            }

            return int.MaxValue;
        }

        var items = list.Select((n, i) => (Node: n, Rank: Rank(n), Index: i)).OrderBy(x => x.Rank).ThenBy(x => x.Index).Select(x => x.Node?.DeepClone()).ToArray();
        return new JsonArray(items);
    }

    // A patch value inserted as-is must not carry directives.
    private static JsonNode? Strip(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var copy = new JsonObject();
                foreach (var (k, v) in o)
                {
                    if (!k.StartsWith('$'))
                    {
                        copy[k] = Strip(v);
                    }
                }

                return copy;
            case JsonArray a:
                return new JsonArray(a.Select(Strip).ToArray());
            default:
                return node?.DeepClone();
        }
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Patching;

internal static class PatchApplier
{
    public static JsonObject Apply(ResourceKind kind, string contentType, JsonObject current, byte[] patchBytes)
    {
        var mediaType = contentType.Split(';')[0].Trim().ToLowerInvariant();
        JsonNode? patch;
        try
        {
            patch = mediaType is "application/apply-patch+yaml" ? null : JsonNode.Parse(patchBytes);
        }
        catch (JsonException e)
        {
            throw ApiErrors.BadRequest($"error decoding patch: {e.Message}");
        }

        switch (mediaType)
        {
            case "application/merge-patch+json":
                if (JsonMergePatch.Apply(current, patch) is not JsonObject merged)
                {
                    throw ApiErrors.BadRequest("the patch must be a JSON object");
                }

                return merged;
            case "application/json-patch+json":
                if (patch is not JsonArray ops)
                {
                    throw ApiErrors.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
                }

                try
                {
                    return JsonPatch.Apply(current, ops) as JsonObject ?? throw new JsonPatchException("result is not an object");
                }
                catch (JsonPatchException e)
                {
                    throw new StatusException(422, "Invalid", e.Message);
                }

            case "application/strategic-merge-patch+json":
                if (kind.IsCustom)
                {
                    throw new StatusException(415, "UnsupportedMediaType",
                        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
                }

                if (patch is not JsonObject smp)
                {
                    throw ApiErrors.BadRequest("the patch must be a JSON object");
                }

                return StrategicMergePatch.Apply(current, smp);
            case "application/apply-patch+yaml":
                throw new StatusException(415, "UnsupportedMediaType",
                    "server-side apply (application/apply-patch+yaml) is not implemented by this API server emulator; use client-side apply or a merge patch");
            default:
                throw ApiErrors.UnsupportedPatchType();
        }
    }
}

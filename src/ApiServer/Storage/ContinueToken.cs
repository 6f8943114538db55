using System.Buffers.Text;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Storage;

// Same shape as the real server's token: base64url(JSON {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}).
internal readonly record struct ContinueToken(long ResourceVersion, string StartKey)
{
    public string Encode()
    {
        var json = new JsonObject { ["v"] = "meta.k8s.io/v1", ["rv"] = ResourceVersion, ["start"] = StartKey }.ToJsonString();
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));
    }

    public static ContinueToken Decode(string token)
    {
        try
        {
            var bytes = Base64Url.DecodeFromChars(token.TrimEnd('='));
            var obj = JsonNode.Parse(bytes) as JsonObject ?? throw new FormatException("not an object");
            if (JsonTree.Str(obj, "v") != "meta.k8s.io/v1")
            {
                throw new FormatException("unsupported version");
            }

            if (!JsonTree.TryGetLong(obj["rv"], out var rv) || rv <= 0 || JsonTree.Str(obj, "start") is not { } start)
            {
                throw new FormatException("missing rv or start");
            }

            return new ContinueToken(rv, start);
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            throw ApiErrors.BadRequest($"continue key is not valid: {e.Message}");
        }
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace BareLb.ApiServer.Tests;

internal sealed record ApiResponse(HttpStatusCode Status, JsonObject Body, HttpResponseMessage Message)
{
    public int Code => (int)Status;

    public string? Reason => Body["reason"]?.GetValue<string>();

    public string Rv => Body["metadata"]!["resourceVersion"]!.GetValue<string>();
}

// Raw HTTP access to the server, so tests see exactly what a client on the wire sees.
internal sealed class KubeHttp(HttpClient http)
{
    public HttpClient Client => http;

    public static JsonObject J(string json) => JsonNode.Parse(json)!.AsObject();

    public Task<ApiResponse> GetAsync(string path, string? accept = null) => SendAsync(HttpMethod.Get, path, null, accept: accept);

    public Task<ApiResponse> PostAsync(string path, JsonNode body, string? query = null) => SendAsync(HttpMethod.Post, path + query, body);

    public Task<ApiResponse> PutAsync(string path, JsonNode body) => SendAsync(HttpMethod.Put, path, body);

    public Task<ApiResponse> PatchAsync(string path, JsonNode body, string contentType = "application/merge-patch+json") =>
        SendAsync(HttpMethod.Patch, path, body, contentType);

    public Task<ApiResponse> DeleteAsync(string path, JsonNode? body = null) => SendAsync(HttpMethod.Delete, path, body);

    public async Task<JsonObject> CreateAsync(string collectionPath, JsonNode body)
    {
        var r = await PostAsync(collectionPath, body);
        Assert.True(r.Status == HttpStatusCode.Created, $"create {collectionPath} returned {r.Code}: {r.Body.ToJsonString()}");
        return r.Body;
    }

    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, JsonNode? body, string contentType = "application/json", string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8);
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }

        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        var json = text.Length > 0 && text.TrimStart().StartsWith('{') ? JsonNode.Parse(text)!.AsObject() : new JsonObject { ["raw"] = text };
        return new ApiResponse(response.StatusCode, json, response);
    }

    public static JsonObject Service(string name, string? ns = null, string type = "ClusterIP", Action<JsonObject>? spec = null, Dictionary<string, string>? labels = null)
    {
        var s = new JsonObject
        {
            ["type"] = type,
            ["ports"] = new JsonArray(new JsonObject { ["name"] = "http", ["port"] = 80 }),
        };
        spec?.Invoke(s);
        var meta = new JsonObject { ["name"] = name };
        if (ns is not null)
        {
            meta["namespace"] = ns;
        }

        if (labels is not null)
        {
            var l = new JsonObject();
            foreach (var kv in labels)
            {
                l[kv.Key] = kv.Value;
            }

            meta["labels"] = l;
        }

        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Service", ["metadata"] = meta, ["spec"] = s };
    }

    public static JsonObject ConfigMap(string name, Dictionary<string, string>? labels = null, Action<JsonObject>? meta = null)
    {
        var m = new JsonObject { ["name"] = name };
        if (labels is not null)
        {
            var l = new JsonObject();
            foreach (var kv in labels)
            {
                l[kv.Key] = kv.Value;
            }

            m["labels"] = l;
        }

        meta?.Invoke(m);
        return new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = m, ["data"] = new JsonObject { ["k"] = "v" } };
    }

    public static long Rv(JsonNode obj) => long.Parse(obj["metadata"]!["resourceVersion"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
}

// A ?watch=true response read line by line.
internal sealed class WatchStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private WatchStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public HttpStatusCode Status => _response.StatusCode;

    public static async Task<WatchStream> OpenAsync(HttpClient http, string pathAndQuery, string? accept = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, pathAndQuery);
        if (accept is not null)
        {
            request.Headers.TryAddWithoutValidation("Accept", accept);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        return new WatchStream(response, new StreamReader(stream));
    }

    /// <summary>The next event, or null when the server ended the stream.</summary>
    public async Task<JsonObject?> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var line = await _reader.ReadLineAsync(cts.Token);
        return line is null ? null : JsonNode.Parse(line)!.AsObject();
    }

    public async Task<JsonObject> ExpectAsync(string type, TimeSpan? timeout = null)
    {
        var evt = await NextAsync(timeout);
        Assert.NotNull(evt);
        Assert.Equal(type, evt!["type"]!.GetValue<string>());
        return evt;
    }

    /// <summary>Asserts nothing arrives within the window (the stream stays open and silent).</summary>
    public async Task ExpectSilenceAsync(TimeSpan window)
    {
        using var cts = new CancellationTokenSource(window);
        try
        {
            var line = await _reader.ReadLineAsync(cts.Token);
            Assert.Fail($"expected no event, got {line ?? "end of stream"}");
        }
        catch (OperationCanceledException)
        {
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}

using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Discovery;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Security;
using BareLb.ApiServer.Selectors;
using BareLb.ApiServer.Storage;
using BareLb.ApiServer.Tables;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Primitives;

namespace BareLb.ApiServer.Http;

// The whole HTTP surface: routing of discovery, OpenAPI and resource paths, verb dispatch, content
// negotiation (JSON, server-side Table, aggregated discovery) and Status bodies for every failure.
internal sealed partial class ApiRequestHandler(
    ILogger<ApiRequestHandler> logger,
    ResourceCatalog catalog,
    ResourceOperations operations,
    DiscoveryDocuments discovery,
    OpenApiDocuments openApi,
    TableConverter tables,
    RequestAuthenticator authenticator,
    WatchStreamer watches,
    OutageSwitch outage,
    Func<string> serverAddress,
    CancellationToken stopping)
{
    private const int MaxBodyBytes = 3 * 1024 * 1024;

    public async Task HandleAsync(HttpContext context)
    {
        if (outage.Mode != ApiOutage.None && await FailForOutageAsync(context).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            if (!await authenticator.IsAuthenticatedAsync(context).ConfigureAwait(false))
            {
                throw ApiErrors.Unauthorized();
            }

            await RouteAsync(context).ConfigureAwait(false);
        }
        catch (StatusException e)
        {
            if (!context.Response.HasStarted)
            {
                await WriteJsonAsync(context, e.Code, e.ToStatus()).ConfigureAwait(false);
            }
        }
        catch (JsonException e)
        {
            if (!context.Response.HasStarted)
            {
                await WriteJsonAsync(context, 400, ApiErrors.BadRequest($"json: {e.Message}").ToStatus()).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            LogInternalError(logger, context.Request.Method, context.Request.Path.Value ?? "", e);
            if (!context.Response.HasStarted)
            {
                await WriteJsonAsync(context, 500, new StatusException(500, "InternalError", $"Internal error occurred: {e.Message}").ToStatus()).ConfigureAwait(false);
            }
        }
    }

    private async Task<bool> FailForOutageAsync(HttpContext context)
    {
        switch (outage.Mode)
        {
            case ApiOutage.ServiceUnavailable:
                await WriteJsonAsync(context, 503,
                    new StatusException(503, "ServiceUnavailable", "the server is currently unable to handle the request").ToStatus()).ConfigureAwait(false);
                return true;
            case ApiOutage.ConnectionReset:
                context.Abort();
                return true;
            case ApiOutage.Silent:
                // Never answered, even once the outage ends: the client has to give up, as with a dead peer.
                using (var hang = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping))
                {
                    try
                    {
                        await Task.Delay(Timeout.Infinite, hang.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }

                context.Abort();
                return true;
            default:
                return false;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Error, Message = "{Method} {Path} failed")]
    private static partial void LogInternalError(ILogger logger, string method, string path, Exception exception);

    private async Task RouteAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = context.Request.Method;
        if (segments.Length == 0)
        {
            await WriteJsonAsync(context, 200, new JsonObject
            {
                ["paths"] = new JsonArray("/api", "/api/v1", "/apis", "/healthz", "/livez", "/openapi/v2", "/openapi/v3", "/readyz", "/version"),
            }).ConfigureAwait(false);
            return;
        }

        switch (segments[0])
        {
            case "healthz" or "livez" or "readyz" when segments.Length == 1:
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("ok", context.RequestAborted).ConfigureAwait(false);
                return;
            case "version" when segments.Length == 1:
                await WriteJsonAsync(context, 200, DiscoveryDocuments.Version()).ConfigureAwait(false);
                return;
            case "openapi":
                await openApi.HandleAsync(context, segments.AsMemory(1)).ConfigureAwait(false);
                return;
            case "api":
                if (segments.Length == 1)
                {
                    await WriteDiscoveryAsync(context, () => DiscoveryDocuments.CoreVersions(serverAddress()), core: true).ConfigureAwait(false);
                    return;
                }

                if (segments[1] != "v1")
                {
                    throw ApiErrors.NotFoundPath();
                }

                if (segments.Length == 2)
                {
                    await WriteJsonAsync(context, 200, discovery.ResourceList("", "v1")!).ConfigureAwait(false);
                    return;
                }

                await HandleResourceAsync(context, method, ResourceRequest.Parse(catalog, "", "v1", segments.AsSpan(2))).ConfigureAwait(false);
                return;
            case "apis":
                if (segments.Length == 1)
                {
                    await WriteDiscoveryAsync(context, discovery.GroupList, core: false).ConfigureAwait(false);
                    return;
                }

                if (segments.Length == 2)
                {
                    await WriteJsonAsync(context, 200, discovery.Group(segments[1]) ?? throw ApiErrors.NotFoundPath()).ConfigureAwait(false);
                    return;
                }

                if (segments.Length == 3)
                {
                    await WriteJsonAsync(context, 200, discovery.ResourceList(segments[1], segments[2]) ?? throw ApiErrors.NotFoundPath()).ConfigureAwait(false);
                    return;
                }

                await HandleResourceAsync(context, method, ResourceRequest.Parse(catalog, segments[1], segments[2], segments.AsSpan(3))).ConfigureAwait(false);
                return;
            default:
                throw ApiErrors.NotFoundPath();
        }
    }

    private async Task WriteDiscoveryAsync(HttpContext context, Func<JsonObject> legacy, bool core)
    {
        var accept = context.Request.Headers.Accept.ToString();
        if (accept.Contains("as=APIGroupDiscoveryList", StringComparison.Ordinal) && accept.Contains("v=v2;", StringComparison.Ordinal) ||
            accept.Contains("as=APIGroupDiscoveryList", StringComparison.Ordinal) && accept.Contains("v=v2,", StringComparison.Ordinal))
        {
            await WriteJsonAsync(context, 200, discovery.Aggregated(core), "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
                .ConfigureAwait(false);
            return;
        }

        await WriteJsonAsync(context, 200, legacy()).ConfigureAwait(false);
    }

    private async Task HandleResourceAsync(HttpContext context, string method, ResourceRequest request)
    {
        var query = context.Request.Query;
        var kind = request.Kind;
        switch (method)
        {
            case "GET" when request.Name is null:
                if (IsTrue(query["watch"]))
                {
                    await watches.StreamAsync(context, request, WantsTable(context), context.RequestAborted).ConfigureAwait(false);
                }
                else
                {
                    await ListAsync(context, request).ConfigureAwait(false);
                }

                return;
            case "GET" or "PATCH" when request.Subresource == "finalize":
                // namespaces/finalize only updates (pkg/registry/core/namespace/storage FinalizeREST).
                throw ApiErrors.MethodNotAllowed();
            case "GET":
                if (IsTrue(query["watch"]))
                {
                    // Deprecated single-object watch: same as a collection watch filtered on metadata.name.
                    await watches.StreamAsync(context, request, WantsTable(context), context.RequestAborted).ConfigureAwait(false);
                    return;
                }

                var obj = operations.Get(kind, request.NamespaceOrEmpty, request.Name);
                if (WantsTable(context))
                {
                    await WriteJsonAsync(context, 200, tables.Convert(kind, [obj], obj.ResourceVersion, null, IncludeObjectParam(query), true))
                        .ConfigureAwait(false);
                }
                else
                {
                    await WriteObjectAsync(context, 200, kind, obj, []).ConfigureAwait(false);
                }

                return;
            case "POST" when request.Name is null && request.Subresource is null:
                if (kind.Namespaced && request.Namespace is null)
                {
                    throw ApiErrors.MethodNotAllowed();
                }

                var created = operations.Create(kind, request.NamespaceOrEmpty, await ReadObjectAsync(context).ConfigureAwait(false), WriteOptionsFrom(query));
                await WriteResultAsync(context, kind, created).ConfigureAwait(false);
                return;
            case "PUT" when request.Name is not null:
                var updated = operations.Update(kind, request.NamespaceOrEmpty, request.Name, await ReadObjectAsync(context).ConfigureAwait(false),
                    request.Subresource, WriteOptionsFrom(query));
                await WriteResultAsync(context, kind, updated).ConfigureAwait(false);
                return;
            case "PATCH" when request.Name is not null:
                var patched = operations.Patch(kind, request.NamespaceOrEmpty, request.Name, context.Request.ContentType ?? "",
                    await ReadBodyAsync(context).ConfigureAwait(false), request.Subresource, WriteOptionsFrom(query));
                await WriteResultAsync(context, kind, patched).ConfigureAwait(false);
                return;
            case "DELETE" when request.Name is not null && request.Subresource is null:
                var (deleteRequest, options) = await ReadDeleteOptionsAsync(context).ConfigureAwait(false);
                var deleted = operations.Delete(kind, request.NamespaceOrEmpty, request.Name, deleteRequest, options);
                await WriteResultAsync(context, kind, deleted).ConfigureAwait(false);
                return;
            case "DELETE" when request.Name is null:
                await DeleteCollectionAsync(context, request).ConfigureAwait(false);
                return;
            default:
                throw ApiErrors.MethodNotAllowed();
        }
    }

    private async Task ListAsync(HttpContext context, ResourceRequest request)
    {
        var query = context.Request.Query;
        var kind = request.Kind;
        var filter = Filters.Build(kind, query["labelSelector"], query["fieldSelector"]);
        var limit = 0;
        if (query["limit"].ToString() is { Length: > 0 } limitText &&
            (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 0))
        {
            throw ApiErrors.BadRequest($"limit: Invalid value: {JsonTree.Quote(limitText)}: must be a non-negative integer");
        }

        ContinueToken? token = null;
        if (query["continue"].ToString() is { Length: > 0 } cont)
        {
            if (query["resourceVersion"].ToString() is { Length: > 0 } and not "0")
            {
                throw ApiErrors.BadRequest("specifying resource version is not allowed when using continue");
            }

            token = ContinueToken.Decode(cont);
        }

        var rvText = query["resourceVersion"].ToString();
        long? exactRv = null;
        long notOlderThan = 0;
        if (token is null && rvText is { Length: > 0 } and not "0")
        {
            if (!long.TryParse(rvText, NumberStyles.None, CultureInfo.InvariantCulture, out var rv))
            {
                throw ApiErrors.BadRequest($"resourceVersion: Invalid value: {JsonTree.Quote(rvText)}: must be a valid resourceVersion");
            }

            if (query["resourceVersionMatch"].ToString() == "Exact")
            {
                exactRv = rv;
            }
            else
            {
                notOlderThan = rv;
            }
        }

        ListPage page;
        var store = operations.Store;
        lock (store.Gate)
        {
            var wanted = exactRv ?? notOlderThan;
            if (wanted > store.CurrentResourceVersion)
            {
                // The real server waits up to 3 s for its cache to catch up first; ours is never behind.
                throw new StatusException(504, "Timeout", $"Too large resource version: {wanted}, current: {store.CurrentResourceVersion}",
                    new JsonObject
                    {
                        ["causes"] = new JsonArray(new JsonObject { ["reason"] = "ResourceVersionTooLarge", ["message"] = "Too large resource version" }),
                        ["retryAfterSeconds"] = 1,
                    });
            }

            if (exactRv is { } exact)
            {
                if (!store.CanServeFrom(exact))
                {
                    throw ApiErrors.Expired($"too old resource version: {exact} ({store.CompactedResourceVersion})");
                }

                // A list at an exact past resourceVersion is the same snapshot a continue token would give.
                token = new ContinueToken(exact, "");
            }

            if (token is { } t && !store.CanServeFrom(t.ResourceVersion))
            {
                throw ApiErrors.Expired(
                    "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.");
            }

            page = store.List(kind.StorageKey, request.Namespace, filter.IsEmpty ? null : filter.Matches, limit, token);
        }

        if (WantsTable(context))
        {
            await WriteJsonAsync(context, 200, tables.Convert(kind, page.Items, page.ResourceVersion, page.Continue, IncludeObjectParam(query), true))
                .ConfigureAwait(false);
            return;
        }

        await WriteListAsync(context, kind, page).ConfigureAwait(false);
    }

    private async Task DeleteCollectionAsync(HttpContext context, ResourceRequest request)
    {
        var query = context.Request.Query;
        var kind = request.Kind;
        var filter = Filters.Build(kind, query["labelSelector"], query["fieldSelector"]);
        var (collectionRequest, options) = await ReadDeleteOptionsAsync(context).ConfigureAwait(false);
        var each = collectionRequest with { Uid = null, ResourceVersion = null };
        var store = operations.Store;
        List<StoredObject> deleted = [];
        lock (store.Gate)
        {
            foreach (var obj in store.Snapshot(kind.StorageKey, request.Namespace))
            {
                if (filter.IsEmpty || filter.Matches(obj))
                {
                    var result = operations.Delete(kind, obj.Namespace, obj.Name, each, options);
                    deleted.Add(result.Object ?? obj);
                }
            }
        }

        await WriteListAsync(context, kind, new ListPage(deleted, store.CurrentResourceVersion, null, null)).ConfigureAwait(false);
    }

    // metav1.DeleteOptions from the body and/or the query, checked like ValidateDeleteOptions.
    private static async Task<(DeleteRequest, WriteOptions)> ReadDeleteOptionsAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var query = context.Request.Query;
        var options = WriteOptionsFrom(query);
        string? uid = null;
        string? rv = null;
        var policy = query["propagationPolicy"].ToString() is { Length: > 0 } p ? p : null;
        bool? orphan = query["orphanDependents"].ToString() switch
        {
            "true" => true,
            "false" => false,
            _ => null,
        };
        if (body.Length > 0 && body.Any(b => !char.IsWhiteSpace((char)b)))
        {
            var obj = JsonTree.ParseObject(body);
            var pre = JsonTree.Obj(obj, "preconditions");
            uid = JsonTree.Str(pre, "uid");
            rv = JsonTree.Str(pre, "resourceVersion");
            if (obj["dryRun"] is JsonArray dry && dry.Any(d => JsonTree.AsString(d) == "All"))
            {
                options = options with { DryRun = true };
            }

            policy = JsonTree.Str(obj, "propagationPolicy") ?? policy;
            orphan = JsonTree.AsBool(obj["orphanDependents"]) ?? orphan;
        }

        var errors = new List<FieldError>();
        DeletionPropagation? propagation = null;
        if (orphan is not null && policy is not null)
        {
            errors.Add(FieldError.Invalid("propagationPolicy", policy, "orphanDependents and deletionPropagation cannot be both set"));
        }

        if (policy is not null)
        {
            propagation = policy switch
            {
                "Orphan" => DeletionPropagation.Orphan,
                "Background" => DeletionPropagation.Background,
                "Foreground" => DeletionPropagation.Foreground,
                _ => null,
            };
            if (propagation is null)
            {
                errors.Add(FieldError.NotSupported("propagationPolicy", policy, ["Foreground", "Background", "Orphan", "nil"]));
            }
        }
        else if (orphan is { } o)
        {
            propagation = o ? DeletionPropagation.Orphan : DeletionPropagation.Background;
        }

        if (errors.Count > 0)
        {
            throw ApiErrors.Invalid("meta.k8s.io", "DeleteOptions", "", errors);
        }

        return (new DeleteRequest(uid, rv, propagation, orphan), options);
    }

    private static WriteOptions WriteOptionsFrom(IQueryCollection query)
    {
        var dryRun = false;
        foreach (var d in query["dryRun"])
        {
            if (d != "All")
            {
                throw ApiErrors.BadRequest($"Invalid dry run value: {d}; supported values: All");
            }

            dryRun = true;
        }

        var validation = query["fieldValidation"].ToString() switch
        {
            "" or "Warn" => FieldValidation.Warn,
            "Strict" => FieldValidation.Strict,
            "Ignore" => FieldValidation.Ignore,
            var other => throw ApiErrors.BadRequest($"fieldValidation: Invalid value: {JsonTree.Quote(other)}: fieldValidation must be one of \"Ignore\", \"Strict\", \"Warn\""),
        };
        return new WriteOptions(dryRun, validation);
    }

    private static async Task<JsonObject> ReadObjectAsync(HttpContext context)
    {
        var body = await ReadBodyAsync(context).ConfigureAwait(false);
        var contentType = (context.Request.ContentType ?? "application/json").Split(';')[0].Trim().ToLowerInvariant();
        if (contentType is "application/yaml" or "application/x-yaml" or "text/yaml")
        {
            try
            {
                return YamlJson.ParseDocuments(Encoding.UTF8.GetString(body)).FirstOrDefault() as JsonObject
                       ?? throw ApiErrors.BadRequest("the body must be a single YAML object");
            }
            catch (FormatException e)
            {
                throw ApiErrors.BadRequest(e.Message);
            }
        }

        if (contentType is not ("application/json" or "*/*" or ""))
        {
            throw new StatusException(415, "UnsupportedMediaType", $"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml");
        }

        try
        {
            return JsonTree.ParseObject(body);
        }
        catch (JsonException e)
        {
            throw ApiErrors.BadRequest($"couldn't get version/kind; json parse error: {e.Message}");
        }
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext context)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16384];
        int read;
        while ((read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted).ConfigureAwait(false)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                throw new StatusException(413, "RequestEntityTooLarge", $"Request entity too large: limit is {MaxBodyBytes}");
            }
        }

        return buffer.ToArray();
    }

    private async Task WriteResultAsync(HttpContext context, ResourceKind kind, WriteResult result)
    {
        if (result.Response is not null)
        {
            AddWarnings(context, result.Warnings);
            await WriteJsonAsync(context, result.StatusCode, result.Response).ConfigureAwait(false);
            return;
        }

        if (WantsTable(context))
        {
            AddWarnings(context, result.Warnings);
            await WriteJsonAsync(context, result.StatusCode,
                tables.Convert(kind, [result.Object!], result.Object!.ResourceVersion, null, IncludeObjectParam(context.Request.Query), true)).ConfigureAwait(false);
            return;
        }

        await WriteObjectAsync(context, result.StatusCode, kind, result.Object!, result.Warnings).ConfigureAwait(false);
    }

    private static void AddWarnings(HttpContext context, IReadOnlyList<string> warnings)
    {
        foreach (var w in warnings)
        {
            context.Response.Headers.Append("Warning", "299 - " + JsonTree.Quote(w));
        }
    }

    private static async Task WriteObjectAsync(HttpContext context, int status, ResourceKind kind, StoredObject obj, IReadOnlyList<string> warnings)
    {
        AddWarnings(context, warnings);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        var bytes = Served(kind, obj);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The object as served at the requested version (custom resources convert with strategy None).</summary>
    public static ReadOnlyMemory<byte> Served(ResourceKind kind, StoredObject obj)
    {
        if (kind.StorageApiVersion == kind.ApiVersion)
        {
            return obj.Json;
        }

        return JsonTree.Serialize(kind.ToServed(obj.Object));
    }

    private static async Task WriteListAsync(HttpContext context, ResourceKind kind, ListPage page)
    {
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        var writer = context.Response.BodyWriter;
        Write(writer, "{\"apiVersion\":" + JsonTree.Quote(kind.ApiVersion) + ",\"items\":[");
        var converted = kind.StorageApiVersion != kind.ApiVersion;
        for (var i = 0; i < page.Items.Count; i++)
        {
            if (i > 0)
            {
                Write(writer, ",");
            }

            var item = page.Items[i];
            if (converted && !kind.IsCustom)
            {
                // Built-in list items carry no apiVersion/kind, converted ones included.
                var served = kind.ToServed(item.Object);
                served.Remove("apiVersion");
                served.Remove("kind");
                writer.Write(JsonTree.Serialize(served));
            }
            else if (converted)
            {
                writer.Write(Served(kind, item).Span);
            }
            else if (!kind.IsCustom)
            {
                // Built-in list items carry no apiVersion/kind, as on the real server.
                var body = item.JsonWithoutTypeMeta(out var needsBrace);
                if (needsBrace)
                {
                    Write(writer, "{");
                }

                writer.Write(body.Span);
            }
            else
            {
                writer.Write(item.Json);
            }

            if (writer.UnflushedBytes > 64 * 1024)
            {
                await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
            }
        }

        var meta = new JsonObject();
        if (page.Continue is not null)
        {
            meta["continue"] = page.Continue;
        }

        if (page.RemainingItemCount is { } remaining)
        {
            meta["remainingItemCount"] = remaining;
        }

        meta["resourceVersion"] = page.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        Write(writer, "],\"kind\":" + JsonTree.Quote(kind.EffectiveListKind) + ",\"metadata\":" + JsonTree.ToJsonString(meta) + "}");
        await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static void Write(PipeWriter writer, string text) => writer.Write(Encoding.UTF8.GetBytes(text));

    public static async Task WriteJsonAsync(HttpContext context, int status, JsonNode body, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        var bytes = JsonTree.Serialize(body);
        context.Response.ContentLength = bytes.Length;
        await context.Response.Body.WriteAsync(bytes, context.RequestAborted).ConfigureAwait(false);
    }

    public static bool WantsTable(HttpContext context) =>
        context.Request.Headers.Accept.ToString().Contains("as=Table", StringComparison.Ordinal);

    public static IncludeObject IncludeObjectParam(IQueryCollection query) => query["includeObject"].ToString() switch
    {
        "None" => IncludeObject.None,
        "Object" => IncludeObject.Object,
        _ => IncludeObject.Metadata,
    };

    public static bool IsTrue(StringValues value) => value.ToString() is "true" or "1" or "True";
}

using System.Net;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.RateLimiting;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Kubernetes.Client;

/// <summary>
/// <see cref="IKubernetesClient"/> on the official client: its configuration, credentials (exec and auth-provider
/// plugins, client certificates), HTTP pipeline and models, addressed generically through its custom-object
/// operations, which serve the core group too. BareLb adds: the server-certificate host-name check, token files,
/// client-side rate limiting (both as delegating handlers), typed errors from the Status body, per-request timeouts,
/// and per-object decoding, so that one object its model cannot read never fails a whole list or watch.
/// Thread-safe; create one per process and dispose it at shutdown.
/// </summary>
public sealed class KubernetesClient : IKubernetesClient, IDisposable
{
    private readonly k8s.Kubernetes _api;
    private readonly ServerCertificateValidator? _validator;

    public KubernetesClient(ApiConnection connection, IRequestRateLimiter? rateLimiter = null,
        TimeProvider? timeProvider = null, ILogger<KubernetesClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Connection = connection;
        var log = (ILogger?)logger ?? NullLogger.Instance;

        var handlers = new List<DelegatingHandler>();
        if (rateLimiter is not null)
        {
            handlers.Add(new RateLimitingHandler(rateLimiter));
        }
        if (connection.TokenFile is { } tokenFile)
        {
            var tokens = new BearerTokenSource(tokenFile, timeProvider ?? TimeProvider.System)
            {
                RefreshFailed = (path, e) => log.LogWarning(e, "Cannot re-read token file {Path}; still using the previous token", path),
            };
            handlers.Add(new TokenFileAuthenticationHandler(tokens, log));
        }

        var https = connection.Server.Scheme == Uri.UriSchemeHttps;
        if (https && !connection.Package.SkipTlsVerify)
        {
            _validator = new ServerCertificateValidator(connection.CertificateAuthority, connection.ExpectedServerName);
        }
        var validator = _validator;
        var proxy = connection.Proxy;
        var requestTimeout = connection.RequestTimeout;
        var connect = connection.ConnectCallback;
        // The setup hook lives on the (shared) package configuration and runs inside the constructor below.
        lock (connection.Package)
        {
            connection.Package.AddJsonOptions(o =>
            {
                if (!o.Converters.Any(c => c is Rfc3339MicroConverter))
                {
                    o.Converters.Insert(0, new Rfc3339MicroConverter());
                }
            });
            connection.Package.FirstMessageHandlerSetup = handler =>
            {
                handler.ConnectTimeout = requestTimeout;
                handler.AutomaticDecompression = DecompressionMethods.GZip;
                if (connect is not null)
                {
                    handler.ConnectCallback = connect;
                }
                if (proxy is not null)
                {
                    handler.Proxy = new WebProxy(proxy);
                    handler.UseProxy = true;
                }
                if (validator is not null)
                {
                    handler.SslOptions.RemoteCertificateValidationCallback = validator.Validate;
                }
            };
            _api = new k8s.Kubernetes(connection.Package, [.. handlers]);
        }
    }

    public ApiConnection Connection { get; }

    /// <summary>The configuration's namespace, for callers that act "in their own namespace".</summary>
    public string DefaultNamespace => Connection.Namespace;

    public async Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        RequireName(type, name);
        var body = await CallAsync("get", Describe(type, ns, name), t => type.Namespaced
            ? _api.CustomObjects.GetNamespacedCustomObjectWithHttpMessagesAsync<JsonElement>(type.Group, type.Version, RequireNamespace(type, ns), type.Plural, name, cancellationToken: t)
            : _api.CustomObjects.GetClusterCustomObjectWithHttpMessagesAsync<JsonElement>(type.Group, type.Version, type.Plural, name, cancellationToken: t), ct).ConfigureAwait(false);
        return DecodeOrThrow(type, body);
    }

    public async Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        CheckListNamespace(type, ns);
        if (options?.Limit is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Limit, "ListOptions.Limit must not be negative");
        }
        var o = options ?? new ListOptions();
        var body = await CallAsync("list", Describe(type, ns, null), t => ns is not null
            ? _api.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<JsonElement>(type.Group, type.Version, ns, type.Plural,
                continueParameter: o.Continue, fieldSelector: o.FieldSelector, labelSelector: o.LabelSelector, limit: o.Limit,
                resourceVersion: o.ResourceVersion, cancellationToken: t)
            : type.Namespaced
                ? _api.CustomObjects.ListCustomObjectForAllNamespacesWithHttpMessagesAsync<JsonElement>(type.Group, type.Version, type.Plural,
                    continueParameter: o.Continue, fieldSelector: o.FieldSelector, labelSelector: o.LabelSelector, limit: o.Limit,
                    resourceVersion: o.ResourceVersion, cancellationToken: t)
                : _api.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<JsonElement>(type.Group, type.Version, type.Plural,
                    continueParameter: o.Continue, fieldSelector: o.FieldSelector, labelSelector: o.LabelSelector, limit: o.Limit,
                    resourceVersion: o.ResourceVersion, cancellationToken: t), ct).ConfigureAwait(false);

        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"list {type}: the response is not a JSON object");
        }
        var items = new List<T>();
        var unreadable = new List<UnreadableObject>();
        if (body.TryGetProperty("items", out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var element in array.EnumerateArray())
            {
                if (TryDecode(type, element, out var item, out var bad))
                {
                    items.Add(item);
                }
                else
                {
                    unreadable.Add(bad);
                }
            }
        }
        var metadata = body.TryGetProperty("metadata", out var m) && m.ValueKind == JsonValueKind.Object ? m : default;
        return new ResourceList<T>
        {
            Items = items,
            Unreadable = unreadable,
            ResourceVersion = StringOf(metadata, "resourceVersion"),
            Continue = StringOf(metadata, "continue") is { Length: > 0 } c ? c : null,
            RemainingItemCount = metadata.ValueKind == JsonValueKind.Object && metadata.TryGetProperty("remainingItemCount", out var r) && r.TryGetInt64(out var count) ? count : null,
        };
    }

    public async Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(obj);
        StampOutgoing(type, obj);
        var ns = NamespaceOf(type, obj);
        var body = await CallAsync("create", Describe(type, ns, obj.Metadata.Name ?? obj.Metadata.GenerateName), t => type.Namespaced
            ? _api.CustomObjects.CreateNamespacedCustomObjectWithHttpMessagesAsync<JsonElement>(obj, type.Group, type.Version, ns!, type.Plural, cancellationToken: t)
            : _api.CustomObjects.CreateClusterCustomObjectWithHttpMessagesAsync<JsonElement>(obj, type.Group, type.Version, type.Plural, cancellationToken: t), ct).ConfigureAwait(false);
        return DecodeOrThrow(type, body);
    }

    public async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(mergePatch);
        RequireName(type, name);
        // Written out by the node itself: nulls, which delete fields in a merge patch, must survive.
        var patch = new V1Patch(mergePatch.ToJsonString(), V1Patch.PatchType.MergePatch);
        var what = Describe(type, ns, name) + (status ? " (status)" : "");
        var body = await CallAsync("patch", what, t => (type.Namespaced, status) switch
        {
            (true, false) => _api.CustomObjects.PatchNamespacedCustomObjectWithHttpMessagesAsync<JsonElement>(patch, type.Group, type.Version, RequireNamespace(type, ns), type.Plural, name, cancellationToken: t),
            (true, true) => _api.CustomObjects.PatchNamespacedCustomObjectStatusWithHttpMessagesAsync<JsonElement>(patch, type.Group, type.Version, RequireNamespace(type, ns), type.Plural, name, cancellationToken: t),
            (false, false) => _api.CustomObjects.PatchClusterCustomObjectWithHttpMessagesAsync<JsonElement>(patch, type.Group, type.Version, type.Plural, name, cancellationToken: t),
            (false, true) => _api.CustomObjects.PatchClusterCustomObjectStatusWithHttpMessagesAsync<JsonElement>(patch, type.Group, type.Version, type.Plural, name, cancellationToken: t),
        }, ct).ConfigureAwait(false);
        return DecodeOrThrow(type, body);
    }

    public async Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        RequireName(type, name);
        var body = new V1DeleteOptions
        {
            ApiVersion = "v1",
            Kind = "DeleteOptions",
            PropagationPolicy = options?.PropagationPolicy,
            Preconditions = options?.PreconditionUid is not null || options?.PreconditionResourceVersion is not null
                ? new V1Preconditions { ResourceVersion = options.PreconditionResourceVersion, Uid = options.PreconditionUid }
                : null,
        };
        await CallAsync("delete", Describe(type, ns, name), t => type.Namespaced
            ? _api.CustomObjects.DeleteNamespacedCustomObjectWithHttpMessagesAsync<JsonElement>(type.Group, type.Version, RequireNamespace(type, ns), type.Plural, name, body, cancellationToken: t)
            : _api.CustomObjects.DeleteClusterCustomObjectWithHttpMessagesAsync<JsonElement>(type.Group, type.Version, type.Plural, name, body, cancellationToken: t), ct).ConfigureAwait(false);
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options,
        [EnumeratorCancellation] CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        ArgumentNullException.ThrowIfNull(options);
        CheckListNamespace(type, ns);
        var what = Describe(type, ns, null);

        // The package's watch turns ERROR events (410 Expired among them) into calls of onError and goes on; the
        // server closes the stream right after, so the first error is kept and thrown when the stream ends.
        Exception? streamError = null;
        void OnError(Exception e) => streamError ??= e;

        var opened = ns is not null
            ? _api.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<object>(type.Group, type.Version, ns, type.Plural,
                allowWatchBookmarks: options.AllowWatchBookmarks, fieldSelector: options.FieldSelector, labelSelector: options.LabelSelector,
                resourceVersion: options.ResourceVersion, timeoutSeconds: options.TimeoutSeconds, watch: true, cancellationToken: ct)
            : type.Namespaced
                ? _api.CustomObjects.ListCustomObjectForAllNamespacesWithHttpMessagesAsync<object>(type.Group, type.Version, type.Plural,
                    allowWatchBookmarks: options.AllowWatchBookmarks, fieldSelector: options.FieldSelector, labelSelector: options.LabelSelector,
                    resourceVersion: options.ResourceVersion, timeoutSeconds: options.TimeoutSeconds, watch: true, cancellationToken: ct)
                : _api.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<object>(type.Group, type.Version, type.Plural,
                    allowWatchBookmarks: options.AllowWatchBookmarks, fieldSelector: options.FieldSelector, labelSelector: options.LabelSelector,
                    resourceVersion: options.ResourceVersion, timeoutSeconds: options.TimeoutSeconds, watch: true, cancellationToken: ct);

        HttpOperationResponse<object> response;
        try
        {
            response = await opened.ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is EndOfStreamException)
        {
            // The package reads the first line before it returns; a stream that the server ended without any event
            // (its timeoutSeconds ran out on a quiet collection) has no line to read. That is a normal close.
            yield break;
        }
        catch (JsonException json)
        {
            // The first line arrived but is not JSON (a proxy's error page, a cut connection): not a normal close.
            throw new InvalidDataException($"watch {what}: a line of the stream is not valid JSON: {json.Message}", json);
        }
        catch (Exception e) when (Translate(e, "watch", what, ct) is { } translated)
        {
            throw translated;
        }

        using (response)
        {
#pragma warning disable CS0618 // The package marks its response-based watch obsolete in favour of typed watch methods, which custom objects do not have.
            var events = Task.FromResult(response).WatchAsync<JsonElement, object>(OnError, ct);
#pragma warning restore CS0618
            await foreach (var (eventType, element) in events.ConfigureAwait(false))
            {
                if (streamError is not null)
                {
                    break;
                }
                switch (eventType)
                {
                    case WatchEventType.Bookmark:
                        yield return new WatchEvent<T>(WatchEventType.Bookmark, BookmarkOf(type, element));
                        break;
                    case WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted:
                        yield return TryDecode(type, element, out var obj, out var bad)
                            ? new WatchEvent<T>(eventType, obj)
                            : new WatchEvent<T>(eventType, null, bad);
                        break;
                }
            }
        }

        switch (streamError)
        {
            case null:
                yield break;
            case KubernetesException { Status: { } status }:
                throw KubernetesApiException.From((HttpStatusCode)(status.Code ?? 500), status);
            case JsonException json:
                throw new InvalidDataException($"watch {what}: a line of the stream is not valid JSON: {json.Message}", json);
            default:
                throw new IOException($"watch {what}: {streamError.Message}", streamError);
        }
    }

    public void Dispose() => _api.Dispose();

    private async Task<JsonElement> CallAsync(string verb, string what, Func<CancellationToken, Task<HttpOperationResponse<JsonElement>>> call, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Connection.RequestTimeout);
        try
        {
            using var response = await call(timeout.Token).ConfigureAwait(false);
            return response.Body;
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            // Our timeout, or the handler's connect timeout (the same setting), which it reports as a cancellation:
            // either way the caller did not cancel, and must not be told so.
            throw new TimeoutException($"{verb} {what} at {Connection.Server}: no answer within {Connection.RequestTimeout.TotalSeconds:0.#} s", e);
        }
        catch (Exception e) when (Translate(e, verb, what, ct) is { } translated)
        {
            throw translated;
        }
    }

    /// <summary>The package's exceptions as BareLb's: typed API errors, TLS failures with their reason, bad bodies.</summary>
    private Exception? Translate(Exception e, string verb, string what, CancellationToken ct) => e switch
    {
        HttpOperationException http => ApiErrors.From(http, verb, what),
        HttpRequestException { InnerException: AuthenticationException } tls => new HttpRequestException(HttpRequestError.SecureConnectionError,
            $"TLS handshake with {Connection.Server} failed: {_validator?.LastFailure ?? tls.InnerException!.Message} (configuration: {Connection.Source})", tls),
        JsonException json => new InvalidDataException($"{verb} {what}: the response is not valid JSON: {json.Message}", json),
        OperationCanceledException when ct.IsCancellationRequested => null,
        _ => null,
    };

    private T DecodeOrThrow<T>(ResourceType<T> type, JsonElement element) where T : class, IKubernetesObject<V1ObjectMeta> =>
        TryDecode(type, element, out var obj, out var bad)
            ? obj
            : throw new UnreadableObjectException(bad);

    private static bool TryDecode<T>(ResourceType<T> type, JsonElement element, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out T? obj,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out UnreadableObject? unreadable) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        obj = null;
        unreadable = null;
        string error;
        try
        {
            obj = KubernetesJson.Deserialize<T>(element);
            if (obj is not null && obj.Metadata is not null)
            {
                obj.ApiVersion ??= type.ApiVersion;
                obj.Kind ??= type.Kind;
                return true;
            }
            error = "the object has no metadata";
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException or ArgumentException)
        {
            error = e.Message;
        }
        unreadable = new UnreadableObject(StringOf(element, "apiVersion") ?? type.ApiVersion, StringOf(element, "kind") ?? type.Kind,
            MetadataOf(element), $"{type.Kind} cannot be read: {error}");
        return false;
    }

    /// <summary>The metadata of an object whose model failed: the package's model if it can read it, else the identifying strings.</summary>
    private static V1ObjectMeta MetadataOf(JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty("metadata", out var metadata) || metadata.ValueKind != JsonValueKind.Object)
        {
            return new V1ObjectMeta();
        }
        try
        {
            return KubernetesJson.Deserialize<V1ObjectMeta>(metadata) ?? new V1ObjectMeta();
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or OverflowException)
        {
            return new V1ObjectMeta
            {
                Name = StringOf(metadata, "name"),
                NamespaceProperty = StringOf(metadata, "namespace"),
                Uid = StringOf(metadata, "uid"),
                ResourceVersion = StringOf(metadata, "resourceVersion"),
            };
        }
    }

    private static T? BookmarkOf<T>(ResourceType<T> type, JsonElement element) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        // A bookmark is an object of the kind with only metadata.resourceVersion set; the model may still be unable
        // to read it (required fields), so build it from the metadata alone when needed.
        if (TryDecode(type, element, out var obj, out _))
        {
            return obj;
        }
        var shell = Activator.CreateInstance<T>();
        shell.Metadata = MetadataOf(element);
        return shell;
    }

    private static string? StringOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : null;

    private static string Describe<T>(ResourceType<T> type, string? ns, string? name) where T : class, IKubernetesObject<V1ObjectMeta> =>
        (ns, name) switch
        {
            (null, null) => type.ToString(),
            (null, _) => $"{type} {name}",
            (_, null) => $"{type} in {ns}",
            _ => $"{type} {ns}/{name}",
        };

    private static void RequireName<T>(ResourceType<T> type, string name) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"{type}: a name is required", nameof(name));
        }
    }

    private static string RequireNamespace<T>(ResourceType<T> type, string? ns) where T : class, IKubernetesObject<V1ObjectMeta> =>
        string.IsNullOrEmpty(ns) ? throw new ArgumentException($"{type} is namespaced; a namespace is required", nameof(ns)) : ns;

    private static void CheckListNamespace<T>(ResourceType<T> type, string? ns) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (!type.Namespaced && ns is not null)
        {
            throw new ArgumentException($"{type} is cluster-scoped; the namespace must be null, not \"{ns}\"", nameof(ns));
        }
        if (ns is { Length: 0 })
        {
            throw new ArgumentException($"{type}: the namespace must be null (all namespaces) or non-empty", nameof(ns));
        }
    }

    private static string? NamespaceOf<T>(ResourceType<T> type, T obj) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var ns = obj.Metadata?.NamespaceProperty;
        if (type.Namespaced && string.IsNullOrEmpty(ns))
        {
            throw new ArgumentException($"{type} is namespaced; metadata.namespace must be set", nameof(obj));
        }
        if (!type.Namespaced && !string.IsNullOrEmpty(ns))
        {
            throw new ArgumentException($"{type} is cluster-scoped; metadata.namespace must be empty, not \"{ns}\"", nameof(obj));
        }
        return type.Namespaced ? ns : null;
    }

    /// <summary>Sets apiVersion and kind when empty; rejects an object of another kind.</summary>
    private static void StampOutgoing<T>(ResourceType<T> type, T obj) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (!string.IsNullOrEmpty(obj.ApiVersion) && obj.ApiVersion != type.ApiVersion)
        {
            throw new ArgumentException($"{type}: object has apiVersion \"{obj.ApiVersion}\", expected \"{type.ApiVersion}\"", nameof(obj));
        }
        if (!string.IsNullOrEmpty(obj.Kind) && obj.Kind != type.Kind)
        {
            throw new ArgumentException($"{type}: object has kind \"{obj.Kind}\", expected \"{type.Kind}\"", nameof(obj));
        }
        obj.ApiVersion = type.ApiVersion;
        obj.Kind = type.Kind;
        obj.Metadata ??= new V1ObjectMeta();
    }
}

/// <summary>The API returned an object that its model cannot read (see <see cref="UnreadableObject"/>).</summary>
public sealed class UnreadableObjectException(UnreadableObject unreadable)
    : Exception($"{unreadable.Kind} {unreadable.Key}: {unreadable.Error}")
{
    public UnreadableObject Unreadable { get; } = unreadable;
}

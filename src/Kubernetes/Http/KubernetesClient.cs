using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Models;
using BareLb.Kubernetes.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Kubernetes.Http;

/// <summary>
/// <see cref="IKubernetesClient"/> over HTTP/1.1 with System.Text.Json source-generated (de)serialization.
/// Thread-safe; create one per process and dispose it at shutdown.
/// </summary>
public sealed partial class KubernetesClient : IKubernetesClient, IDisposable
{
    /// <summary>A watch line longer than this is treated as a broken stream rather than buffered without bound.</summary>
    private const int MaxWatchLineBytes = 16 * 1024 * 1024;

    private static readonly MediaTypeHeaderValue JsonMediaType = new("application/json");
    private static readonly MediaTypeHeaderValue MergePatchMediaType = new("application/merge-patch+json");
    private static readonly ProductInfoHeaderValue UserAgent =
        new("barelb", typeof(KubernetesClient).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    private readonly HttpClient _http;
    private readonly string _baseAddress;
    private readonly BearerTokenSource? _token;
    private readonly ServerCertificateValidator? _certificateValidator;
    private readonly IRequestRateLimiter? _rateLimiter;
    private readonly ILogger _logger;

    public KubernetesClient(KubernetesClientConfiguration configuration, IRequestRateLimiter? rateLimiter = null,
        TimeProvider? timeProvider = null, ILogger<KubernetesClient>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        Configuration = configuration;
        _rateLimiter = rateLimiter;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _baseAddress = configuration.Server.GetLeftPart(UriPartial.Path).TrimEnd('/');

        if (configuration.BearerTokenFile is { } tokenFile)
        {
            _token = new BearerTokenSource(tokenFile, timeProvider ?? TimeProvider.System)
            {
                RefreshFailed = (path, e) => LogTokenRefreshFailed(path, e),
            };
        }
        else if (!string.IsNullOrEmpty(configuration.BearerToken))
        {
            _token = new BearerTokenSource(configuration.BearerToken);
        }

        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = configuration.RequestTimeout,
            AutomaticDecompression = DecompressionMethods.GZip,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
        };
        if (configuration.ProxyUrl is { } proxy)
        {
            handler.Proxy = new WebProxy(proxy);
            handler.UseProxy = true;
        }
        if (configuration.Server.Scheme == Uri.UriSchemeHttps)
        {
            handler.SslOptions = CreateSslOptions(configuration, out _certificateValidator);
        }
        _http = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public KubernetesClientConfiguration Configuration { get; }

    /// <summary>The configuration's namespace, for callers that act "in their own namespace".</summary>
    public string DefaultNamespace => Configuration.Namespace;

    public async Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct)
        where T : class, IKubernetesObject
    {
        var path = ApiPath.Item(type, ns, name);
        var obj = await SendForObjectAsync(HttpMethod.Get, path, null, null, type.TypeInfo, ct).ConfigureAwait(false);
        return Stamp(type, obj);
    }

    public async Task<KubernetesList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct)
        where T : class, IKubernetesObject
    {
        if (options?.Limit is < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Limit, "ListOptions.Limit must not be negative");
        }
        var path = new QueryBuilder(ApiPath.Collection(type, ns))
            .Add("labelSelector", options?.LabelSelector)
            .Add("fieldSelector", options?.FieldSelector)
            .Add("limit", options?.Limit)
            .Add("continue", options?.Continue)
            .Add("resourceVersion", options?.ResourceVersion)
            .ToString();
        var list = await SendForObjectAsync(HttpMethod.Get, path, null, null, type.ListTypeInfo, ct).ConfigureAwait(false);
        list.Items ??= [];
        // The API server leaves apiVersion and kind off list items; set them so items look like what Get returns.
        foreach (var item in list.Items)
        {
            Stamp(type, item);
        }
        return list;
    }

    public async Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject
    {
        ArgumentNullException.ThrowIfNull(obj);
        StampOutgoing(type, obj);
        var path = ApiPath.Collection(type, NamespaceOf(type, obj));
        var body = JsonSerializer.SerializeToUtf8Bytes(obj, type.TypeInfo);
        return Stamp(type, await SendForObjectAsync(HttpMethod.Post, path, body, JsonMediaType, type.TypeInfo, ct).ConfigureAwait(false));
    }

    public Task<T> UpdateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject =>
        PutAsync(type, obj, subresource: null, ct);

    public Task<T> UpdateStatusAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject =>
        PutAsync(type, obj, subresource: "status", ct);

    public async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
        where T : class, IKubernetesObject
    {
        ArgumentNullException.ThrowIfNull(mergePatch);
        var path = ApiPath.Item(type, ns, name, status ? "status" : null);
        // Written by the node itself: nulls (which delete fields in a merge patch) must survive.
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            mergePatch.WriteTo(writer);
        }
        var result = await SendForObjectAsync(HttpMethod.Patch, path, buffer.WrittenSpan.ToArray(), MergePatchMediaType, type.TypeInfo, ct)
            .ConfigureAwait(false);
        return Stamp(type, result);
    }

    public async Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct)
        where T : class, IKubernetesObject
    {
        var path = ApiPath.Item(type, ns, name);
        using var timeout = StartTimeout(ct);
        try
        {
            using var response = await SendAsync(HttpMethod.Delete, path, DeleteOptionsBody(options), JsonMediaType,
                HttpCompletionOption.ResponseContentRead, ct, timeout.Token).ConfigureAwait(false);
            await EnsureSuccessAsync(HttpMethod.Delete, path, response, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException e) when (IsTimeout(timeout, ct))
        {
            throw TimeoutError(HttpMethod.Delete, path, e);
        }
    }

    public async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options,
        [EnumeratorCancellation] CancellationToken ct) where T : class, IKubernetesObject
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = new QueryBuilder(ApiPath.Collection(type, ns))
            .Add("watch", "true")
            .Add("resourceVersion", options.ResourceVersion)
            .Add("labelSelector", options.LabelSelector)
            .Add("fieldSelector", options.FieldSelector)
            .Add("allowWatchBookmarks", options.AllowWatchBookmarks ? "true" : null)
            .Add("timeoutSeconds", options.TimeoutSeconds)
            .ToString();

        HttpResponseMessage response;
        // The request timeout bounds only the wait for response headers; the stream itself lasts as long as the server keeps it.
        using (var timeout = StartTimeout(ct))
        {
            try
            {
                response = await SendAsync(HttpMethod.Get, path, null, null, HttpCompletionOption.ResponseHeadersRead, ct, timeout.Token)
                    .ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    using (response)
                    {
                        throw await ReadErrorAsync(HttpMethod.Get, path, response, timeout.Token).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException e) when (IsTimeout(timeout, ct))
            {
                throw TimeoutError(HttpMethod.Get, path, e);
            }
        }

        using (response)
        {
            var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
            var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: false));
            try
            {
                while (true)
                {
                    var result = await reader.ReadAsync(ct).ConfigureAwait(false);
                    var buffer = result.Buffer;
                    while (TryReadLine(ref buffer, out var line))
                    {
                        if (!IsBlank(line))
                        {
                            yield return Stamp(type, WatchEventParser.Parse(line, type));
                        }
                    }
                    if (result.IsCompleted)
                    {
                        // The server may close without a final newline.
                        if (!IsBlank(buffer))
                        {
                            yield return Stamp(type, WatchEventParser.Parse(buffer, type));
                        }
                        yield break;
                    }
                    if (buffer.Length > MaxWatchLineBytes)
                    {
                        throw new InvalidDataException($"watch {type}: an event line exceeded {MaxWatchLineBytes} bytes");
                    }
                    reader.AdvanceTo(buffer.Start, buffer.End);
                }
            }
            finally
            {
                await reader.CompleteAsync().ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    private async Task<T> PutAsync<T>(ResourceType<T> type, T obj, string? subresource, CancellationToken ct)
        where T : class, IKubernetesObject
    {
        ArgumentNullException.ThrowIfNull(obj);
        StampOutgoing(type, obj);
        var path = ApiPath.Item(type, NamespaceOf(type, obj), obj.Metadata.Name, subresource);
        var body = JsonSerializer.SerializeToUtf8Bytes(obj, type.TypeInfo);
        return Stamp(type, await SendForObjectAsync(HttpMethod.Put, path, body, JsonMediaType, type.TypeInfo, ct).ConfigureAwait(false));
    }

    private async Task<TResult> SendForObjectAsync<TResult>(HttpMethod method, string path, byte[]? body,
        MediaTypeHeaderValue? contentType, JsonTypeInfo<TResult> typeInfo, CancellationToken ct)
    {
        using var timeout = StartTimeout(ct);
        try
        {
            using var response = await SendAsync(method, path, body, contentType, HttpCompletionOption.ResponseContentRead, ct, timeout.Token)
                .ConfigureAwait(false);
            await EnsureSuccessAsync(method, path, response, timeout.Token).ConfigureAwait(false);
            var stream = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
            try
            {
                return await JsonSerializer.DeserializeAsync(stream, typeInfo, timeout.Token).ConfigureAwait(false)
                    ?? throw new InvalidDataException($"{method} {path}: the response body is null");
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{method} {path}: the response is not a valid {typeof(TResult).Name}: {e.Message}", e);
            }
        }
        catch (OperationCanceledException e) when (IsTimeout(timeout, ct))
        {
            throw TimeoutError(method, path, e);
        }
    }

    /// <summary>
    /// One request, throttled by the rate limiter, with the current bearer token. A 401 while the token comes
    /// from a file re-reads the file at once and, if it changed, sends the request again once.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, byte[]? body, MediaTypeHeaderValue? contentType,
        HttpCompletionOption completion, CancellationToken callerToken, CancellationToken requestToken)
    {
        var retried = false;
        while (true)
        {
            if (_rateLimiter is not null)
            {
                await _rateLimiter.WaitAsync(callerToken).ConfigureAwait(false);
            }

            var token = _token?.GetToken();
            using var request = new HttpRequestMessage(method, _baseAddress + path);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.UserAgent.Add(UserAgent);
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.ContentType = contentType;
            }

            HttpResponseMessage response;
            try
            {
                response = await _http.SendAsync(request, completion, requestToken).ConfigureAwait(false);
            }
            catch (HttpRequestException e) when (e.InnerException is AuthenticationException)
            {
                var reason = _certificateValidator?.LastFailure ?? e.InnerException.Message;
                throw new HttpRequestException(HttpRequestError.SecureConnectionError,
                    $"TLS handshake with {Configuration.Server} failed: {reason} (configuration: {Configuration.Source})", e);
            }

            if (response.StatusCode == HttpStatusCode.Unauthorized && !retried && token is not null && _token!.IsFile)
            {
                retried = true;
                if (_token.RefreshAfterUnauthorized(token))
                {
                    LogRetryWithRotatedToken(method.Method, path);
                    response.Dispose();
                    continue;
                }
            }
            return response;
        }
    }

    private static async Task EnsureSuccessAsync(HttpMethod method, string path, HttpResponseMessage response, CancellationToken ct)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw await ReadErrorAsync(method, path, response, ct).ConfigureAwait(false);
        }
    }

    /// <summary>The API's Status body when there is one; otherwise a Status made up from the HTTP answer.</summary>
    private static async Task<KubernetesApiException> ReadErrorAsync(HttpMethod method, string path, HttpResponseMessage response, CancellationToken ct)
    {
        var code = response.StatusCode;
        var body = await response.Content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
        Status? status = null;
        try
        {
            status = body.Length > 0 ? JsonSerializer.Deserialize(body, KubernetesJsonContext.Default.Status) : null;
        }
        catch (JsonException)
        {
            // Not JSON: a proxy or load balancer answered. Synthesized below.
        }
        if (status is not { Kind: "Status" })
        {
            var text = Encoding.UTF8.GetString(body, 0, Math.Min(body.Length, 512)).Trim();
            status = new Status
            {
                ApiVersion = "v1",
                Kind = "Status",
                StatusValue = "Failure",
                Code = (int)code,
                Reason = StatusReasons.ForCode(code),
                Message = $"{method} {path}: {(int)code} {response.ReasonPhrase}" + (text.Length > 0 ? $": {text}" : ""),
            };
        }
        return KubernetesApiException.From(code, status);
    }

    private static byte[] DeleteOptionsBody(DeleteOptions? options)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("kind"u8, "DeleteOptions");
            writer.WriteString("apiVersion"u8, "v1");
            if (options?.PreconditionUid is not null || options?.PreconditionResourceVersion is not null)
            {
                writer.WriteStartObject("preconditions"u8);
                if (options.PreconditionUid is { } uid) writer.WriteString("uid"u8, uid);
                if (options.PreconditionResourceVersion is { } rv) writer.WriteString("resourceVersion"u8, rv);
                writer.WriteEndObject();
            }
            if (options?.PropagationPolicy is { } policy)
            {
                writer.WriteString("propagationPolicy"u8, policy);
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static string? NamespaceOf<T>(ResourceType<T> type, T obj) where T : class, IKubernetesObject
    {
        var ns = obj.Metadata.Namespace;
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
    private static void StampOutgoing<T>(ResourceType<T> type, T obj) where T : class, IKubernetesObject
    {
        if (!string.IsNullOrEmpty(obj.ApiVersion) && obj.ApiVersion != type.ApiVersion)
        {
            throw new ArgumentException($"{type}: object has apiVersion \"{obj.ApiVersion}\", expected \"{type.ApiVersion}\"", nameof(obj));
        }
        if (!string.IsNullOrEmpty(obj.Kind) && obj.Kind != type.Kind)
        {
            throw new ArgumentException($"{type}: object has kind \"{obj.Kind}\", expected \"{type.Kind}\"", nameof(obj));
        }
        Stamp(type, obj);
    }

    /// <summary>Fills in apiVersion and kind where the server left them off (list items).</summary>
    private static T Stamp<T>(ResourceType<T> type, T obj) where T : class, IKubernetesObject
    {
        if (string.IsNullOrEmpty(obj.ApiVersion))
        {
            obj.ApiVersion = type.ApiVersion;
        }
        if (string.IsNullOrEmpty(obj.Kind))
        {
            obj.Kind = type.Kind;
        }
        return obj;
    }

    private static WatchEvent<T> Stamp<T>(ResourceType<T> type, WatchEvent<T> e) where T : class, IKubernetesObject
    {
        Stamp(type, e.Object);
        return e;
    }

    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        var position = buffer.PositionOf((byte)'\n');
        if (position is null)
        {
            line = default;
            return false;
        }
        line = buffer.Slice(0, position.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, position.Value));
        return true;
    }

    private static bool IsBlank(ReadOnlySequence<byte> line)
    {
        foreach (var segment in line)
        {
            if (segment.Span.IndexOfAnyExcept(" \t\r\n"u8) >= 0)
            {
                return false;
            }
        }
        return true;
    }

    private CancellationTokenSource StartTimeout(CancellationToken ct)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(Configuration.RequestTimeout);
        return cts;
    }

    private static bool IsTimeout(CancellationTokenSource timeout, CancellationToken ct) =>
        timeout.IsCancellationRequested && !ct.IsCancellationRequested;

    private TimeoutException TimeoutError(HttpMethod method, string path, Exception inner) =>
        new($"{method} {_baseAddress}{path}: no answer within {Configuration.RequestTimeout.TotalSeconds:0.#} s", inner);

    private static SslClientAuthenticationOptions CreateSslOptions(KubernetesClientConfiguration configuration,
        out ServerCertificateValidator? validator)
    {
        var options = new SslClientAuthenticationOptions();
        if (configuration.InsecureSkipTlsVerify)
        {
            validator = null;
            options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
        }
        else
        {
            var server = configuration.Server;
            var expectedName = configuration.TlsServerName
                ?? (server.HostNameType == UriHostNameType.IPv6 ? server.Host.Trim('[', ']') : server.IdnHost);
            validator = new ServerCertificateValidator(configuration.CertificateAuthority, expectedName);
            options.RemoteCertificateValidationCallback = validator.Validate;
        }
        if (configuration.ClientCertificate is { } certificate)
        {
            options.ClientCertificateContext = SslStreamCertificateContext.Create(certificate,
                configuration.ClientCertificateChain, offline: true);
        }
        return options;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "{Method} {Path} was refused with 401; the token file changed, retrying with the new token")]
    private partial void LogRetryWithRotatedToken(string method, string path);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "Cannot re-read token file {Path}; still using the previous token")]
    private partial void LogTokenRefreshFailed(string path, Exception exception);
}

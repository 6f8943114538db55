using System.Security.Cryptography.X509Certificates;
using k8s;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// How to reach the API server: the official client's configuration (server, credentials including exec and
/// auth-provider plugins, client certificates) plus what BareLb adds on top of it, because the package does not do
/// it: a server-certificate check that includes the host name when a CA is configured, a token file re-read as the
/// kubelet rotates it (and at once after a 401), the kubeconfig's <c>proxy-url</c>, and a per-request timeout.
/// </summary>
public sealed record ApiConnection
{
    public const string DefaultNamespace = "default";

    internal ApiConnection(KubernetesClientConfiguration package, string source)
    {
        Package = package;
        Source = source;
        Server = new Uri(package.Host, UriKind.Absolute);
    }

    /// <summary>
    /// The package's configuration, already stripped of the CA and token-file settings that BareLb handles itself
    /// (<see cref="CertificateAuthority"/>, <see cref="TokenFile"/>), so that the package does not half-handle them.
    /// </summary>
    public KubernetesClientConfiguration Package { get; private init; }

    public Uri Server { get; }

    /// <summary>The context's namespace (in-cluster: the pod's), "default" when none is set.</summary>
    public string Namespace => string.IsNullOrEmpty(Package.Namespace) ? DefaultNamespace : Package.Namespace;

    /// <summary>Trust anchors for the server certificate; when set, only these are trusted (not the system store).</summary>
    public X509Certificate2Collection? CertificateAuthority { get; init; }

    /// <summary>The name the server certificate must carry: <c>tls-server-name</c>, else the server URL's host.</summary>
    public string ExpectedServerName => Package.TlsServerName is { Length: > 0 } name
        ? name
        : Server.HostNameType == UriHostNameType.IPv6 ? Server.Host.Trim('[', ']') : Server.IdnHost;

    /// <summary>Bearer token file, re-read at most once a minute and after a 401.</summary>
    public string? TokenFile { get; init; }

    /// <summary>HTTP(S) or SOCKS proxy for this cluster (kubeconfig <c>proxy-url</c>); null uses the environment's.</summary>
    public Uri? Proxy { get; init; }

    /// <summary>
    /// Opens the TCP connections instead of the default (<c>SocketsHttpHandler.ConnectCallback</c>), e.g. to reach an
    /// API server inside a network namespace. Null: the default.
    /// </summary>
    public Func<System.Net.Http.SocketsHttpConnectionContext, CancellationToken, ValueTask<Stream>>? ConnectCallback { get; init; }

    /// <summary>Bound on one non-watch request, headers and body. Watches are bounded by their own timeoutSeconds.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where this came from, for error messages ("kubeconfig /root/.kube/config, context kind-a", "in-cluster").</summary>
    public string Source { get; }

    /// <summary>
    /// The standard search: <paramref name="kubeconfigPath"/> when given, else $KUBECONFIG (merged, first wins per
    /// name), else the in-cluster service account when $KUBERNETES_SERVICE_HOST is set, else ~/.kube/config. Never
    /// localhost:8080: when nothing is found the error lists every place that was looked at.
    /// </summary>
    public static ApiConnection Load(string? kubeconfigPath = null, string? context = null) =>
        new ApiConnectionLoader().Load(kubeconfigPath, context);

    public static ApiConnection FromKubeconfig(string path, string? context = null) =>
        new ApiConnectionLoader().LoadKubeconfig([path], context);

    /// <summary>A plain server URL without credentials (tests, and an API server reachable without auth).</summary>
    public static ApiConnection ForServer(Uri server, X509Certificate2Collection? certificateAuthority = null, string? token = null) =>
        new(new KubernetesClientConfiguration { Host = server.ToString(), AccessToken = token }, $"server {server}")
        {
            CertificateAuthority = certificateAuthority,
        };

    /// <summary>The same connection with another static bearer token (null: none).</summary>
    public ApiConnection WithToken(string? token)
    {
        var package = new KubernetesClientConfiguration
        {
            Host = Package.Host,
            Namespace = Package.Namespace,
            SkipTlsVerify = Package.SkipTlsVerify,
            TlsServerName = Package.TlsServerName,
            AccessToken = token,
        };
        return this with { Package = package, TokenFile = null };
    }

    public override string ToString() => $"{Server} ({Source})";
}

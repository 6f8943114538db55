using System.Security.Cryptography.X509Certificates;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// Where the API server is and how to authenticate to it, resolved from a kubeconfig or the in-cluster service
/// account. Certificates and keys are already loaded; a token file stays a path because kubelets rotate it.
/// </summary>
public sealed record KubernetesClientConfiguration
{
    public const string DefaultNamespace = "default";

    /// <summary>Base address, e.g. https://10.96.0.1:443 or https://[2001:db8::1]:6443/prefix.</summary>
    public required Uri Server { get; init; }

    /// <summary>The context's namespace (in-cluster: the pod's), "default" when none is set.</summary>
    public string Namespace { get; init; } = DefaultNamespace;

    /// <summary>
    /// Trust anchors for the server certificate. When set, only these are trusted (not the system store);
    /// when null, the system store is used.
    /// </summary>
    public X509Certificate2Collection? CertificateAuthority { get; init; }

    public bool InsecureSkipTlsVerify { get; init; }

    /// <summary>Name to check the server certificate against instead of the host in <see cref="Server"/>.</summary>
    public string? TlsServerName { get; init; }

    /// <summary>Client certificate with its private key; intermediates in <see cref="ClientCertificateChain"/>.</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    public X509Certificate2Collection? ClientCertificateChain { get; init; }

    public string? BearerToken { get; init; }

    /// <summary>Re-read at most once a minute and after a 401; takes precedence over <see cref="BearerToken"/>.</summary>
    public string? BearerTokenFile { get; init; }

    /// <summary>HTTP(S) or SOCKS proxy for this cluster; null uses the environment's proxy settings.</summary>
    public Uri? ProxyUrl { get; init; }

    /// <summary>Bound on one non-watch request, headers and body. Watches are bounded by their own timeoutSeconds.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Where this came from, for error messages ("kubeconfig /root/.kube/config, context kind-a", "in-cluster").</summary>
    public string Source { get; init; } = "explicit configuration";

    /// <summary>
    /// The standard search: <paramref name="kubeconfigPath"/> when given, else $KUBECONFIG (merged, first wins per
    /// name), else the in-cluster service account when $KUBERNETES_SERVICE_HOST is set, else ~/.kube/config.
    /// </summary>
    public static KubernetesClientConfiguration Load(string? kubeconfigPath = null, string? context = null) =>
        new KubernetesConfigurationLoader().Load(kubeconfigPath, context);

    public static KubernetesClientConfiguration FromKubeconfig(string path, string? context = null) =>
        new KubernetesConfigurationLoader().LoadKubeconfig([path], context);

    public static KubernetesClientConfiguration InCluster() => new KubernetesConfigurationLoader().LoadInCluster();

    public override string ToString() => $"{Server} ({Source})";
}

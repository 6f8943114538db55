using System.Globalization;
using System.Net;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// Finds the configuration the way controller-runtime does: an explicit --kubeconfig, then $KUBECONFIG, then the
/// in-cluster service account, then ~/.kube/config. The in-cluster account comes before the home file so that a
/// pod never picks up a stray kubeconfig baked into its image. Nothing falls back to localhost:8080: when nothing is
/// found the error lists every place that was looked at.
/// </summary>
public sealed class KubernetesConfigurationLoader
{
    public const string DefaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    private readonly Func<string, string?> _environment;
    private readonly string? _homeDirectory;
    private readonly string _serviceAccountDirectory;

    /// <param name="environment">Environment lookup; the process environment when null.</param>
    /// <param name="homeDirectory">Folder holding .kube/config; $HOME (or the user profile) when null.</param>
    /// <param name="serviceAccountDirectory">Folder with token, ca.crt and namespace; the kubelet's mount point when null.</param>
    public KubernetesConfigurationLoader(Func<string, string?>? environment = null, string? homeDirectory = null,
        string? serviceAccountDirectory = null)
    {
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _homeDirectory = homeDirectory;
        _serviceAccountDirectory = serviceAccountDirectory ?? DefaultServiceAccountDirectory;
    }

    public KubernetesClientConfiguration Load(string? kubeconfigPath, string? context)
    {
        if (!string.IsNullOrEmpty(kubeconfigPath))
        {
            return LoadKubeconfig([kubeconfigPath], context);
        }

        var looked = new List<string> { "--kubeconfig (not given)" };
        var fromEnvironment = _environment("KUBECONFIG");
        if (!string.IsNullOrEmpty(fromEnvironment))
        {
            var listed = fromEnvironment.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var existing = listed.Where(File.Exists).ToArray();
            if (existing.Length > 0)
            {
                return LoadKubeconfig(existing, context);
            }
            looked.Add($"$KUBECONFIG={fromEnvironment} (no listed file exists)");
        }
        else
        {
            looked.Add("$KUBECONFIG (not set)");
        }

        // A named context only means something in a kubeconfig.
        if (context is null && !string.IsNullOrEmpty(_environment("KUBERNETES_SERVICE_HOST")))
        {
            return LoadInCluster();
        }
        looked.Add(context is null
            ? "in-cluster service account ($KUBERNETES_SERVICE_HOST not set)"
            : "in-cluster service account (skipped: a context was named)");

        var home = _homeDirectory ?? _environment("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrEmpty(home))
        {
            var homeConfig = Path.Combine(home, ".kube", "config");
            if (File.Exists(homeConfig))
            {
                return LoadKubeconfig([homeConfig], context);
            }
            looked.Add($"{homeConfig} (does not exist)");
        }
        else
        {
            looked.Add("~/.kube/config (no home directory)");
        }

        throw new KubernetesConfigurationException(
            "no Kubernetes API configuration found; looked at: " + string.Join("; ", looked));
    }

    /// <summary>Loads one kubeconfig, or merges several (first definition of a name wins, as kubectl does).</summary>
    public KubernetesClientConfiguration LoadKubeconfig(IReadOnlyList<string> paths, string? context)
    {
        ArgumentOutOfRangeException.ThrowIfZero(paths.Count);
        foreach (var path in paths)
        {
            if (!File.Exists(path))
            {
                throw new KubernetesConfigurationException($"kubeconfig {path}: file does not exist");
            }
        }
        return KubeconfigResolver.Resolve(Kubeconfig.Load(paths), context);
    }

    /// <summary>Loads a kubeconfig from text; relative file references resolve against <paramref name="sourcePath"/>'s folder.</summary>
    public static KubernetesClientConfiguration ParseKubeconfig(string yaml, string sourcePath, string? context) =>
        KubeconfigResolver.Resolve(Kubeconfig.Parse(sourcePath, yaml), context);

    /// <summary>
    /// The pod's service account: $KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT, and token, ca.crt and
    /// namespace from the service account folder. The token file is kept as a path, re-read as the kubelet rotates it.
    /// </summary>
    public KubernetesClientConfiguration LoadInCluster()
    {
        var host = _environment("KUBERNETES_SERVICE_HOST");
        var port = _environment("KUBERNETES_SERVICE_PORT");
        if (string.IsNullOrEmpty(host) || string.IsNullOrEmpty(port))
        {
            throw new KubernetesConfigurationException(
                "in-cluster configuration: $KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT must both be set " +
                $"(got \"{host}\" and \"{port}\"); is this running in a pod?");
        }
        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var portNumber) || portNumber is < 1 or > 65535)
        {
            throw new KubernetesConfigurationException($"in-cluster configuration: $KUBERNETES_SERVICE_PORT: \"{port}\" is not a port number");
        }
        // An IPv6 literal needs brackets in a URL; a name or IPv4 address does not.
        var authority = IPAddress.TryParse(host, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{host}]"
            : host;
        if (!Uri.TryCreate($"https://{authority}:{portNumber}", UriKind.Absolute, out var server))
        {
            throw new KubernetesConfigurationException($"in-cluster configuration: $KUBERNETES_SERVICE_HOST: \"{host}\" is not a host name or address");
        }

        var tokenPath = Path.Combine(_serviceAccountDirectory, "token");
        var caPath = Path.Combine(_serviceAccountDirectory, "ca.crt");
        var namespacePath = Path.Combine(_serviceAccountDirectory, "namespace");

        var token = ReadServiceAccountFile(tokenPath);
        if (token.Trim().Length == 0)
        {
            throw new KubernetesConfigurationException($"in-cluster configuration: {tokenPath} is empty");
        }
        var ca = PemCredentials.ReadCertificates(ReadServiceAccountFile(caPath), out var error);
        if (error is not null)
        {
            throw new KubernetesConfigurationException($"in-cluster configuration: {caPath}: {error}");
        }

        // POD_NAMESPACE (set through the downward API) wins over the file, as in client-go.
        var ns = _environment("POD_NAMESPACE");
        if (string.IsNullOrEmpty(ns) && File.Exists(namespacePath))
        {
            ns = ReadServiceAccountFile(namespacePath).Trim();
        }

        return new KubernetesClientConfiguration
        {
            Server = server,
            CertificateAuthority = ca,
            BearerTokenFile = tokenPath,
            Namespace = string.IsNullOrEmpty(ns) ? KubernetesClientConfiguration.DefaultNamespace : ns,
            Source = $"in-cluster service account {_serviceAccountDirectory}",
        };
    }

    private static string ReadServiceAccountFile(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KubernetesConfigurationException($"in-cluster configuration: cannot read {path}: {e.Message}", e);
        }
    }
}

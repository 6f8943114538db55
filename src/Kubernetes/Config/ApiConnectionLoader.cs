using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using k8s;
using k8s.Exceptions;
using k8s.KubeConfigModels;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// Finds the configuration the way controller-runtime does: an explicit --kubeconfig, then $KUBECONFIG, then the
/// in-cluster service account, then ~/.kube/config. The in-cluster account comes before the home file so that a
/// pod never picks up a stray kubeconfig baked into its image. Nothing falls back to localhost:8080 (as the
/// package's BuildDefaultConfig does): when nothing is found the error lists every place that was looked at.
/// </summary>
/// <remarks>
/// The official client parses the kubeconfig and resolves users, including exec and auth-provider plugins and
/// client certificates. This class adds what it lacks: the search order above, merging several files with paths
/// relative to the file that defined them, <c>tokenFile</c> users (which it refuses), <c>proxy-url</c>, and the
/// in-cluster account from a configurable folder with a rotating token.
/// </remarks>
public sealed class ApiConnectionLoader
{
    public const string DefaultServiceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    private readonly Func<string, string?> _environment;
    private readonly string? _homeDirectory;
    private readonly string _serviceAccountDirectory;

    /// <param name="environment">Environment lookup; the process environment when null.</param>
    /// <param name="homeDirectory">Folder holding .kube/config; $HOME (or the user profile) when null.</param>
    /// <param name="serviceAccountDirectory">Folder with token, ca.crt and namespace; the kubelet's mount point when null.</param>
    public ApiConnectionLoader(Func<string, string?>? environment = null, string? homeDirectory = null,
        string? serviceAccountDirectory = null)
    {
        _environment = environment ?? Environment.GetEnvironmentVariable;
        _homeDirectory = homeDirectory;
        _serviceAccountDirectory = serviceAccountDirectory ?? DefaultServiceAccountDirectory;
    }

    public ApiConnection Load(string? kubeconfigPath, string? context)
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
    public ApiConnection LoadKubeconfig(IReadOnlyList<string> paths, string? context)
    {
        ArgumentOutOfRangeException.ThrowIfZero(paths.Count);
        var files = paths.Select(p => KubeconfigFile.Read(Path.GetFullPath(p))).ToList();
        var description = files.Count == 1 ? $"kubeconfig {files[0].Path}" : $"kubeconfigs {string.Join(", ", files.Select(f => f.Path))}";

        var merged = new K8SConfiguration
        {
            Clusters = [],
            Users = [],
            Contexts = [],
            CurrentContext = files.Select(f => f.Config.CurrentContext).FirstOrDefault(c => !string.IsNullOrEmpty(c)),
        };
        foreach (var file in files)
        {
            merged.Clusters = [.. merged.Clusters, .. (file.Config.Clusters ?? []).Where(c => merged.Clusters.All(m => m.Name != c.Name))];
            merged.Users = [.. merged.Users, .. (file.Config.Users ?? []).Where(u => merged.Users.All(m => m.Name != u.Name))];
            merged.Contexts = [.. merged.Contexts, .. (file.Config.Contexts ?? []).Where(c => merged.Contexts.All(m => m.Name != c.Name))];
        }

        var name = context ?? merged.CurrentContext;
        if (string.IsNullOrEmpty(name))
        {
            throw new KubernetesConfigurationException($"{description}: current-context is not set and no context was named{Available(merged.Contexts.Select(c => c.Name))}");
        }
        var active = merged.Contexts.FirstOrDefault(c => c.Name == name)
            ?? throw new KubernetesConfigurationException(
                $"{description}: {(context is null ? "current-context" : "the requested context")} \"{name}\" is not defined{Available(merged.Contexts.Select(c => c.Name))}");
        var clusterName = active.ContextDetails?.Cluster;
        if (string.IsNullOrEmpty(clusterName) || merged.Clusters.All(c => c.Name != clusterName))
        {
            throw new KubernetesConfigurationException(
                $"{description}: contexts[{name}].context.cluster: cluster \"{clusterName}\" is not defined{Available(merged.Clusters.Select(c => c.Name))}");
        }

        // What the package does not read: proxy-url on the cluster, tokenFile on the user. Each is read from the file
        // that defined the entry, and relative to it.
        var clusterFile = files.First(f => f.Config.Clusters?.Any(c => c.Name == clusterName) == true);
        var proxy = ReadProxy(clusterFile, clusterName, description);
        string? tokenFile = null;
        var userName = active.ContextDetails?.User;
        if (!string.IsNullOrEmpty(userName) && merged.Users.FirstOrDefault(u => u.Name == userName) is { } user &&
            files.First(f => f.Config.Users?.Any(u => u.Name == userName) == true) is var userFile &&
            userFile.UserString(userName, "tokenFile") is { Length: > 0 } tokenPath)
        {
            tokenFile = Path.GetFullPath(tokenPath, Path.GetDirectoryName(userFile.Path)!);
            // tokenFile wins over token, as in client-go. The package refuses a user with only tokenFile, so it is given
            // the file's current content; BareLb then supplies the token itself, re-reading the file as it rotates.
            user.UserCredentials ??= new UserCredentials();
            user.UserCredentials.Token = BearerTokenSource.ReadRequired(tokenFile, $"kubeconfig {userFile.Path}: users[{userName}].user.tokenFile");
        }
        if (!string.IsNullOrEmpty(userName) && merged.Users.FirstOrDefault(u => u.Name == userName) is { } named && !HasCredentials(named.UserCredentials))
        {
            // "user: {}" (what a server that allows anonymous access writes) means anonymous, as in client-go; the
            // package refuses such a user, so it is not given one.
            active.ContextDetails!.User = null;
        }

        KubernetesClientConfiguration package;
        try
        {
            package = KubernetesClientConfiguration.BuildConfigFromConfigObject(merged, name);
        }
        catch (Exception e) when (e is KubeConfigException or FormatException or IOException or System.Security.Cryptography.CryptographicException
            or UnauthorizedAccessException || e.GetType() == typeof(Exception))
        {
            // The package throws plain Exception for some auth-provider cases; its messages name the problem, not the file.
            throw new KubernetesConfigurationException($"{description}, context {name}: {e.Message}", e);
        }

        if (package.SkipTlsVerify && package.SslCaCerts is { Count: > 0 })
        {
            throw new KubernetesConfigurationException(
                $"{description}: clusters[{clusterName}].cluster.insecure-skip-tls-verify: cannot be true while certificate-authority or certificate-authority-data is set");
        }
        return Finish(package, $"{description}, context {name}", proxy, tokenFile);
    }

    /// <summary>
    /// The pod's service account: $KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT, and token, ca.crt and
    /// namespace from the service account folder. The token file is kept as a path, re-read as the kubelet rotates it.
    /// </summary>
    public ApiConnection LoadInCluster()
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

        BearerTokenSource.ReadRequired(tokenPath, "in-cluster configuration");
        X509Certificate2Collection ca;
        try
        {
            ca = [];
            ca.ImportFromPem(File.ReadAllText(caPath));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            throw new KubernetesConfigurationException($"in-cluster configuration: {caPath}: {e.Message}", e);
        }
        if (ca.Count == 0)
        {
            throw new KubernetesConfigurationException($"in-cluster configuration: {caPath}: no PEM certificate in the file");
        }

        // POD_NAMESPACE (set through the downward API) wins over the file, as in client-go.
        var ns = _environment("POD_NAMESPACE");
        if (string.IsNullOrEmpty(ns) && File.Exists(namespacePath))
        {
            ns = File.ReadAllText(namespacePath).Trim();
        }

        var package = new KubernetesClientConfiguration
        {
            Host = server.ToString(),
            SslCaCerts = ca,
            Namespace = string.IsNullOrEmpty(ns) ? ApiConnection.DefaultNamespace : ns,
        };
        return Finish(package, $"in-cluster service account {_serviceAccountDirectory}", proxy: null, tokenPath);
    }

    private static ApiConnection Finish(KubernetesClientConfiguration package, string source, Uri? proxy, string? tokenFile)
    {
        // BareLb checks the server certificate itself (chain AND host name, which the package skips when a CA is set),
        // and supplies a file token itself (re-read on rotation and after a 401): the package must not do either.
        var ca = package.SslCaCerts is { Count: > 0 } certificates ? certificates : null;
        package.SslCaCerts = null;
        if (tokenFile is not null)
        {
            package.AccessToken = null;
        }
        return new ApiConnection(package, source)
        {
            CertificateAuthority = ca,
            TokenFile = tokenFile,
            Proxy = proxy,
        };
    }

    private static bool HasCredentials(UserCredentials? c) =>
        c is not null && (!string.IsNullOrEmpty(c.Token) || !string.IsNullOrEmpty(c.ClientCertificate) || !string.IsNullOrEmpty(c.ClientCertificateData) ||
            !string.IsNullOrEmpty(c.ClientKey) || !string.IsNullOrEmpty(c.ClientKeyData) || !string.IsNullOrEmpty(c.UserName) ||
            !string.IsNullOrEmpty(c.Password) || !string.IsNullOrEmpty(c.Impersonate) || c.AuthProvider is not null || c.ExternalExecution is not null);

    private static Uri? ReadProxy(KubeconfigFile file, string clusterName, string description)
    {
        if (file.ClusterString(clusterName, "proxy-url") is not { Length: > 0 } text)
        {
            return null;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var proxy) || proxy.Scheme is not ("http" or "https" or "socks5"))
        {
            throw new KubernetesConfigurationException($"{description}: clusters[{clusterName}].cluster.proxy-url: \"{text}\" is not an http, https or socks5 URL");
        }
        return proxy;
    }

    private static string Available(IEnumerable<string> names)
    {
        var list = names.Order(StringComparer.Ordinal).ToList();
        return list.Count == 0 ? " (none are defined)" : $" (defined: {string.Join(", ", list)})";
    }

    /// <summary>One kubeconfig file: the package's model of it, and its YAML for the fields the model lacks.</summary>
    private sealed class KubeconfigFile
    {
        private readonly YamlMappingNode? _root;

        private KubeconfigFile(string path, K8SConfiguration config, YamlMappingNode? root)
        {
            Path = path;
            Config = config;
            _root = root;
        }

        public string Path { get; }

        public K8SConfiguration Config { get; }

        public static KubeconfigFile Read(string path)
        {
            if (!File.Exists(path))
            {
                throw new KubernetesConfigurationException($"kubeconfig {path}: file does not exist");
            }
            try
            {
                var text = File.ReadAllText(path);
                var config = KubernetesClientConfiguration.LoadKubeConfig(path, useRelativePaths: true);
                var stream = new YamlStream();
                stream.Load(new StringReader(text));
                var root = stream.Documents.Count > 0 ? stream.Documents[0].RootNode as YamlMappingNode : null;
                if (root?.Children.TryGetValue(new YamlScalarNode("kind"), out var kind) == true && kind is YamlScalarNode { Value: { Length: > 0 } k } && k != "Config")
                {
                    throw new KubernetesConfigurationException($"kubeconfig {path}: kind is \"{k}\", expected \"Config\"");
                }
                MakePathsAbsolute(config, System.IO.Path.GetDirectoryName(path)!);
                return new KubeconfigFile(path, config, root);
            }
            catch (YamlException e)
            {
                throw new KubernetesConfigurationException($"kubeconfig {path}: line {e.Start.Line}: {e.Message}", e);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KubernetesConfigurationException($"kubeconfig {path}: cannot read: {e.Message}", e);
            }
        }

        public string? ClusterString(string name, string field) => Find("clusters", "cluster", name, field);

        public string? UserString(string name, string field) => Find("users", "user", name, field);

        private string? Find(string listKey, string bodyKey, string name, string field)
        {
            if (_root is null || !_root.Children.TryGetValue(new YamlScalarNode(listKey), out var list) || list is not YamlSequenceNode entries)
            {
                return null;
            }
            foreach (var entry in entries.OfType<YamlMappingNode>())
            {
                if (entry.Children.TryGetValue(new YamlScalarNode("name"), out var n) && n is YamlScalarNode { Value: var v } && v == name &&
                    entry.Children.TryGetValue(new YamlScalarNode(bodyKey), out var body) && body is YamlMappingNode mapping &&
                    mapping.Children.TryGetValue(new YamlScalarNode(field), out var value) && value is YamlScalarNode scalar)
                {
                    return scalar.Value;
                }
            }
            return null;
        }

        /// <summary>Once merged with other files, relative paths would resolve against the wrong folder: fix them now.</summary>
        private static void MakePathsAbsolute(K8SConfiguration config, string directory)
        {
            foreach (var cluster in config.Clusters ?? [])
            {
                if (cluster.ClusterEndpoint is { CertificateAuthority: { Length: > 0 } ca } endpoint)
                {
                    endpoint.CertificateAuthority = System.IO.Path.GetFullPath(ca, directory);
                }
            }
            foreach (var user in config.Users ?? [])
            {
                if (user.UserCredentials is not { } credentials)
                {
                    continue;
                }
                if (credentials.ClientCertificate is { Length: > 0 } certificate)
                {
                    credentials.ClientCertificate = System.IO.Path.GetFullPath(certificate, directory);
                }
                if (credentials.ClientKey is { Length: > 0 } key)
                {
                    credentials.ClientKey = System.IO.Path.GetFullPath(key, directory);
                }
            }
        }
    }
}

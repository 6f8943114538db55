using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// Turns a (merged) kubeconfig and a context name into a client configuration, loading the certificate and key
/// files it references. Follows clientcmd's rules where they matter: relative paths are relative to the file that
/// defined the entry; "-data" and file forms of the same value are exclusive; a CA together with
/// insecure-skip-tls-verify is rejected; tokenFile wins over token.
/// </summary>
internal static class KubeconfigResolver
{
    public static KubernetesClientConfiguration Resolve(Kubeconfig config, string? contextName)
    {
        var name = contextName ?? config.CurrentContext;
        if (string.IsNullOrEmpty(name))
        {
            throw new KubernetesConfigurationException(
                $"{config.Description}: current-context is not set and no context was named{Available(config.Contexts)}");
        }
        if (!config.Contexts.TryGetValue(name, out var contextEntry))
        {
            var how = contextName is null ? "current-context" : "the requested context";
            throw new KubernetesConfigurationException(
                $"{config.Description}: {how} \"{name}\" is not defined{Available(config.Contexts)}");
        }
        var context = contextEntry.Body ?? throw contextEntry.Item.Error("context", "missing");

        var clusterName = context.GetRequiredString("cluster");
        if (!config.Clusters.TryGetValue(clusterName, out var clusterEntry))
        {
            throw context.Error("cluster", $"cluster \"{clusterName}\" is not defined{Available(config.Clusters)}");
        }
        var cluster = clusterEntry.Body ?? throw clusterEntry.Item.Error("cluster", "missing");

        YamlSection? user = null;
        string? userName = context.GetString("user");
        if (!string.IsNullOrEmpty(userName))
        {
            if (!config.Users.TryGetValue(userName, out var userEntry))
            {
                throw context.Error("user", $"user \"{userName}\" is not defined{Available(config.Users)}");
            }
            user = userEntry.Body;
        }

        var server = ReadServer(cluster);
        var insecure = cluster.GetBool("insecure-skip-tls-verify");
        var ca = ReadCertificateAuthority(cluster);
        if (insecure && ca is not null)
        {
            throw cluster.Error("insecure-skip-tls-verify",
                "cannot be true while certificate-authority or certificate-authority-data is set");
        }

        Uri? proxy = null;
        if (cluster.GetString("proxy-url") is { } proxyText)
        {
            if (!Uri.TryCreate(proxyText, UriKind.Absolute, out proxy) || proxy.Scheme is not ("http" or "https" or "socks5"))
            {
                throw cluster.Error("proxy-url", $"\"{proxyText}\" is not an http, https or socks5 URL");
            }
        }

        string? token = null, tokenFile = null;
        X509Certificate2? clientCertificate = null;
        X509Certificate2Collection? clientChain = null;
        if (user is not null)
        {
            RejectUnsupported(user, userName!);
            token = user.GetString("token");
            if (user.GetString("tokenFile") is { Length: > 0 } tokenPath)
            {
                tokenFile = Path.GetFullPath(tokenPath, user.Directory);
                try
                {
                    if (File.ReadAllText(tokenFile).Trim().Length == 0)
                    {
                        throw user.Error("tokenFile", $"{tokenFile} is empty");
                    }
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw user.Error("tokenFile", $"cannot read {tokenFile}: {e.Message}", e);
                }
            }
            (clientCertificate, clientChain) = ReadClientCertificate(user);
        }

        return new KubernetesClientConfiguration
        {
            Server = server,
            Namespace = context.GetString("namespace") is { Length: > 0 } ns ? ns : KubernetesClientConfiguration.DefaultNamespace,
            CertificateAuthority = ca,
            InsecureSkipTlsVerify = insecure,
            TlsServerName = cluster.GetString("tls-server-name"),
            ClientCertificate = clientCertificate,
            ClientCertificateChain = clientChain,
            BearerToken = string.IsNullOrEmpty(token) ? null : token,
            BearerTokenFile = tokenFile,
            ProxyUrl = proxy,
            Source = $"{config.Description}, context {name}",
        };
    }

    private static Uri ReadServer(YamlSection cluster)
    {
        var text = cluster.GetRequiredString("server");
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
        {
            throw cluster.Error("server", $"\"{text}\" is not an https:// or http:// URL");
        }
        if (uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            throw cluster.Error("server", $"\"{text}\" must not have a query or fragment");
        }
        return uri;
    }

    private static X509Certificate2Collection? ReadCertificateAuthority(YamlSection cluster)
    {
        var pem = ReadPemValue(cluster, "certificate-authority", "certificate-authority-data");
        if (pem is null)
        {
            return null;
        }
        var certificates = PemCredentials.ReadCertificates(pem.Value.Text, out var error);
        return error is null ? certificates : throw cluster.Error(pem.Value.Field, error);
    }

    private static (X509Certificate2?, X509Certificate2Collection?) ReadClientCertificate(YamlSection user)
    {
        var hasCertificate = user.Has("client-certificate") || user.Has("client-certificate-data");
        var hasKey = user.Has("client-key") || user.Has("client-key-data");
        if (!hasCertificate && !hasKey)
        {
            return (null, null);
        }
        if (!hasCertificate)
        {
            throw user.Error(user.Has("client-key") ? "client-key" : "client-key-data", "set without client-certificate or client-certificate-data");
        }
        if (!hasKey)
        {
            throw user.Error(user.Has("client-certificate") ? "client-certificate" : "client-certificate-data", "set without client-key or client-key-data");
        }
        var certPem = ReadPemValue(user, "client-certificate", "client-certificate-data")!;
        var keyPem = ReadPemValue(user, "client-key", "client-key-data")!;

        var certificates = PemCredentials.ReadCertificates(certPem.Value.Text, out var error);
        if (error is not null)
        {
            throw user.Error(certPem.Value.Field, error);
        }
        var leaf = certificates[0];
        var paired = PemCredentials.Pair(leaf, keyPem.Value.Text, out error);
        if (paired is null)
        {
            throw user.Error(keyPem.Value.Field, error!);
        }
        var chain = new X509Certificate2Collection();
        for (var i = 1; i < certificates.Count; i++)
        {
            chain.Add(certificates[i]);
        }
        leaf.Dispose();
        return (paired, chain.Count > 0 ? chain : null);
    }

    /// <summary>Reads a value that comes either as a file path or inline as base64 "-data", never both.</summary>
    private static (string Field, string Text)? ReadPemValue(YamlSection section, string fileKey, string dataKey)
    {
        var path = section.GetString(fileKey);
        var data = section.GetString(dataKey);
        if (!string.IsNullOrEmpty(path) && !string.IsNullOrEmpty(data))
        {
            throw section.Error(dataKey, $"set together with {fileKey}; use one of them");
        }
        if (!string.IsNullOrEmpty(data))
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(data);
            }
            catch (FormatException e)
            {
                throw section.Error(dataKey, "not valid base64", e);
            }
            return (dataKey, Encoding.UTF8.GetString(bytes));
        }
        if (!string.IsNullOrEmpty(path))
        {
            var fullPath = Path.GetFullPath(path, section.Directory);
            try
            {
                return (fileKey, File.ReadAllText(fullPath));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw section.Error(fileKey, $"cannot read {fullPath}: {e.Message}", e);
            }
        }
        return null;
    }

    private static void RejectUnsupported(YamlSection user, string userName)
    {
        foreach (var (key, what) in Unsupported)
        {
            if (user.Has(key))
            {
                throw user.Error(key, $"{what} is not supported (user \"{userName}\"); use token, tokenFile or a client certificate");
            }
        }
    }

    private static readonly (string Key, string What)[] Unsupported =
    [
        ("exec", "an exec credential plugin"),
        ("auth-provider", "an auth-provider"),
        ("username", "basic authentication"),
        ("password", "basic authentication"),
        ("as", "impersonation"),
        ("as-uid", "impersonation"),
        ("as-groups", "impersonation"),
        ("as-user-extra", "impersonation"),
    ];

    private static string Available(IReadOnlyDictionary<string, KubeconfigEntry> entries) =>
        entries.Count == 0 ? " (none are defined)" : $" (defined: {string.Join(", ", entries.Keys.Order(StringComparer.Ordinal))})";
}

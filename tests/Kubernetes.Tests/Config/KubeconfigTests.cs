using BareLb.Kubernetes.Config;

namespace BareLb.Kubernetes.Tests.Config;

public sealed class KubeconfigTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TestPki _pki = new();

    public void Dispose()
    {
        _pki.Dispose();
        _dir.Dispose();
    }

    private static string Config(string cluster, string user, string context = "  namespace: team-a\n", string current = "ctx") => $"""
        apiVersion: v1
        kind: Config
        current-context: {current}
        clusters:
        - name: c1
          cluster:
        {Indent(cluster, 4)}
        users:
        - name: u1
          user:
        {Indent(user, 4)}
        contexts:
        - name: ctx
          context:
            cluster: c1
            user: u1
        {Indent(context, 2)}
        """;

    private static string Indent(string text, int spaces) =>
        string.Join('\n', text.TrimEnd('\n').Split('\n').Select(l => l.Length == 0 ? l : new string(' ', spaces) + l));

    private KubernetesClientConfiguration Load(string yaml, string? context = null, string file = "config")
    {
        var path = _dir.Write(file, yaml);
        return KubernetesClientConfiguration.FromKubeconfig(path, context);
    }

    private string LoadError(string yaml, string? context = null, string file = "config")
    {
        var e = Assert.Throws<KubernetesConfigurationException>(() => Load(yaml, context, file));
        return e.Message;
    }

    [Fact]
    public void FromKubeconfig_TokenUser_ReadsServerTokenAndNamespace()
    {
        var config = Load(Config("server: https://10.0.0.1:6443", "token: abc.def"));

        Assert.Equal(new Uri("https://10.0.0.1:6443"), config.Server);
        Assert.Equal("abc.def", config.BearerToken);
        Assert.Null(config.BearerTokenFile);
        Assert.Equal("team-a", config.Namespace);
        Assert.Null(config.CertificateAuthority);
        Assert.False(config.InsecureSkipTlsVerify);
        Assert.Contains("context ctx", config.Source);
    }

    [Fact]
    public void FromKubeconfig_ContextWithoutNamespace_UsesDefault()
    {
        var config = Load(Config("server: https://h:6443", "token: t", context: ""));
        Assert.Equal("default", config.Namespace);
    }

    [Fact]
    public void FromKubeconfig_NamedContext_WinsOverCurrentContext()
    {
        var yaml = """
            current-context: a
            clusters:
            - name: ca
              cluster: {server: "https://a:1"}
            - name: cb
              cluster: {server: "https://b:2"}
            contexts:
            - name: a
              context: {cluster: ca}
            - name: b
              context: {cluster: cb, namespace: nb}
            """;
        Assert.Equal(new Uri("https://a:1"), Load(yaml).Server);
        var b = Load(yaml, context: "b");
        Assert.Equal(new Uri("https://b:2"), b.Server);
        Assert.Equal("nb", b.Namespace);
        Assert.Null(b.BearerToken);
    }

    [Fact]
    public void FromKubeconfig_UnknownContext_ListsDefinedOnes()
    {
        var message = LoadError(Config("server: https://h:1", "token: t"), context: "nope");
        Assert.Equal($"kubeconfig {_dir.Path}/config: the requested context \"nope\" is not defined (defined: ctx)", message);
    }

    [Fact]
    public void FromKubeconfig_NoCurrentContext_SaysSo()
    {
        var message = LoadError(Config("server: https://h:1", "token: t", current: "\"\""));
        Assert.Equal($"kubeconfig {_dir.Path}/config: current-context is not set and no context was named (defined: ctx)", message);
    }

    [Fact]
    public void FromKubeconfig_EmptyFile_SaysNothingIsDefined()
    {
        var message = LoadError("");
        Assert.Equal($"kubeconfig {_dir.Path}/config: current-context is not set and no context was named (none are defined)", message);
    }

    [Theory]
    [InlineData("insecure-skip-tls-verify: true", "clusters[0].cluster.server: missing")]
    [InlineData("server: 10.0.0.1:6443", "clusters[0].cluster.server: \"10.0.0.1:6443\" is not an https:// or http:// URL")]
    [InlineData("server: ftp://h", "clusters[0].cluster.server: \"ftp://h\" is not an https:// or http:// URL")]
    [InlineData("server: https://h:1\ncertificate-authority-data: \"!!\"", "clusters[0].cluster.certificate-authority-data: not valid base64")]
    [InlineData("server: https://h:1\ncertificate-authority-data: aGVsbG8=", "clusters[0].cluster.certificate-authority-data: no PEM \"CERTIFICATE\" block found")]
    [InlineData("server: https://h:1\ncertificate-authority: missing-ca.crt", "clusters[0].cluster.certificate-authority: cannot read {dir}/missing-ca.crt: ")]
    [InlineData("server: https://h:1\ninsecure-skip-tls-verify: maybe", "clusters[0].cluster.insecure-skip-tls-verify: expected true or false, got \"maybe\"")]
    [InlineData("server: https://h:1\nproxy-url: gopher://p", "clusters[0].cluster.proxy-url: \"gopher://p\" is not an http, https or socks5 URL")]
    [InlineData("server: [a, b]", "clusters[0].cluster.server: expected a string")]
    public void FromKubeconfig_BadCluster_NamesFileAndField(string cluster, string expected)
    {
        var message = LoadError(Config(cluster, "token: t"));
        Assert.StartsWith($"kubeconfig {_dir.Path}/config: " + expected.Replace("{dir}", _dir.Path, StringComparison.Ordinal), message);
    }

    [Theory]
    [InlineData("exec:\n  command: gke-gcloud-auth-plugin", "users[0].user.exec: an exec credential plugin is not supported (user \"u1\"); use token, tokenFile or a client certificate")]
    [InlineData("auth-provider:\n  name: oidc", "users[0].user.auth-provider: an auth-provider is not supported (user \"u1\"); use token, tokenFile or a client certificate")]
    [InlineData("username: admin\npassword: secret", "users[0].user.username: basic authentication is not supported (user \"u1\"); use token, tokenFile or a client certificate")]
    [InlineData("token: t\nas: someone-else", "users[0].user.as: impersonation is not supported (user \"u1\"); use token, tokenFile or a client certificate")]
    [InlineData("client-key-data: \"not base64!\"\nclient-certificate-data: aGVsbG8=", "users[0].user.client-key-data: not valid base64")]
    [InlineData("client-certificate-data: aGVsbG8=", "users[0].user.client-certificate-data: set without client-key or client-key-data")]
    [InlineData("client-key: k.pem", "users[0].user.client-key: set without client-certificate or client-certificate-data")]
    [InlineData("client-certificate: a.pem\nclient-certificate-data: aGVsbG8=\nclient-key: k.pem", "users[0].user.client-certificate-data: set together with client-certificate; use one of them")]
    [InlineData("tokenFile: no-such-token", "users[0].user.tokenFile: cannot read {dir}/no-such-token: ")]
    public void FromKubeconfig_BadUser_NamesFileFieldAndUser(string user, string expected)
    {
        var message = LoadError(Config("server: https://h:1", user));
        Assert.StartsWith($"kubeconfig {_dir.Path}/config: " + expected.Replace("{dir}", _dir.Path, StringComparison.Ordinal), message);
    }

    [Fact]
    public void FromKubeconfig_CaDataAndFileTogether_IsRejected()
    {
        _dir.Write("ca.crt", _pki.CaPem);
        var message = LoadError(Config($"server: https://h:1\ncertificate-authority: ca.crt\ncertificate-authority-data: {TestPki.Base64(_pki.CaPem)}", "token: t"));
        Assert.Equal($"kubeconfig {_dir.Path}/config: clusters[0].cluster.certificate-authority-data: set together with certificate-authority; use one of them", message);
    }

    [Fact]
    public void FromKubeconfig_InsecureWithCa_IsRejected()
    {
        var message = LoadError(Config($"server: https://h:1\ninsecure-skip-tls-verify: true\ncertificate-authority-data: {TestPki.Base64(_pki.CaPem)}", "token: t"));
        Assert.Equal($"kubeconfig {_dir.Path}/config: clusters[0].cluster.insecure-skip-tls-verify: cannot be true while certificate-authority or certificate-authority-data is set", message);
    }

    [Fact]
    public void FromKubeconfig_CaFileAndCaData_LoadTheSameAuthority()
    {
        _dir.Write("pki/ca.crt", _pki.CaPem);
        // Relative to the kubeconfig's folder (sub/..), not to the working directory.
        var fromFile = Load(Config("server: https://h:1\ncertificate-authority: ../pki/ca.crt", "token: t"), file: "sub/config");
        var fromData = Load(Config($"server: https://h:1\ncertificate-authority-data: {TestPki.Base64(_pki.CaPem)}", "token: t"));

        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(fromFile.CertificateAuthority!).Thumbprint);
        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(fromData.CertificateAuthority!).Thumbprint);
    }

    [Fact]
    public void FromKubeconfig_TlsSettings_AreRead()
    {
        var config = Load(Config("server: https://10.0.0.1:6443\ninsecure-skip-tls-verify: true\ntls-server-name: api.internal\nproxy-url: http://proxy:3128", "token: t"));
        Assert.True(config.InsecureSkipTlsVerify);
        Assert.Equal("api.internal", config.TlsServerName);
        Assert.Equal(new Uri("http://proxy:3128"), config.ProxyUrl);
    }

    [Theory]
    [InlineData(KeyEncoding.RsaPkcs1, false)]
    [InlineData(KeyEncoding.RsaPkcs8, false)]
    [InlineData(KeyEncoding.EcSec1, false)]
    [InlineData(KeyEncoding.EcPkcs8, false)]
    [InlineData(KeyEncoding.RsaPkcs1, true)]
    [InlineData(KeyEncoding.RsaPkcs8, true)]
    [InlineData(KeyEncoding.EcSec1, true)]
    [InlineData(KeyEncoding.EcPkcs8, true)]
    public void FromKubeconfig_ClientCertificate_PairsCertificateWithKey(KeyEncoding encoding, bool inline)
    {
        var (certificate, certPem, keyPem) = _pki.IssueClient("alice", encoding);
        string user;
        if (inline)
        {
            user = $"client-certificate-data: {TestPki.Base64(certPem)}\nclient-key-data: {TestPki.Base64(keyPem)}";
        }
        else
        {
            _dir.Write("certs/alice.crt", certPem);
            _dir.Write("certs/alice.key", keyPem);
            user = "client-certificate: certs/alice.crt\nclient-key: certs/alice.key";
        }

        var config = Load(Config("server: https://h:1", user));

        Assert.NotNull(config.ClientCertificate);
        Assert.Equal(certificate.Thumbprint, config.ClientCertificate.Thumbprint);
        Assert.True(config.ClientCertificate.HasPrivateKey);
        Assert.Null(config.ClientCertificateChain);
    }

    [Fact]
    public void FromKubeconfig_CertificateFileWithIntermediate_KeepsTheChain()
    {
        var (leaf, certPem, keyPem) = _pki.IssueClient("alice", KeyEncoding.EcSec1);
        var config = Load(Config("server: https://h:1",
            $"client-certificate-data: {TestPki.Base64(certPem + "\n" + _pki.CaPem)}\nclient-key-data: {TestPki.Base64(keyPem)}"));

        Assert.Equal(leaf.Thumbprint, config.ClientCertificate!.Thumbprint);
        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(config.ClientCertificateChain!).Thumbprint);
    }

    [Theory]
    [InlineData(KeyEncoding.RsaPkcs1, KeyEncoding.RsaPkcs8, "the private key does not match the certificate's public key")]
    [InlineData(KeyEncoding.EcSec1, KeyEncoding.EcSec1, "the private key does not match the certificate's public key")]
    [InlineData(KeyEncoding.RsaPkcs8, KeyEncoding.EcSec1, "the \"EC PRIVATE KEY\" block is not a key of the certificate's type (RSA)")]
    [InlineData(KeyEncoding.EcPkcs8, KeyEncoding.RsaPkcs1, "the \"RSA PRIVATE KEY\" block is not a key of the certificate's type (ECDSA)")]
    public void FromKubeconfig_KeyOfAnotherCertificate_IsRejected(KeyEncoding certificateKey, KeyEncoding otherKey, string expected)
    {
        var (_, certPem, _) = _pki.IssueClient("alice", certificateKey);
        var (_, _, wrongKeyPem) = _pki.IssueClient("bob", otherKey);
        var message = LoadError(Config("server: https://h:1",
            $"client-certificate-data: {TestPki.Base64(certPem)}\nclient-key-data: {TestPki.Base64(wrongKeyPem)}"));
        Assert.StartsWith($"kubeconfig {_dir.Path}/config: users[0].user.client-key-data: {expected}", message);
    }

    [Fact]
    public void FromKubeconfig_KeyFileWithoutKey_IsRejected()
    {
        var (_, certPem, _) = _pki.IssueClient("alice", KeyEncoding.RsaPkcs1);
        var message = LoadError(Config("server: https://h:1",
            $"client-certificate-data: {TestPki.Base64(certPem)}\nclient-key-data: {TestPki.Base64(certPem)}"));
        Assert.Equal($"kubeconfig {_dir.Path}/config: users[0].user.client-key-data: no PEM private key block found (expected RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY)", message);
    }

    [Fact]
    public void FromKubeconfig_TokenFile_IsResolvedRelativeAndWinsOverToken()
    {
        _dir.Write("secrets/token", "from-file\n");
        var config = Load(Config("server: https://h:1", "token: inline\ntokenFile: secrets/token"));
        Assert.Equal(Path.Combine(_dir.Path, "secrets", "token"), config.BearerTokenFile);
    }

    [Fact]
    public void FromKubeconfig_ContextNamesUnknownCluster_SaysWhichField()
    {
        var yaml = """
            current-context: x
            contexts:
            - name: x
              context: {cluster: gone, user: u}
            """;
        Assert.Equal($"kubeconfig {_dir.Path}/config: contexts[0].context.cluster: cluster \"gone\" is not defined (none are defined)", LoadError(yaml));
    }

    [Fact]
    public void FromKubeconfig_DuplicateName_IsRejected()
    {
        var yaml = """
            clusters:
            - name: a
              cluster: {server: "https://a:1"}
            - name: a
              cluster: {server: "https://b:1"}
            """;
        Assert.Equal($"kubeconfig {_dir.Path}/config: clusters[1].name: duplicate cluster name \"a\" (also at clusters[0])", LoadError(yaml));
    }

    [Fact]
    public void FromKubeconfig_InvalidYaml_GivesLine()
    {
        var message = LoadError("clusters:\n- name: a\n  cluster: {server: \"https://a:1\"\n");
        Assert.StartsWith($"kubeconfig {_dir.Path}/config: not valid YAML at line ", message);
    }

    [Fact]
    public void FromKubeconfig_WrongKind_IsRejected()
    {
        Assert.Equal($"kubeconfig {_dir.Path}/config: kind: expected Config, got Pod", LoadError("kind: Pod\n"));
    }

    [Fact]
    public void FromKubeconfig_MissingFile_SaysSo()
    {
        var path = Path.Combine(_dir.Path, "absent");
        var e = Assert.Throws<KubernetesConfigurationException>(() => KubernetesClientConfiguration.FromKubeconfig(path));
        Assert.Equal($"kubeconfig {path}: file does not exist", e.Message);
    }
}

using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Tests.Support;

namespace BareLb.Kubernetes.Tests.Config;

/// <summary>Where the configuration comes from and what is read from it; no network (HttpsConnectionTests connects).</summary>
public sealed class ApiConnectionLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TestPki _pki = new();
    private readonly Dictionary<string, string> _env = [];

    public void Dispose()
    {
        _pki.Dispose();
        _dir.Dispose();
    }

    private ApiConnectionLoader Loader() =>
        new(name => _env.GetValueOrDefault(name), Path.Combine(_dir.Path, "home"), Path.Combine(_dir.Path, "sa"));

    private static string Kubeconfig(string cluster, string user = "token: t", string context = "namespace: team-a", string current = "ctx") => $"""
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
        {Indent(context, 4)}
        """;

    private static string Indent(string text, int spaces) =>
        string.Join('\n', text.Split('\n').Select(l => l.Length == 0 ? l : new string(' ', spaces) + l));

    private ApiConnection Load(string yaml, string? context = null, string file = "config") =>
        ApiConnection.FromKubeconfig(_dir.Write(file, yaml), context);

    private string LoadError(string yaml, string? context = null) =>
        Assert.Throws<KubernetesConfigurationException>(() => Load(yaml, context)).Message;

    private void SetInClusterEnvironment(string host = "10.96.0.1", string port = "443")
    {
        _env["KUBERNETES_SERVICE_HOST"] = host;
        _env["KUBERNETES_SERVICE_PORT"] = port;
    }

    private void WriteServiceAccount(string token = "sa-token", string? ns = "barelb-system")
    {
        _dir.Write("sa/token", token);
        _dir.Write("sa/ca.crt", _pki.CaPem);
        if (ns is not null)
        {
            _dir.Write("sa/namespace", ns);
        }
    }

    [Fact]
    public void Load_ExplicitPath_WinsOverEverythingElse()
    {
        var explicitPath = _dir.Write("explicit", Kubeconfig("server: https://explicit:1"));
        _env["KUBECONFIG"] = _dir.Write("env", Kubeconfig("server: https://env:1"));
        SetInClusterEnvironment();
        WriteServiceAccount();
        _dir.Write("home/.kube/config", Kubeconfig("server: https://home:1"));

        Assert.Equal("explicit", Loader().Load(explicitPath, null).Server.Host);
    }

    [Fact]
    public void Load_KubeconfigEnvironment_WinsOverInClusterAndHome()
    {
        _env["KUBECONFIG"] = _dir.Write("env", Kubeconfig("server: https://env:1"));
        SetInClusterEnvironment();
        WriteServiceAccount();
        _dir.Write("home/.kube/config", Kubeconfig("server: https://home:1"));

        Assert.Equal("env", Loader().Load(null, null).Server.Host);
    }

    [Fact]
    public void Load_InClusterEnvironment_WinsOverHomeKubeconfig()
    {
        SetInClusterEnvironment();
        WriteServiceAccount();
        _dir.Write("home/.kube/config", Kubeconfig("server: https://home:1"));

        var connection = Loader().Load(null, null);

        Assert.Equal(new Uri("https://10.96.0.1:443"), connection.Server);
        Assert.Equal($"in-cluster service account {_dir.Path}/sa", connection.Source);
    }

    [Fact]
    public void Load_NamedContext_SkipsInClusterForHomeKubeconfig()
    {
        SetInClusterEnvironment();
        WriteServiceAccount();
        _dir.Write("home/.kube/config", Kubeconfig("server: https://home:1"));

        Assert.Equal("home", Loader().Load(null, "ctx").Server.Host);
    }

    [Fact]
    public void Load_OnlyHomeKubeconfig_IsUsed()
    {
        _dir.Write("home/.kube/config", Kubeconfig("server: https://home:1"));

        var connection = Loader().Load(null, null);

        Assert.Equal("home", connection.Server.Host);
        Assert.Equal($"kubeconfig {_dir.Path}/home/.kube/config, context ctx", connection.Source);
    }

    [Fact]
    public void Load_NothingFound_ErrorListsEveryPlaceLookedAt()
    {
        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().Load(null, null));

        Assert.Equal(
            "no Kubernetes API configuration found; looked at: --kubeconfig (not given); $KUBECONFIG (not set); " +
            "in-cluster service account ($KUBERNETES_SERVICE_HOST not set); " +
            $"{_dir.Path}/home/.kube/config (does not exist)",
            e.Message);
        Assert.DoesNotContain("localhost", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("8080", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_NothingFoundWithContextAndMissingListedFiles_SaysWhyEachPlaceWasNotUsed()
    {
        _env["KUBECONFIG"] = "/nonexistent/a:/nonexistent/b";
        SetInClusterEnvironment();

        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().Load(null, "prod"));

        Assert.Equal(
            "no Kubernetes API configuration found; looked at: --kubeconfig (not given); " +
            "$KUBECONFIG=/nonexistent/a:/nonexistent/b (no listed file exists); " +
            "in-cluster service account (skipped: a context was named); " +
            $"{_dir.Path}/home/.kube/config (does not exist)",
            e.Message);
    }

    [Fact]
    public void Load_KubeconfigList_MergesFirstWinsPerNameWithPathsRelativeToTheirOwnFile()
    {
        // The first file sets current-context and defines cluster "shared"; the second redefines "shared"
        // (ignored), defines the user, adds context "other" and sets a current-context that loses.
        var first = _dir.Write("a/config", """
            current-context: main
            clusters:
            - name: shared
              cluster: {server: "https://first:1", certificate-authority: ca.crt}
            contexts:
            - name: main
              context: {cluster: shared, user: u}
            """);
        _dir.Write("a/ca.crt", _pki.CaPem);
        var second = _dir.Write("b/config", """
            current-context: other
            clusters:
            - name: shared
              cluster: {server: "https://second:1"}
            - name: second-only
              cluster: {server: "https://second-only:1"}
            users:
            - name: u
              user: {tokenFile: token}
            contexts:
            - name: other
              context: {cluster: second-only, user: u, namespace: ns2}
            - name: main
              context: {cluster: second-only, user: u}
            """);
        _dir.Write("b/token", "tok\n");
        _env["KUBECONFIG"] = string.Join(':', "/nonexistent/skipped", first, second);

        var main = Loader().Load(null, null);
        var other = Loader().Load(null, "other");

        Assert.Equal("first", main.Server.Host);
        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(main.CertificateAuthority!).Thumbprint);
        Assert.Equal(Path.Combine(_dir.Path, "b", "token"), main.TokenFile);
        Assert.Equal($"kubeconfigs {first}, {second}, context main", main.Source);
        Assert.Equal("second-only", other.Server.Host);
        Assert.Equal("ns2", other.Namespace);
    }

    [Fact]
    public void FromKubeconfig_TokenUser_ReadsServerTokenAndNamespace()
    {
        var connection = Load(Kubeconfig("server: https://198.51.100.1:6443", "token: abc.def"));

        Assert.Equal(new Uri("https://198.51.100.1:6443"), connection.Server);
        Assert.Equal("abc.def", connection.Package.AccessToken);
        Assert.Null(connection.TokenFile);
        Assert.Equal("team-a", connection.Namespace);
        Assert.Null(connection.CertificateAuthority);
        Assert.Equal("198.51.100.1", connection.ExpectedServerName);
        Assert.Equal($"kubeconfig {_dir.Path}/config, context ctx", connection.Source);
    }

    [Fact]
    public void FromKubeconfig_ContextWithoutNamespace_UsesDefault() =>
        Assert.Equal("default", Load(Kubeconfig("server: https://h:6443", context: "")).Namespace);

    [Fact]
    public void FromKubeconfig_TokenFile_IsResolvedRelativeToTheFileAndWinsOverToken()
    {
        _dir.Write("secrets/token", "from-file\n");

        var connection = Load(Kubeconfig("server: https://h:1", "token: inline\ntokenFile: secrets/token"));

        Assert.Equal(Path.Combine(_dir.Path, "secrets", "token"), connection.TokenFile);
        // BareLb puts the file's token on each request itself; the package must not add the inline one.
        Assert.Null(connection.Package.AccessToken);
    }

    [Fact]
    public void FromKubeconfig_TokenFileMissing_NamesFileAndField()
    {
        var message = LoadError(Kubeconfig("server: https://h:1", "tokenFile: no-such-token"));

        Assert.StartsWith($"kubeconfig {_dir.Path}/config: users[u1].user.tokenFile: cannot read {_dir.Path}/no-such-token: ", message);
    }

    [Fact]
    public void FromKubeconfig_CaDataAndFile_TakenOutOfThePackageForTheHostNameCheck()
    {
        _dir.Write("pki/ca.crt", _pki.CaPem);

        var fromFile = Load(Kubeconfig("server: https://h:1\ncertificate-authority: ../pki/ca.crt"), file: "sub/config");
        var fromData = Load(Kubeconfig($"server: https://h:1\ncertificate-authority-data: {TestPki.Base64(_pki.CaPem)}"));

        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(fromFile.CertificateAuthority!).Thumbprint);
        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(fromData.CertificateAuthority!).Thumbprint);
        // The package checks only the chain when it holds the CA; BareLb checks chain and name, so it keeps it.
        Assert.Null(fromFile.Package.SslCaCerts);
        Assert.Null(fromData.Package.SslCaCerts);
    }

    [Theory]
    [InlineData("server: https://198.51.100.1:6443", "198.51.100.1")]
    [InlineData("server: https://[2001:db8::1]:6443", "2001:db8::1")]
    [InlineData("server: https://api.example:6443", "api.example")]
    [InlineData("server: https://198.51.100.1:6443\ntls-server-name: api.internal", "api.internal")]
    public void FromKubeconfig_ExpectedServerName_IsTlsServerNameElseTheUrlHost(string cluster, string expected) =>
        Assert.Equal(expected, Load(Kubeconfig(cluster)).ExpectedServerName);

    [Fact]
    public void FromKubeconfig_ProxyUrl_IsRead() =>
        Assert.Equal(new Uri("http://proxy:3128"), Load(Kubeconfig("server: https://h:1\nproxy-url: http://proxy:3128")).Proxy);

    [Fact]
    public void FromKubeconfig_ProxyUrlOfUnknownScheme_IsRejected() =>
        Assert.Equal($"kubeconfig {_dir.Path}/config: clusters[c1].cluster.proxy-url: \"gopher://p\" is not an http, https or socks5 URL",
            LoadError(Kubeconfig("server: https://h:1\nproxy-url: gopher://p")));

    [Fact]
    public void FromKubeconfig_InsecureWithCa_IsRejected() =>
        Assert.Equal(
            $"kubeconfig {_dir.Path}/config: clusters[c1].cluster.insecure-skip-tls-verify: cannot be true while certificate-authority or certificate-authority-data is set",
            LoadError(Kubeconfig($"server: https://h:1\ninsecure-skip-tls-verify: true\ncertificate-authority-data: {TestPki.Base64(_pki.CaPem)}")));

    [Fact]
    public void FromKubeconfig_NoCurrentContext_ListsTheDefinedOnes() =>
        Assert.Equal($"kubeconfig {_dir.Path}/config: current-context is not set and no context was named (defined: ctx)",
            LoadError(Kubeconfig("server: https://h:1", current: "\"\"")));

    [Fact]
    public void FromKubeconfig_UnknownNamedContext_ListsTheDefinedOnes() =>
        Assert.Equal($"kubeconfig {_dir.Path}/config: the requested context \"prod\" is not defined (defined: ctx)",
            LoadError(Kubeconfig("server: https://h:1"), context: "prod"));

    [Fact]
    public void FromKubeconfig_ContextNamesUnknownCluster_SaysWhichField() =>
        Assert.Equal($"kubeconfig {_dir.Path}/config: contexts[x].context.cluster: cluster \"gone\" is not defined (none are defined)",
            LoadError("""
                current-context: x
                contexts:
                - name: x
                  context: {cluster: gone, user: u}
                """));

    [Fact]
    public void FromKubeconfig_WrongKind_IsRejected() =>
        Assert.Equal($"kubeconfig {_dir.Path}/config: kind is \"Pod\", expected \"Config\"", LoadError("kind: Pod\n"));

    [Fact]
    public void FromKubeconfig_InvalidYaml_NamesFileAndLine() =>
        Assert.StartsWith($"kubeconfig {_dir.Path}/config: line 4: ", LoadError("clusters:\n- name: a\n  cluster: {server: \"https://a:1\"\n"));

    [Fact]
    public void FromKubeconfig_MissingFile_SaysSo()
    {
        var path = Path.Combine(_dir.Path, "absent");
        var e = Assert.Throws<KubernetesConfigurationException>(() => ApiConnection.FromKubeconfig(path));
        Assert.Equal($"kubeconfig {path}: file does not exist", e.Message);
    }

    [Fact]
    public void FromKubeconfig_ExecPluginThatFails_NamesFileAndContext()
    {
        var message = LoadError(Kubeconfig("server: https://h:1",
            "exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: /nonexistent/credential-plugin"));

        Assert.StartsWith($"kubeconfig {_dir.Path}/config, context ctx: ", message);
        Assert.Contains("external exec failed", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.96.0.1", "443", "https://10.96.0.1/")]
    [InlineData("2001:db8:10:96::1", "443", "https://[2001:db8:10:96::1]/")]
    [InlineData("::1", "6443", "https://[::1]:6443/")]
    [InlineData("kubernetes.default.svc", "8443", "https://kubernetes.default.svc:8443/")]
    public void LoadInCluster_Host_IsBracketedWhenIpv6(string host, string port, string expected)
    {
        SetInClusterEnvironment(host, port);
        WriteServiceAccount();

        var connection = Loader().LoadInCluster();

        Assert.Equal(expected, connection.Server.AbsoluteUri);
        Assert.Equal(Path.Combine(_dir.Path, "sa", "token"), connection.TokenFile);
        Assert.Null(connection.Package.AccessToken);
        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(connection.CertificateAuthority!).Thumbprint);
        Assert.Equal("barelb-system", connection.Namespace);
    }

    [Fact]
    public void LoadInCluster_PodNamespaceEnvironment_WinsOverFile()
    {
        SetInClusterEnvironment();
        _env["POD_NAMESPACE"] = "from-env";
        WriteServiceAccount();

        Assert.Equal("from-env", Loader().LoadInCluster().Namespace);
    }

    [Fact]
    public void LoadInCluster_NoNamespaceFile_UsesDefault()
    {
        SetInClusterEnvironment();
        WriteServiceAccount(ns: null);

        Assert.Equal("default", Loader().LoadInCluster().Namespace);
    }

    [Theory]
    [InlineData(null, "443", true, "in-cluster configuration: $KUBERNETES_SERVICE_HOST and $KUBERNETES_SERVICE_PORT must both be set (got \"\" and \"443\"); is this running in a pod?")]
    [InlineData("10.96.0.1", "https", true, "in-cluster configuration: $KUBERNETES_SERVICE_PORT: \"https\" is not a port number")]
    [InlineData("10.96.0.1", "70000", true, "in-cluster configuration: $KUBERNETES_SERVICE_PORT: \"70000\" is not a port number")]
    [InlineData("10.96.0.1", "443", false, "in-cluster configuration: cannot read {sa}/token: ")]
    public void LoadInCluster_BadEnvironment_SaysWhat(string? host, string port, bool writeFiles, string expected)
    {
        if (host is not null)
        {
            _env["KUBERNETES_SERVICE_HOST"] = host;
        }
        _env["KUBERNETES_SERVICE_PORT"] = port;
        if (writeFiles)
        {
            WriteServiceAccount();
        }

        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().LoadInCluster());

        Assert.StartsWith(expected.Replace("{sa}", Path.Combine(_dir.Path, "sa"), StringComparison.Ordinal), e.Message);
    }

    [Fact]
    public void LoadInCluster_EmptyToken_IsRejected()
    {
        SetInClusterEnvironment();
        WriteServiceAccount(token: "\n");

        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().LoadInCluster());

        Assert.Equal($"in-cluster configuration: {_dir.Path}/sa/token is empty", e.Message);
    }

    [Fact]
    public void LoadInCluster_CaWithoutCertificate_NamesTheFile()
    {
        SetInClusterEnvironment();
        WriteServiceAccount();
        _dir.Write("sa/ca.crt", "garbage");

        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().LoadInCluster());

        Assert.Equal($"in-cluster configuration: {_dir.Path}/sa/ca.crt: no PEM certificate in the file", e.Message);
    }
}

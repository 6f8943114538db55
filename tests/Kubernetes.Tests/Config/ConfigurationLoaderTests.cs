using BareLb.Kubernetes.Config;

namespace BareLb.Kubernetes.Tests.Config;

public sealed class ConfigurationLoaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly TestPki _pki = new();
    private readonly Dictionary<string, string> _env = [];

    public void Dispose()
    {
        _pki.Dispose();
        _dir.Dispose();
    }

    private KubernetesConfigurationLoader Loader(string? home = null) =>
        new(name => _env.GetValueOrDefault(name), home ?? Path.Combine(_dir.Path, "home"), Path.Combine(_dir.Path, "sa"));

    private static string SingleContext(string server, string context = "main", string? currentContext = "main", string extraUser = "token: t") => $$"""
        current-context: {{currentContext ?? "\"\""}}
        clusters:
        - name: {{context}}
          cluster: {server: "{{server}}"}
        users:
        - name: {{context}}
          user: { {{extraUser}} }
        contexts:
        - name: {{context}}
          context: {cluster: {{context}}, user: {{context}}}
        """;

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
        var explicitPath = _dir.Write("explicit", SingleContext("https://explicit:1"));
        _env["KUBECONFIG"] = _dir.Write("env", SingleContext("https://env:1"));
        _env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
        _env["KUBERNETES_SERVICE_PORT"] = "443";
        WriteServiceAccount();
        _dir.Write("home/.kube/config", SingleContext("https://home:1"));

        Assert.Equal("explicit", Loader().Load(explicitPath, null).Server.Host);
    }

    [Fact]
    public void Load_KubeconfigEnvironment_WinsOverInClusterAndHome()
    {
        _env["KUBECONFIG"] = _dir.Write("env", SingleContext("https://env:1"));
        _env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
        _env["KUBERNETES_SERVICE_PORT"] = "443";
        WriteServiceAccount();
        _dir.Write("home/.kube/config", SingleContext("https://home:1"));

        Assert.Equal("env", Loader().Load(null, null).Server.Host);
    }

    [Fact]
    public void Load_InCluster_WinsOverHomeKubeconfig()
    {
        _env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
        _env["KUBERNETES_SERVICE_PORT"] = "443";
        WriteServiceAccount();
        _dir.Write("home/.kube/config", SingleContext("https://home:1"));

        var config = Loader().Load(null, null);
        Assert.Equal(new Uri("https://10.96.0.1:443"), config.Server);
        Assert.StartsWith("in-cluster", config.Source);
    }

    [Fact]
    public void Load_NamedContext_SkipsInClusterForHomeKubeconfig()
    {
        _env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
        _env["KUBERNETES_SERVICE_PORT"] = "443";
        WriteServiceAccount();
        _dir.Write("home/.kube/config", SingleContext("https://home:1"));

        Assert.Equal("home", Loader().Load(null, "main").Server.Host);
    }

    [Fact]
    public void Load_OnlyHomeKubeconfig_IsUsed()
    {
        _dir.Write("home/.kube/config", SingleContext("https://home:1"));
        Assert.Equal("home", Loader().Load(null, null).Server.Host);
    }

    [Fact]
    public void Load_NothingFound_ListsEveryPlaceLooked()
    {
        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().Load(null, null));
        Assert.Equal(
            "no Kubernetes API configuration found; looked at: --kubeconfig (not given); $KUBECONFIG (not set); " +
            "in-cluster service account ($KUBERNETES_SERVICE_HOST not set); " +
            $"{_dir.Path}/home/.kube/config (does not exist)",
            e.Message);
    }

    [Fact]
    public void Load_KubeconfigListsOnlyMissingFiles_SaysSo()
    {
        _env["KUBECONFIG"] = "/nonexistent/a:/nonexistent/b";
        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().Load(null, null));
        Assert.Contains("$KUBECONFIG=/nonexistent/a:/nonexistent/b (no listed file exists)", e.Message);
    }

    [Fact]
    public void Load_KubeconfigList_MergesFirstWinsPerName()
    {
        // First file: sets current-context and defines cluster "shared"; second redefines "shared" (ignored),
        // adds context "other", and sets a current-context that loses.
        var first = _dir.Write("a/config", $$"""
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
              context: {cluster: second-only, namespace: ns2}
            - name: main
              context: {cluster: second-only}
            """);
        _dir.Write("b/token", "tok");
        _env["KUBECONFIG"] = string.Join(':', "/nonexistent/skipped", first, second);

        var main = Loader().Load(null, null);
        Assert.Equal("first", main.Server.Host);
        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(main.CertificateAuthority!).Thumbprint);
        // The user came from the second file, so its relative tokenFile resolves against b/.
        Assert.Equal(Path.Combine(_dir.Path, "b", "token"), main.BearerTokenFile);

        var other = Loader().Load(null, "other");
        Assert.Equal("second-only", other.Server.Host);
        Assert.Equal("ns2", other.Namespace);
    }

    [Theory]
    [InlineData("10.96.0.1", "443", "https://10.96.0.1/")]
    [InlineData("2001:db8:10:96::1", "443", "https://[2001:db8:10:96::1]/")]
    [InlineData("::1", "6443", "https://[::1]:6443/")]
    [InlineData("kubernetes.default.svc", "8443", "https://kubernetes.default.svc:8443/")]
    public void LoadInCluster_Host_IsBracketedWhenIpv6(string host, string port, string expected)
    {
        _env["KUBERNETES_SERVICE_HOST"] = host;
        _env["KUBERNETES_SERVICE_PORT"] = port;
        WriteServiceAccount();

        var config = Loader().LoadInCluster();

        Assert.Equal(expected, config.Server.AbsoluteUri);
        Assert.Equal(Path.Combine(_dir.Path, "sa", "token"), config.BearerTokenFile);
        Assert.Equal(_pki.Ca.Thumbprint, Assert.Single(config.CertificateAuthority!).Thumbprint);
        Assert.Equal("barelb-system", config.Namespace);
    }

    [Fact]
    public void LoadInCluster_PodNamespaceEnvironment_WinsOverFile()
    {
        _env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
        _env["KUBERNETES_SERVICE_PORT"] = "443";
        _env["POD_NAMESPACE"] = "from-env";
        WriteServiceAccount();
        Assert.Equal("from-env", Loader().LoadInCluster().Namespace);
    }

    [Fact]
    public void LoadInCluster_NoNamespaceFile_UsesDefault()
    {
        _env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
        _env["KUBERNETES_SERVICE_PORT"] = "443";
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
        _env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
        _env["KUBERNETES_SERVICE_PORT"] = "443";
        WriteServiceAccount(token: "\n");
        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().LoadInCluster());
        Assert.Equal($"in-cluster configuration: {_dir.Path}/sa/token is empty", e.Message);
    }

    [Fact]
    public void LoadInCluster_BadCa_NamesTheFile()
    {
        _env["KUBERNETES_SERVICE_HOST"] = "10.96.0.1";
        _env["KUBERNETES_SERVICE_PORT"] = "443";
        WriteServiceAccount();
        _dir.Write("sa/ca.crt", "garbage");
        var e = Assert.Throws<KubernetesConfigurationException>(() => Loader().LoadInCluster());
        Assert.Equal($"in-cluster configuration: {_dir.Path}/sa/ca.crt: no PEM \"CERTIFICATE\" block found", e.Message);
    }
}

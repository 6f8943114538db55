using System.Globalization;
using System.Net;
using BareLb.ApiServer;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Tests.Client;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Config;

/// <summary>An HTTPS in-memory API server that wants a bearer token, or a client certificate issued by its CA.</summary>
public sealed class HttpsServerFixture : IAsyncLifetime
{
    public const string Token = "fixture-token-0123456789";

    public InMemoryApiServer Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await InMemoryApiServer.StartAsync(new ApiServerOptions { UseHttps = true, RequiredBearerToken = Token });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Kubeconfigs end to end over real loopback HTTPS: each kind of credential and trust setting must get through
/// TLS and authentication, and each wrong one must fail with an error that says why.
/// </summary>
public sealed class HttpsConnectionTests(HttpsServerFixture fixture) : IClassFixture<HttpsServerFixture>, IDisposable
{
    private readonly InMemoryApiServer _server = fixture.Server;
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _testTimeout = new(Wait.Patience);

    public void Dispose()
    {
        _testTimeout.Dispose();
        _dir.Dispose();
    }

    private CancellationToken Ct => _testTimeout.Token;

    private string CaData => TestPki.Base64(_server.CaCertificatePem!);

    private string Kubeconfig(string cluster, string user, Uri? server = null) => $"""
        apiVersion: v1
        kind: Config
        current-context: test
        clusters:
        - name: test
          cluster:
            server: {(server ?? _server.BaseAddress).AbsoluteUri}
        {Indent(cluster)}
        users:
        - name: test
          user:
        {Indent(user.Length == 0 ? "{}" : user)}
        contexts:
        - name: test
          context: {"{"}cluster: test, user: test{"}"}
        """;

    private static string Indent(string text) =>
        string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "    " + l));

    private KubernetesClient ClientFor(string kubeconfigYaml, TimeProvider? time = null) =>
        new(ApiConnection.FromKubeconfig(_dir.Write($"kubeconfig-{Guid.NewGuid():N}", kubeconfigYaml)), timeProvider: time);

    /// <summary>A list of namespaces needs TLS and authentication to succeed; the server has created four.</summary>
    private async Task AssertWorksAsync(KubernetesClient client)
    {
        using (client)
        {
            var list = await client.ListAsync(CoreResources.Namespaces, null, null, Ct);
            Assert.Contains(list.Items, n => n.Metadata.Name == "kube-system");
        }
    }

    private async Task<HttpRequestException> AssertTlsRefusedAsync(KubernetesClient client)
    {
        using (client)
        {
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));
            Assert.Equal(HttpRequestError.SecureConnectionError, e.HttpRequestError);
            Assert.StartsWith($"TLS handshake with {client.Connection.Server} failed: server certificate ", e.Message);
            Assert.EndsWith($"(configuration: {client.Connection.Source})", e.Message);
            return e;
        }
    }

    [Fact]
    public async Task ServerWrittenKubeconfig_TokenAndCaData_Works() =>
        await AssertWorksAsync(new KubernetesClient(ApiConnection.FromKubeconfig(
            _server.WriteKubeconfig(Path.Combine(_dir.Path, "written"), HttpsServerFixture.Token))));

    [Fact]
    public async Task Token_WithCaData_Works() =>
        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", $"token: {HttpsServerFixture.Token}")));

    [Fact]
    public async Task Token_WithCaFileRelativeToTheKubeconfig_Works()
    {
        _dir.Write("pki/ca.crt", _server.CaCertificatePem!);
        await AssertWorksAsync(ClientFor(Kubeconfig("certificate-authority: pki/ca.crt", $"token: {HttpsServerFixture.Token}")));
    }

    [Fact]
    public async Task TokenFile_RelativeToTheKubeconfig_Works()
    {
        _dir.Write("secrets/token", HttpsServerFixture.Token + "\n");
        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", "tokenFile: secrets/token")));
    }

    [Fact]
    public async Task ExecPlugin_PrintingAnExecCredential_Works()
    {
        var runs = Path.Combine(_dir.Path, "runs");
        var plugin = WritePlugin(HttpsServerFixture.Token, runs);

        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}",
            $"exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: {plugin}\n  interactiveMode: Never")));

        Assert.True(File.Exists(runs), "the credential plugin never ran");
    }

    [Fact]
    public async Task ExecPlugin_PrintingAnotherToken_IsRefusedWith401()
    {
        var plugin = WritePlugin("not-the-server-token", Path.Combine(_dir.Path, "runs"));
        using var client = ClientFor(Kubeconfig($"certificate-authority-data: {CaData}",
            $"exec:\n  apiVersion: client.authentication.k8s.io/v1beta1\n  command: {plugin}"));

        var e = await Assert.ThrowsAsync<UnauthorizedException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));

        Assert.Equal(HttpStatusCode.Unauthorized, e.Code);
    }

    [Theory]
    [InlineData(false, KeyEncoding.RsaPkcs1, false)]
    [InlineData(false, KeyEncoding.RsaPkcs8, true)]
    [InlineData(true, KeyEncoding.EcSec1, false)]
    [InlineData(true, KeyEncoding.EcPkcs8, true)]
    public async Task ClientCertificate_RsaOrEcdsa_WorksWithoutToken(bool ecdsa, KeyEncoding encoding, bool inline)
    {
        var (certificatePem, keyPem) = _server.IssueClientCertificate("barelb-test", ecdsa);
        keyPem = TestPki.Reencode(keyPem, encoding);
        string user;
        if (inline)
        {
            user = $"client-certificate-data: {TestPki.Base64(certificatePem)}\nclient-key-data: {TestPki.Base64(keyPem)}";
        }
        else
        {
            _dir.Write("client/tls.crt", certificatePem);
            _dir.Write("client/tls.key", keyPem);
            user = "client-certificate: client/tls.crt\nclient-key: client/tls.key";
        }

        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", user)));
    }

    [Fact]
    public async Task ClientCertificate_FromAnotherAuthority_IsRefused()
    {
        using var rogue = new TestPki("rogue-ca");
        var (_, certificatePem, keyPem) = rogue.IssueClient("mallory", KeyEncoding.EcSec1);
        using var client = ClientFor(Kubeconfig($"certificate-authority-data: {CaData}",
            $"client-certificate-data: {TestPki.Base64(certificatePem)}\nclient-key-data: {TestPki.Base64(keyPem)}"));

        await Assert.ThrowsAsync<UnauthorizedException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));
    }

    [Theory]
    [InlineData("token: wrong-token")]
    [InlineData("")]
    public async Task WrongOrNoCredentials_ThrowsUnauthorized(string user)
    {
        using var client = ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", user));

        var e = await Assert.ThrowsAsync<UnauthorizedException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));

        Assert.Equal(HttpStatusCode.Unauthorized, e.Code);
    }

    [Fact]
    public async Task CaOfAnotherAuthority_IsRefusedNamingBothCertificates()
    {
        using var other = new TestPki("some-other-ca");

        var e = await AssertTlsRefusedAsync(ClientFor(Kubeconfig($"certificate-authority-data: {TestPki.Base64(other.CaPem)}", $"token: {HttpsServerFixture.Token}")));

        Assert.Contains("\"CN=barelb-apiserver\" (issuer \"CN=barelb-apiserver-ca\") does not chain to the configured certificate authority (\"CN=some-other-ca\")", e.Message);
    }

    [Fact]
    public async Task NoCa_ServerNotTrustedBySystemStore_IsRefused()
    {
        var e = await AssertTlsRefusedAsync(ClientFor(Kubeconfig("", $"token: {HttpsServerFixture.Token}")));

        Assert.Contains("\"CN=barelb-apiserver\" is not trusted by the system store", e.Message);
    }

    [Fact]
    public async Task InsecureSkipTlsVerify_Works() =>
        await AssertWorksAsync(ClientFor(Kubeconfig("insecure-skip-tls-verify: true", $"token: {HttpsServerFixture.Token}")));

    [Fact]
    public async Task ServerUrlByName_NameInCertificate_Works() =>
        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", $"token: {HttpsServerFixture.Token}",
            server: new Uri($"https://localhost:{_server.BaseAddress.Port}"))));

    [Fact]
    public async Task TlsServerName_InCertificate_Works() =>
        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}\ntls-server-name: localhost", $"token: {HttpsServerFixture.Token}")));

    [Fact]
    public async Task TlsServerName_NotInCertificate_IsRefusedNamingIt()
    {
        var e = await AssertTlsRefusedAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}\ntls-server-name: api.example.com",
            $"token: {HttpsServerFixture.Token}")));

        Assert.Contains("is not valid for \"api.example.com\" (subject alternative names: localhost, 127.0.0.1, ::1)", e.Message);
    }

    [Fact]
    public async Task ServerCertificateForAnotherName_IsRefusedUnlessTlsServerNameSaysThatName()
    {
        // The in-memory API server's certificate always covers loopback, so this server shows one that does not.
        using var pki = new TestPki("other-ca");
        using var certificate = pki.IssueServer("api.other.example");
        const string node = """{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","resourceVersion":"7"}}""";
        await using var server = new CannedHttpServer((_, s, ct) => CannedHttpServer.WriteJsonAsync(s, 200, node, ct), certificate);
        var cluster = $"certificate-authority-data: {TestPki.Base64(pki.CaPem)}";

        var refused = await AssertTlsRefusedAsync(ClientFor(Kubeconfig(cluster, "token: t", server.BaseAddress)));
        using var named = ClientFor(Kubeconfig(cluster + "\ntls-server-name: api.other.example", "token: t", server.BaseAddress));
        var fetched = await named.GetAsync(CoreResources.Nodes, null, "n1", Ct);

        Assert.Contains("\"CN=api.other.example\" is not valid for \"127.0.0.1\" (subject alternative names: api.other.example)", refused.Message);
        Assert.Equal("7", fetched.Metadata.ResourceVersion);
        Assert.Equal("api.other.example", Assert.Single(server.Requests).Header("Host"));
    }

    /// <summary>A kubectl credential plugin: prints an ExecCredential with the token, and notes that it ran.</summary>
    private string WritePlugin(string token, string runsFile)
    {
        var path = _dir.Write("plugin.sh", $$$"""
            #!/bin/sh
            echo run >> '{{{runsFile}}}'
            cat <<'EOF'
            {"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"{{{token}}}"}}
            EOF
            """ + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }
}

/// <summary>The pod's service account over real loopback HTTPS (IPv6), including the kubelet rotating the token file.</summary>
public sealed class InClusterConnectionTests : IAsyncLifetime, IDisposable
{
    private const string ValidToken = "sa-token-valid";
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _testTimeout = new(Wait.Patience);
    private InMemoryApiServer _server = null!;

    public async Task InitializeAsync() =>
        _server = await InMemoryApiServer.StartAsync(new ApiServerOptions { BindAddress = "::1", UseHttps = true, RequiredBearerToken = ValidToken });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    public void Dispose()
    {
        _testTimeout.Dispose();
        _dir.Dispose();
    }

    private CancellationToken Ct => _testTimeout.Token;

    private string TokenPath => Path.Combine(_dir.Path, "sa", "token");

    private KubernetesClient InClusterClient(string token, TimeProvider time)
    {
        _dir.Write("sa/token", token);
        _dir.Write("sa/ca.crt", _server.CaCertificatePem!);
        _dir.Write("sa/namespace", "barelb-system");
        var environment = new Dictionary<string, string>
        {
            ["KUBERNETES_SERVICE_HOST"] = "::1",
            ["KUBERNETES_SERVICE_PORT"] = _server.BaseAddress.Port.ToString(CultureInfo.InvariantCulture),
        };
        var connection = new ApiConnectionLoader(environment.GetValueOrDefault, Path.Combine(_dir.Path, "home"), Path.Combine(_dir.Path, "sa"))
            .Load(null, null);
        return new KubernetesClient(connection, timeProvider: time);
    }

    private Task<ResourceList<V1Namespace>> ListAsync(KubernetesClient client) => client.ListAsync(CoreResources.Namespaces, null, null, Ct);

    [Fact]
    public async Task Load_ServiceAccountFiles_ConnectsOverIpv6WithThePodNamespace()
    {
        using var client = InClusterClient(ValidToken, new FakeTimeProvider());

        await client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = client.DefaultNamespace } }, Ct);
        var ns = await client.GetAsync(CoreResources.Namespaces, null, "barelb-system", Ct);

        Assert.Equal($"https://[::1]:{_server.BaseAddress.Port}/", client.Connection.Server.AbsoluteUri);
        Assert.Equal("barelb-system", ns.Metadata.Name);
    }

    [Fact]
    public async Task TokenFile_Rewritten_IsReadAgainAfterTheRefreshIntervalNotBefore()
    {
        var time = new FakeTimeProvider();
        using var client = InClusterClient(ValidToken, time);
        await ListAsync(client);

        // A token the server does not know makes its first use visible as a 401.
        File.WriteAllText(TokenPath, "rotated-unknown-token");
        time.Advance(TimeSpan.FromSeconds(59));
        await ListAsync(client);
        time.Advance(TimeSpan.FromSeconds(1));

        await Assert.ThrowsAsync<UnauthorizedException>(() => ListAsync(client));
    }

    [Fact]
    public async Task TokenFile_RotatedWithinTheInterval_IsReadAtOnceAfterA401AndTheRequestRetried()
    {
        var time = new FakeTimeProvider();
        using var client = InClusterClient("expired-token", time);
        // The file still holds the refused token: no retry, the 401 is the answer.
        await Assert.ThrowsAsync<UnauthorizedException>(() => ListAsync(client));

        File.WriteAllText(TokenPath, ValidToken + "\n");
        // A request with a body: it is sent a second time, whole.
        var created = await client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = "after-rotation" } }, Ct);
        var fetched = await client.GetAsync(CoreResources.Namespaces, null, "after-rotation", Ct);

        Assert.Equal("after-rotation", created.Metadata.Name);
        Assert.Equal(created.Metadata.Uid, fetched.Metadata.Uid);
        Assert.Equal(TimeSpan.Zero, time.Elapsed);
    }
}

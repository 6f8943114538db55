using BareLb.ApiServer;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Http;
using BareLb.Kubernetes.Tests.Config;
using BareLb.TestSupport;

namespace BareLb.Kubernetes.Tests.Client;

/// <summary>An HTTPS in-memory API server that wants a bearer token or a client certificate it issued.</summary>
public sealed class HttpsServerFixture : IAsyncLifetime
{
    public const string Token = "fixture-token-0123456789";

    public InMemoryApiServer Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await InMemoryApiServer.StartAsync(new ApiServerOptions { UseHttps = true, RequiredBearerToken = Token });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Kubeconfig variants end to end: each one must get through TLS and authentication, or fail clearly.</summary>
public sealed class TlsAuthenticationTests : IClassFixture<HttpsServerFixture>, IDisposable
{
    private readonly InMemoryApiServer _server;
    private readonly TempDirectory _dir = new();
    private readonly CancellationTokenSource _testTimeout = new(TimeSpan.FromSeconds(30));

    public TlsAuthenticationTests(HttpsServerFixture fixture) => _server = fixture.Server;

    public void Dispose()
    {
        _testTimeout.Dispose();
        _dir.Dispose();
    }

    private CancellationToken Ct => _testTimeout.Token;

    private string CaData => TestPki.Base64(_server.CaCertificatePem!);

    private string Kubeconfig(string cluster, string user, string? server = null) => $"""
        apiVersion: v1
        kind: Config
        current-context: test
        clusters:
        - name: test
          cluster:
            server: {server ?? _server.BaseAddress.AbsoluteUri}
        {string.Join('\n', cluster.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "    " + l))}
        users:
        - name: test
          user:
        {string.Join('\n', (user.Length == 0 ? "{}" : user).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => "    " + l))}
        contexts:
        - name: test
          context: {"{"}cluster: test, user: test{"}"}
        """;

    private KubernetesClient ClientFor(string kubeconfigYaml, TimeProvider? time = null)
    {
        var path = _dir.Write($"kubeconfig-{Guid.NewGuid():N}", kubeconfigYaml);
        return new KubernetesClient(KubernetesClientConfiguration.FromKubeconfig(path), timeProvider: time);
    }

    private async Task AssertWorksAsync(KubernetesClient client)
    {
        using (client)
        {
            var list = await client.ListAsync(CoreResources.Namespaces, null, null, Ct);
            Assert.False(string.IsNullOrEmpty(list.Metadata.ResourceVersion));
        }
    }

    [Fact]
    public async Task ServerWrittenKubeconfig_WithToken_Works()
    {
        var path = _server.WriteKubeconfig(Path.Combine(_dir.Path, "written"), HttpsServerFixture.Token);
        await AssertWorksAsync(new KubernetesClient(KubernetesClientConfiguration.FromKubeconfig(path)));
    }

    [Fact]
    public async Task CaData_AndToken_Works() =>
        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", $"token: {HttpsServerFixture.Token}")));

    [Fact]
    public async Task CaFile_RelativeToKubeconfig_Works()
    {
        _dir.Write("pki/ca.crt", _server.CaCertificatePem!);
        await AssertWorksAsync(ClientFor(Kubeconfig("certificate-authority: pki/ca.crt", $"token: {HttpsServerFixture.Token}")));
    }

    [Fact]
    public async Task InsecureSkipTlsVerify_Works() =>
        await AssertWorksAsync(ClientFor(Kubeconfig("insecure-skip-tls-verify: true", $"token: {HttpsServerFixture.Token}")));

    [Fact]
    public async Task LocalhostServerName_MatchesDnsName() =>
        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", $"token: {HttpsServerFixture.Token}",
            server: $"https://localhost:{_server.BaseAddress.Port}")));

    [Fact]
    public async Task TlsServerName_IsWhatTheCertificateIsCheckedAgainst()
    {
        await AssertWorksAsync(ClientFor(Kubeconfig($"certificate-authority-data: {CaData}\ntls-server-name: localhost", $"token: {HttpsServerFixture.Token}")));

        using var wrong = ClientFor(Kubeconfig($"certificate-authority-data: {CaData}\ntls-server-name: api.example.com", $"token: {HttpsServerFixture.Token}"));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => wrong.ListAsync(CoreResources.Namespaces, null, null, Ct));
        Assert.Equal(HttpRequestError.SecureConnectionError, e.HttpRequestError);
        Assert.Contains("is not valid for \"api.example.com\" (subject alternative names: ", e.Message);
        Assert.Contains("localhost", e.Message);
    }

    [Fact]
    public async Task WrongCa_FailsWithClearTlsError()
    {
        using var otherPki = new TestPki("some-other-ca");
        using var client = ClientFor(Kubeconfig($"certificate-authority-data: {TestPki.Base64(otherPki.CaPem)}", $"token: {HttpsServerFixture.Token}"));

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));

        Assert.Equal(HttpRequestError.SecureConnectionError, e.HttpRequestError);
        Assert.StartsWith($"TLS handshake with {_server.BaseAddress} failed: server certificate ", e.Message);
        Assert.Contains("does not chain to the configured certificate authority (\"CN=some-other-ca\")", e.Message);
        Assert.Contains("(configuration: kubeconfig ", e.Message);
    }

    [Fact]
    public async Task NoCa_UntrustedBySystemStore_FailsWithClearTlsError()
    {
        using var client = ClientFor(Kubeconfig("", $"token: {HttpsServerFixture.Token}"));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));
        Assert.Contains("is not trusted by the system store", e.Message);
    }

    [Theory]
    [InlineData("token: wrong-token")]
    [InlineData("")]
    public async Task WrongOrNoCredentials_ThrowsUnauthorized(string user)
    {
        using var client = ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", user));
        var e = await Assert.ThrowsAsync<UnauthorizedException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));
        Assert.Equal(401, (int)e.Code);
    }

    [Theory]
    [InlineData(false, KeyEncoding.RsaPkcs1, false)]
    [InlineData(false, KeyEncoding.RsaPkcs8, false)]
    [InlineData(true, KeyEncoding.EcSec1, false)]
    [InlineData(true, KeyEncoding.EcPkcs8, false)]
    [InlineData(false, KeyEncoding.RsaPkcs1, true)]
    [InlineData(false, KeyEncoding.RsaPkcs8, true)]
    [InlineData(true, KeyEncoding.EcSec1, true)]
    [InlineData(true, KeyEncoding.EcPkcs8, true)]
    public async Task ClientCertificate_WithoutToken_Works(bool ecdsa, KeyEncoding encoding, bool inline)
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
    public async Task ClientCertificate_NotIssuedByServerCa_ThrowsUnauthorized()
    {
        using var otherPki = new TestPki("rogue-ca");
        var (_, certificatePem, keyPem) = otherPki.IssueClient("mallory", KeyEncoding.EcSec1);
        using var client = ClientFor(Kubeconfig($"certificate-authority-data: {CaData}",
            $"client-certificate-data: {TestPki.Base64(certificatePem)}\nclient-key-data: {TestPki.Base64(keyPem)}"));

        // The server may refuse the handshake or answer 401; either way the request must not succeed.
        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));
        Assert.True(e is UnauthorizedException or HttpRequestException, e.ToString());
    }

    [Fact]
    public async Task TokenFile_RotatedToValidToken_IsPickedUpRightAfterThe401()
    {
        var tokenPath = _dir.Write("token", "expired-token");
        var clock = new FakeTimeProvider();
        using var client = ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", $"tokenFile: {tokenPath}"), clock);

        await Assert.ThrowsAsync<UnauthorizedException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));

        File.WriteAllText(tokenPath, HttpsServerFixture.Token + "\n");
        await client.ListAsync(CoreResources.Namespaces, null, null, Ct);
    }

    [Fact]
    public async Task TokenFile_Rewritten_IsUsedOnlyAfterTheRefreshInterval()
    {
        var tokenPath = _dir.Write("token", HttpsServerFixture.Token);
        var clock = new FakeTimeProvider();
        using var client = ClientFor(Kubeconfig($"certificate-authority-data: {CaData}", $"tokenFile: {tokenPath}"), clock);
        await client.ListAsync(CoreResources.Namespaces, null, null, Ct);

        // The server does not know the new token, which makes its use visible as a 401.
        File.WriteAllText(tokenPath, "rotated-token");
        clock.Advance(TimeSpan.FromSeconds(30));
        await client.ListAsync(CoreResources.Namespaces, null, null, Ct);

        clock.Advance(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<UnauthorizedException>(() => client.ListAsync(CoreResources.Namespaces, null, null, Ct));
    }
}

public sealed class InClusterTests
{
    [Fact]
    public async Task InCluster_Ipv6ServiceHost_ConnectsWithServiceAccountFiles()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var server = await InMemoryApiServer.StartAsync(new ApiServerOptions
        {
            BindAddress = "::1",
            UseHttps = true,
            RequiredBearerToken = "sa-token",
        }, cts.Token);
        using var dir = new TempDirectory();
        dir.Write("sa/token", "sa-token");
        dir.Write("sa/ca.crt", server.CaCertificatePem!);
        dir.Write("sa/namespace", "barelb-system");
        var env = new Dictionary<string, string>
        {
            ["KUBERNETES_SERVICE_HOST"] = "::1",
            ["KUBERNETES_SERVICE_PORT"] = server.BaseAddress.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };

        var configuration = new KubernetesConfigurationLoader(env.GetValueOrDefault, Path.Combine(dir.Path, "home"), Path.Combine(dir.Path, "sa"))
            .Load(null, null);
        using var client = new KubernetesClient(configuration);
        await client.CreateAsync(CoreResources.Namespaces, new Models.Namespace { Metadata = new() { Name = client.DefaultNamespace } }, cts.Token);
        var ns = await client.GetAsync(CoreResources.Namespaces, null, "barelb-system", cts.Token);

        Assert.Equal($"https://[::1]:{server.BaseAddress.Port}/", configuration.Server.AbsoluteUri);
        Assert.Equal("barelb-system", ns.Metadata.Name);
    }
}

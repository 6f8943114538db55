using System.Net;
using System.Security.Cryptography.X509Certificates;
using BareLb.TestSupport;

namespace BareLb.ApiServer.Tests;

public sealed class SecurityTests
{
    private const string Token = "s3cr3t-token";

    private static HttpClient Client(ApiServerFixture api, X509Certificate2? clientCert = null)
    {
        using var caPem = X509Certificate2.CreateFromPem(api.Server.CaCertificatePem!);
        var ca = X509CertificateLoader.LoadCertificate(caPem.RawData);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, _, errors) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                // Name checks still apply: only chain trust is delegated to our CA.
                return cert is not null && chain.Build(cert) &&
                       (errors & ~System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors) == System.Net.Security.SslPolicyErrors.None;
            },
        };
        if (clientCert is not null)
        {
            handler.ClientCertificateOptions = ClientCertificateOption.Manual;
            handler.ClientCertificates.Add(clientCert);
        }

        return new HttpClient(handler) { BaseAddress = api.BaseAddress };
    }

    private static X509Certificate2 Load((string Cert, string Key) pem)
    {
        using var ephemeral = X509Certificate2.CreateFromPem(pem.Cert, pem.Key);
        return X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
    }

    [Fact]
    public async Task Https_NoCredentials_ReturnsUnauthorizedStatus()
    {
        await using var api = await ApiServerFixture.StartAsync(o => { o.UseHttps = true; o.RequiredBearerToken = Token; });
        Assert.Equal("https", api.BaseAddress.Scheme);
        using var client = Client(api);
        var r = await new KubeHttp(client).GetAsync("/api/v1/namespaces");
        Assert.Equal(HttpStatusCode.Unauthorized, r.Status);
        Assert.Equal("Unauthorized", r.Reason);
        Assert.Equal(401, r.Body["code"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("Bearer " + Token, HttpStatusCode.OK)]
    [InlineData("Bearer wrong", HttpStatusCode.Unauthorized)]
    [InlineData("Basic " + Token, HttpStatusCode.Unauthorized)]
    public async Task Https_BearerToken_IsChecked(string authorization, HttpStatusCode expected)
    {
        await using var api = await ApiServerFixture.StartAsync(o => { o.UseHttps = true; o.RequiredBearerToken = Token; });
        using var client = Client(api);
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        var r = await new KubeHttp(client).GetAsync("/api/v1/namespaces");
        Assert.Equal(expected, r.Status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Https_ClientCertificateFromServerCa_IsAccepted(bool ecdsa)
    {
        await using var api = await ApiServerFixture.StartAsync(o => { o.UseHttps = true; o.RequiredBearerToken = Token; });
        using var cert = Load(api.Server.IssueClientCertificate("tester", ecdsa));
        Assert.Equal("CN=tester", cert.Subject);
        using var client = Client(api, cert);
        var r = await new KubeHttp(client).GetAsync("/api/v1/namespaces");
        Assert.Equal(HttpStatusCode.OK, r.Status);
    }

    [Fact]
    public async Task Https_ClientCertificateFromOtherCa_IsRejected()
    {
        await using var other = await ApiServerFixture.StartAsync(o => o.UseHttps = true);
        await using var api = await ApiServerFixture.StartAsync(o => { o.UseHttps = true; o.RequiredBearerToken = Token; });
        using var foreign = Load(other.Server.IssueClientCertificate("intruder", true));
        using var client = Client(api, foreign);
        var r = await new KubeHttp(client).GetAsync("/api/v1/namespaces");
        Assert.Equal(HttpStatusCode.Unauthorized, r.Status);
    }

    [Fact]
    public async Task Https_Ipv6Loopback_ServerCertificateMatchesAddress()
    {
        await using var api = await ApiServerFixture.StartAsync(o => { o.BindAddress = "::1"; o.UseHttps = true; });
        Assert.Equal("[::1]", api.BaseAddress.Host);
        using var client = Client(api);
        var r = await new KubeHttp(client).GetAsync("/api/v1/namespaces/default");
        Assert.Equal(HttpStatusCode.OK, r.Status);
    }

    [Fact]
    public async Task Http_WithTokenRequired_HealthzIsAnonymous()
    {
        await using var api = await ApiServerFixture.StartAsync(o => o.RequiredBearerToken = Token);
        Assert.Equal(HttpStatusCode.OK, (await api.Http.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await api.Http.GetAsync("/version")).StatusCode);
    }

    [Fact]
    public async Task WriteKubeconfig_ContainsServerCaAndToken()
    {
        await using var api = await ApiServerFixture.StartAsync(o => { o.UseHttps = true; o.RequiredBearerToken = Token; });
        var path = Path.Combine(Path.GetTempPath(), $"barelb-kc-{Guid.NewGuid():N}", "config");
        try
        {
            Assert.Equal(path, api.Server.WriteKubeconfig(path, Token));
            var text = File.ReadAllText(path);
            Assert.Contains("server: " + api.BaseAddress.GetLeftPart(UriPartial.Authority), text, StringComparison.Ordinal);
            Assert.Contains("certificate-authority-data: " + Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(api.Server.CaCertificatePem!)), text, StringComparison.Ordinal);
            Assert.Contains($"token: \"{Token}\"", text, StringComparison.Ordinal);
            Assert.Contains("current-context: barelb", text, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(path)!, true);
        }
    }
}

using BareLb.ApiServer;
using Xunit;

namespace BareLb.TestSupport;

/// <summary>
/// An in-memory API server on loopback for a test class (xUnit class fixture) or a single test
/// (<see cref="StartAsync"/>), with an HttpClient pointed at it.
/// </summary>
public sealed class ApiServerFixture : IAsyncLifetime, IAsyncDisposable
{
    private readonly Action<ApiServerOptions>? _configure;
    private InMemoryApiServer? _server;
    private HttpClient? _http;

    public ApiServerFixture()
    {
    }

    private ApiServerFixture(Action<ApiServerOptions>? configure) => _configure = configure;

    public InMemoryApiServer Server => _server ?? throw new InvalidOperationException("the fixture has not been started");

    /// <summary>Plain HTTP client for the server (no credentials; a server started with a token needs them added).</summary>
    public HttpClient Http => _http ?? throw new InvalidOperationException("the fixture has not been started");

    public Uri BaseAddress => Server.BaseAddress;

    public static async Task<ApiServerFixture> StartAsync(Action<ApiServerOptions>? configure = null, CancellationToken ct = default)
    {
        var fixture = new ApiServerFixture(configure);
        await fixture.StartCoreAsync(ct).ConfigureAwait(false);
        return fixture;
    }

    public Task InitializeAsync() => StartCoreAsync(CancellationToken.None);

    private async Task StartCoreAsync(CancellationToken ct)
    {
        var options = new ApiServerOptions { BindAddress = "127.0.0.1", Port = 0 };
        _configure?.Invoke(options);
        _server = await InMemoryApiServer.StartAsync(options, ct).ConfigureAwait(false);
        var handler = new HttpClientHandler();
        if (options.UseHttps && _server.CaCertificatePem is { } caPem)
        {
            using var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(caPem);
            var caCopy = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(ca.RawData);
            handler.ServerCertificateCustomValidationCallback = (_, cert, _, _) =>
            {
                if (cert is null)
                {
                    return false;
                }

                using var chain = new System.Security.Cryptography.X509Certificates.X509Chain();
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(caCopy);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(cert);
            };
        }

        _http = new HttpClient(handler) { BaseAddress = _server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    async ValueTask IAsyncDisposable.DisposeAsync() => await DisposeAsync().ConfigureAwait(false);
}

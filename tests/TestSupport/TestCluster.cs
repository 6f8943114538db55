using System.Security.Cryptography.X509Certificates;
using BareLb.ApiServer;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Http;

namespace BareLb.TestSupport;

/// <summary>
/// An in-memory API server on loopback and a <see cref="KubernetesClient"/> configured for it (CA and bearer
/// token included when the options ask for HTTPS or a token). One per test; dispose it at the end.
/// </summary>
/// <example>
/// await using var cluster = await TestCluster.StartAsync(new ApiServerOptions { CrdDirectory = TestCluster.CrdDirectory });
/// await cluster.Client.CreateAsync(CoreResources.Services, service, ct);
/// </example>
public sealed class TestCluster : IAsyncDisposable
{
    private readonly List<KubernetesClient> _clients = [];

    private TestCluster(InMemoryApiServer server, KubernetesClientConfiguration configuration)
    {
        Server = server;
        Configuration = configuration;
        Client = CreateClient();
    }

    public InMemoryApiServer Server { get; }

    /// <summary>Points at <see cref="Server"/>; vary one setting with <c>Configuration with { BearerToken = null }</c>.</summary>
    public KubernetesClientConfiguration Configuration { get; }

    public KubernetesClient Client { get; }

    /// <summary>The repository's crds/ folder (IPAddressPool and friends), found by walking up to BareLb.sln.</summary>
    public static string CrdDirectory => Path.Combine(RepositoryRoot, "crds");

    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "BareLb.sln")) || File.Exists(Path.Combine(dir.FullName, "BareLb.slnx")))
                {
                    return dir.FullName;
                }
            }
            throw new InvalidOperationException($"BareLb.sln not found above {AppContext.BaseDirectory}");
        }
    }

    public static async Task<TestCluster> StartAsync(ApiServerOptions? options = null, CancellationToken ct = default)
    {
        options ??= new ApiServerOptions();
        var server = await InMemoryApiServer.StartAsync(options, ct).ConfigureAwait(false);
        try
        {
            X509Certificate2Collection? ca = null;
            if (server.CaCertificatePem is { } pem)
            {
                ca = [];
                ca.ImportFromPem(pem);
            }
            var configuration = new KubernetesClientConfiguration
            {
                Server = server.BaseAddress,
                CertificateAuthority = ca,
                BearerToken = options.RequiredBearerToken,
                RequestTimeout = TimeSpan.FromSeconds(15),
                Source = "TestCluster",
            };
            return new TestCluster(server, configuration);
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Another client for the same server, e.g. with a rate limiter or a fake clock; disposed with the cluster.</summary>
    public KubernetesClient CreateClient(IRequestRateLimiter? rateLimiter = null, TimeProvider? timeProvider = null)
    {
        var client = new KubernetesClient(Configuration, rateLimiter, timeProvider);
        lock (_clients)
        {
            _clients.Add(client);
        }
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }
        await Server.DisposeAsync().ConfigureAwait(false);
    }
}

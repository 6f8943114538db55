using k8s;
using BareLb.Kubernetes;
using System.Security.Cryptography.X509Certificates;
using BareLb.ApiServer;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.RateLimiting;

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

    private TestCluster(InMemoryApiServer server, ApiConnection configuration)
    {
        Server = server;
        Configuration = configuration;
        Client = CreateClient();
    }

    public InMemoryApiServer Server { get; }

    /// <summary>Points at <see cref="Server"/>; vary one setting with <c>Configuration with { RequestTimeout = ... }</c> or <c>WithToken</c>.</summary>
    public ApiConnection Configuration { get; }

    public KubernetesClient Client { get; }

    /// <summary>
    /// A full-object PUT, as <c>kubectl replace</c> or a user's editor does. BareLb's own seam has no PUT on purpose
    /// (see <see cref="IKubernetesClient"/>); tests use this to play the user. Conflicts throw <see cref="ConflictException"/>.
    /// </summary>
    public async Task<T> ReplaceAsync<T>(ResourceType<T> type, T obj, CancellationToken ct = default)
        where T : class, k8s.IKubernetesObject<k8s.Models.V1ObjectMeta>
    {
        obj.ApiVersion = type.ApiVersion;
        obj.Kind = type.Kind;
        using var api = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration
        {
            Host = Server.BaseAddress.ToString(),
            AccessToken = Configuration.Package.AccessToken,
            SkipTlsVerify = true,
        });
        try
        {
            var result = type.Namespaced
                ? await api.CustomObjects.ReplaceNamespacedCustomObjectAsync<T>(obj, type.Group, type.Version, obj.Metadata.NamespaceProperty, type.Plural, obj.Metadata.Name, cancellationToken: ct).ConfigureAwait(false)
                : await api.CustomObjects.ReplaceClusterCustomObjectAsync<T>(obj, type.Group, type.Version, type.Plural, obj.Metadata.Name, cancellationToken: ct).ConfigureAwait(false);
            return result;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            throw KubernetesApiException.From(e.Response.StatusCode, new k8s.Models.V1Status { Code = 409, Reason = "Conflict", Message = e.Response.Content });
        }
    }

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
            var configuration = ApiConnection.ForServer(server.BaseAddress, ca, options.RequiredBearerToken) with
            {
                RequestTimeout = TimeSpan.FromSeconds(15),
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
    public KubernetesClient CreateClient(IRequestRateLimiter? rateLimiter = null, TimeProvider? timeProvider = null, ApiConnection? connection = null)
    {
        var client = new KubernetesClient(connection ?? Configuration, rateLimiter, timeProvider);
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

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Controllers;
using BareLb.ApiServer.Discovery;
using BareLb.ApiServer.Hosting;
using BareLb.ApiServer.Http;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Security;
using BareLb.ApiServer.Storage;
using BareLb.ApiServer.Tables;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;

namespace BareLb.ApiServer;

/// <summary>An in-memory Kubernetes API server (core, discovery, coordination, apiextensions and CRDs) over HTTP(S).</summary>
public sealed class InMemoryApiServer : IAsyncDisposable
{
    private const int MaxPendingEventsPerWatcher = 1_000_000;

    private readonly WebApplication _app;
    private readonly ObjectStore _store;
    private readonly CertificateAuthority? _ca;
    private readonly CancellationTokenSource _stopping;
    private readonly OutageSwitch _outage;
    private readonly ControllerHost _controllers;

    private InMemoryApiServer(
        WebApplication app, ObjectStore store, CertificateAuthority? ca, CancellationTokenSource stopping, Uri baseAddress, OutageSwitch outage,
        ControllerHost controllers)
    {
        _controllers = controllers;
        _app = app;
        _store = store;
        _ca = ca;
        _stopping = stopping;
        _outage = outage;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public string? CaCertificatePem => _ca?.CertificatePem;

    public long CurrentResourceVersion => _store.CurrentResourceVersion;

    public static async Task<InMemoryApiServer> StartAsync(ApiServerOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var time = TimeProvider.System;
        var store = new ObjectStore(options.WatchHistorySize, MaxPendingEventsPerWatcher);
        var crdStrategy = new CrdStrategy(time);
        var catalog = new ResourceCatalog(BuiltInKinds.Create(crdStrategy));
        crdStrategy.Attach(catalog);
        var operations = new ResourceOperations(store, catalog, time);

        foreach (var ns in (string[])["default", "kube-system", "kube-public", "kube-node-lease"])
        {
            operations.Create(catalog.Namespaces, "", new JsonObject { ["metadata"] = new JsonObject { ["name"] = ns } }, new WriteOptions());
        }

        if (options.CrdDirectory is { } dir)
        {
            LoadCrds(dir, catalog, operations);
        }

        var bindAddress = ResolveBindAddress(options.BindAddress);
        var ca = options.UseHttps ? new CertificateAuthority(time) : null;
        var stopping = new CancellationTokenSource();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.MaxRequestBodySize = 4 * 1024 * 1024;
            kestrel.AddServerHeader = false;
            kestrel.Listen(bindAddress, options.Port, listen =>
            {
                if (ca is null)
                {
                    listen.Protocols = HttpProtocols.Http1;
                    return;
                }

                listen.Protocols = HttpProtocols.Http1AndHttp2;
                var serverCert = ca.IssueServerCertificate(["127.0.0.1", "::1", "localhost", options.BindAddress, bindAddress.ToString()]);
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = serverCert,
                    ClientCertificateMode = ClientCertificateMode.AllowCertificate,
                    // Chains are checked against our own CA per request (RequestAuthenticator), not the system store.
                    ClientCertificateValidation = (_, _, _) => true,
                });
            });
        });

        var app = builder.Build();
        var controllers = new ControllerHost(store, catalog, operations, time, app.Services.GetRequiredService<ILogger<ControllerHost>>());
        Uri? baseAddress = null;
        var tables = new TableConverter(time);
        var outage = new OutageSwitch();
        var handler = new ApiRequestHandler(
            app.Services.GetRequiredService<ILogger<ApiRequestHandler>>(),
            catalog,
            operations,
            new DiscoveryDocuments(catalog),
            new OpenApiDocuments(catalog),
            tables,
            new RequestAuthenticator(options.RequiredBearerToken, ca),
            new WatchStreamer(store, tables, options.BookmarkInterval, time, outage, stopping.Token),
            outage,
            () => baseAddress!.Authority,
            stopping.Token);
        app.Run(handler.HandleAsync);
        await app.StartAsync(ct).ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var port = new Uri(address.Replace("[::]", "[::1]", StringComparison.Ordinal)).Port;
        // A wildcard bind is reachable through loopback; the wildcard itself is not an address clients can dial.
        var dialable = bindAddress.Equals(IPAddress.Any) ? IPAddress.Loopback : bindAddress.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback : bindAddress;
        var host = dialable.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{dialable}]" : dialable.ToString();
        baseAddress = new Uri($"{(ca is null ? "http" : "https")}://{host}:{port}");
        var server = new InMemoryApiServer(app, store, ca, stopping, baseAddress, outage, controllers);
        if (options.KubeconfigPath is { } kubeconfig)
        {
            server.WriteKubeconfig(kubeconfig, options.RequiredBearerToken);
        }

        return server;
    }

    public (string CertificatePem, string PrivateKeyPem) IssueClientCertificate(string commonName, bool ecdsa)
    {
        if (_ca is null)
        {
            throw new InvalidOperationException("client certificates need UseHttps");
        }

        return _ca.IssueClientCertificate(commonName, ecdsa);
    }

    public string WriteKubeconfig(string path, string? token = null)
    {
        var full = Path.GetFullPath(path);
        if (Path.GetDirectoryName(full) is { } dir)
        {
            Directory.CreateDirectory(dir);
        }

        File.WriteAllText(full, KubeconfigWriter.Render(BaseAddress, CaCertificatePem, token), new UTF8Encoding(false));
        return full;
    }

    public void CompactWatchHistory() => _store.Compact();

    /// <summary>
    /// Completes once the emulated controllers (namespace deletion, CRD cleanup, garbage collection) have nothing
    /// queued or running. They act right after the commits that concern them, so a test that deleted a namespace
    /// awaits this before looking at the result, as it would poll on a real cluster.
    /// </summary>
    public Task WhenControllersIdleAsync(CancellationToken ct = default) => _controllers.WhenIdleAsync(ct);

    /// <summary>The outage being simulated (<see cref="ApiOutage.None"/> when serving).</summary>
    public ApiOutage Outage => _outage.Mode;

    /// <summary>
    /// Simulates an API outage until called again with <see cref="ApiOutage.None"/>; objects, resourceVersions and
    /// watch history are kept, so clients resume where they left off (or relist, if they must).
    /// </summary>
    public void SetOutage(ApiOutage outage) => _outage.Set(outage);

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _controllers.DisposeAsync().ConfigureAwait(false);
        _store.CloseAllWatchers();
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _ca?.Dispose();
        _stopping.Dispose();
    }

    private static IPAddress ResolveBindAddress(string bind)
    {
        if (IPAddress.TryParse(bind.Trim('[', ']'), out var ip))
        {
            return ip;
        }

        if (string.Equals(bind, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return IPAddress.Loopback;
        }

        return Dns.GetHostAddresses(bind).First();
    }

    private static void LoadCrds(string directory, ResourceCatalog catalog, ResourceOperations operations)
    {
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"CRD directory {directory} does not exist");
        }

        var files = Directory.EnumerateFiles(directory)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) ||
                        f.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal);
        foreach (var file in files)
        {
            List<JsonNode?> docs;
            try
            {
                docs = YamlJson.ParseDocuments(File.ReadAllText(file));
            }
            catch (FormatException e)
            {
                throw new InvalidDataException($"{file}: {e.Message}", e);
            }

            foreach (var doc in docs.OfType<JsonObject>())
            {
                if (JsonTree.Str(doc, "kind") != "CustomResourceDefinition")
                {
                    continue;
                }

                try
                {
                    operations.Create(catalog.CustomResourceDefinitions, "", doc, new WriteOptions(FieldValidation: FieldValidation.Ignore));
                }
                catch (StatusException e)
                {
                    throw new InvalidDataException($"{file}: CRD {JsonTree.Str(doc["metadata"], "name")} rejected: {e.Message}", e);
                }
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.ApiServer;
using BareLb.Controller;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Client;
using k8s;
using k8s.Models;
using BareLb.Kubernetes.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Benchmarks;

/// <summary>
/// N LoadBalancer Services (40% IPv4, 30% IPv6, 30% dual-stack) created as fast as the in-memory API server accepts
/// them, with the controller running. Measures, in one run: how long the API server took to accept every create,
/// and how long until every Service showed its address(es). IPv4 addresses are shared 16 Services to an address
/// (allow-shared-ip, distinct ports) so the test ranges (two /24s) suffice; IPv6 comes from a /48.
/// </summary>
public static class ServiceChurnBenchmark
{
    private const string Ns = "bench";
    private const int SharingGroup = 16;

    /// <param name="qps">The controller's client-side request limit (0: none), as barelb-controller's --kube-api-qps.</param>
    public static async Task<int> RunAsync(int count, double qps = 0)
    {
        await using var server = await InMemoryApiServer.StartAsync(new ApiServerOptions
        {
            CrdDirectory = Path.Combine(RepositoryRoot(), "crds"),
            WatchHistorySize = Math.Max(100_000, count * 10),
        });
        using var client = new KubernetesClient(ApiConnection.ForServer(server.BaseAddress) with { RequestTimeout = TimeSpan.FromMinutes(1) });
        foreach (var name in new[] { "barelb-system", Ns })
        {
            await client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, default);
        }
        await client.CreateAsync(BareLbResources.IPAddressPools, new IPAddressPool
        {
            Metadata = new V1ObjectMeta { Name = "main", NamespaceProperty = "barelb-system" },
            Spec = new IPAddressPoolSpec { Addresses = ["198.51.100.0/24", "203.0.113.0/24", "2001:db8::/48"] },
        }, default);

        // The controller gets its own client, limited like the binary's when asked; the creating client is not.
        using var limited = new KubernetesClient(client.Connection, qps > 0 ? new TokenBucketRateLimiter(qps, (int)(qps * 2)) : null);
        var controllerClient = new RequestCounter(limited);
        using var stop = new CancellationTokenSource();
        var events = ControllerEvents.CreateRecorder(controllerClient, "bench", NullLogger.Instance, queueCapacity: 100_000);
        var controller = new LoadBalancerController(controllerClient, new ControllerOptions { Namespace = "barelb-system" }, events, NullLoggerFactory.Instance);
        var running = Task.WhenAll(events.RunAsync(stop.Token), controller.RunAsync(stop.Token));
        await controller.Ready;

        var expected = new ConcurrentDictionary<string, int>();
        var services = Enumerable.Range(0, count).Select(i => Build(i, expected)).ToList();
        var start = await client.ListAsync(CoreResources.Services, Ns, new ListOptions { Limit = 1 }, default);
        var clock = Stopwatch.StartNew();
        var watcher = WaitForAllAsync(client, start.ResourceVersion!, expected, count, clock, stop.Token);

        await Parallel.ForEachAsync(services, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            async (service, ct) => await client.CreateAsync(CoreResources.Services, service, ct));
        var created = clock.Elapsed;
        var assigned = await watcher.WaitAsync(TimeSpan.FromMinutes(15));
        var total = clock.Elapsed;
        using (var idle = new CancellationTokenSource(TimeSpan.FromMinutes(5)))
        {
            await controller.WaitForIdleAsync(idle.Token);
        }
        await events.RecordAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = "barelb-system" } }, CoreResources.Namespaces,
            EventType.Normal, "BenchDone", "every event before this one is written", CancellationToken.None);
        var requests = controllerClient.Counts.Where(kv => !kv.Key.StartsWith("list ", StringComparison.Ordinal)).ToDictionary();

        await stop.CancelAsync();
        try
        {
            await running;
        }
        catch (OperationCanceledException)
        {
        }

        Console.WriteLine($"controller client limit: {(qps > 0 ? $"{qps} QPS, burst {(int)(qps * 2)}" : "none")}");
        Console.WriteLine($"services: {count} (IPv4 {services.Count(s => s.Spec.IpFamilyPolicy == "SingleStack" && s.Spec.IpFamilies![0] == "IPv4")}, " +
            $"IPv6 {services.Count(s => s.Spec.IpFamilyPolicy == "SingleStack" && s.Spec.IpFamilies![0] == "IPv6")}, " +
            $"dual-stack {services.Count(s => s.Spec.IpFamilyPolicy == "RequireDualStack")})");
        Console.WriteLine($"API server accepted every create after   {created.TotalSeconds,8:F2} s ({count / created.TotalSeconds:F0} creates/s)");
        Console.WriteLine($"every Service had its address(es) after  {assigned.TotalSeconds,8:F2} s");
        Console.WriteLine($"ratio assigned/created                   {assigned.TotalSeconds / created.TotalSeconds,8:F2}");
        Console.WriteLine($"lag after the last create                {(assigned - created).TotalSeconds,8:F2} s");
        var requestCount = requests.Values.Sum() - 1;
        Console.WriteLine($"controller requests per Service          {requestCount / (double)count,8:F2} ({string.Join(", ", requests.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}"))}; the last Event is the benchmark's own)");
        return 0;
    }

    private static V1Service Build(int i, ConcurrentDictionary<string, int> expected)
    {
        var kind = (i % 10) switch { < 4 => "v4", < 7 => "v6", _ => "ds" };
        var name = $"svc-{i:D5}";
        var annotations = new Dictionary<string, string>();
        if (kind != "v6")
        {
            // Group members differ only in port, so they may share one IPv4 address.
            annotations[Annotations.AllowSharedIP] = $"{kind}-{i / (10 * SharingGroup)}";
        }
        expected[name] = kind == "ds" ? 2 : 1;
        return new V1Service
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Ns, Annotations = annotations },
            Spec = new V1ServiceSpec
            {
                Type = "LoadBalancer",
                // 10,000 LoadBalancers would exhaust the 2,768 NodePorts, as on a real cluster.
                AllocateLoadBalancerNodePorts = false,
                IpFamilies = kind switch { "v4" => ["IPv4"], "v6" => ["IPv6"], _ => ["IPv4", "IPv6"] },
                IpFamilyPolicy = kind == "ds" ? "RequireDualStack" : "SingleStack",
                Selector = new Dictionary<string, string>() { ["app"] = name },
                Ports = [new V1ServicePort { Port = 1000 + (i / 10) % SharingGroup, Protocol = "TCP" }],
            },
        };
    }

    /// <summary>Watches Services and returns the elapsed time when the last one showed all its addresses.</summary>
    private static async Task<TimeSpan> WaitForAllAsync(IKubernetesClient client, string resourceVersion,
        ConcurrentDictionary<string, int> expected, int count, Stopwatch clock, CancellationToken ct)
    {
        var done = new HashSet<string>();
        var rv = resourceVersion;
        while (done.Count < count)
        {
            await foreach (var e in client.WatchAsync(CoreResources.Services, Ns, new WatchOptions { ResourceVersion = rv }, ct))
            {
                rv = e.ResourceVersion ?? rv;
                if (e.Object is not null && e.Type is WatchEventType.Added or WatchEventType.Modified &&
                    expected.TryGetValue(e.Object.Metadata.Name ?? "", out var want) &&
                    (e.Object.Status?.LoadBalancer?.Ingress?.Count ?? 0) == want)
                {
                    done.Add(e.Object.Metadata.Name!);
                    if (done.Count == count)
                    {
                        break;
                    }
                }
            }
        }
        return clock.Elapsed;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BareLb.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("BareLb.sln not found");
    }
}

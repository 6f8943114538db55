using System.Net;
using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Lab;
using BareLb.NetTestSupport;
using k8s.Models;
using Xunit.Abstractions;

namespace BareLb.EndToEnd.Tests;

/// <summary>
/// One lab (three nodes, client, API server; the real controller and speakers) shared by the end-to-end tests, which
/// run one at a time in the <see cref="LabCollection"/>. Each test brings its own pool, advertisement and Services,
/// in a namespace of its own, and leaves every node alive.
/// </summary>
public sealed class LabFixture : IAsyncLifetime
{
    private readonly LabMode _mode;
    private LabEnvironment? _lab;
    private int _namespaces;

    public LabFixture() : this(LabMode.Layer2)
    {
    }

    internal LabFixture(LabMode mode) => _mode = mode;

    public LabEnvironment Lab => _lab ?? throw new InvalidOperationException(NetnsCapability.MissingReason ?? "the lab did not start");

    public static string RepositoryRoot
    {
        get
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

    public async Task InitializeAsync()
    {
        if (NetnsCapability.MissingReason is not null)
        {
            return;
        }
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        _lab = await LabEnvironment.StartAsync(new LabOptions
        {
            Nodes = 3,
            Mode = _mode,
            RepositoryRoot = RepositoryRoot,
            ApplyExamples = false,
            Configuration = configuration,
            StateRoot = "/tmp/barelb-e2e",
        });
    }

    public async Task DisposeAsync()
    {
        if (_lab is not null)
        {
            await _lab.DisposeAsync();
        }
    }

    /// <summary>A fresh namespace for one test's Services.</summary>
    public async Task<string> NamespaceAsync()
    {
        var name = $"e2e-{Interlocked.Increment(ref _namespaces)}";
        await Lab.Client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, default);
        return name;
    }

    public Task<IPAddressPool> PoolAsync(string name, params string[] addresses) =>
        Lab.Client.CreateAsync(BareLbResources.IPAddressPools, new IPAddressPool
        {
            Kind = "IPAddressPool",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = LabEnvironment.SystemNamespace },
            Spec = new IPAddressPoolSpec { Addresses = [.. addresses], AutoAssign = false },
        }, default);

    public Task<L2Advertisement> AdvertisementAsync(string name, string pool, IEnumerable<string>? interfaces = null) =>
        Lab.Client.CreateAsync(BareLbResources.L2Advertisements, new L2Advertisement
        {
            Kind = "L2Advertisement",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = LabEnvironment.SystemNamespace },
            Spec = new L2AdvertisementSpec { IPAddressPools = [pool], Interfaces = interfaces?.ToList() },
        }, default);

    /// <summary>A LoadBalancer Service asking for <paramref name="pool"/>; annotations add to that.</summary>
    public Task<V1Service> ServiceAsync(string ns, string name, string pool, string family = "IPv4", string policy = "Cluster",
        IDictionary<string, string>? annotations = null, int port = 80)
    {
        var all = new Dictionary<string, string>(annotations ?? new Dictionary<string, string>()) { [Annotations.AddressPool] = pool };
        var families = family == "Dual" ? new List<string> { "IPv4", "IPv6" } : [family];
        return Lab.Client.CreateAsync(CoreResources.Services, new V1Service
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Annotations = all },
            Spec = new V1ServiceSpec
            {
                Type = "LoadBalancer",
                IpFamilies = families,
                IpFamilyPolicy = family == "Dual" ? "RequireDualStack" : "SingleStack",
                ExternalTrafficPolicy = policy,
                AllocateLoadBalancerNodePorts = false,
                Selector = new Dictionary<string, string> { ["app"] = name },
                Ports = [new V1ServicePort { Name = "http", Protocol = "TCP", Port = port, TargetPort = LabAddressing.BackendPort }],
            },
        }, default);
    }

    public async Task<IReadOnlyList<IPAddress>> AddressesAsync(string ns, string name, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var service = await Lab.Client.GetAsync(CoreResources.Services, ns, name, default);
            var ingress = service.Status?.LoadBalancer?.Ingress ?? [];
            if (ingress.Count >= count)
            {
                return [.. ingress.Select(i => IPAddress.Parse(i.Ip))];
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{ns}/{name} has {ingress.Count} of {count} addresses after {timeout}:\n{ControllerTail()}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Waits until the client gets an HTTP answer from <paramref name="address"/>; returns the answering node.</summary>
    public async Task<string> AnswerAsync(IPAddress address, int port = 80, TimeSpan? timeout = null, Func<string, bool>? accept = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            if (await Lab.GetAsync(address, port, TimeSpan.FromMilliseconds(500)) is { } answer && (accept?.Invoke(answer) ?? true))
            {
                return answer;
            }
            if (DateTime.UtcNow > deadline)
            {
                var neigh = await Lab.ClientNamespace.ExecAsync("ip", ["neigh", "show"]);
                var mdb = await Lab.Switch.ExecAsync("bridge", ["mdb", "show"]);
                throw new TimeoutException($"{address}:{port} not answered (as wanted) within {timeout}:\nclient neighbours:\n{neigh.StandardOutput}\nbridge mdb:\n{mdb.StandardOutput}\n{SpeakerTails()}");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Brings every node back (link up, speaker running): tests leave the lab as they found it.</summary>
    public async Task ReviveAllAsync()
    {
        foreach (var node in Lab.Nodes)
        {
            if (!node.LinkUp || node.Speaker?.IsRunning != true)
            {
                await Lab.ReviveNodeAsync(node);
            }
        }
    }

    public async Task DeleteAsync(string ns, params string[] pools)
    {
        await Lab.Client.DeleteAsync(CoreResources.Namespaces, null, ns, null, default);
        foreach (var pool in pools)
        {
            try
            {
                await Lab.Client.DeleteAsync(BareLbResources.L2Advertisements, LabEnvironment.SystemNamespace, pool, null, default);
            }
            catch (NotFoundException)
            {
            }
            await Lab.Client.DeleteAsync(BareLbResources.IPAddressPools, LabEnvironment.SystemNamespace, pool, null, default);
        }
    }

    public Task PatchAsync(string ns, string name, JsonObject patch) =>
        Lab.Client.PatchAsync(CoreResources.Services, ns, name, patch, status: false, default);

    /// <summary>
    /// Waits until no speaker has logged a line containing <paramref name="marker"/> for <paramref name="quiet"/>
    /// (at most <paramref name="limit"/>); returns how long that took.
    /// </summary>
    public async Task<TimeSpan> QuietAsync(string marker, TimeSpan quiet, TimeSpan limit)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var seen = Lab.Nodes.ToDictionary(n => n.Name, n => n.Speaker!.Log.Length);
        var since = System.Diagnostics.Stopwatch.StartNew();
        while (since.Elapsed < quiet && clock.Elapsed < limit)
        {
            await Task.Delay(200);
            foreach (var node in Lab.Nodes)
            {
                var log = node.Speaker!.Log;
                if (log[Math.Min(seen[node.Name], log.Length)..].Contains(marker, StringComparison.Ordinal))
                {
                    since.Restart();
                }
                seen[node.Name] = log.Length;
            }
        }
        return clock.Elapsed;
    }

    public string ControllerTail() => $"--- controller ---\n{LabProcess.Tail(Lab.Controller.Log, 30)}";

    public string SpeakerTails() =>
        string.Join('\n', Lab.Nodes.Select(n => $"--- speaker {n.Name} ---\n{LabProcess.Tail(n.Speaker?.Log ?? "", 20)}"));

    public void Report(ITestOutputHelper output)
    {
        output.WriteLine(ControllerTail());
        output.WriteLine(SpeakerTails());
    }
}

[CollectionDefinition(Name)]
public sealed class LabCollection : ICollectionFixture<LabFixture>
{
    public const string Name = "lab";
}

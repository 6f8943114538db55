using System.Net;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.ApiServer;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using k8s;
using k8s.Models;
using BareLb.TestSupport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Controller.Tests;

/// <summary>
/// An in-memory API server with BareLb's CRDs and a running controller, for end-to-end tests over loopback HTTP.
/// The controller can be stopped and started again (a restart) while the API server keeps its state.
/// </summary>
public sealed class ControllerFixture : IAsyncDisposable
{
    public const string SystemNamespace = "barelb-system";
    public const string AppNamespace = "demo";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private CancellationTokenSource? _stop;
    private Task? _run;

    private ControllerFixture(TestCluster cluster, string? loadBalancerClass)
    {
        Cluster = cluster;
        LoadBalancerClass = loadBalancerClass;
    }

    public TestCluster Cluster { get; }
    public IKubernetesClient Client => Cluster.Client;
    public string? LoadBalancerClass { get; }
    public LoadBalancerController? Controller { get; private set; }

    public static async Task<ControllerFixture> StartAsync(string? loadBalancerClass = null, bool startController = true)
    {
        var cluster = await TestCluster.StartAsync(new ApiServerOptions { CrdDirectory = TestCluster.CrdDirectory });
        var fixture = new ControllerFixture(cluster, loadBalancerClass);
        await fixture.CreateNamespaceAsync(SystemNamespace);
        await fixture.CreateNamespaceAsync(AppNamespace);
        if (startController)
        {
            await fixture.StartControllerAsync();
        }
        return fixture;
    }

    public async Task StartControllerAsync()
    {
        _stop = new CancellationTokenSource();
        var events = new EventRecorder(Client, new EventRecorderOptions { Component = "barelb-controller", Host = "test" }, NullLogger.Instance);
        Controller = new LoadBalancerController(Client,
            new ControllerOptions { Namespace = SystemNamespace, LoadBalancerClass = LoadBalancerClass, PoolStatusInterval = TimeSpan.FromMilliseconds(100) },
            events, NullLoggerFactory.Instance);
        var token = _stop.Token;
        var recorder = events.RunAsync(token);
        var controller = Controller.RunAsync(token);
        _run = Task.WhenAll(recorder, controller);
        await Controller.Ready.WaitAsync(Timeout);
    }

    public async Task StopControllerAsync()
    {
        if (_stop is null)
        {
            return;
        }
        await _stop.CancelAsync();
        try
        {
            await _run!;
        }
        catch (OperationCanceledException)
        {
        }
        _stop.Dispose();
        _stop = null;
    }

    public async Task CreateNamespaceAsync(string name, Dictionary<string, string>? labels = null)
    {
        try
        {
            await Client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = name, Labels = labels } }, default);
        }
        catch (AlreadyExistsException)
        {
        }
    }

    public Task<IPAddressPool> CreatePoolAsync(string name, params string[] addresses) =>
        CreatePoolAsync(name, new IPAddressPoolSpec { Addresses = addresses.ToList() });

    public Task<IPAddressPool> CreatePoolAsync(string name, IPAddressPoolSpec spec) =>
        Client.CreateAsync(BareLbResources.IPAddressPools,
            new IPAddressPool { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = SystemNamespace }, Spec = spec }, default);

    public static V1Service LoadBalancer(string name, Dictionary<string, string>? annotations = null, string[]? families = null,
        string? policy = null, int port = 80, string? lbClass = null, string ns = AppNamespace) => new()
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Annotations = annotations },
            Spec = new V1ServiceSpec
            {
                Type = "LoadBalancer",
                IpFamilies = families?.ToList(),
                IpFamilyPolicy = policy,
                LoadBalancerClass = lbClass,
                Selector = new Dictionary<string, string>() { ["app"] = name },
                Ports = [new V1ServicePort { Port = port, Protocol = "TCP" }],
            },
        };

    public Task<V1Service> CreateServiceAsync(V1Service service) => Client.CreateAsync(CoreResources.Services, service, default);

    public Task<V1Service> GetServiceAsync(string name, string ns = AppNamespace) => Client.GetAsync(CoreResources.Services, ns, name, default);

    /// <summary>Read-modify-write of a pool, retried on 409 as any client must: the controller writes its status too.</summary>
    public async Task UpdatePoolAsync(string name, Action<IPAddressPool> change)
    {
        for (var attempt = 0; ; attempt++)
        {
            var pool = await GetPoolAsync(name);
            change(pool);
            try
            {
                await Cluster.ReplaceAsync(BareLbResources.IPAddressPools, pool);
                return;
            }
            catch (ConflictException) when (attempt < 10)
            {
            }
        }
    }

    public Task<IPAddressPool> GetPoolAsync(string name) => Client.GetAsync(BareLbResources.IPAddressPools, SystemNamespace, name, default);

    public static IReadOnlyList<string> Ingress(V1Service service) =>
        (service.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip ?? "").ToList();

    /// <summary>Polls until <paramref name="check"/> returns a value, or fails the test with the last state seen.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T?>> check, string what) where T : class
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var value = await check();
            if (value is not null)
            {
                return value;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}");
            }
            await Task.Delay(25);
        }
    }

    public Task<V1Service> WaitForIngressAsync(string name, int count = 1, string ns = AppNamespace) =>
        EventuallyAsync(async () =>
        {
            var service = await GetServiceAsync(name, ns);
            return Ingress(service).Count == count ? service : null;
        }, $"service {ns}/{name} to have {count} ingress address(es)");

    public async Task<IReadOnlyList<Corev1Event>> EventsForAsync(string name, string ns = AppNamespace)
    {
        var list = await Client.ListAsync(CoreResources.Events, ns, new ListOptions { FieldSelector = $"involvedObject.name={name}" }, default);
        return list.Items;
    }

    public Task<Corev1Event> WaitForEventAsync(string name, string reason, string ns = AppNamespace, string? contains = null) =>
        EventuallyAsync(async () => (await EventsForAsync(name, ns)).FirstOrDefault(e => e.Reason == reason && (contains is null || e.Message?.Contains(contains) == true)),
            $"event {reason} on {ns}/{name}" + (contains is null ? "" : $" containing \"{contains}\""));

    public Task<IPAddressPool> WaitForPoolConditionAsync(string pool, string type, string status, string? contains = null) =>
        EventuallyAsync(async () =>
        {
            var p = await GetPoolAsync(pool);
            var c = p.Status?.Conditions?.FirstOrDefault(c => c.Type == type);
            return c is not null && c.Status == status && (contains is null || c.Message?.Contains(contains) == true) ? p : null;
        }, $"pool {pool} condition {type}={status}" + (contains is null ? "" : $" containing \"{contains}\""));

    public async ValueTask DisposeAsync()
    {
        await StopControllerAsync();
        await Cluster.DisposeAsync();
    }
}

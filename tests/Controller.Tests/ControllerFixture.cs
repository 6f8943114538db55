using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.ApiServer;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.TestSupport;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Controller.Tests;

/// <summary>
/// An in-memory API server with BareLb's CRDs and a running controller, for end-to-end tests over loopback HTTP.
/// The controller can be stopped and started again (a restart) while the API server keeps its state.
/// </summary>
/// <remarks>
/// Tests wait on <see cref="SettleAsync"/>, a barrier, not on polling: every write the test made through
/// <see cref="Client"/> is expected back through the controller's watches, and the barrier completes once the
/// controller has reacted to all of it and owes nothing more (see <see cref="LoadBalancerController.WaitForIdleAsync"/>),
/// and every Event it recorded is written. What the API shows then is final.
/// </remarks>
public sealed class ControllerFixture : IAsyncDisposable
{
    public const string SystemNamespace = "barelb-system";
    public const string AppNamespace = "demo";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private CancellationTokenSource? _stop;
    private Task? _run;
    private EventRecorder? _events;

    private ControllerFixture(TestCluster cluster, string? loadBalancerClass)
    {
        Cluster = cluster;
        LoadBalancerClass = loadBalancerClass;
        Client = new BarrierClient(cluster.Client, this);
    }

    public TestCluster Cluster { get; }

    /// <summary>The test's client: its writes are waited for by <see cref="SettleAsync"/>.</summary>
    public IKubernetesClient Client { get; }

    public string? LoadBalancerClass { get; }

    public LoadBalancerController? Controller => _follow is not null ? _follow() : _controller;

    private LoadBalancerController? _controller;
    private Func<LoadBalancerController?>? _follow;

    /// <summary>Makes the barrier follow controllers run elsewhere (a leader-elected replica's current term).</summary>
    public void Follow(Func<LoadBalancerController?> current, EventRecorder events)
    {
        _follow = current;
        _events = events;
    }

    /// <summary>The controller's run (recorder and loop): faulted if the controller stopped on an error.</summary>
    public Task? Running => _run;

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

    public static ControllerOptions DefaultOptions(string? loadBalancerClass = null) => new()
    {
        Namespace = SystemNamespace,
        LoadBalancerClass = loadBalancerClass,
        PoolStatusInterval = TimeSpan.FromMilliseconds(100),
        RetryDelay = TimeSpan.FromMilliseconds(50),
    };

    /// <param name="client">What the controller talks through (default: the cluster's own client), e.g. a fault injector.</param>
    public async Task StartControllerAsync(IKubernetesClient? client = null, TimeProvider? time = null, ControllerOptions? options = null, bool waitReady = true)
    {
        _stop = new CancellationTokenSource();
        client ??= Cluster.Client;
        _events = ControllerEvents.CreateRecorder(client, "test", NullLogger.Instance, time);
        _controller = new LoadBalancerController(client, options ?? DefaultOptions(LoadBalancerClass), _events, NullLoggerFactory.Instance, time);
        var token = _stop.Token;
        _run = Task.WhenAll(_events.RunAsync(token), _controller.RunAsync(token));
        if (waitReady)
        {
            await _controller.Ready.WaitAsync(Timeout);
        }
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
        _controller = null;
    }

    /// <summary>The barrier: the controller has reacted to everything so far and its Events are written.</summary>
    public async Task SettleAsync()
    {
        var controller = Controller ?? throw new InvalidOperationException("no controller is running");
        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await controller.WaitForIdleAsync(timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"the controller did not settle within {Timeout}" + (_run?.IsFaulted == true ? $": {_run.Exception}" : ""));
        }
        await FlushEventsAsync();
    }

    /// <summary>Waits until every Event recorded so far is written (the recorder writes one at a time, in order).</summary>
    public async Task FlushEventsAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await _events!.RecordAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = SystemNamespace } }, CoreResources.Namespaces,
            EventType.Normal, "TestBarrier", "events recorded before this one are written", timeout.Token);
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

    public Task<V1Service> PatchServiceAsync(string name, string patch, string ns = AppNamespace) =>
        Client.PatchAsync(CoreResources.Services, ns, name, JsonNode.Parse(patch)!, status: false, default);

    public Task<V1Service> AnnotateServiceAsync(string name, string key, string? value, string ns = AppNamespace) =>
        Client.PatchAsync(CoreResources.Services, ns, name,
            new JsonObject { ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [key] = value is null ? null : JsonValue.Create(value) } } },
            status: false, default);

    /// <summary>Read-modify-write of a pool as a user's full PUT, retried on 409 as any client must: the controller writes its status too.</summary>
    public async Task UpdatePoolAsync(string name, Action<IPAddressPool> change)
    {
        for (var attempt = 0; ; attempt++)
        {
            var pool = await GetPoolAsync(name);
            change(pool);
            try
            {
                var written = await Cluster.ReplaceAsync(BareLbResources.IPAddressPools, pool);
                Controller?.ExpectWrite(BareLbResources.IPAddressPools.Kind, written.Metadata.Key(), written.Metadata.ResourceVersion);
                return;
            }
            catch (ConflictException) when (attempt < 10)
            {
            }
        }
    }

    public Task<IPAddressPool> GetPoolAsync(string name) => Client.GetAsync(BareLbResources.IPAddressPools, SystemNamespace, name, default);

    public async Task<bool> PoolExistsAsync(string name)
    {
        try
        {
            await GetPoolAsync(name);
            return true;
        }
        catch (NotFoundException)
        {
            return false;
        }
    }

    public static IReadOnlyList<string> Ingress(V1Service service) =>
        (service.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip ?? "").ToList();

    public static string? PoolAnnotation(V1Service service) =>
        service.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.IPAllocatedFromPool);

    /// <summary>For waits the barrier cannot cover (leader terms come and go): polls until <paramref name="check"/> returns a value.</summary>
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

    /// <summary>Settles, then returns the Service, which must show <paramref name="count"/> addresses.</summary>
    public async Task<V1Service> WaitForIngressAsync(string name, int count = 1, string ns = AppNamespace)
    {
        await SettleAsync();
        var service = await GetServiceAsync(name, ns);
        Assert.True(Ingress(service).Count == count, $"service {ns}/{name} shows [{string.Join(", ", Ingress(service))}], expected {count} address(es)");
        return service;
    }

    public async Task<IReadOnlyList<Corev1Event>> EventsForAsync(string name, string ns = AppNamespace)
    {
        var list = await Client.ListAsync(CoreResources.Events, ns, new ListOptions { FieldSelector = $"involvedObject.name={name}" }, default);
        return list.Items;
    }

    /// <summary>Settles, then returns the event, which must exist.</summary>
    public async Task<Corev1Event> WaitForEventAsync(string name, string reason, string ns = AppNamespace, string? contains = null)
    {
        await SettleAsync();
        var events = await EventsForAsync(name, ns);
        var found = events.FirstOrDefault(e => e.Reason == reason && (contains is null || e.Message?.Contains(contains) == true));
        Assert.True(found is not null, $"no event {reason} on {ns}/{name}" + (contains is null ? "" : $" containing \"{contains}\"") +
            "; events: " + string.Join(" | ", events.Select(e => $"{e.Reason}: {e.Message}")));
        return found!;
    }

    /// <summary>Settles, then returns the pool, whose condition must be as given.</summary>
    public async Task<IPAddressPool> WaitForPoolConditionAsync(string pool, string type, string status, string? contains = null)
    {
        await SettleAsync();
        var p = await GetPoolAsync(pool);
        var c = p.Status?.Conditions?.FirstOrDefault(c => c.Type == type);
        Assert.True(c is not null && c.Status == status && (contains is null || c.Message?.Contains(contains) == true),
            $"pool {pool} condition {type}: {c?.Status} \"{c?.Message}\", expected {status}" + (contains is null ? "" : $" containing \"{contains}\""));
        return p;
    }

    public async ValueTask DisposeAsync()
    {
        await StopControllerAsync();
        await Cluster.DisposeAsync();
    }

    /// <summary>The test's writes, each announced to the running controller so that the barrier waits for it.</summary>
    private sealed class BarrierClient(IKubernetesClient inner, ControllerFixture fixture) : DelegatingKubernetesClient(inner)
    {
        private static readonly HashSet<string> Watched = ["Service", "Namespace", "IPAddressPool"];

        public override async Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) =>
            Announce(type, await Inner.CreateAsync(type, obj, ct));

        public override async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) =>
            Announce(type, await Inner.PatchAsync(type, ns, name, mergePatch, status, ct));

        public override async Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct)
        {
            await Inner.DeleteAsync(type, ns, name, options, ct);
            if (!Watched.Contains(type.Kind) || fixture.Controller is not { } controller)
            {
                return;
            }
            var key = string.IsNullOrEmpty(ns) ? name : $"{ns}/{name}";
            try
            {
                // Finalizers may hold it: then the deletion is an update to wait for.
                var still = await Inner.GetAsync(type, ns, name, ct);
                controller.ExpectWrite(type.Kind, key, still.Metadata.ResourceVersion);
            }
            catch (NotFoundException)
            {
                controller.ExpectDeletion(type.Kind, key);
            }
        }

        private T Announce<T>(ResourceType<T> type, T written) where T : class, IKubernetesObject<V1ObjectMeta>
        {
            if (Watched.Contains(type.Kind))
            {
                fixture.Controller?.ExpectWrite(type.Kind, written.Metadata.Key(), written.Metadata.ResourceVersion);
            }
            return written;
        }
    }
}

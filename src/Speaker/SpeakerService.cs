using BareLb.Api;
using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Informers;
using BareLb.Layer2;
using BareLb.Membership;
using BareLb.Speaker.Layer2;
using BareLb.Speaker.Membership;
using BareLb.Speaker.Planning;
using BareLb.Speaker.Status;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker;

public sealed record SpeakerOptions(string NodeName, string Namespace, string? LoadBalancerClass)
{
    public MembershipOptions Membership { get; init; } = new();

    public Layer2Options Layer2 { get; init; } = new();

    /// <summary>Bound on the graceful part of a stop: leaving the membership and removing our statuses.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// The speaker on one node. Informers keep the cluster's state (Services, Nodes, EndpointSlices, the BareLb
/// configuration and the membership Secret) in memory; the membership says which speakers are alive; on every change
/// of either the layer-2 plan is computed again and applied. Answering ARP/NDP and detecting failures need no API
/// server: while it is unreachable the speaker goes on with the state it last saw.
/// </summary>
public sealed partial class SpeakerService(
    IKubernetesClient client,
    SpeakerOptions options,
    EventRecorder events,
    ILoggerFactory loggerFactory,
    TimeProvider time) : BackgroundService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<SpeakerService>();
    private readonly SemaphoreSlim _changed = new(0, 1);
    private IReadOnlyList<Layer2Address> _plan = [];

    /// <summary>The last plan applied (every address and its owner), for diagnostics and tests.</summary>
    public IReadOnlyList<Layer2Address> Plan => Volatile.Read(ref _plan);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var log = loggerFactory.CreateLogger<SpeakerService>();
        var scoped = new ResourceInformerOptions { Namespace = options.Namespace };
        var services = new ResourceInformer<V1Service>(client, CoreResources.Services, null, log, time);
        var nodes = new ResourceInformer<V1Node>(client, CoreResources.Nodes, null, log, time);
        var slices = new ResourceInformer<V1EndpointSlice>(client, CoreResources.EndpointSlices, null, log, time);
        var pools = new ResourceInformer<IPAddressPool>(client, BareLbResources.IPAddressPools, scoped, log, time);
        var l2 = new ResourceInformer<L2Advertisement>(client, BareLbResources.L2Advertisements, scoped, log, time);
        var secrets = new ResourceInformer<V1Secret>(client, CoreResources.Secrets,
            new ResourceInformerOptions { Namespace = options.Namespace, FieldSelector = $"metadata.name={MemberlistSecret.Name}" }, log, time);
        var statuses = new ResourceInformer<ServiceL2Status>(client, BareLbResources.ServiceL2Statuses, scoped, log, time);
        IResourceInformer[] informers = [services, nodes, slices, pools, l2, secrets, statuses];
        services.AddEventHandler(Signal<V1Service>());
        nodes.AddEventHandler(Signal<V1Node>());
        slices.AddEventHandler(Signal<V1EndpointSlice>());
        pools.AddEventHandler(Signal<IPAddressPool>());
        l2.AddEventHandler(Signal<L2Advertisement>());
        secrets.AddEventHandler(Signal<V1Secret>());

        var statusWriter = new ServiceL2StatusWriter(client, options.Namespace, options.NodeName, statuses, time,
            loggerFactory.CreateLogger<ServiceL2StatusWriter>());
        statuses.AddEventHandler(new ResourceEventHandler<ServiceL2Status>(_ => statusWriter.Signal(), (_, _) => statusWriter.Signal(), _ => statusWriter.Signal()));

        await using var membership = new SpeakerMembership(options.NodeName, options.Membership, time, loggerFactory);
        membership.Changed += () => Release();
        await using var announcer = new Layer2Announcer(options.Layer2, loggerFactory.CreateLogger<Layer2Announcer>(), time);
        using var layer2 = new Layer2Speaker(options.NodeName, announcer, events, statusWriter, loggerFactory.CreateLogger<Layer2Speaker>());

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var background = new List<Task>(informers.Length + 2)
        {
            events.RunAsync(stop.Token),
            statusWriter.RunAsync(stop.Token),
        };
        background.AddRange(new Task[]
        {
            services.RunAsync(stop.Token), nodes.RunAsync(stop.Token), slices.RunAsync(stop.Token), pools.RunAsync(stop.Token),
            l2.RunAsync(stop.Token), secrets.RunAsync(stop.Token), statuses.RunAsync(stop.Token),
        });
        try
        {
            await announcer.StartAsync(stoppingToken).ConfigureAwait(false);
            await InformerSync.WaitAllAsync(informers, stoppingToken).ConfigureAwait(false);
            LogSynced(options.NodeName);

            string? configErrors = null;
            var waitingLogged = false;
            while (!stoppingToken.IsCancellationRequested)
            {
                var nodeInfos = nodes.List().Select(NodeInfo.From).Where(n => n.Name.Length > 0).ToDictionary(n => n.Name, StringComparer.Ordinal);
                membership.SetNodes(nodeInfos.Values);
                if (secrets.List().FirstOrDefault()?.Data is { } data && data.TryGetValue(MemberlistSecret.KeyField, out var key) && key.Length >= 16)
                {
                    await membership.SetKeyAsync(key, stoppingToken).ConfigureAwait(false);
                }
                else if (!membership.Started && !waitingLogged)
                {
                    waitingLogged = true;
                    LogWaitingForSecret(options.Namespace, MemberlistSecret.Name);
                }

                var parsed = ConfigParser.Parse(pools.List(), l2.List(), [], [], []);
                var errors = string.Join("; ", parsed.Errors);
                if (errors.Length > 0 && errors != configErrors)
                {
                    LogConfigError(errors);
                }
                configErrors = errors;

                var serviceList = services.List();
                var alive = membership.Alive;
                var plan = Layer2Planner.Plan(new Layer2PlanInput(options.NodeName, parsed.Config, serviceList, nodeInfos, alive,
                    EndpointsByService(slices.List()), options.LoadBalancerClass));
                var dead = alive.Contains(options.NodeName)
                    ? nodeInfos.Keys.Where(n => !alive.Contains(n)).ToHashSet(StringComparer.Ordinal)
                    : new HashSet<string>();
                layer2.Apply(plan, serviceList.ToDictionary(Layer2Planner.Key, StringComparer.Ordinal), dead);
                Volatile.Write(ref _plan, plan);

                // Wake on the next change; a failed membership stops the speaker rather than leave it limping unseen.
                var woke = await Task.WhenAny(_changed.WaitAsync(stoppingToken), membership.Completion).ConfigureAwait(false);
                if (woke == membership.Completion && membership.Completion.IsFaulted)
                {
                    await membership.Completion.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            // Leave first, so the others take over at once; then stop answering; then tidy our statuses.
            using var graceful = new CancellationTokenSource(options.StopTimeout, time);
            try
            {
                await membership.LeaveAsync(graceful.Token).ConfigureAwait(false);
                await announcer.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await statusWriter.RemoveAllAsync(graceful.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or KubernetesApiException or HttpRequestException or TimeoutException)
            {
                LogStopIncomplete(e.Message);
            }
            await stop.CancelAsync().ConfigureAwait(false);
            foreach (var task in background)
            {
                try
                {
                    await task.ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }
    }

    private static IReadOnlyDictionary<string, ServiceEndpoints> EndpointsByService(IEnumerable<V1EndpointSlice> slices) =>
        slices
            .Where(s => s.Metadata.LabelsOrEmpty().ContainsKey("kubernetes.io/service-name"))
            .GroupBy(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.LabelsOrEmpty()["kubernetes.io/service-name"]}", StringComparer.Ordinal)
            .ToDictionary(g => g.Key, ServiceEndpoints.From, StringComparer.Ordinal);

    private void Release()
    {
        if (_changed.CurrentCount == 0)
        {
            try
            {
                _changed.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    private ResourceEventHandler<T> Signal<T>() where T : class, IKubernetesObject<V1ObjectMeta> =>
        new(_ => Release(), (_, _) => Release(), _ => Release());

    [LoggerMessage(1, LogLevel.Information, "Speaker on node {Node}: caches synced")]
    private partial void LogSynced(string node);

    [LoggerMessage(2, LogLevel.Warning, "Waiting for Secret {Namespace}/{Name} with the membership key (the controller creates it); announcing nothing until then")]
    private partial void LogWaitingForSecret(string @namespace, string name);

    [LoggerMessage(3, LogLevel.Warning, "Configuration error: {Error}")]
    private partial void LogConfigError(string error);

    [LoggerMessage(4, LogLevel.Warning, "Graceful stop incomplete: {Reason}")]
    private partial void LogStopIncomplete(string reason);
}

using BareLb.Api;
using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Informers;
using BareLb.Bgp;
using BareLb.Layer2;
using BareLb.Membership;
using BareLb.Speaker.Bgp;
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

    public BgpSpeakerOptions Bgp { get; init; } = new();

    /// <summary>Bound on the graceful part of a stop: leaving the membership and removing our statuses.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(3);
}

/// <summary>
/// The speaker on one node. Informers keep the cluster's state (Services, Nodes, EndpointSlices, the BareLb
/// configuration and its Secrets) in memory; the membership says which speakers are alive; on every change of either
/// the layer-2 and BGP plans are computed again and applied. Answering ARP/NDP, BGP sessions and failure detection
/// need no API server: while it is unreachable the speaker goes on with the state it last saw.
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
    private BgpPlan _bgpPlan = BgpPlan.Empty;

    /// <summary>The last layer-2 plan applied (every address and its owner), for diagnostics and tests.</summary>
    public IReadOnlyList<Layer2Address> Plan => Volatile.Read(ref _plan);

    /// <summary>The last BGP plan applied (this node's sessions and routes).</summary>
    public BgpPlan BgpPlan => Volatile.Read(ref _bgpPlan);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var log = loggerFactory.CreateLogger<SpeakerService>();
        var scoped = new ResourceInformerOptions { Namespace = options.Namespace };
        var services = new ResourceInformer<V1Service>(client, CoreResources.Services, null, log, time);
        var nodes = new ResourceInformer<V1Node>(client, CoreResources.Nodes, null, log, time);
        var slices = new ResourceInformer<V1EndpointSlice>(client, CoreResources.EndpointSlices, null, log, time);
        var pools = new ResourceInformer<IPAddressPool>(client, BareLbResources.IPAddressPools, scoped, log, time);
        var l2 = new ResourceInformer<L2Advertisement>(client, BareLbResources.L2Advertisements, scoped, log, time);
        var peers = new ResourceInformer<BGPPeer>(client, BareLbResources.BGPPeers, scoped, log, time);
        var bgpAdvertisements = new ResourceInformer<BGPAdvertisement>(client, BareLbResources.BGPAdvertisements, scoped, log, time);
        var communities = new ResourceInformer<Community>(client, BareLbResources.Communities, scoped, log, time);
        // The membership key and BGP passwords (passwordSecret lives in the BGPPeer's namespace, ours).
        var secrets = new ResourceInformer<V1Secret>(client, CoreResources.Secrets, scoped, log, time);
        var statuses = new ResourceInformer<ServiceL2Status>(client, BareLbResources.ServiceL2Statuses, scoped, log, time);
        var bgpStatuses = new ResourceInformer<ServiceBGPStatus>(client, BareLbResources.ServiceBGPStatuses, scoped, log, time);
        IResourceInformer[] informers = [services, nodes, slices, pools, l2, peers, bgpAdvertisements, communities, secrets, statuses, bgpStatuses];
        services.AddEventHandler(Signal<V1Service>());
        nodes.AddEventHandler(Signal<V1Node>());
        slices.AddEventHandler(Signal<V1EndpointSlice>());
        pools.AddEventHandler(Signal<IPAddressPool>());
        l2.AddEventHandler(Signal<L2Advertisement>());
        peers.AddEventHandler(Signal<BGPPeer>());
        bgpAdvertisements.AddEventHandler(Signal<BGPAdvertisement>());
        communities.AddEventHandler(Signal<Community>());
        secrets.AddEventHandler(Signal<V1Secret>());

        var statusWriter = new AnnouncementStatusWriter<ServiceL2Status>(client, BareLbResources.ServiceL2Statuses, "l2", options.Namespace,
            options.NodeName, statuses, s => s.Status, () => new ServiceL2Status(), time, loggerFactory.CreateLogger<ServiceL2Status>());
        statuses.AddEventHandler(new ResourceEventHandler<ServiceL2Status>(_ => statusWriter.Signal(), (_, _) => statusWriter.Signal(), _ => statusWriter.Signal()));
        var bgpStatusWriter = new AnnouncementStatusWriter<ServiceBGPStatus>(client, BareLbResources.ServiceBGPStatuses, "bgp", options.Namespace,
            options.NodeName, bgpStatuses, s => s.Status, () => new ServiceBGPStatus(), time, loggerFactory.CreateLogger<ServiceBGPStatus>());
        bgpStatuses.AddEventHandler(new ResourceEventHandler<ServiceBGPStatus>(_ => bgpStatusWriter.Signal(), (_, _) => bgpStatusWriter.Signal(), _ => bgpStatusWriter.Signal()));

        await using var membership = new SpeakerMembership(options.NodeName, options.Membership, time, loggerFactory);
        membership.Changed += () => Release();
        await using var announcer = new Layer2Announcer(options.Layer2, loggerFactory.CreateLogger<Layer2Announcer>(), time);
        using var layer2 = new Layer2Speaker(options.NodeName, announcer, events, statusWriter, loggerFactory.CreateLogger<Layer2Speaker>());
        await using var bgp = new BgpAnnouncer(options.NodeName, new BgpSpeaker(options.Bgp, loggerFactory, time), bgpStatusWriter,
            loggerFactory.CreateLogger<BgpAnnouncer>());

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var background = new List<Task>(informers.Length + 2)
        {
            events.RunAsync(stop.Token),
            statusWriter.RunAsync(stop.Token),
            bgpStatusWriter.RunAsync(stop.Token),
        };
        background.AddRange(informers.Select(i => i.RunAsync(stop.Token)));
        try
        {
            await announcer.StartAsync(stoppingToken).ConfigureAwait(false);
            await InformerSync.WaitAllAsync(informers, stoppingToken).ConfigureAwait(false);
            LogSynced(options.NodeName);
            // Statuses of ours from before this process started mean a restart: graceful-restart peers are told so.
            var restarted = bgpStatusWriter.HasOwnStatuses;
            var lastGood = new LastGoodConfig();

            string? configErrors = null;
            var waitingLogged = false;
            var reported = new HashSet<string>(StringComparer.Ordinal);
            while (!stoppingToken.IsCancellationRequested)
            {
                var nodeInfos = nodes.List().Select(NodeInfo.From).Where(n => n.Name.Length > 0).ToDictionary(n => n.Name, StringComparer.Ordinal);
                membership.SetNodes(nodeInfos.Values);
                var secretList = secrets.List();
                if (secretList.FirstOrDefault(x => x.Metadata.Name == MemberlistSecret.Name)?.Data is { } data &&
                    data.TryGetValue(MemberlistSecret.KeyField, out var key) && key.Length >= 16)
                {
                    await membership.SetKeyAsync(key, stoppingToken).ConfigureAwait(false);
                }
                else if (!membership.Started && !waitingLogged)
                {
                    waitingLogged = true;
                    LogWaitingForSecret(options.Namespace, MemberlistSecret.Name);
                }

                var parsed = lastGood.Parse(pools.List(), l2.List(), peers.List(), bgpAdvertisements.List(), communities.List());
                var errors = string.Join("; ", parsed.Errors);
                if (errors.Length > 0 && errors != configErrors)
                {
                    LogConfigError(errors);
                }
                configErrors = errors;

                var serviceList = services.List();
                var alive = membership.Alive;
                var endpoints = EndpointsByService(slices.List());
                var plan = Layer2Planner.Plan(new Layer2PlanInput(options.NodeName, parsed.Config, serviceList, nodeInfos, alive,
                    endpoints, options.LoadBalancerClass));
                var dead = alive.Contains(options.NodeName)
                    ? nodeInfos.Keys.Where(n => !alive.Contains(n)).ToHashSet(StringComparer.Ordinal)
                    : new HashSet<string>();
                layer2.Apply(plan, serviceList.ToDictionary(Layer2Planner.Key, StringComparer.Ordinal), dead);
                Volatile.Write(ref _plan, plan);

                var bgpProblems = new List<string>();
                var bgpPlan = nodeInfos.TryGetValue(options.NodeName, out var self)
                    ? BgpPlanner.Plan(new BgpPlanInput(self, parsed.Config, serviceList, endpoints, options.LoadBalancerClass,
                        reference => PasswordOf(secretList, reference), restarted), bgpProblems)
                    : BgpPlan.Empty;
                foreach (var problem in bgpProblems.Where(p => reported.Add(p)))
                {
                    LogConfigError(problem);
                }
                await bgp.ApplyAsync(bgpPlan, dead, stoppingToken).ConfigureAwait(false);
                Volatile.Write(ref _bgpPlan, bgpPlan);

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
            // Leave first, so the others take over at once; then stop answering and end the BGP sessions; then tidy
            // our statuses (BGP ones stay when a peer keeps our routes through a restart).
            using var graceful = new CancellationTokenSource(options.StopTimeout, time);
            try
            {
                await membership.LeaveAsync(graceful.Token).ConfigureAwait(false);
                await announcer.StopAsync(CancellationToken.None).ConfigureAwait(false);
                await bgp.StopAsync(graceful.Token).ConfigureAwait(false);
                await statusWriter.RemoveAllAsync(graceful.Token).ConfigureAwait(false);
                if (!bgp.Peers.Any(p => p.Options.GracefulRestart))
                {
                    await bgpStatusWriter.RemoveAllAsync(graceful.Token).ConfigureAwait(false);
                }
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

    /// <summary>A BGP password from a kubernetes.io/basic-auth Secret's "password" key (MetalLB's passwordSecret).</summary>
    private static string? PasswordOf(IReadOnlyList<V1Secret> secrets, SecretKeyReference reference) =>
        secrets.FirstOrDefault(s => s.Metadata.Name == reference.Name && s.Metadata.NamespaceProperty == reference.Namespace)?.Data is { } data &&
        data.TryGetValue("password", out var bytes) ? System.Text.Encoding.UTF8.GetString(bytes) : null;

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

using BareLb.Api;
using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Informers;
using k8s;
using k8s.Models;
using BareLb.Speaker.Layer2;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker;

public sealed record SpeakerOptions(string NodeName, string Namespace, string? LoadBalancerClass);

/// <summary>
/// Watches Services, Nodes, pools and L2Advertisements and keeps this node's announcement plan current. Nothing is
/// planned before every cache has synced. Sending ARP/NDP for the plan is not built yet: the plan is logged.
/// </summary>
public sealed partial class SpeakerService(IKubernetesClient client, SpeakerOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    : BackgroundService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<SpeakerService>();
    private readonly SemaphoreSlim _changed = new(0);
    private IReadOnlyList<Announcement> _current = [];

    public IReadOnlyList<Announcement> Current => Volatile.Read(ref _current);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var log = loggerFactory.CreateLogger<ResourceInformer<V1Service>>();
        var services = new ResourceInformer<V1Service>(client, CoreResources.Services, null, log, time);
        var nodes = new ResourceInformer<V1Node>(client, CoreResources.Nodes, null, log, time);
        var scoped = new ResourceInformerOptions { Namespace = options.Namespace };
        var pools = new ResourceInformer<IPAddressPool>(client, BareLbResources.IPAddressPools, scoped, log, time);
        var l2 = new ResourceInformer<L2Advertisement>(client, BareLbResources.L2Advertisements,
            new ResourceInformerOptions { Namespace = options.Namespace }, log, time);
        services.AddEventHandler(Signal<V1Service>());
        nodes.AddEventHandler(Signal<V1Node>());
        pools.AddEventHandler(Signal<IPAddressPool>());
        l2.AddEventHandler(Signal<L2Advertisement>());

        Task[] running = [services.RunAsync(stoppingToken), nodes.RunAsync(stoppingToken), pools.RunAsync(stoppingToken), l2.RunAsync(stoppingToken)];
        await InformerSync.WaitAllAsync([services, nodes, pools, l2], stoppingToken).ConfigureAwait(false);
        LogSynced(options.NodeName);
        while (!stoppingToken.IsCancellationRequested)
        {
            var parsed = ConfigParser.Parse(pools.List(), l2.List(), [], [], []);
            foreach (var error in parsed.Errors)
            {
                LogConfigError(error.ToString());
            }
            var plan = AnnouncementPlanner.Plan(options.NodeName, parsed.Config, services.List(),
                nodes.List().Select(NodeInfo.From).ToList(), options.LoadBalancerClass);
            Report(plan);
            await _changed.WaitAsync(stoppingToken).ConfigureAwait(false);
            // Coalesce a burst of changes into one re-plan.
            await Task.Delay(TimeSpan.FromMilliseconds(100), time, stoppingToken).ConfigureAwait(false);
            while (_changed.CurrentCount > 0)
            {
                await _changed.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private void Report(IReadOnlyList<Announcement> plan)
    {
        var before = _current.Select(a => a.ToString()).ToHashSet();
        var after = plan.Select(a => a.ToString()).ToHashSet();
        foreach (var added in plan.Where(a => !before.Contains(a.ToString())))
        {
            LogAnnounce(options.NodeName, added.ToString());
        }
        foreach (var removed in _current.Where(a => !after.Contains(a.ToString())))
        {
            LogWithdraw(options.NodeName, removed.ToString());
        }
        Volatile.Write(ref _current, plan);
    }

    private ResourceEventHandler<T> Signal<T>() where T : class, IKubernetesObject<V1ObjectMeta> =>
        new(_ => _changed.Release(), (_, _) => _changed.Release(), _ => _changed.Release());

    [LoggerMessage(1, LogLevel.Information, "Speaker on node {Node}: caches synced")]
    private partial void LogSynced(string node);

    [LoggerMessage(2, LogLevel.Information, "Node {Node} owns {Announcement} (ARP/NDP sending is not implemented yet)")]
    private partial void LogAnnounce(string node, string announcement);

    [LoggerMessage(3, LogLevel.Information, "Node {Node} no longer owns {Announcement}")]
    private partial void LogWithdraw(string node, string announcement);

    [LoggerMessage(4, LogLevel.Warning, "Configuration error: {Error}")]
    private partial void LogConfigError(string error);
}

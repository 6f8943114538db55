using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Config;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Informers;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller.Configuration;

/// <summary>
/// Tells the user, on the objects themselves, whether the speakers' configuration is valid: a <c>Valid</c> condition
/// on every L2Advertisement, BGPPeer, BGPAdvertisement and Community (naming the field and the reason when it is
/// not), and a Warning event <c>InvalidConfiguration</c> when an object becomes invalid. There is no admission
/// webhook to refuse a bad object; the speakers keep using its last valid version meanwhile. Pools have their own,
/// richer status (see PoolStatusWriter). Runs on the leader only; writes only when a condition changes.
/// </summary>
public sealed partial class ConfigStatusReporter(
    IKubernetesClient client,
    string ns,
    EventRecorder events,
    ILoggerFactory loggerFactory,
    TimeProvider time)
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<ConfigStatusReporter>();
    private readonly SemaphoreSlim _changed = new(0, 1);
    // Kind/name -> the error text last reported, so each new problem is reported once.
    private readonly Dictionary<(string Kind, string Name), string> _reported = [];

    public async Task RunAsync(CancellationToken ct)
    {
        var log = loggerFactory.CreateLogger<ResourceInformer<L2Advertisement>>();
        var scoped = new ResourceInformerOptions { Namespace = ns };
        var pools = new ResourceInformer<IPAddressPool>(client, BareLbResources.IPAddressPools, scoped, log, time);
        var l2 = new ResourceInformer<L2Advertisement>(client, BareLbResources.L2Advertisements, scoped, log, time);
        var peers = new ResourceInformer<BGPPeer>(client, BareLbResources.BGPPeers, scoped, log, time);
        var bgp = new ResourceInformer<BGPAdvertisement>(client, BareLbResources.BGPAdvertisements, scoped, log, time);
        var communities = new ResourceInformer<Community>(client, BareLbResources.Communities, scoped, log, time);
        IResourceInformer[] informers = [pools, l2, peers, bgp, communities];
        pools.AddEventHandler(Signal<IPAddressPool>());
        l2.AddEventHandler(Signal<L2Advertisement>());
        peers.AddEventHandler(Signal<BGPPeer>());
        bgp.AddEventHandler(Signal<BGPAdvertisement>());
        communities.AddEventHandler(Signal<Community>());
        var running = informers.Select(i => i.RunAsync(ct)).ToList();
        try
        {
            await InformerSync.WaitAllAsync(informers, ct).ConfigureAwait(false);
            var backoff = TimeSpan.FromSeconds(1);
            while (!ct.IsCancellationRequested)
            {
                try
                {
                    var parsed = ConfigParser.Parse(pools.List(), l2.List(), peers.List(), bgp.List(), communities.List());
                    await ReportAsync(BareLbResources.L2Advertisements, l2.List(), o => o.Status?.Conditions, parsed, ct).ConfigureAwait(false);
                    await ReportAsync(BareLbResources.BGPPeers, peers.List(), o => o.Status?.Conditions, parsed, ct).ConfigureAwait(false);
                    await ReportAsync(BareLbResources.BGPAdvertisements, bgp.List(), o => o.Status?.Conditions, parsed, ct).ConfigureAwait(false);
                    await ReportAsync(BareLbResources.Communities, communities.List(), o => o.Status?.Conditions, parsed, ct).ConfigureAwait(false);
                    backoff = TimeSpan.FromSeconds(1);
                    await _changed.WaitAsync(ct).ConfigureAwait(false);
                }
                catch (Exception e) when (!ct.IsCancellationRequested && e is not OperationCanceledException)
                {
                    LogRetry(backoff, e.Message);
                    await Task.Delay(backoff, time, ct).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromMinutes(1).Ticks));
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            foreach (var task in running)
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

    private async Task ReportAsync<T>(ResourceType<T> type, IReadOnlyList<T> objects, Func<T, List<Condition>?> conditionsOf,
        ConfigParseResult parsed, CancellationToken ct) where T : CustomResource
    {
        foreach (var obj in objects)
        {
            var name = obj.Metadata.Name;
            var errors = parsed.ErrorsFor(type.Kind, name);
            var message = errors.Count == 0 ? "the object is valid and in use" : string.Join("; ", errors);
            var conditions = conditionsOf(obj)?.Select(Copy).ToList() ?? [];
            var changed = StatusConditions.Set(conditions, ConfigConditions.Valid, errors.Count == 0,
                errors.Count == 0 ? ConfigConditions.ReasonValid : ConfigConditions.ReasonInvalidSpec,
                errors.Count == 0 ? message : message + " (the speakers keep its last valid version)",
                obj.Metadata.Generation, time.GetUtcNow());
            if (changed)
            {
                var patch = new JsonObject { ["status"] = new JsonObject { ["conditions"] = JsonNode.Parse(KubernetesJson.Serialize(conditions)) } };
                try
                {
                    await client.PatchAsync(type, ns, name, patch, status: true, ct).ConfigureAwait(false);
                }
                catch (NotFoundException)
                {
                    continue;
                }
            }

            var key = (type.Kind, name);
            if (errors.Count == 0)
            {
                _reported.Remove(key);
            }
            else if (!_reported.TryGetValue(key, out var before) || before != message)
            {
                _reported[key] = message;
                LogInvalid(type.Kind, name, message);
                events.Record(obj, type, EventType.Warning, "InvalidConfiguration", message);
            }
        }
    }

    private static Condition Copy(Condition c) => new()
    {
        Type = c.Type,
        Status = c.Status,
        Reason = c.Reason,
        Message = c.Message,
        ObservedGeneration = c.ObservedGeneration,
        LastTransitionTime = c.LastTransitionTime,
    };

    private ResourceEventHandler<T> Signal<T>() where T : class, IKubernetesObject<V1ObjectMeta> =>
        new(_ => Release(), (_, _) => Release(), _ => Release());

    private void Release()
    {
        try
        {
            if (_changed.CurrentCount == 0)
            {
                _changed.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "{Kind} {Name} is invalid: {Errors}")]
    private partial void LogInvalid(string kind, string name, string errors);

    [LoggerMessage(2, LogLevel.Warning, "Writing configuration status failed, retrying in {Delay}: {Reason}")]
    private partial void LogRetry(TimeSpan delay, string reason);
}

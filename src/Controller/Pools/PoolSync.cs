using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Informers;
using BareLb.Controller.Reconciliation;
using BareLb.Kubernetes.Events;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller.Pools;

/// <summary>
/// The pool pass (the Pools item): loads every IPAddressPool into the allocator through <see cref="PoolReconciler"/>,
/// reports newly invalid and overlapping pools, and asks for finalizers and status to follow. Only when what the
/// allocator sees changed are all Services looked at again.
/// </summary>
public sealed partial class PoolSync(
    PoolReconciler pools,
    ControllerInformers informers,
    EventRecorder events,
    PoolStatusWriter status,
    Action<WorkItem> enqueue,
    ILogger logger)
{
    private readonly ILogger _logger = logger;

    public SyncResult Sync()
    {
        var all = informers.Pools.List();
        var result = pools.Sync(all);
        foreach (var (pool, errors) in result.NewlyInvalid)
        {
            var text = string.Join("; ", errors);
            LogInvalidPool(pool.Metadata.Name, text);
            events.Record(pool, BareLbResources.IPAddressPools, EventType.Warning, "InvalidConfiguration", text);
        }
        foreach (var overlap in result.NewOverlaps)
        {
            var message = $"pools {overlap.PoolA} and {overlap.PoolB} overlap on {overlap.Shared}; an address in both is given to one Service only";
            foreach (var name in new[] { overlap.PoolA, overlap.PoolB })
            {
                if (all.FirstOrDefault(p => p.Metadata.Name == name) is { } pool)
                {
                    events.Record(pool, BareLbResources.IPAddressPools, EventType.Warning, "PoolsOverlap", message);
                }
            }
        }
        status.MarkAllDirty();
        enqueue(WorkItem.PoolFinalizers);
        return result.AllocationChanged ? SyncResult.ReprocessAll : SyncResult.Success;
    }

    [LoggerMessage(1, LogLevel.Warning, "IPAddressPool {Pool} is invalid: {Errors}")]
    private partial void LogInvalidPool(string? pool, string errors);
}

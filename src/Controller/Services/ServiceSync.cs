using System.Net;
using BareLb.Allocator;
using BareLb.Controller.Informers;
using BareLb.Controller.Pools;
using BareLb.Controller.Reconciliation;
using BareLb.Kubernetes;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller.Services;

/// <summary>
/// One Service through the loop: <see cref="ServiceReconciler"/> decides, and this applies the decision: events,
/// the waiting list, which pools changed, and the write. Addresses a decision takes off a Service stay reserved in
/// the allocator until that write has landed (<see cref="OnWritten"/>); only then can another Service get them, so
/// the API never shows one address on two Services that may not share it, and a crash in between loses nothing.
/// </summary>
public sealed partial class ServiceSync(
    ServiceReconciler reconciler,
    PoolReconciler pools,
    ControllerInformers informers,
    ServiceStatusWriter writer,
    WaitingServices waiting,
    ServiceEvents events,
    PoolStatusWriter poolStatus,
    RetryBackoff backoff,
    Action<WorkItem> enqueue,
    ILogger logger)
{
    private readonly Dictionary<ServiceKey, ServiceRequest?> _requests = [];
    private readonly ILogger _logger = logger;
    private long _tickets;

    private PoolAllocator Allocator => reconciler.Allocator;

    /// <summary>
    /// Claims every address that Services already show, oldest Service first, before anything new is allocated: a
    /// restart or a change of leader never moves a running Service.
    /// </summary>
    public void Restore()
    {
        var services = informers.Services.List()
            .OrderBy(s => s.Metadata.CreationTimestamp ?? DateTime.MaxValue)
            .ThenBy(s => s.Metadata.NamespaceProperty, StringComparer.Ordinal)
            .ThenBy(s => s.Metadata.Name, StringComparer.Ordinal);
        var restored = 0;
        foreach (var service in services)
        {
            var result = reconciler.Restore(service, informers.NamespaceLabels(service.Metadata.NamespaceProperty));
            if (result is null)
            {
                continue;
            }
            if (result.Succeeded)
            {
                restored++;
                continue;
            }
            // Two Services claim one address: the older keeps it, this one is given a new one when reconciled.
            LogRestoreFailed(service.Metadata.Key(), result.Message);
            events.RestoreFailed(service, result.Message);
        }
        LogRestored(restored);
    }

    /// <summary>The Service item.</summary>
    public SyncResult Reconcile(ServiceKey key)
    {
        informers.Services.TryGet(key.Namespace, key.Name, out var service);
        if (service is not null && !informers.HasNamespace(key.Namespace))
        {
            // The namespace exists (the API server checked) but its watch event has not reached us yet; deciding now
            // would match pools against no labels. Its arrival queues the namespace's Services.
            return SyncResult.Success;
        }

        var ticket = ++_tickets;
        // A deleted Service's reservations end with it (nothing shows them any more).
        var reservedBefore = service is null ? Allocator.ReservedFor(key) : [];
        var decision = reconciler.Reconcile(key, service, informers.NamespaceLabels(key.Namespace), ticket);
        poolStatus.MarkDirty(decision.Previous?.Pool);
        poolStatus.MarkDirty(decision.Assignment?.Pool);
        if (decision.Outcome is ServiceOutcome.Assigned or ServiceOutcome.Released || decision.GaveUpAddresses)
        {
            MarkPoolsOf((decision.Previous?.Addresses ?? []).Concat(decision.Addresses));
        }
        TrackStuck(key, service, decision);
        TrackWaiting(key, decision);

        if (service is null)
        {
            events.Forget(key);
            writer.Forget(key);
            _requests.Remove(key);
            backoff.Forget(WorkItem.ForService(key.Namespace, key.Name));
            MarkPoolsOf(reservedBefore);
            if (decision.GaveUpAddresses || reservedBefore.Count > 0)
            {
                AddressesFreed();
            }
            return SyncResult.Success;
        }

        Record(service, decision);
        if (decision.Outcome == ServiceOutcome.NotOurs && !writer.IsBusy(key) && Allocator.ReservedFor(key).Count == 0)
        {
            return SyncResult.Success;
        }

        var addresses = OrderByFamily(decision.Addresses, service.Spec.IpFamilies?.ToList());
        // An address that lies in no current pool keeps the pool it came from on record: a restart needs it to
        // know where the address belongs.
        var pool = decision.Assignment is null ? null : decision.Assignment.Pool ?? ServiceRequestParser.RecordedPool(service);
        var ingress = addresses.Select(a => a.ToString()).ToList();
        if (!writer.IsBusy(key) && Allocator.ReservedFor(key).Count == 0 &&
            ShownIngress(service).SequenceEqual(ingress) && ServiceRequestParser.RecordedPool(service) == pool)
        {
            return SyncResult.Success;
        }
        writer.Submit(new ServiceWrite(key, ticket, service, ingress, pool));
        return SyncResult.Success;
    }

    /// <summary>
    /// A write ended. Landed (or not needed): the addresses its decision took off the Service are free now.
    /// Failed: the Service is reconciled again after its backoff, and what it gave up stays reserved meanwhile.
    /// </summary>
    public void OnWritten(WriteOutcome outcome)
    {
        var item = WorkItem.ForService(outcome.Key.Namespace, outcome.Key.Name);
        switch (outcome.Result)
        {
            case WriteResult.Written:
            case WriteResult.NotNeeded:
                backoff.Forget(item);
                EndReservations(outcome);
                return;
            case WriteResult.Gone:
                // The object the decision was about no longer exists; whatever has its name now is reconciled afresh.
                EndReservations(outcome);
                enqueue(item);
                return;
            case WriteResult.Stale:
                // What it gave up stays reserved until a write decided on the new request lands.
                enqueue(item);
                return;
            default:
                var error = outcome.Error!;
                if (TransientErrors.IsPermanent(error))
                {
                    // The API refuses this write as such; the Service's next change brings it back.
                    LogWriteRefused(outcome.Key.ToString(), error.Message);
                    return;
                }
                var delay = backoff.Schedule(item, error);
                LogRetry(outcome.Key.ToString(), delay, error.Message);
                return;
        }
    }

    /// <summary>Every Service of ours, and every one we hold or wait for, is reconciled again (the pools changed).</summary>
    public void ReprocessAll()
    {
        foreach (var service in informers.Services.List())
        {
            if (reconciler.IsOurs(service) || Allocator.GetAssignment(KeyOf(service)) is not null)
            {
                enqueue(WorkItem.ForService(service.Metadata.NamespaceProperty ?? "default", service.Metadata.Name ?? ""));
            }
        }
        waiting.RetryAll();
    }

    private void EndReservations(WriteOutcome outcome)
    {
        var reserved = Allocator.ReservedFor(outcome.Key);
        if (reserved.Count > 0 && Allocator.ReleaseReserved(outcome.Key, outcome.Ticket))
        {
            MarkPoolsOf(reserved);
            AddressesFreed();
        }
    }

    /// <summary>
    /// A pool counts every held address in its ranges, whichever pool the holder is named after (pools may
    /// overlap): every pool containing a changed address has a new count.
    /// </summary>
    private void MarkPoolsOf(IEnumerable<IPAddress> addresses)
    {
        foreach (var address in addresses.Distinct())
        {
            foreach (var pool in Allocator.PoolsContaining(address))
            {
                poolStatus.MarkDirty(pool);
            }
        }
    }

    private void AddressesFreed()
    {
        waiting.RetryAll();
        if (pools.Deleting.Count > 0)
        {
            // A draining pool may have lost its last address.
            enqueue(WorkItem.PoolFinalizers);
        }
        foreach (var name in pools.Deleting)
        {
            poolStatus.MarkDirty(name);
        }
    }

    private void TrackWaiting(ServiceKey key, ServiceDecision decision)
    {
        if (decision.Assignment is null && decision.Outcome is ServiceOutcome.Failed or ServiceOutcome.Invalid)
        {
            waiting.Set(key, decision.Request);
        }
        else
        {
            waiting.Remove(key);
        }

        var before = _requests.GetValueOrDefault(key);
        var after = decision.Request;
        if (after is null)
        {
            _requests.Remove(key);
        }
        else
        {
            _requests[key] = after;
        }
        if (WaitingServices.SharingTermsChanged(before, after))
        {
            waiting.RetryCoSharers(before, after, (decision.Previous?.Addresses ?? []).Concat(decision.Addresses));
        }
    }

    private void TrackStuck(ServiceKey key, V1Service? service, ServiceDecision decision)
    {
        string? stuckIn = null;
        if (decision.Assignment is { } held && Allocator.IsMisplaced(key))
        {
            stuckIn = held.Pool ?? (service is null ? null : ServiceRequestParser.RecordedPool(service));
        }
        foreach (var pool in pools.SetStuck(key, stuckIn))
        {
            poolStatus.MarkDirty(pool);
            enqueue(WorkItem.PoolFinalizers);
        }
    }

    private void Record(V1Service service, ServiceDecision decision)
    {
        var key = KeyOf(service);
        events.Warnings(service, decision.Warnings);
        var addresses = OrderByFamily(decision.Addresses, service.Spec.IpFamilies?.ToList());
        switch (decision.Outcome)
        {
            case ServiceOutcome.Assigned:
                LogAssigned(key.ToString(), string.Join(", ", addresses), decision.Assignment?.Pool);
                events.Assigned(service, decision, addresses);
                break;
            case ServiceOutcome.Released:
                LogReleased(key.ToString(), decision.Message);
                events.Released(service, decision);
                break;
            case ServiceOutcome.Failed:
            case ServiceOutcome.Invalid:
                if (events.Failed(service, decision, addresses))
                {
                    // Logged as often as recorded: a retry that fails the same way is not news.
                    LogFailed(key.ToString(), decision.Failure.ToString(), decision.Message);
                }
                break;
            case ServiceOutcome.Unchanged:
                events.Succeeded(key);
                break;
        }
    }

    private static IEnumerable<string?> ShownIngress(V1Service service) =>
        (service.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip);

    private static ServiceKey KeyOf(V1Service service) => new(service.Metadata.NamespaceProperty ?? "default", service.Metadata.Name ?? "");

    private static IReadOnlyList<IPAddress> OrderByFamily(IReadOnlyList<IPAddress> addresses, List<string>? families)
    {
        if (addresses.Count < 2 || families is not { Count: > 0 })
        {
            return addresses;
        }
        var primary = families[0] == "IPv6" ? IpFamily.IPv6 : IpFamily.IPv4;
        return addresses.OrderBy(a => IpAddressMath.FamilyOf(a) == primary ? 0 : 1).ToList();
    }

    [LoggerMessage(1, LogLevel.Information, "Restored {Count} existing assignments from Service status")]
    private partial void LogRestored(int count);

    [LoggerMessage(2, LogLevel.Warning, "Service {Service}: address in status could not be restored: {Reason}")]
    private partial void LogRestoreFailed(string service, string? reason);

    [LoggerMessage(3, LogLevel.Information, "Service {Service}: assigned {Addresses} from pool {Pool}")]
    private partial void LogAssigned(string service, string addresses, string? pool);

    [LoggerMessage(4, LogLevel.Information, "Service {Service}: released its address: {Reason}")]
    private partial void LogReleased(string service, string? reason);

    [LoggerMessage(5, LogLevel.Warning, "Service {Service}: allocation failed ({Failure}): {Reason}")]
    private partial void LogFailed(string service, string failure, string? reason);

    [LoggerMessage(6, LogLevel.Warning, "Service {Service}: writing failed, retrying in {Delay}: {Reason}")]
    private partial void LogRetry(string service, TimeSpan delay, string reason);

    [LoggerMessage(7, LogLevel.Error, "Service {Service}: the API refused the write: {Reason}")]
    private partial void LogWriteRefused(string service, string reason);
}

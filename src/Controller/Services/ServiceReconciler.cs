using System.Net;
using BareLb.Allocator;
using BareLb.Api;
using BareLb.Kubernetes;
using k8s.Models;

namespace BareLb.Controller.Services;

public enum ServiceOutcome
{
    /// <summary>Not a LoadBalancer of our class and nothing of ours on it: leave it alone.</summary>
    NotOurs,
    /// <summary>It gave its address up (deleted, no longer a LoadBalancer, other class), or shows a stale one of ours: clear its status.</summary>
    Released,
    /// <summary>It holds new or changed addresses.</summary>
    Assigned,
    /// <summary>It keeps the addresses it had (the pool that names them may have changed).</summary>
    Unchanged,
    /// <summary>The request could not be met; any earlier assignment is kept.</summary>
    Failed,
    /// <summary>The request is malformed; any earlier assignment is kept.</summary>
    Invalid,
}

/// <summary>
/// What the Service should show after reconciling. <see cref="Assignment"/> is what it holds afterwards (null:
/// nothing), so its status ingress is exactly <see cref="Assignment"/>'s addresses.
/// </summary>
public sealed record ServiceDecision(
    ServiceOutcome Outcome,
    Assignment? Assignment,
    Assignment? Previous,
    AllocationFailure Failure,
    string? Message,
    IReadOnlyList<string> Warnings,
    ServiceRequest? Request = null,
    bool WasMisplaced = false)
{
    public IReadOnlyList<IPAddress> Addresses => Assignment?.Addresses ?? [];

    /// <summary>True when an address the Service held is no longer held by it.</summary>
    public bool GaveUpAddresses =>
        Previous is not null && (Assignment is null || Previous.Addresses.Any(a => !Assignment.Addresses.Contains(a)));
}

/// <summary>
/// Decides, without I/O, what one Service holds: which Services are ours, what they ask for, and what happens to an
/// address when the request cannot be met (it is kept: nothing is taken from a running Service). Addresses a
/// Service gives up while it still exists stay reserved in the allocator under the decision's ticket until the
/// write that takes them off the Service has landed.
/// </summary>
/// <param name="unknownInvalidPools">
/// True while some pool is invalid and was never seen valid (after a restart): an address that lies in no known pool
/// may belong to it, so such addresses are kept where they are until the pool is fixed or deleted.
/// </param>
/// <param name="inOurPools">Whether an address lies in one of our pools (to recognise a stale status of ours).</param>
public sealed class ServiceReconciler(PoolAllocator allocator, string? loadBalancerClass, Func<bool>? unknownInvalidPools = null,
    Func<IPAddress, bool>? inOurPools = null)
{
    public PoolAllocator Allocator => allocator;

    public bool IsOurs(V1Service service) =>
        service.Spec.Type == "LoadBalancer" &&
        string.Equals(service.Spec.LoadBalancerClass, loadBalancerClass, StringComparison.Ordinal);

    /// <param name="ticket">Reserves what the Service gives up until the write with this ticket has landed.</param>
    public ServiceDecision Reconcile(ServiceKey key, V1Service? service, IReadOnlyDictionary<string, string>? namespaceLabels, long ticket)
    {
        var previous = allocator.GetAssignment(key);
        if (service is null)
        {
            // Gone from the API: nothing shows its addresses any more, so they are free at once.
            allocator.ReleaseReserved(key, long.MaxValue);
            return previous is not null && allocator.Release(key)
                ? new ServiceDecision(ServiceOutcome.Released, null, previous, AllocationFailure.None, "the Service was deleted", [])
                : new ServiceDecision(ServiceOutcome.NotOurs, null, null, AllocationFailure.None, null, []);
        }

        if (service.Metadata.DeletionTimestamp is not null || !IsOurs(service))
        {
            if (previous is not null)
            {
                allocator.Release(key, ticket);
                return new ServiceDecision(ServiceOutcome.Released, null, previous, AllocationFailure.None, WhyNotOurs(service), []);
            }
            return ShowsStaleStatusOfOurs(service)
                ? new ServiceDecision(ServiceOutcome.Released, null, null, AllocationFailure.None, WhyNotOurs(service), [])
                : new ServiceDecision(ServiceOutcome.NotOurs, null, null, AllocationFailure.None, null, []);
        }

        var parsed = ServiceRequestParser.Parse(service, namespaceLabels);
        if (parsed.Request is null)
        {
            var message = "invalid request: " + string.Join("; ", parsed.Errors);
            return new ServiceDecision(ServiceOutcome.Invalid, previous, previous, AllocationFailure.InvalidRequest, message, parsed.Warnings);
        }

        var misplaced = allocator.IsMisplaced(key);
        if (previous is { Pool: null } && unknownInvalidPools?.Invoke() == true)
        {
            // Its address may lie in a pool whose spec is invalid now and that this controller never saw valid: it
            // stays, unless the Service's own edit means it may no longer share it with the others that hold it.
            var kept = allocator.Keep(parsed.Request, ticket);
            return kept.Succeeded
                ? new ServiceDecision(ServiceOutcome.Unchanged, previous, previous, AllocationFailure.None, null, parsed.Warnings, parsed.Request)
                : new ServiceDecision(ServiceOutcome.Failed, null, previous, kept.Failure, kept.Message, parsed.Warnings, parsed.Request, misplaced);
        }
        var result = allocator.Allocate(parsed.Request, ticket);
        if (!result.Succeeded)
        {
            return new ServiceDecision(ServiceOutcome.Failed, allocator.GetAssignment(key), previous, result.Failure, result.Message,
                parsed.Warnings, parsed.Request, misplaced);
        }
        var outcome = previous is not null && previous.Addresses.SequenceEqual(result.Assignment!.Addresses)
            ? ServiceOutcome.Unchanged
            : ServiceOutcome.Assigned;
        return new ServiceDecision(outcome, result.Assignment, previous, AllocationFailure.None, null, parsed.Warnings, parsed.Request, misplaced);
    }

    /// <summary>
    /// Restart path: claims the addresses the Service's status shows, before anything new is allocated, so that a
    /// controller restart or leader change never moves a running Service.
    /// </summary>
    public AllocationResult? Restore(V1Service service, IReadOnlyDictionary<string, string>? namespaceLabels)
    {
        var addresses = ServiceRequestParser.IngressAddresses(service);
        var key = new ServiceKey(service.Metadata.NamespaceProperty ?? "default", service.Metadata.Name ?? "");
        if (!IsOurs(service) || service.Metadata.DeletionTimestamp is not null)
        {
            if (addresses.Count > 0 && ShowsStaleStatusOfOurs(service))
            {
                // It still shows what we gave it (the write clearing it had not landed when the last controller
                // stopped): nobody else gets those addresses until this controller's clearing write lands.
                allocator.Reserve(new ServiceRequest { Key = key, Families = addresses.Select(IpAddressMath.FamilyOf).Distinct().ToList() }, addresses, ticket: 0);
            }
            return null;
        }
        if (addresses.Count == 0)
        {
            return null;
        }
        var request = ServiceRequestParser.Parse(service, namespaceLabels).Request
            // A malformed request must not cost the Service its address: claim it under a plain request.
            ?? new ServiceRequest
            {
                Key = key,
                Families = addresses.Select(IpAddressMath.FamilyOf).Distinct().ToList(),
                RecordedPool = ServiceRequestParser.RecordedPool(service),
            };
        return allocator.Restore(request, addresses);
    }

    /// <summary>
    /// A Service that is not (or no longer) ours but shows load-balancer addresses we gave it: it stopped being a
    /// LoadBalancer (or is being deleted) while the controller was down, or before the write clearing it landed. It
    /// carries our pool annotation, or its addresses lie in our pools. A Service of another loadBalancerClass is
    /// never touched: we never served it.
    /// </summary>
    private bool ShowsStaleStatusOfOurs(V1Service service)
    {
        if ((service.Spec.Type == "LoadBalancer" && service.Metadata.DeletionTimestamp is null) ||
            (service.Spec.LoadBalancerClass is not null && service.Spec.LoadBalancerClass != loadBalancerClass))
        {
            return false;
        }
        var annotated = ServiceRequestParser.RecordedPool(service) is not null;
        var ingress = ServiceRequestParser.IngressAddresses(service);
        return annotated || (ingress.Count > 0 && inOurPools is not null && ingress.Any(inOurPools));
    }

    private string WhyNotOurs(V1Service service) =>
        service.Metadata.DeletionTimestamp is not null ? "the Service is being deleted"
        : service.Spec.Type != "LoadBalancer" ? $"the Service is no longer of type LoadBalancer (type {service.Spec.Type})"
        : $"the Service's loadBalancerClass \"{service.Spec.LoadBalancerClass}\" is not served by this controller";
}

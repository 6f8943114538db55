using BareLb.Kubernetes;
using System.Net;
using BareLb.Allocator;
using BareLb.Api;
using k8s;
using k8s.Models;

namespace BareLb.Controller.Services;

public enum ServiceOutcome
{
    /// <summary>Not a LoadBalancer of our class and nothing held: leave it alone.</summary>
    NotOurs,
    /// <summary>Its address was released (deleted, no longer a LoadBalancer, other class): clear its status.</summary>
    Released,
    /// <summary>It holds a new or changed assignment.</summary>
    Assigned,
    /// <summary>It keeps the assignment it had.</summary>
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
    IReadOnlyList<string> Warnings)
{
    public IReadOnlyList<IPAddress> Addresses => Assignment?.Addresses ?? [];

    /// <summary>True when an address the Service held is no longer held by it: others waiting may now fit.</summary>
    public bool FreedAddresses =>
        Previous is not null && (Assignment is null || Previous.Addresses.Any(a => !Assignment.Addresses.Contains(a)));
}

/// <summary>
/// Decides, without I/O, what one Service holds: the rules of which Services are ours, what they ask for, and what
/// happens to an address when the request cannot be met (it is kept: nothing is taken from a running Service).
/// </summary>
/// <param name="frozenPool">Pools whose holders must stay put (see <c>PoolReconciler.IsFrozen</c>).</param>
public sealed class ServiceReconciler(PoolAllocator allocator, string? loadBalancerClass, Func<string, bool>? frozenPool = null)
{
    private readonly HashSet<ServiceKey> _waiting = [];

    public PoolAllocator Allocator => allocator;

    /// <summary>
    /// Services of ours that hold no address because their request could not be met; they are worth another try
    /// whenever an address is freed or the pools change.
    /// </summary>
    public IReadOnlyCollection<ServiceKey> Waiting => _waiting;

    public bool IsOurs(V1Service service) =>
        service.Spec.Type == "LoadBalancer" &&
        string.Equals(service.Spec.LoadBalancerClass, loadBalancerClass, StringComparison.Ordinal);

    public ServiceDecision Reconcile(ServiceKey key, V1Service? service, IReadOnlyDictionary<string, string>? namespaceLabels) =>
        Track(key, Decide(key, service, namespaceLabels));

    private ServiceDecision Track(ServiceKey key, ServiceDecision decision)
    {
        if (decision.Assignment is null && decision.Outcome is ServiceOutcome.Failed or ServiceOutcome.Invalid)
        {
            _waiting.Add(key);
        }
        else
        {
            _waiting.Remove(key);
        }
        return decision;
    }

    private ServiceDecision Decide(ServiceKey key, V1Service? service, IReadOnlyDictionary<string, string>? namespaceLabels)
    {
        var previous = allocator.GetAssignment(key);
        if (service is null || service.Metadata.DeletionTimestamp is not null || !IsOurs(service))
        {
            if (previous is not null)
            {
                allocator.Release(key);
                var why = service is null ? "the Service was deleted"
                    : service.Metadata.DeletionTimestamp is not null ? "the Service is being deleted"
                    : service.Spec.Type != "LoadBalancer" ? $"the Service is no longer of type LoadBalancer (type {service.Spec.Type})"
                    : $"the Service's loadBalancerClass \"{service.Spec.LoadBalancerClass}\" is not served by this controller";
                return new ServiceDecision(ServiceOutcome.Released, null, previous, AllocationFailure.None, why, []);
            }
            return new ServiceDecision(ServiceOutcome.NotOurs, null, null, AllocationFailure.None, null, []);
        }

        var parsed = ServiceRequestParser.Parse(service, namespaceLabels);
        if (parsed.Request is null)
        {
            var message = "invalid request: " + string.Join("; ", parsed.Errors);
            return new ServiceDecision(ServiceOutcome.Invalid, previous, previous, AllocationFailure.InvalidRequest, message, parsed.Warnings);
        }

        if (previous is { Pool: null } && IsFrozen(service))
        {
            // Its address lies in a pool whose spec is currently invalid: keep it until the pool is fixed or deleted.
            return new ServiceDecision(ServiceOutcome.Unchanged, previous, previous, AllocationFailure.None, null, parsed.Warnings);
        }
        var result = allocator.Allocate(parsed.Request);
        if (!result.Succeeded)
        {
            return new ServiceDecision(ServiceOutcome.Failed, allocator.GetAssignment(key), previous, result.Failure, result.Message, parsed.Warnings);
        }
        var outcome = previous is not null && SameAssignment(previous, result.Assignment!) ? ServiceOutcome.Unchanged : ServiceOutcome.Assigned;
        return new ServiceDecision(outcome, result.Assignment, previous, AllocationFailure.None, null, parsed.Warnings);
    }

    /// <summary>
    /// Restart path: claims the addresses the Service's status shows, before anything new is allocated, so that a
    /// controller restart or leader change never moves a running Service.
    /// </summary>
    public AllocationResult? Restore(V1Service service, IReadOnlyDictionary<string, string>? namespaceLabels)
    {
        if (!IsOurs(service) || service.Metadata.DeletionTimestamp is not null)
        {
            return null;
        }
        var addresses = ServiceRequestParser.IngressAddresses(service);
        if (addresses.Count == 0)
        {
            return null;
        }
        var key = new ServiceKey(service.Metadata.NamespaceProperty ?? "default", service.Metadata.Name ?? "");
        var request = ServiceRequestParser.Parse(service, namespaceLabels).Request
            // A malformed request must not cost the Service its address: claim it under a plain request.
            ?? new ServiceRequest { Key = key, Families = addresses.Select(IpAddressMath.FamilyOf).Distinct().ToList() };
        return allocator.Restore(request, addresses);
    }

    /// <summary>
    /// Moves a Service whose address left every usable pool (pool deleted or shrunk) to another compatible pool.
    /// When none can take it, it keeps its address and this returns the failure.
    /// </summary>
    public ServiceDecision Relocate(ServiceKey key, V1Service service, IReadOnlyDictionary<string, string>? namespaceLabels)
    {
        var previous = allocator.GetAssignment(key);
        if (previous is { Pool: null } && IsFrozen(service))
        {
            return new ServiceDecision(ServiceOutcome.Unchanged, previous, previous, AllocationFailure.None, null, []);
        }
        var parsed = ServiceRequestParser.Parse(service, namespaceLabels);
        if (previous is null || parsed.Request is null)
        {
            return Reconcile(key, service, namespaceLabels);
        }
        allocator.Release(key);
        var result = allocator.Allocate(parsed.Request);
        if (result.Succeeded)
        {
            return Track(key, new ServiceDecision(ServiceOutcome.Assigned, result.Assignment, previous, AllocationFailure.None, null, parsed.Warnings));
        }
        // Nothing else can have taken the address in between: the allocator is only used from this one thread.
        var restored = allocator.Restore(parsed.Request, previous.Addresses);
        return new ServiceDecision(ServiceOutcome.Failed, restored.Assignment ?? previous, previous, result.Failure, result.Message, parsed.Warnings);
    }

    /// <summary>The pool the Service's annotation names, if that pool must not be moved away from.</summary>
    private bool IsFrozen(V1Service service) =>
        frozenPool is not null &&
        service.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.IPAllocatedFromPool) is { } pool && frozenPool(pool);

    public static bool SameAssignment(Assignment a, Assignment b) =>
        a.Pool == b.Pool && a.Addresses.Count == b.Addresses.Count && a.Addresses.Zip(b.Addresses).All(p => p.First.Equals(p.Second));
}

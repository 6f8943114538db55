using System.Net;
using BareLb.Allocator;
using BareLb.Api;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using k8s.Models;

namespace BareLb.Controller.Services;

/// <summary>
/// The Events the controller writes about Services, and their texts. A failure or a warning is recorded once per
/// version of the Service's request: a retry that fails the same way (after the controller's own writes, or while
/// other Services come and go) records nothing; an edit of the Service, or a different reason, records again.
/// </summary>
public sealed class ServiceEvents(EventRecorder recorder)
{
    private readonly Dictionary<ServiceKey, string> _failures = [];
    private readonly Dictionary<ServiceKey, string> _warnings = [];

    public void Assigned(V1Service service, ServiceDecision decision, IReadOnlyList<IPAddress> addresses)
    {
        var key = KeyOf(service);
        _failures.Remove(key);
        if (decision.WasMisplaced && decision.Previous is { } previous)
        {
            var from = previous.Pool ?? ServiceRequestParser.RecordedPool(service) ?? "(none)";
            recorder.Record(service, CoreResources.Services, EventType.Normal, "IPReassigned",
                $"pool {from} no longer gives {Join(previous.Addresses)} to this Service: moved to {Join(addresses)} from pool {decision.Assignment?.Pool ?? "(none)"}");
            return;
        }
        recorder.Record(service, CoreResources.Services, EventType.Normal, "IPAllocated",
            $"Assigned IP {Join(addresses)} from pool {decision.Assignment?.Pool ?? "(none)"}");
    }

    public void Released(V1Service service, ServiceDecision decision)
    {
        var key = KeyOf(service);
        _failures.Remove(key);
        var shown = decision.Previous?.Addresses ?? ServiceRequestParser.IngressAddresses(service);
        recorder.Record(service, CoreResources.Services, EventType.Normal, "ClearAssignment",
            shown.Count > 0 ? $"Released IP {Join(shown)}: {decision.Message}" : $"Removed the pool annotation: {decision.Message}");
    }

    /// <summary>Records the failure unless this version of the request already failed this way; true when recorded.</summary>
    public bool Failed(V1Service service, ServiceDecision decision, IReadOnlyList<IPAddress> kept)
    {
        var keeping = decision.Assignment is null ? "" : $" (keeping {Join(kept)})";
        var text = $"{Describe(decision.Failure)}: {decision.Message}{keeping}";
        if (!Once(_failures, service, text))
        {
            return false;
        }
        recorder.Record(service, CoreResources.Services, EventType.Warning, "AllocationFailed", text);
        return true;
    }

    public void Succeeded(ServiceKey key) => _failures.Remove(key);

    public void Warnings(V1Service service, IReadOnlyList<string> warnings)
    {
        if (warnings.Count == 0 || !Once(_warnings, service, string.Join("\n", warnings)))
        {
            return;
        }
        foreach (var warning in warnings)
        {
            recorder.Record(service, CoreResources.Services, EventType.Warning, "DeprecatedConfiguration", warning);
        }
    }

    public void RestoreFailed(V1Service service, string? message) =>
        recorder.Record(service, CoreResources.Services, EventType.Warning, "AllocationFailed",
            $"address in status could not be kept after restart: {message}");

    public void Forget(ServiceKey key)
    {
        _failures.Remove(key);
        _warnings.Remove(key);
    }

    /// <summary>True (and remembered) when this text was not yet recorded for this version of the Service's request.</summary>
    private static bool Once(Dictionary<ServiceKey, string> recorded, V1Service service, string text)
    {
        var entry = ServiceRequestParser.RequestVersion(service) + "\n" + text;
        var key = KeyOf(service);
        if (recorded.TryGetValue(key, out var last) && last == entry)
        {
            return false;
        }
        recorded[key] = entry;
        return true;
    }

    private static ServiceKey KeyOf(V1Service service) => new(service.Metadata.NamespaceProperty ?? "default", service.Metadata.Name ?? "");

    private static string Join(IEnumerable<IPAddress> addresses) => string.Join(", ", addresses);

    private static string Describe(AllocationFailure failure) => failure switch
    {
        AllocationFailure.PoolExhausted => "pool exhausted",
        AllocationFailure.NoCompatiblePool => "no compatible pool",
        AllocationFailure.AddressInUse => "address in use",
        AllocationFailure.InvalidRequest => "invalid request",
        _ => failure.ToString(),
    };
}

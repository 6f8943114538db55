using System.Collections.Frozen;
using System.Net;

namespace BareLb.Allocator;

public readonly record struct ServiceKey(string Namespace, string Name)
{
    public override string ToString() => $"{Namespace}/{Name}";
}

public enum IpFamilyPolicy
{
    SingleStack,
    PreferDualStack,
    RequireDualStack,
}

public enum TrafficPolicy
{
    Cluster,
    Local,
}

public readonly record struct PortKey(string Protocol, int Port);

// What the allocator needs to know about one Service; the controller maps the Kubernetes object onto it.
public sealed record ServiceRequest
{
    private static readonly IReadOnlyDictionary<string, string> NoLabels = FrozenDictionary<string, string>.Empty;

    public required ServiceKey Key { get; init; }
    public IReadOnlyDictionary<string, string> ServiceLabels { get; init; } = NoLabels;
    public IReadOnlyDictionary<string, string> NamespaceLabels { get; init; } = NoLabels;
    public IpFamilyPolicy FamilyPolicy { get; init; } = IpFamilyPolicy.SingleStack;

    // spec.ipFamilies order, primary first.
    public IReadOnlyList<IpFamily> Families { get; init; } = [IpFamily.IPv4];

    // At most one per family.
    public IReadOnlyList<IPAddress> RequestedAddresses { get; init; } = [];
    public string? RequestedPool { get; init; }
    public string? SharingKey { get; init; }
    public IReadOnlyList<PortKey> Ports { get; init; } = [];
    public TrafficPolicy ExternalTrafficPolicy { get; init; } = TrafficPolicy.Cluster;

    // Pod selector, compared for the Local sharing rule.
    public IReadOnlyDictionary<string, string>? Selector { get; init; }

    // The pool the controller last recorded for this service's addresses. Only a tie-break when the addresses lie
    // in several pools that serve the service equally well, so that a restart names the pool named before.
    public string? RecordedPool { get; init; }
}

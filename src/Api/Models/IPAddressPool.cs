using System.Text.Json.Serialization;
using BareLb.Allocator;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>barelb.io/v1beta1 IPAddressPool: MetalLB's metallb.io/v1beta1 IPAddressPool with a status.</summary>
public sealed class IPAddressPool : CustomResource
{
    [JsonPropertyName("spec")] public IPAddressPoolSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public IPAddressPoolStatus? Status { get; set; }
}

public sealed class IPAddressPoolSpec : JsonModel
{
    /// <summary>CIDRs ("198.51.100.0/24") or inclusive ranges ("198.51.100.10-198.51.100.20").</summary>
    [JsonPropertyName("addresses")] public List<string>? Addresses { get; set; }
    /// <summary>Absent means true.</summary>
    [JsonPropertyName("autoAssign")] public bool? AutoAssign { get; set; }
    /// <summary>Absent means false.</summary>
    [JsonPropertyName("avoidBuggyIPs")] public bool? AvoidBuggyIPs { get; set; }
    [JsonPropertyName("serviceAllocation")] public ServiceAllocation? ServiceAllocation { get; set; }
}

public sealed class ServiceAllocation : JsonModel
{
    /// <summary>Lower first; absent or 0 means "after every pool that has one" (0 is Go's unset value in MetalLB).</summary>
    [JsonPropertyName("priority")] public int? Priority { get; set; }
    [JsonPropertyName("namespaces")] public List<string>? Namespaces { get; set; }
    [JsonPropertyName("namespaceSelectors")] public List<LabelSelector>? NamespaceSelectors { get; set; }
    [JsonPropertyName("serviceSelectors")] public List<LabelSelector>? ServiceSelectors { get; set; }
}

public sealed class IPAddressPoolStatus : JsonModel
{
    [JsonPropertyName("assignedIPv4")] public long? AssignedIPv4 { get; set; }
    [JsonPropertyName("assignedIPv6")] public long? AssignedIPv6 { get; set; }
    [JsonPropertyName("availableIPv4")] public long? AvailableIPv4 { get; set; }
    [JsonPropertyName("availableIPv6")] public long? AvailableIPv6 { get; set; }
    [JsonPropertyName("conditions")] public List<Condition>? Conditions { get; set; }

    /// <summary>
    /// Copies the allocator's counts. The schema stores int64, so counts beyond long.MaxValue (any IPv6 range of a
    /// /65 or wider) are written as long.MaxValue rather than failing the status update.
    /// </summary>
    public void SetUsage(PoolUsage usage)
    {
        ArgumentNullException.ThrowIfNull(usage);
        AssignedIPv4 = Saturate(usage.AssignedIPv4);
        AssignedIPv6 = Saturate(usage.AssignedIPv6);
        AvailableIPv4 = Saturate(usage.AvailableIPv4);
        AvailableIPv6 = Saturate(usage.AvailableIPv6);
    }

    public static long Saturate(UInt128 count) => count > long.MaxValue ? long.MaxValue : (long)count;
}

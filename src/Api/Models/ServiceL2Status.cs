using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>
/// barelb.io/v1beta1 ServiceL2Status, written by the speaker that answers ARP/NDP for a Service
/// (MetalLB's metallb.io/v1beta1 ServiceL2Status). Everything is in status; spec stays empty.
/// </summary>
public sealed class ServiceL2Status : CustomResource
{
    [JsonPropertyName("spec")] public AnnouncementSpec? Spec { get; set; }
    [JsonPropertyName("status")] public L2AnnouncementStatus? Status { get; set; }
}

/// <summary>The empty spec of the two announcement status kinds; kept as a model so unknown fields survive.</summary>
public sealed class AnnouncementSpec : JsonModel;

public sealed class L2AnnouncementStatus : JsonModel
{
    [JsonPropertyName("node")] public string? Node { get; set; }
    [JsonPropertyName("serviceName")] public string? ServiceName { get; set; }
    [JsonPropertyName("serviceNamespace")] public string? ServiceNamespace { get; set; }
    [JsonPropertyName("interfaces")] public List<AnnouncedInterface>? Interfaces { get; set; }
}

public sealed class AnnouncedInterface : JsonModel
{
    [JsonPropertyName("name")] public string? Name { get; set; }
}

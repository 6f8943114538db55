using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>
/// barelb.io/v1beta1 ServiceBGPStatus, written by each speaker that is configured to announce a Service over BGP
/// (MetalLB's metallb.io/v1beta1 ServiceBGPStatus). Everything is in status; spec stays empty.
/// </summary>
public sealed class ServiceBGPStatus : CustomResource
{
    [JsonPropertyName("spec")] public AnnouncementSpec? Spec { get; set; }
    [JsonPropertyName("status")] public BGPAnnouncementStatus? Status { get; set; }
}

public sealed class BGPAnnouncementStatus : JsonModel
{
    [JsonPropertyName("node")] public string? Node { get; set; }
    [JsonPropertyName("serviceName")] public string? ServiceName { get; set; }
    [JsonPropertyName("serviceNamespace")] public string? ServiceNamespace { get; set; }
    /// <summary>BGPPeer names the Service is configured to be announced to, whatever the session state.</summary>
    [JsonPropertyName("peers")] public List<string>? Peers { get; set; }
}

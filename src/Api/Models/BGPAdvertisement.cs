using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>barelb.io/v1beta1 BGPAdvertisement, as MetalLB's metallb.io/v1beta1 BGPAdvertisement.</summary>
public sealed class BGPAdvertisement : CustomResource
{
    [JsonPropertyName("spec")] public BGPAdvertisementSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public ConfigObjectStatus? Status { get; set; }
}

public sealed class BGPAdvertisementSpec : JsonModel
{
    /// <summary>Absent means 32.</summary>
    [JsonPropertyName("aggregationLength")] public int? AggregationLength { get; set; }
    /// <summary>Absent means 128.</summary>
    [JsonPropertyName("aggregationLengthV6")] public int? AggregationLengthV6 { get; set; }
    [JsonPropertyName("localPref")] public long? LocalPref { get; set; }
    /// <summary>"AS:value", "large:global:local1:local2" or a Community alias name.</summary>
    [JsonPropertyName("communities")] public List<string>? Communities { get; set; }
    [JsonPropertyName("ipAddressPools")] public List<string>? IPAddressPools { get; set; }
    [JsonPropertyName("ipAddressPoolSelectors")] public List<LabelSelector>? IPAddressPoolSelectors { get; set; }
    [JsonPropertyName("nodeSelectors")] public List<LabelSelector>? NodeSelectors { get; set; }
    /// <summary>BGPPeer names; empty means every peer.</summary>
    [JsonPropertyName("peers")] public List<string>? Peers { get; set; }
}

using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>barelb.io/v1beta1 L2Advertisement, as MetalLB's metallb.io/v1beta1 L2Advertisement.</summary>
public sealed class L2Advertisement : CustomResource
{
    [JsonPropertyName("spec")] public L2AdvertisementSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public ConfigObjectStatus? Status { get; set; }
}

public sealed class L2AdvertisementSpec : JsonModel
{
    [JsonPropertyName("ipAddressPools")] public List<string>? IPAddressPools { get; set; }
    [JsonPropertyName("ipAddressPoolSelectors")] public List<LabelSelector>? IPAddressPoolSelectors { get; set; }
    [JsonPropertyName("nodeSelectors")] public List<LabelSelector>? NodeSelectors { get; set; }
    /// <summary>Empty means every interface of the node.</summary>
    [JsonPropertyName("interfaces")] public List<string>? Interfaces { get; set; }
}

using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>barelb.io/v1beta1 Community: named BGP community values, as MetalLB's metallb.io/v1beta1 Community.</summary>
public sealed class Community : CustomResource
{
    [JsonPropertyName("spec")] public CommunitySpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public ConfigObjectStatus? Status { get; set; }
}

public sealed class CommunitySpec : JsonModel
{
    [JsonPropertyName("communities")] public List<CommunityAlias>? Communities { get; set; }
}

public sealed class CommunityAlias : JsonModel
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("value")] public string? Value { get; set; }
}

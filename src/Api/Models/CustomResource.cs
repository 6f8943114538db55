using System.Text.Json;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>
/// Every part of BareLb's custom resources keeps the JSON fields it does not declare, so that reading an object
/// written by a newer CRD version or another tool never loses them (the official client's own models drop them).
/// BareLb never PUTs whole objects anyway; it writes status by merge patch.
/// </summary>
public abstract class JsonModel
{
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? ExtensionData { get; set; }
}

/// <summary>A barelb.io custom resource, read and written through the official client's custom-object operations.</summary>
public abstract class CustomResource : JsonModel, IKubernetesObject<V1ObjectMeta>
{
    // Written before the derived type's fields (System.Text.Json puts derived properties first otherwise), as kubectl shows them.
    [JsonPropertyName("apiVersion"), JsonPropertyOrder(-3)] public string ApiVersion { get; set; } = BareLbResources.ApiVersion;
    [JsonPropertyName("kind"), JsonPropertyOrder(-2)] public string Kind { get; set; } = "";
    [JsonPropertyName("metadata"), JsonPropertyOrder(-1)] public V1ObjectMeta Metadata { get; set; } = new();
}

/// <summary>metav1.Condition, with unknown fields kept.</summary>
public sealed class Condition : JsonModel
{
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("status")] public string Status { get; set; } = "";
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }
    [JsonPropertyName("lastTransitionTime")] public DateTimeOffset? LastTransitionTime { get; set; }
    [JsonPropertyName("reason")] public string? Reason { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
}

/// <summary>metav1.LabelSelector as it appears in BareLb's specs (pool and node selectors), with unknown fields kept.</summary>
public sealed class LabelSelector : JsonModel
{
    [JsonPropertyName("matchLabels")] public Dictionary<string, string>? MatchLabels { get; set; }
    [JsonPropertyName("matchExpressions")] public List<LabelSelectorRequirement>? MatchExpressions { get; set; }
}

public sealed class LabelSelectorRequirement : JsonModel
{
    [JsonPropertyName("key")] public string Key { get; set; } = "";
    /// <summary>In, NotIn, Exists, DoesNotExist.</summary>
    [JsonPropertyName("operator")] public string Operator { get; set; } = "";
    [JsonPropertyName("values")] public List<string>? Values { get; set; }
}

using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>
/// Status of the configuration kinds other than IPAddressPool. Without an admission webhook, conditions are where
/// the controller tells the user that an object was rejected and why.
/// </summary>
public sealed class ConfigObjectStatus : JsonModel
{
    [JsonPropertyName("conditions")] public List<Condition>? Conditions { get; set; }
}

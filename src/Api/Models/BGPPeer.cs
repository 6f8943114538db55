using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace BareLb.Api.Models;

/// <summary>barelb.io/v1beta1 BGPPeer, as MetalLB's metallb.io/v1beta2 BGPPeer.</summary>
public sealed class BGPPeer : CustomResource
{
    [JsonPropertyName("spec")] public BGPPeerSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public ConfigObjectStatus? Status { get; set; }
}

// Integers are long so that an out-of-range value still deserializes and gets a validation error naming the field,
// instead of failing the whole object.
public sealed class BGPPeerSpec : JsonModel
{
    [JsonPropertyName("myASN")] public long? MyASN { get; set; }
    [JsonPropertyName("peerASN")] public long? PeerASN { get; set; }
    /// <summary>"internal" or "external"; exclusive with <see cref="PeerASN"/>.</summary>
    [JsonPropertyName("dynamicASN")] public string? DynamicASN { get; set; }
    [JsonPropertyName("peerAddress")] public string? PeerAddress { get; set; }
    /// <summary>Unnumbered session over this node interface; exclusive with <see cref="PeerAddress"/>.</summary>
    [JsonPropertyName("interface")] public string? Interface { get; set; }
    [JsonPropertyName("sourceAddress")] public string? SourceAddress { get; set; }
    [JsonPropertyName("peerPort")] public long? PeerPort { get; set; }
    /// <summary>Go duration syntax, as metav1.Duration ("90s", "1m30s").</summary>
    [JsonPropertyName("holdTime")] public string? HoldTime { get; set; }
    [JsonPropertyName("keepaliveTime")] public string? KeepaliveTime { get; set; }
    [JsonPropertyName("connectTime")] public string? ConnectTime { get; set; }
    [JsonPropertyName("routerID")] public string? RouterID { get; set; }
    [JsonPropertyName("nodeSelectors")] public List<LabelSelector>? NodeSelectors { get; set; }
    [JsonPropertyName("password")] public string? Password { get; set; }
    [JsonPropertyName("passwordSecret")] public SecretReference? PasswordSecret { get; set; }
    [JsonPropertyName("bfdProfile")] public string? BfdProfile { get; set; }
    [JsonPropertyName("enableGracefulRestart")] public bool? EnableGracefulRestart { get; set; }
    [JsonPropertyName("ebgpMultiHop")] public bool? EbgpMultiHop { get; set; }
    [JsonPropertyName("vrf")] public string? Vrf { get; set; }
    [JsonPropertyName("disableMP")] public bool? DisableMP { get; set; }
    [JsonPropertyName("dualStackAddressFamily")] public bool? DualStackAddressFamily { get; set; }
}

/// <summary>core/v1 SecretReference.</summary>
public sealed class SecretReference : JsonModel
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("namespace")] public string? Namespace { get; set; }
}

using System.Text.Json.Serialization;

namespace BareLb.Kubernetes.Models;

public sealed class Service : KubernetesObject
{
    [JsonPropertyName("spec")] public ServiceSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public ServiceStatus? Status { get; set; }
}

public sealed class ServiceSpec : JsonModel
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("selector")] public Dictionary<string, string>? Selector { get; set; }
    [JsonPropertyName("ports")] public List<ServicePort>? Ports { get; set; }
    [JsonPropertyName("clusterIP")] public string? ClusterIP { get; set; }
    [JsonPropertyName("clusterIPs")] public List<string>? ClusterIPs { get; set; }
    /// <summary>IPv4 or IPv6, primary first.</summary>
    [JsonPropertyName("ipFamilies")] public List<string>? IpFamilies { get; set; }
    /// <summary>SingleStack, PreferDualStack or RequireDualStack.</summary>
    [JsonPropertyName("ipFamilyPolicy")] public string? IpFamilyPolicy { get; set; }
    [JsonPropertyName("loadBalancerIP")] public string? LoadBalancerIP { get; set; }
    [JsonPropertyName("loadBalancerClass")] public string? LoadBalancerClass { get; set; }
    /// <summary>Cluster or Local.</summary>
    [JsonPropertyName("externalTrafficPolicy")] public string? ExternalTrafficPolicy { get; set; }
    [JsonPropertyName("internalTrafficPolicy")] public string? InternalTrafficPolicy { get; set; }
    [JsonPropertyName("allocateLoadBalancerNodePorts")] public bool? AllocateLoadBalancerNodePorts { get; set; }
}

public sealed class ServicePort : JsonModel
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("protocol")] public string? Protocol { get; set; }
    [JsonPropertyName("port")] public int Port { get; set; }
    [JsonPropertyName("targetPort")] public System.Text.Json.JsonElement? TargetPort { get; set; }
    [JsonPropertyName("nodePort")] public int? NodePort { get; set; }
}

public sealed class ServiceStatus : JsonModel
{
    [JsonPropertyName("loadBalancer")] public LoadBalancerStatus? LoadBalancer { get; set; }
    [JsonPropertyName("conditions")] public List<Condition>? Conditions { get; set; }
}

public sealed class LoadBalancerStatus : JsonModel
{
    [JsonPropertyName("ingress")] public List<LoadBalancerIngress>? Ingress { get; set; }
}

public sealed class LoadBalancerIngress : JsonModel
{
    [JsonPropertyName("ip")] public string? Ip { get; set; }
    [JsonPropertyName("hostname")] public string? Hostname { get; set; }
    /// <summary>VIP or Proxy (Kubernetes 1.29+).</summary>
    [JsonPropertyName("ipMode")] public string? IpMode { get; set; }
}

public sealed class Node : KubernetesObject
{
    [JsonPropertyName("spec")] public NodeSpec? Spec { get; set; }
    [JsonPropertyName("status")] public NodeStatus? Status { get; set; }
}

public sealed class NodeSpec : JsonModel
{
    [JsonPropertyName("podCIDRs")] public List<string>? PodCIDRs { get; set; }
    [JsonPropertyName("unschedulable")] public bool? Unschedulable { get; set; }
}

public sealed class NodeStatus : JsonModel
{
    [JsonPropertyName("addresses")] public List<NodeAddress>? Addresses { get; set; }
    [JsonPropertyName("conditions")] public List<NodeCondition>? Conditions { get; set; }
}

public sealed class NodeAddress : JsonModel
{
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("address")] public string Address { get; set; } = "";
}

public sealed class NodeCondition : JsonModel
{
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("status")] public string Status { get; set; } = "";
    [JsonPropertyName("reason")] public string? Reason { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
}

public sealed class Namespace : KubernetesObject
{
    [JsonPropertyName("spec")] public NamespaceSpec? Spec { get; set; }
    [JsonPropertyName("status")] public NamespaceStatus? Status { get; set; }
}

public sealed class NamespaceSpec : JsonModel
{
    [JsonPropertyName("finalizers")] public List<string>? Finalizers { get; set; }
}

public sealed class NamespaceStatus : JsonModel
{
    [JsonPropertyName("phase")] public string? Phase { get; set; }
}

public sealed class Pod : KubernetesObject
{
    [JsonPropertyName("spec")] public PodSpec? Spec { get; set; }
    [JsonPropertyName("status")] public PodStatus? Status { get; set; }
}

public sealed class PodSpec : JsonModel
{
    [JsonPropertyName("nodeName")] public string? NodeName { get; set; }
}

public sealed class PodStatus : JsonModel
{
    [JsonPropertyName("phase")] public string? Phase { get; set; }
    [JsonPropertyName("podIP")] public string? PodIP { get; set; }
}

public sealed class Secret : KubernetesObject
{
    [JsonPropertyName("type")] public string? Type { get; set; }
    /// <summary>Base64 values, as on the wire.</summary>
    [JsonPropertyName("data")] public Dictionary<string, string>? Data { get; set; }
    [JsonPropertyName("stringData")] public Dictionary<string, string>? StringData { get; set; }
}

public sealed class EndpointSlice : KubernetesObject
{
    /// <summary>IPv4, IPv6 or FQDN.</summary>
    [JsonPropertyName("addressType")] public string? AddressType { get; set; }
    [JsonPropertyName("endpoints")] public List<Endpoint>? Endpoints { get; set; }
    [JsonPropertyName("ports")] public List<EndpointPort>? Ports { get; set; }
}

public sealed class Endpoint : JsonModel
{
    [JsonPropertyName("addresses")] public List<string> Addresses { get; set; } = [];
    [JsonPropertyName("conditions")] public EndpointConditions? Conditions { get; set; }
    [JsonPropertyName("nodeName")] public string? NodeName { get; set; }
}

public sealed class EndpointConditions : JsonModel
{
    [JsonPropertyName("ready")] public bool? Ready { get; set; }
    [JsonPropertyName("serving")] public bool? Serving { get; set; }
    [JsonPropertyName("terminating")] public bool? Terminating { get; set; }
}

public sealed class EndpointPort : JsonModel
{
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("port")] public int? Port { get; set; }
    [JsonPropertyName("protocol")] public string? Protocol { get; set; }
}

public sealed class Lease : KubernetesObject
{
    [JsonPropertyName("spec")] public LeaseSpec Spec { get; set; } = new();
}

public sealed class LeaseSpec : JsonModel
{
    [JsonPropertyName("holderIdentity")] public string? HolderIdentity { get; set; }
    [JsonPropertyName("leaseDurationSeconds")] public int? LeaseDurationSeconds { get; set; }
    /// <summary>MicroTime on the wire: RFC 3339 with microseconds.</summary>
    [JsonPropertyName("acquireTime"), JsonConverter(typeof(BareLb.Kubernetes.Serialization.MicroTimeConverter))] public DateTimeOffset? AcquireTime { get; set; }
    [JsonPropertyName("renewTime"), JsonConverter(typeof(BareLb.Kubernetes.Serialization.MicroTimeConverter))] public DateTimeOffset? RenewTime { get; set; }
    [JsonPropertyName("leaseTransitions")] public int? LeaseTransitions { get; set; }
}

/// <summary>core/v1 Event; the recorder aggregates repeats by bumping count and lastTimestamp.</summary>
public sealed class Event : KubernetesObject
{
    [JsonPropertyName("involvedObject")] public ObjectReference InvolvedObject { get; set; } = new();
    [JsonPropertyName("reason")] public string? Reason { get; set; }
    [JsonPropertyName("message")] public string? Message { get; set; }
    [JsonPropertyName("type")] public string? Type { get; set; }
    [JsonPropertyName("count")] public int? Count { get; set; }
    [JsonPropertyName("firstTimestamp")] public DateTimeOffset? FirstTimestamp { get; set; }
    [JsonPropertyName("lastTimestamp")] public DateTimeOffset? LastTimestamp { get; set; }
    [JsonPropertyName("source")] public EventSource? Source { get; set; }
    [JsonPropertyName("reportingComponent")] public string? ReportingComponent { get; set; }
    [JsonPropertyName("reportingInstance")] public string? ReportingInstance { get; set; }
}

public sealed class ObjectReference : JsonModel
{
    [JsonPropertyName("apiVersion")] public string? ApiVersion { get; set; }
    [JsonPropertyName("kind")] public string? Kind { get; set; }
    [JsonPropertyName("namespace")] public string? Namespace { get; set; }
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("uid")] public string? Uid { get; set; }
    [JsonPropertyName("resourceVersion")] public string? ResourceVersion { get; set; }
}

public sealed class EventSource : JsonModel
{
    [JsonPropertyName("component")] public string? Component { get; set; }
    [JsonPropertyName("host")] public string? Host { get; set; }
}

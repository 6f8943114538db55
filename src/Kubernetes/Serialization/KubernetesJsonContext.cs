using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using BareLb.Kubernetes.Models;

namespace BareLb.Kubernetes.Serialization;

[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(Rfc3339TimeConverter)])]
[JsonSerializable(typeof(Status))]
[JsonSerializable(typeof(JsonNode))]
[JsonSerializable(typeof(Service))]
[JsonSerializable(typeof(KubernetesList<Service>))]
[JsonSerializable(typeof(Node))]
[JsonSerializable(typeof(KubernetesList<Node>))]
[JsonSerializable(typeof(Namespace))]
[JsonSerializable(typeof(KubernetesList<Namespace>))]
[JsonSerializable(typeof(Pod))]
[JsonSerializable(typeof(KubernetesList<Pod>))]
[JsonSerializable(typeof(Secret))]
[JsonSerializable(typeof(KubernetesList<Secret>))]
[JsonSerializable(typeof(EndpointSlice))]
[JsonSerializable(typeof(KubernetesList<EndpointSlice>))]
[JsonSerializable(typeof(Lease))]
[JsonSerializable(typeof(KubernetesList<Lease>))]
[JsonSerializable(typeof(Event))]
[JsonSerializable(typeof(KubernetesList<Event>))]
public sealed partial class KubernetesJsonContext : JsonSerializerContext;

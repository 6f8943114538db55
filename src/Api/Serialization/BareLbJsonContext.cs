using System.Text.Json.Serialization;
using BareLb.Api.Models;
using BareLb.Kubernetes.Models;
using BareLb.Kubernetes.Serialization;

namespace BareLb.Api.Serialization;

// Same options as KubernetesJsonContext, so both contexts write what the API server expects.
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(Rfc3339TimeConverter)])]
[JsonSerializable(typeof(IPAddressPool))]
[JsonSerializable(typeof(KubernetesList<IPAddressPool>))]
[JsonSerializable(typeof(L2Advertisement))]
[JsonSerializable(typeof(KubernetesList<L2Advertisement>))]
[JsonSerializable(typeof(BGPPeer))]
[JsonSerializable(typeof(KubernetesList<BGPPeer>))]
[JsonSerializable(typeof(BGPAdvertisement))]
[JsonSerializable(typeof(KubernetesList<BGPAdvertisement>))]
[JsonSerializable(typeof(Community))]
[JsonSerializable(typeof(KubernetesList<Community>))]
[JsonSerializable(typeof(ServiceL2Status))]
[JsonSerializable(typeof(KubernetesList<ServiceL2Status>))]
[JsonSerializable(typeof(ServiceBGPStatus))]
[JsonSerializable(typeof(KubernetesList<ServiceBGPStatus>))]
public sealed partial class BareLbJsonContext : JsonSerializerContext;

using BareLb.Api.Models;
using BareLb.Api.Serialization;
using BareLb.Kubernetes;

namespace BareLb.Api;

/// <summary>
/// BareLb's custom resources (crds/). All are namespaced and, as in MetalLB, read from the operator's own
/// namespace only (barelb-system by default).
/// </summary>
public static class BareLbResources
{
    public const string ApiGroup = "barelb.io";
    public const string Version = "v1beta1";
    public const string ApiVersion = ApiGroup + "/" + Version;

    private static BareLbJsonContext Json => BareLbJsonContext.Default;

    public static ResourceType<IPAddressPool> IPAddressPools { get; } =
        new(ApiGroup, Version, "IPAddressPool", "ipaddresspools", namespaced: true, Json.IPAddressPool, Json.KubernetesListIPAddressPool);

    public static ResourceType<L2Advertisement> L2Advertisements { get; } =
        new(ApiGroup, Version, "L2Advertisement", "l2advertisements", namespaced: true, Json.L2Advertisement, Json.KubernetesListL2Advertisement);

    public static ResourceType<BGPPeer> BGPPeers { get; } =
        new(ApiGroup, Version, "BGPPeer", "bgppeers", namespaced: true, Json.BGPPeer, Json.KubernetesListBGPPeer);

    public static ResourceType<BGPAdvertisement> BGPAdvertisements { get; } =
        new(ApiGroup, Version, "BGPAdvertisement", "bgpadvertisements", namespaced: true, Json.BGPAdvertisement, Json.KubernetesListBGPAdvertisement);

    public static ResourceType<Community> Communities { get; } =
        new(ApiGroup, Version, "Community", "communities", namespaced: true, Json.Community, Json.KubernetesListCommunity);

    public static ResourceType<ServiceL2Status> ServiceL2Statuses { get; } =
        new(ApiGroup, Version, "ServiceL2Status", "servicel2statuses", namespaced: true, Json.ServiceL2Status, Json.KubernetesListServiceL2Status);

    public static ResourceType<ServiceBGPStatus> ServiceBGPStatuses { get; } =
        new(ApiGroup, Version, "ServiceBGPStatus", "servicebgpstatuses", namespaced: true, Json.ServiceBGPStatus, Json.KubernetesListServiceBGPStatus);
}

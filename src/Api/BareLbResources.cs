using BareLb.Api.Models;
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

    public static ResourceType<IPAddressPool> IPAddressPools { get; } =
        new(ApiGroup, Version, "IPAddressPool", "ipaddresspools", namespaced: true);

    public static ResourceType<L2Advertisement> L2Advertisements { get; } =
        new(ApiGroup, Version, "L2Advertisement", "l2advertisements", namespaced: true);

    public static ResourceType<BGPPeer> BGPPeers { get; } =
        new(ApiGroup, Version, "BGPPeer", "bgppeers", namespaced: true);

    public static ResourceType<BGPAdvertisement> BGPAdvertisements { get; } =
        new(ApiGroup, Version, "BGPAdvertisement", "bgpadvertisements", namespaced: true);

    public static ResourceType<Community> Communities { get; } =
        new(ApiGroup, Version, "Community", "communities", namespaced: true);

    public static ResourceType<ServiceL2Status> ServiceL2Statuses { get; } =
        new(ApiGroup, Version, "ServiceL2Status", "servicel2statuses", namespaced: true);

    public static ResourceType<ServiceBGPStatus> ServiceBGPStatuses { get; } =
        new(ApiGroup, Version, "ServiceBGPStatus", "servicebgpstatuses", namespaced: true);
}

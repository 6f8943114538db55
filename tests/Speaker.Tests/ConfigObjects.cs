using BareLb.Api.Models;
using k8s.Models;

namespace BareLb.Speaker.Tests;

/// <summary>
/// Builders for configuration objects and Services as a user writes them; tests parse them with the real
/// ConfigParser, so the planners see exactly what the speaker would.
/// </summary>
internal static class ConfigObjects
{
    public const string Namespace = "barelb-system";

    public static IPAddressPool Pool(string name, params string[] addresses) => new()
    {
        Kind = "IPAddressPool",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
        Spec = new IPAddressPoolSpec { Addresses = [.. addresses] },
    };

    public static L2Advertisement L2Adv(string name) => new()
    {
        Kind = "L2Advertisement",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
    };

    /// <summary>An eBGP peer (64500 → 64501) at 203.0.113.1, on every node, before <paramref name="edit"/>.</summary>
    public static BGPPeer Peer(string name, Action<BGPPeerSpec>? edit = null)
    {
        var spec = new BGPPeerSpec { MyASN = 64500, PeerASN = 64501, PeerAddress = "203.0.113.1" };
        edit?.Invoke(spec);
        return new BGPPeer { Kind = "BGPPeer", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace }, Spec = spec };
    }

    /// <summary>A BGPAdvertisement of every pool to every peer from every node, before <paramref name="edit"/>.</summary>
    public static BGPAdvertisement BgpAdv(string name, Action<BGPAdvertisementSpec>? edit = null)
    {
        var spec = new BGPAdvertisementSpec();
        edit?.Invoke(spec);
        return new BGPAdvertisement { Kind = "BGPAdvertisement", Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace }, Spec = spec };
    }

    public static Community Community(string name, params (string Alias, string Value)[] aliases) => new()
    {
        Kind = "Community",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
        Spec = new CommunitySpec { Communities = [.. aliases.Select(a => new CommunityAlias { Name = a.Alias, Value = a.Value })] },
    };

    public static LabelSelector Labels(string key, string value) => new() { MatchLabels = new Dictionary<string, string> { [key] = value } };

    public static V1Service Service(string name, string policy = "Cluster", params string[] ips) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = "demo" },
        Spec = new V1ServiceSpec { Type = "LoadBalancer", ExternalTrafficPolicy = policy },
        Status = new V1ServiceStatus { LoadBalancer = new V1LoadBalancerStatus { Ingress = [.. ips.Select(ip => new V1LoadBalancerIngress { Ip = ip })] } },
    };
}

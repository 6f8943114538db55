using BareLb.Api.Models;
using k8s;

namespace BareLb.Api.Tests.Support;

// Test objects written as JSON, as they arrive from the API server.
internal static class Objects
{
    public const string Namespace = "barelb-system";

    public static IPAddressPool Pool(string spec, string name = "pool", string labels = "{}") =>
        Parse<IPAddressPool>("IPAddressPool", name, spec, labels);

    public static L2Advertisement L2(string spec, string name = "l2") =>
        Parse<L2Advertisement>("L2Advertisement", name, spec);

    public static BGPPeer Peer(string spec, string name = "peer") =>
        Parse<BGPPeer>("BGPPeer", name, spec);

    public static BGPAdvertisement Bgp(string spec, string name = "bgp") =>
        Parse<BGPAdvertisement>("BGPAdvertisement", name, spec);

    public static Community Community(string spec, string name = "community") =>
        Parse<Community>("Community", name, spec);

    private static T Parse<T>(string kind, string name, string spec, string labels = "{}") =>
        KubernetesJson.Deserialize<T>($$"""
            {"apiVersion":"barelb.io/v1beta1","kind":"{{kind}}",
             "metadata":{"name":"{{name}}","namespace":"{{Namespace}}","labels":{{labels}}},
             "spec":{{spec}}}
            """)!;
}

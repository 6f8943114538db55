using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.Allocator;
using BareLb.Api.Models;
using k8s;
using BareLb.Api.Tests.Support;

namespace BareLb.Api.Tests;

// A read-modify-write by an older BareLb must not drop fields a newer one (or a person) wrote.
public sealed class JsonRoundTripTests
{
    private const string Metadata = """
        "metadata":{"name":"x","namespace":"barelb-system","uid":"u-1","resourceVersion":"42","generation":3,
          "creationTimestamp":"2024-01-02T03:04:05Z","labels":{"a":"b"},"managedFields":[{"manager":"kubectl"}]},
        "futureTopLevel":{"nested":[1,2,3]}
        """;

    private const string Selector = """
        {"matchLabels":{"k":"v"},"matchExpressions":[{"key":"k","operator":"In","values":["v"],"futureExpr":true}],"futureSelector":"s"}
        """;

    private const string Conditions = """
        "conditions":[{"type":"Valid","status":"True","observedGeneration":3,"lastTransitionTime":"2024-01-02T03:04:05Z","reason":"Valid","message":"","futureCondition":1}]
        """;

    public static TheoryData<string, string> Documents => new()
    {
        { "IPAddressPool", $$$"""
            {"apiVersion":"barelb.io/v1beta1","kind":"IPAddressPool",{{{Metadata}}},
             "spec":{"addresses":["198.51.100.0/24","2001:db8::/64"],"autoAssign":false,"avoidBuggyIPs":true,"futureSpec":"x",
               "serviceAllocation":{"priority":5,"namespaces":["demo"],"namespaceSelectors":[{{{Selector}}}],"serviceSelectors":[{{{Selector}}}],"futureAllocation":[]}},
             "status":{"assignedIPv4":1,"assignedIPv6":0,"availableIPv4":253,"availableIPv6":9223372036854775807,{{{Conditions}}},"futureStatus":{} }}
            """ },
        { "L2Advertisement", $$$"""
            {"apiVersion":"barelb.io/v1beta1","kind":"L2Advertisement",{{{Metadata}}},
             "spec":{"ipAddressPools":["a"],"ipAddressPoolSelectors":[{{{Selector}}}],"nodeSelectors":[{{{Selector}}}],"interfaces":["eth0"],"futureSpec":1},
             "status":{{{{Conditions}}},"futureStatus":2}}
            """ },
        { "BGPPeer", $$$"""
            {"apiVersion":"barelb.io/v1beta1","kind":"BGPPeer",{{{Metadata}}},
             "spec":{"myASN":64512,"peerASN":4200000000,"dynamicASN":"external","peerAddress":"198.51.100.1","interface":"eth1",
               "sourceAddress":"198.51.100.2","peerPort":179,"holdTime":"90s","keepaliveTime":"30s","connectTime":"10s","routerID":"198.51.100.3",
               "nodeSelectors":[{{{Selector}}}],"password":"p","passwordSecret":{"name":"s","namespace":"barelb-system","futureRef":0},
               "bfdProfile":"fast","enableGracefulRestart":true,"ebgpMultiHop":false,"vrf":"red","disableMP":false,"dualStackAddressFamily":true,
               "futureSpec":null},
             "status":{{{{Conditions}}}}}
            """ },
        { "BGPAdvertisement", $$$"""
            {"apiVersion":"barelb.io/v1beta1","kind":"BGPAdvertisement",{{{Metadata}}},
             "spec":{"aggregationLength":32,"aggregationLengthV6":128,"localPref":4294967295,"communities":["65535:65282","large:1:2:3","alias"],
               "ipAddressPools":["a"],"ipAddressPoolSelectors":[{{{Selector}}}],"nodeSelectors":[{{{Selector}}}],"peers":["p"],"futureSpec":"y"}}
            """ },
        { "Community", $$$"""
            {"apiVersion":"barelb.io/v1beta1","kind":"Community",{{{Metadata}}},
             "spec":{"communities":[{"name":"NO_ADVERTISE","value":"65535:65282","futureAlias":"z"}],"futureSpec":[]}}
            """ },
        { "ServiceL2Status", $$$"""
            {"apiVersion":"barelb.io/v1beta1","kind":"ServiceL2Status",{{{Metadata}}},"spec":{"futureSpec":1},
             "status":{"node":"n1","serviceName":"web","serviceNamespace":"demo","interfaces":[{"name":"eth0","futureIf":1}],"futureStatus":true}}
            """ },
        { "ServiceBGPStatus", $$$"""
            {"apiVersion":"barelb.io/v1beta1","kind":"ServiceBGPStatus",{{{Metadata}}},"spec":{},
             "status":{"node":"n1","serviceName":"web","serviceNamespace":"demo","peers":["p1","p2"],"futureStatus":"s"}}
            """ },
    };

    [Theory]
    [MemberData(nameof(Documents))]
    public void Deserialize_ThenSerialize_KeepsEveryField(string kind, string json)
    {
        var info = TypeInfoFor(kind);
        var original = JsonNode.Parse(json)!;

        var model = JsonSerializer.Deserialize(json, info, Options)!;
        var written = JsonNode.Parse(KubernetesJson.Serialize(model))!;

        Assert.True(JsonNode.DeepEquals(original, written), $"expected {original.ToJsonString()}\nactual   {written.ToJsonString()}");
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Deserialize_UnknownFields_LandInExtensionDataAndKnownOnesDoNot(string kind, string json)
    {
        var model = JsonSerializer.Deserialize(json, TypeInfoFor(kind), Options)!;

        var unknown = ExtensionFields.Of(model).Where(f => !f.StartsWith("metadata.", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(unknown);
        Assert.All(unknown, field => Assert.StartsWith("future", field.Split('.')[^1].TrimEnd(']', '0', '[')));
    }

    [Fact]
    public void Serialize_UnsetFields_AreOmittedNotNull()
    {
        var pool = new IPAddressPool { ApiVersion = BareLbResources.ApiVersion, Kind = "IPAddressPool" };
        pool.Metadata.Name = "p";
        pool.Spec.Addresses = ["198.51.100.0/24"];

        var json = KubernetesJson.Serialize(pool);

        Assert.DoesNotContain("null", json, StringComparison.Ordinal);
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""{"apiVersion":"barelb.io/v1beta1","kind":"IPAddressPool","metadata":{"name":"p"},"spec":{"addresses":["198.51.100.0/24"]}}"""),
            JsonNode.Parse(json)), json);
    }

    [Fact]
    public void SetUsage_HugeIPv6Counts_SaturateAtInt64Max()
    {
        var status = new IPAddressPoolStatus();

        status.SetUsage(new PoolUsage(AssignedIPv4: 3, AssignedIPv6: UInt128.One << 64, AvailableIPv4: 251, AvailableIPv6: UInt128.MaxValue));

        Assert.Equal(3, status.AssignedIPv4);
        Assert.Equal(long.MaxValue, status.AssignedIPv6);
        Assert.Equal(251, status.AvailableIPv4);
        Assert.Equal(long.MaxValue, status.AvailableIPv6);
        Assert.Equal(long.MaxValue, IPAddressPoolStatus.Saturate(long.MaxValue));
        Assert.Equal(long.MaxValue - 1, IPAddressPoolStatus.Saturate(long.MaxValue - 1));
    }

    // What the client reads with: the official client's serializer settings.
    private static readonly JsonSerializerOptions Options = KubernetesOptions();

    private static JsonSerializerOptions KubernetesOptions()
    {
        JsonSerializerOptions? captured = null;
        KubernetesJson.AddJsonOptions(o => captured = new JsonSerializerOptions(o));
        return captured!;
    }

    private static Type TypeInfoFor(string kind) => kind switch
    {
        "IPAddressPool" => typeof(IPAddressPool),
        "L2Advertisement" => typeof(L2Advertisement),
        "BGPPeer" => typeof(BGPPeer),
        "BGPAdvertisement" => typeof(BGPAdvertisement),
        "Community" => typeof(Community),
        "ServiceL2Status" => typeof(ServiceL2Status),
        "ServiceBGPStatus" => typeof(ServiceBGPStatus),
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
    };
}

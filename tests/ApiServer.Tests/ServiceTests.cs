using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using BareLb.TestSupport;
using static BareLb.ApiServer.Tests.KubeHttp;

namespace BareLb.ApiServer.Tests;

public sealed class ServiceTests
{
    private const string Svcs = "/api/v1/namespaces/default/services";
    private static readonly IPNetwork V4 = IPNetwork.Parse("100.64.0.0/16");
    private static readonly IPNetwork V6 = IPNetwork.Parse("2001:db8:ffff::/112");

    [Fact]
    public async Task Create_ClusterIP_AppliesRealDefaults()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var created = await new KubeHttp(api.Http).CreateAsync(Svcs, Service("s"));
        var spec = created["spec"]!;
        Assert.Equal("ClusterIP", spec["type"]!.GetValue<string>());
        Assert.Equal("None", spec["sessionAffinity"]!.GetValue<string>());
        Assert.Equal("TCP", spec["ports"]![0]!["protocol"]!.GetValue<string>());
        Assert.Equal(80, spec["ports"]![0]!["targetPort"]!.GetValue<int>());
        Assert.Equal("Cluster", spec["internalTrafficPolicy"]!.GetValue<string>());
        Assert.Null(spec["externalTrafficPolicy"]);
        Assert.Null(spec["ports"]![0]!["nodePort"]);
        Assert.Equal("SingleStack", spec["ipFamilyPolicy"]!.GetValue<string>());
        Assert.Equal(["IPv4"], spec["ipFamilies"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.True(V4.Contains(IPAddress.Parse(spec["clusterIP"]!.GetValue<string>())));
        Assert.Equal(spec["clusterIP"]!.GetValue<string>(), spec["clusterIPs"]![0]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(J("""{"loadBalancer":{}}"""), created["status"]));
        Assert.Null(created["metadata"]!["generation"]);
    }

    [Fact]
    public async Task Create_LoadBalancer_AllocatesNodePortsAndDefaultsPolicies()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var spec = (await new KubeHttp(api.Http).CreateAsync(Svcs, Service("s", type: "LoadBalancer")))["spec"]!;
        Assert.Equal("Cluster", spec["externalTrafficPolicy"]!.GetValue<string>());
        Assert.True(spec["allocateLoadBalancerNodePorts"]!.GetValue<bool>());
        Assert.InRange(spec["ports"]![0]!["nodePort"]!.GetValue<int>(), 30000, 32767);
        Assert.Null(spec["healthCheckNodePort"]);
    }

    [Fact]
    public async Task Create_LoadBalancerWithoutNodePortAllocation_HasNoNodePorts()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var spec = (await new KubeHttp(api.Http).CreateAsync(Svcs, Service("s", type: "LoadBalancer",
            spec: s => s["allocateLoadBalancerNodePorts"] = false)))["spec"]!;
        Assert.Null(spec["ports"]![0]!["nodePort"]);
    }

    [Fact]
    public async Task Create_LoadBalancerLocalPolicy_AllocatesHealthCheckNodePort()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var spec = (await new KubeHttp(api.Http).CreateAsync(Svcs, Service("s", type: "LoadBalancer",
            spec: s => s["externalTrafficPolicy"] = "Local")))["spec"]!;
        Assert.InRange(spec["healthCheckNodePort"]!.GetValue<int>(), 30000, 32767);
    }

    public static TheoryData<string?, string[]?, string, string[]> FamilyCases => new()
    {
        { null, null, "SingleStack", ["IPv4"] },
        { "SingleStack", ["IPv6"], "SingleStack", ["IPv6"] },
        { null, ["IPv6"], "SingleStack", ["IPv6"] },
        { "PreferDualStack", null, "PreferDualStack", ["IPv4", "IPv6"] },
        { "RequireDualStack", null, "RequireDualStack", ["IPv4", "IPv6"] },
        { "PreferDualStack", ["IPv6"], "PreferDualStack", ["IPv6", "IPv4"] },
        { null, ["IPv6", "IPv4"], "RequireDualStack", ["IPv6", "IPv4"] },
    };

    [Theory]
    [MemberData(nameof(FamilyCases))]
    public async Task Create_IpFamilies_AllocateOneClusterIpPerFamily(string? policy, string[]? families, string expectedPolicy, string[] expectedFamilies)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var spec = (await new KubeHttp(api.Http).CreateAsync(Svcs, Service("s", spec: s =>
        {
            if (policy is not null)
            {
                s["ipFamilyPolicy"] = policy;
            }

            if (families is not null)
            {
                s["ipFamilies"] = new JsonArray(families.Select(f => (JsonNode?)f).ToArray());
            }
        })))["spec"]!;
        Assert.Equal(expectedPolicy, spec["ipFamilyPolicy"]!.GetValue<string>());
        Assert.Equal(expectedFamilies, spec["ipFamilies"]!.AsArray().Select(f => f!.GetValue<string>()));
        var ips = spec["clusterIPs"]!.AsArray().Select(i => IPAddress.Parse(i!.GetValue<string>())).ToList();
        Assert.Equal(expectedFamilies.Length, ips.Count);
        for (var i = 0; i < ips.Count; i++)
        {
            var family = expectedFamilies[i] == "IPv4" ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;
            Assert.Equal(family, ips[i].AddressFamily);
            Assert.True((family == AddressFamily.InterNetwork ? V4 : V6).Contains(ips[i]), ips[i].ToString());
        }

        Assert.Equal(spec["clusterIPs"]![0]!.GetValue<string>(), spec["clusterIP"]!.GetValue<string>());
    }

    [Fact]
    public async Task Create_Headless_KeepsNoneAndGetsFamilies()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var withSelector = (await http.CreateAsync(Svcs, Service("a", spec: s =>
        {
            s["clusterIP"] = "None";
            s["selector"] = new JsonObject { ["app"] = "x" };
        })))["spec"]!;
        Assert.Equal("None", withSelector["clusterIP"]!.GetValue<string>());
        Assert.Equal(["None"], withSelector["clusterIPs"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(["IPv4"], withSelector["ipFamilies"]!.AsArray().Select(f => f!.GetValue<string>()));

        var selectorless = (await http.CreateAsync(Svcs, Service("b", spec: s =>
        {
            s["clusterIP"] = "None";
            s.Remove("ports");
        })))["spec"]!;
        Assert.Equal("RequireDualStack", selectorless["ipFamilyPolicy"]!.GetValue<string>());
        Assert.Equal(["IPv4", "IPv6"], selectorless["ipFamilies"]!.AsArray().Select(f => f!.GetValue<string>()));
    }

    [Fact]
    public async Task Create_RequestedClusterIp_IsHonouredOnceAndRejectedWhenTaken()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var first = await http.CreateAsync(Svcs, Service("a", spec: s => s["clusterIP"] = "100.64.7.7"));
        Assert.Equal("100.64.7.7", first["spec"]!["clusterIP"]!.GetValue<string>());
        var taken = await http.PostAsync(Svcs, Service("b", spec: s => s["clusterIP"] = "100.64.7.7"));
        Assert.Equal(422, taken.Code);
        Assert.Contains("provided IP is already allocated", taken.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        var outside = await http.PostAsync(Svcs, Service("c", spec: s => s["clusterIP"] = "198.18.0.1"));
        Assert.Equal(422, outside.Code);
        Assert.Equal("spec.clusterIPs", outside.Body["details"]!["causes"]![0]!["field"]!.GetValue<string>());

        // Deleting releases the address.
        await http.DeleteAsync(Svcs + "/a");
        await http.CreateAsync(Svcs, Service("d", spec: s => s["clusterIP"] = "100.64.7.7"));
    }

    public static TheoryData<string, string> InvalidServices => new()
    {
        { """{"type":"ClusterIP"}""", "spec.ports" },
        { """{"type":"Bogus","ports":[{"port":80}]}""", "spec.type" },
        { """{"ports":[{"port":0}]}""", "spec.ports[0].port" },
        { """{"ports":[{"port":70000}]}""", "spec.ports[0].port" },
        { """{"ports":[{"port":80,"protocol":"ICMP"}]}""", "spec.ports[0].protocol" },
        { """{"ports":[{"name":"a","port":80},{"port":81}]}""", "spec.ports[1].name" },
        { """{"ports":[{"name":"a","port":80},{"name":"a","port":81}]}""", "spec.ports[1].name" },
        { """{"ports":[{"port":80}],"ipFamilies":["IPv5"]}""", "spec.ipFamilies[0]" },
        { """{"ports":[{"port":80}],"ipFamilies":["IPv4","IPv4"],"ipFamilyPolicy":"RequireDualStack"}""", "spec.ipFamilies[1]" },
        { """{"ports":[{"port":80}],"ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"SingleStack"}""", "spec.ipFamilies" },
        { """{"ports":[{"port":80}],"ipFamilyPolicy":"Sometimes"}""", "spec.ipFamilyPolicy" },
        { """{"ports":[{"port":80}],"clusterIP":"not-an-ip"}""", "spec.clusterIPs[0]" },
        { """{"ports":[{"port":80}],"externalTrafficPolicy":"Local"}""", "spec.externalTrafficPolicy" },
        { """{"ports":[{"port":80}],"sessionAffinity":"Sticky"}""", "spec.sessionAffinity" },
        { """{"type":"NodePort","ports":[{"port":80,"nodePort":29999}]}""", "spec.ports[0].nodePort" },
        { """{"type":"ExternalName"}""", "spec.externalName" },
    };

    [Theory]
    [MemberData(nameof(InvalidServices))]
    public async Task Create_InvalidSpec_ReturnsInvalidNamingField(string spec, string field)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var body = J($$"""{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{{spec}}}""");
        var r = await new KubeHttp(api.Http).PostAsync(Svcs, body);
        Assert.Equal(422, r.Code);
        Assert.StartsWith("Service \"s\" is invalid", r.Body["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains(r.Body["details"]!["causes"]!.AsArray(), c => c!["field"]!.GetValue<string>() == field);
    }

    [Fact]
    public async Task Update_ClusterIpChange_IsInvalidButOmittingItKeepsIt()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("s"));
        var ip = created["spec"]!["clusterIP"]!.GetValue<string>();

        var change = created.DeepClone().AsObject();
        change["spec"]!["clusterIP"] = "100.64.9.9";
        change["spec"]!["clusterIPs"] = new JsonArray("100.64.9.9");
        var r = await http.PutAsync(Svcs + "/s", change);
        Assert.Equal(422, r.Code);
        Assert.Contains(r.Body["details"]!["causes"]!.AsArray(), c => c!["field"]!.GetValue<string>() == "spec.clusterIPs[0]");

        var omit = Service("s");
        var kept = await http.PutAsync(Svcs + "/s", omit);
        Assert.Equal(200, kept.Code);
        Assert.Equal(ip, kept.Body["spec"]!["clusterIP"]!.GetValue<string>());
    }

    [Fact]
    public async Task Update_IpFamilyChange_IsInvalidButUpgradeToDualStackAddsSecondary()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s"));
        var flip = await http.PatchAsync(Svcs + "/s", J("""{"spec":{"ipFamilies":["IPv6"]}}"""));
        Assert.Equal(422, flip.Code);

        var upgrade = await http.PatchAsync(Svcs + "/s", J("""{"spec":{"ipFamilyPolicy":"PreferDualStack"}}"""));
        Assert.Equal(200, upgrade.Code);
        Assert.Equal(["IPv4", "IPv6"], upgrade.Body["spec"]!["ipFamilies"]!.AsArray().Select(f => f!.GetValue<string>()));
        Assert.Equal(2, upgrade.Body["spec"]!["clusterIPs"]!.AsArray().Count);

        var downgrade = await http.PatchAsync(Svcs + "/s", J("""{"spec":{"ipFamilyPolicy":"SingleStack"}}"""));
        Assert.Equal(200, downgrade.Code);
        Assert.Single(downgrade.Body["spec"]!["clusterIPs"]!.AsArray());
        Assert.Equal(["IPv4"], downgrade.Body["spec"]!["ipFamilies"]!.AsArray().Select(f => f!.GetValue<string>()));
    }

    [Fact]
    public async Task Update_TypeToClusterIp_ReleasesNodePorts()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("s", type: "NodePort"));
        var nodePort = created["spec"]!["ports"]![0]!["nodePort"]!.GetValue<int>();
        var r = await http.PatchAsync(Svcs + "/s", J("""{"spec":{"type":"ClusterIP"}}"""));
        Assert.Equal(200, r.Code);
        Assert.Null(r.Body["spec"]!["ports"]![0]!["nodePort"]);
        Assert.Null(r.Body["spec"]!["externalTrafficPolicy"]);
        var reuse = await http.PostAsync(Svcs, Service("t", type: "NodePort", spec: s => s["ports"]![0]!["nodePort"] = nodePort));
        Assert.Equal(201, reuse.Code);
    }

    // ValidateLoadBalancerStatus (pkg/apis/core/validation) as of 1.32, message by message.
    [Theory]
    [InlineData("""{"ip":"300.1.1.1"}""", "status.loadBalancer.ingress[0].ip",
        "Invalid value: \"300.1.1.1\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    [InlineData("""{"ip":"10.0.0"}""", "status.loadBalancer.ingress[0].ip",
        "Invalid value: \"10.0.0\": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)")]
    [InlineData("""{"ip":"203.0.113.9","ipMode":"Magic"}""", "status.loadBalancer.ingress[0].ipMode",
        "Unsupported value: \"Magic\": supported values: \"Proxy\", \"VIP\"")]
    [InlineData("""{"hostname":"lb.example.com","ipMode":"Proxy"}""", "status.loadBalancer.ingress[0].ipMode",
        "Forbidden: may not be specified when `ip` is not set")]
    [InlineData("""{"hostname":"203.0.113.9"}""", "status.loadBalancer.ingress[0].hostname",
        "Invalid value: \"203.0.113.9\": must be a DNS name, not an IP address")]
    public async Task UpdateStatus_InvalidIngress_ReturnsInvalidNamingField(string ingress, string field, string message)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s", type: "LoadBalancer"));
        var r = await http.PatchAsync(Svcs + "/s/status", J($$$$"""{"status":{"loadBalancer":{"ingress":[{{{{ingress}}}}]}}}"""));
        Assert.Equal(422, r.Code);
        var cause = Assert.Single(r.Body["details"]!["causes"]!.AsArray())!;
        Assert.Equal(field, cause["field"]!.GetValue<string>());
        Assert.Equal(message, cause["message"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("ClusterIP")]
    [InlineData("NodePort")]
    public async Task UpdateStatus_IngressOnNonLoadBalancer_IsForbidden(string type)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s", type: type));
        var r = await http.PatchAsync(Svcs + "/s/status", J("""{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.9"}]}}}"""));
        Assert.Equal(422, r.Code);
        Assert.Equal("Service \"s\" is invalid: status.loadBalancer.ingress: Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
            r.Body["message"]!.GetValue<string>());
        var empty = await http.PatchAsync(Svcs + "/s/status", J("""{"status":{"loadBalancer":{"ingress":[]}}}"""));
        Assert.Equal(200, empty.Code);
    }

    // Defaulting (ipMode: VIP) follows the spec in the request body; /status then restores the stored spec, so a body
    // claiming another type gets no default and fails validation, as on the real server.
    [Fact]
    public async Task UpdateStatus_BodyWithOtherType_IpModeNotDefaultedAndRequired()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("s", type: "LoadBalancer"));
        var body = created.DeepClone().AsObject();
        body["spec"]!["type"] = "ClusterIP";
        body["status"] = J("""{"loadBalancer":{"ingress":[{"ip":"203.0.113.9"}]}}""");
        var r = await http.PutAsync(Svcs + "/s/status", body);
        Assert.Equal(422, r.Code);
        var cause = Assert.Single(r.Body["details"]!["causes"]!.AsArray())!;
        Assert.Equal("status.loadBalancer.ingress[0].ipMode", cause["field"]!.GetValue<string>());
        Assert.Equal("Required value: must be specified when `ip` is set", cause["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateStatus_IngressIpWithLeadingZeros_IsAcceptedLikeParseIPSloppy()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s", type: "LoadBalancer"));
        var r = await http.PatchAsync(Svcs + "/s/status", J("""{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.009"}]}}}"""));
        Assert.Equal(200, r.Code);
        Assert.Equal("203.0.113.009", r.Body["status"]!["loadBalancer"]!["ingress"]![0]!["ip"]!.GetValue<string>());
    }

    // dropTypeDependentFields: leaving LoadBalancer clears status.loadBalancer in the same write.
    [Theory]
    [InlineData("ClusterIP")]
    [InlineData("NodePort")]
    public async Task Update_TypeAwayFromLoadBalancer_ClearsLoadBalancerStatus(string type)
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s", type: "LoadBalancer", spec: s => s["loadBalancerClass"] = "barelb.io/lb"));
        await http.PatchAsync(Svcs + "/s/status", J("""{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.9"}]}}}"""));
        await using var watch = await WatchStream.OpenAsync(api.Http, Svcs + "?watch=true&resourceVersion=" + api.Server.CurrentResourceVersion);
        var r = await http.PatchAsync(Svcs + "/s", J($$$"""{"spec":{"type":"{{{type}}}"}}"""));
        Assert.Equal(200, r.Code);
        Assert.True(JsonNode.DeepEquals(J("""{"loadBalancer":{}}"""), r.Body["status"]), r.Body["status"]!.ToJsonString());
        Assert.Null(r.Body["spec"]!["loadBalancerClass"]);
        Assert.Null(r.Body["spec"]!["allocateLoadBalancerNodePorts"]);
        var evt = await watch.ExpectAsync("MODIFIED");
        Assert.True(JsonNode.DeepEquals(J("""{"loadBalancer":{}}"""), evt["object"]!["status"]));
    }

    [Fact]
    public async Task Update_LoadBalancerLocalToCluster_ReleasesHealthCheckNodePort()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        var created = await http.CreateAsync(Svcs, Service("s", type: "LoadBalancer", spec: s => s["externalTrafficPolicy"] = "Local"));
        var hc = created["spec"]!["healthCheckNodePort"]!.GetValue<int>();
        var r = await http.PatchAsync(Svcs + "/s", J("""{"spec":{"externalTrafficPolicy":"Cluster"}}"""));
        Assert.Equal(200, r.Code);
        Assert.Null(r.Body["spec"]!["healthCheckNodePort"]);
        var reuse = await http.PostAsync(Svcs, Service("t", type: "NodePort", spec: s => s["ports"]![0]!["nodePort"] = hc));
        Assert.Equal(201, reuse.Code);
    }

    [Fact]
    public async Task UpdateStatus_ValidIngress_DualStackIps()
    {
        await using var api = await ApiServerFixture.StartAsync();
        var http = new KubeHttp(api.Http);
        await http.CreateAsync(Svcs, Service("s", type: "LoadBalancer"));
        var r = await http.PatchAsync(Svcs + "/s/status", J("""{"status":{"loadBalancer":{"ingress":[{"ip":"203.0.113.9"},{"ip":"2001:db8::9"}]}}}"""));
        Assert.Equal(200, r.Code);
        Assert.Equal(2, r.Body["status"]!["loadBalancer"]!["ingress"]!.AsArray().Count);
    }
}

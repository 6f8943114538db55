using System.Net;
using BareLb.Allocator;
using BareLb.Controller.Services;
using k8s;
using k8s.Models;

namespace BareLb.Controller.Tests.Services;

public sealed class ServiceRequestParserTests
{
    private static V1Service Svc(
        Dictionary<string, string>? annotations = null,
        string? loadBalancerIP = null,
        string[]? families = null,
        string? policy = null,
        string? etp = null) => new()
        {
            Metadata = new V1ObjectMeta { Name = "web", NamespaceProperty = "demo", Annotations = annotations, Labels = new Dictionary<string, string>() { ["app"] = "web" } },
            Spec = new V1ServiceSpec
            {
                Type = "LoadBalancer",
                LoadBalancerIP = loadBalancerIP,
                IpFamilies = (families ?? ["IPv4"]).ToList(),
                IpFamilyPolicy = policy,
                ExternalTrafficPolicy = etp,
                Selector = new Dictionary<string, string>() { ["app"] = "web" },
                Ports = [new V1ServicePort { Port = 80 }, new V1ServicePort { Port = 53, Protocol = "UDP" }],
            },
        };

    public static TheoryData<string, V1Service, string, string> InvalidCases => new()
    {
        { "both forms", Svc(new() { ["barelb.io/loadBalancerIPs"] = "198.51.100.7" }, loadBalancerIP: "198.51.100.8"),
            "spec.loadBalancerIP", "set together with annotation barelb.io/loadBalancerIPs; use only the annotation" },
        { "not an IP", Svc(new() { ["barelb.io/loadBalancerIPs"] = "198.51.100.300" }),
            "metadata.annotations[barelb.io/loadBalancerIPs]", "\"198.51.100.300\" is not an IP address" },
        { "CIDR instead of IP", Svc(new() { ["barelb.io/loadBalancerIPs"] = "198.51.100.0/24" }),
            "metadata.annotations[barelb.io/loadBalancerIPs]", "\"198.51.100.0/24\" is not an IP address" },
        { "two of one family", Svc(new() { ["barelb.io/loadBalancerIPs"] = "198.51.100.7,198.51.100.8" }),
            "metadata.annotations[barelb.io/loadBalancerIPs]", "more than one IPv4 address (at most one per family)" },
        { "family not served", Svc(new() { ["barelb.io/loadBalancerIPs"] = "2001:db8::7" }),
            "metadata.annotations[barelb.io/loadBalancerIPs]", "address 2001:db8::7 is IPv6 but the Service is single-stack IPv4 (spec.ipFamilies)" },
        { "require dual with one", Svc(new() { ["barelb.io/loadBalancerIPs"] = "198.51.100.7" }, families: ["IPv4", "IPv6"], policy: "RequireDualStack"),
            "metadata.annotations[barelb.io/loadBalancerIPs]", "a RequireDualStack Service that requests addresses must request one of each family" },
        { "empty list", Svc(new() { ["barelb.io/loadBalancerIPs"] = " , " }),
            "metadata.annotations[barelb.io/loadBalancerIPs]", "no address given" },
        { "mapped v6", Svc(new() { ["barelb.io/loadBalancerIPs"] = "::ffff:198.51.100.7" }),
            "metadata.annotations[barelb.io/loadBalancerIPs]", "\"::ffff:198.51.100.7\" is an IPv4-mapped IPv6 address; write the IPv4 address" },
        { "empty pool", Svc(new() { ["barelb.io/address-pool"] = " " }),
            "metadata.annotations[barelb.io/address-pool]", "empty pool name" },
        { "empty sharing key", Svc(new() { ["barelb.io/allow-shared-ip"] = "" }),
            "metadata.annotations[barelb.io/allow-shared-ip]", "empty sharing key" },
        { "bad policy", Svc(policy: "Sometimes"), "spec.ipFamilyPolicy", "unknown value \"Sometimes\"" },
        { "bad etp", Svc(etp: "Nearby"), "spec.externalTrafficPolicy", "unknown value \"Nearby\" (Cluster or Local)" },
        { "bad family", Svc(families: ["IPv5"]), "spec.ipFamilies[0]", "unsupported or repeated family \"IPv5\"" },
        { "bad legacy spec IP", Svc(loadBalancerIP: "nope"), "spec.loadBalancerIP", "\"nope\" is not an IP address" },
    };

    [Theory]
    [MemberData(nameof(InvalidCases))]
    public void Parse_InvalidRequest_NamesFieldAndReason(string name, V1Service service, string field, string reason)
    {
        var parsed = ServiceRequestParser.Parse(service, null);

        Assert.Null(parsed.Request);
        Assert.Contains(new RequestError(field, reason), parsed.Errors);
        _ = name; // the case label: it names the row in the test output
    }

    [Fact]
    public void Parse_PlainService_DefaultsFromSpec()
    {
        var parsed = ServiceRequestParser.Parse(Svc(), new Dictionary<string, string> { ["team"] = "a" });

        var request = Assert.IsType<ServiceRequest>(parsed.Request);
        Assert.Equal(new ServiceKey("demo", "web"), request.Key);
        Assert.Equal([IpFamily.IPv4], request.Families);
        Assert.Equal(IpFamilyPolicy.SingleStack, request.FamilyPolicy);
        Assert.Equal([new PortKey("TCP", 80), new PortKey("UDP", 53)], request.Ports);
        Assert.Equal(TrafficPolicy.Cluster, request.ExternalTrafficPolicy);
        Assert.Equal("a", request.NamespaceLabels["team"]);
        Assert.Empty(parsed.Warnings);
    }

    [Fact]
    public void Parse_DualStackAddresses_OnePerFamilyInOrder()
    {
        var parsed = ServiceRequestParser.Parse(
            Svc(new() { ["barelb.io/loadBalancerIPs"] = "2001:db8::5, 198.51.100.5" }, families: ["IPv6", "IPv4"], policy: "RequireDualStack"), null);

        var request = Assert.IsType<ServiceRequest>(parsed.Request);
        Assert.Equal([IPAddress.Parse("2001:db8::5"), IPAddress.Parse("198.51.100.5")], request.RequestedAddresses);
        Assert.Equal([IpFamily.IPv6, IpFamily.IPv4], request.Families);
        Assert.Equal(IpFamilyPolicy.RequireDualStack, request.FamilyPolicy);
    }

    public static TheoryData<string, string, string?, string?, string> LegacyCases => new()
    {
        // annotation key, value, expected pool, expected sharing key, expected warning fragment
        { "metallb.io/address-pool", "gold", "gold", null, "annotation metallb.io/address-pool is deprecated; use barelb.io/address-pool" },
        { "metallb.universe.tf/address-pool", "gold", "gold", null, "annotation metallb.universe.tf/address-pool is deprecated; use barelb.io/address-pool" },
        { "metallb.io/allow-shared-ip", "k", null, "k", "annotation metallb.io/allow-shared-ip is deprecated; use barelb.io/allow-shared-ip" },
        { "metallb.universe.tf/allow-shared-ip", "k", null, "k", "annotation metallb.universe.tf/allow-shared-ip is deprecated; use barelb.io/allow-shared-ip" },
    };

    [Theory]
    [MemberData(nameof(LegacyCases))]
    public void Parse_LegacyAnnotation_HonouredWithWarning(string key, string value, string? pool, string? sharing, string warning)
    {
        var parsed = ServiceRequestParser.Parse(Svc(new() { [key] = value }), null);

        var request = Assert.IsType<ServiceRequest>(parsed.Request);
        Assert.Equal(pool, request.RequestedPool);
        Assert.Equal(sharing, request.SharingKey);
        Assert.Equal([warning], parsed.Warnings);
    }

    [Fact]
    public void Parse_BareLbAndLegacyBoth_BareLbWins()
    {
        var parsed = ServiceRequestParser.Parse(Svc(new()
        {
            ["barelb.io/loadBalancerIPs"] = "198.51.100.9",
            ["metallb.universe.tf/loadBalancerIPs"] = "198.51.100.10",
        }), null);

        var request = Assert.IsType<ServiceRequest>(parsed.Request);
        Assert.Equal([IPAddress.Parse("198.51.100.9")], request.RequestedAddresses);
        Assert.Equal(["annotation metallb.universe.tf/loadBalancerIPs is ignored because barelb.io/loadBalancerIPs is set"], parsed.Warnings);
    }

    [Fact]
    public void Parse_SpecLoadBalancerIP_HonouredWithDeprecationWarning()
    {
        var parsed = ServiceRequestParser.Parse(Svc(loadBalancerIP: "198.51.100.44"), null);

        var request = Assert.IsType<ServiceRequest>(parsed.Request);
        Assert.Equal([IPAddress.Parse("198.51.100.44")], request.RequestedAddresses);
        Assert.Equal(["spec.loadBalancerIP is deprecated; use annotation barelb.io/loadBalancerIPs"], parsed.Warnings);
    }
}

using System.Net;
using BareLb.Allocator;
using BareLb.Api.Config;
using BareLb.Api.Tests.Support;

namespace BareLb.Api.Tests;

public sealed class PoolValidatorTests
{
    private const string Sel = "spec.serviceAllocation.serviceSelectors[0]";
    private const string NsSel = "spec.serviceAllocation.namespaceSelectors";

    // spec, field, reason: each spec has exactly one error.
    public static TheoryData<string, string, string> InvalidPools => new()
    {
        { """{"addresses":[]}""", "spec.addresses", "must list at least one CIDR or range" },
        { """{}""", "spec.addresses", "must list at least one CIDR or range" },
        { """{"addresses":["198.51.100.0/24",null]}""", "spec.addresses[1]", "must be a CIDR or range, not null" },
        { """{"addresses":["198.51.100.0/24","nonsense"]}""", "spec.addresses[1]", "\"nonsense\" is not a CIDR (address/prefix) or a range (first-last)" },
        { """{"addresses":["198.51.100.0/24","203.0.113.0/24","198.51.100.20-198.51.100.10"]}""", "spec.addresses[2]",
            "range \"198.51.100.20-198.51.100.10\" is reversed: 198.51.100.20 comes after 198.51.100.10" },
        { """{"addresses":["198.51.100.1/24"]}""", "spec.addresses[0]", "\"198.51.100.1/24\" has host bits set; the network is 198.51.100.0/24" },
        { """{"addresses":["198.51.100.0/33"]}""", "spec.addresses[0]", "prefix length 33 in \"198.51.100.0/33\" is out of range for IPv4 (0-32)" },
        { """{"addresses":["2001:db8::/129"]}""", "spec.addresses[0]", "prefix length 129 in \"2001:db8::/129\" is out of range for IPv6 (0-128)" },
        { """{"addresses":["198.51.100.1-2001:db8::1"]}""", "spec.addresses[0]", "range \"198.51.100.1-2001:db8::1\" mixes IPv4 and IPv6 addresses" },
        { """{"addresses":["198.51.100.256/32"]}""", "spec.addresses[0]", "\"198.51.100.256\" in \"198.51.100.256/32\" is not an IP address" },
        { """{"addresses":["198.51.100.0/24","203.0.113.0/24","198.51.100.128/25"]}""", "spec.addresses[2]",
            "198.51.100.128/25 overlaps 198.51.100.0/24 (spec.addresses[0])" },
        { """{"addresses":["198.51.100.10-198.51.100.20","198.51.100.0/24"]}""", "spec.addresses[1]",
            "198.51.100.0/24 overlaps 198.51.100.10-198.51.100.20 (spec.addresses[0])" },
        { """{"addresses":["198.51.100.0-198.51.100.10","198.51.100.10-198.51.100.20"]}""", "spec.addresses[1]",
            "198.51.100.10-198.51.100.20 overlaps 198.51.100.0-198.51.100.10 (spec.addresses[0])" },
        { """{"addresses":["2001:db8::/64","198.51.100.0/24","2001:db8::ff-2001:db8::1ff"]}""", "spec.addresses[2]",
            "2001:db8::ff-2001:db8::1ff overlaps 2001:db8::/64 (spec.addresses[0])" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"priority":-1}}""", "spec.serviceAllocation.priority",
            "-1 is negative; use 1 or more (lower is tried first), or leave it unset" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"namespaces":["Demo"]}}""", "spec.serviceAllocation.namespaces[0]",
            "\"Demo\" is not a valid name: lower-case letters, digits and '-' only, starting and ending with a letter or digit" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"namespaces":[""]}}""", "spec.serviceAllocation.namespaces[0]", "must not be empty" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"namespaces":["demo","demo"]}}""", "spec.serviceAllocation.namespaces[1]",
            "\"demo\" is listed twice (also spec.serviceAllocation.namespaces[0])" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[null]}}""", Sel,
            "must be a label selector object, not null" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"app","operator":"in","values":["a"]}]}]}}""",
            Sel + ".matchExpressions[0].operator", "unknown operator \"in\"; expected In, NotIn, Exists or DoesNotExist" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"app","operator":"In"}]}]}}""",
            Sel + ".matchExpressions[0].values", "In needs at least one value" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"app","operator":"NotIn","values":[]}]}]}}""",
            Sel + ".matchExpressions[0].values", "NotIn needs at least one value" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"app","operator":"Exists","values":["a"]}]}]}}""",
            Sel + ".matchExpressions[0].values", "Exists takes no values" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"app","operator":"DoesNotExist","values":["a"]}]}]}}""",
            Sel + ".matchExpressions[0].values", "DoesNotExist takes no values" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"","operator":"Exists"}]}]}}""",
            Sel + ".matchExpressions[0].key", "label key must not be empty" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[{"matchExpressions":[{"key":"app","operator":"In","values":["bad value"]}]}]}}""",
            Sel + ".matchExpressions[0].values[0]", "label value \"bad value\" is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"serviceSelectors":[null]}}""".Replace("null", "{\"matchExpressions\":[null]}"),
            Sel + ".matchExpressions[0]", "must be a requirement object, not null" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"namespaceSelectors":[{"matchLabels":{"bad key":"x"}}]}}""",
            NsSel + "[0].matchLabels[\"bad key\"]", "label key \"bad key\" is invalid: the name part must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"namespaceSelectors":[{"matchLabels":{"Example.com/team":"x"}}]}}""",
            NsSel + "[0].matchLabels[\"Example.com/team\"]", "label key \"Example.com/team\" has an invalid prefix \"Example.com\": it must be a DNS subdomain such as example.com" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"namespaceSelectors":[{"matchLabels":{"team":"-x"}}]}}""",
            NsSel + "[0].matchLabels[\"team\"]", "label value \"-x\" is invalid: at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit" },
        { """{"addresses":["198.51.100.0/24"],"serviceAllocation":{"namespaceSelectors":[{"matchLabels":{"team":"a"}},{"matchLabels":{"team":"a"}}]}}""",
            NsSel + "[1]", "duplicates spec.serviceAllocation.namespaceSelectors[0]" },
    };

    [Theory]
    [MemberData(nameof(InvalidPools))]
    public void Validate_InvalidSpec_ReportsFieldAndReason(string spec, string field, string reason)
    {
        var result = PoolValidator.Validate(Objects.Pool(spec));

        Assert.False(result.IsValid);
        Assert.Null(result.Value);
        Assert.Equal([new ValidationError(field, reason)], result.Errors);
    }

    [Fact]
    public void Validate_SeveralProblems_ReportsEveryOne()
    {
        var pool = Objects.Pool("""{"addresses":["198.51.100.0/24","bad"],"serviceAllocation":{"priority":-5,"namespaces":["ok","Not-OK"]}}""", name: "");

        var result = PoolValidator.Validate(pool);

        Assert.Equal(
            [
                new ValidationError("metadata.name", "must be set"),
                new ValidationError("spec.addresses[1]", "\"bad\" is not a CIDR (address/prefix) or a range (first-last)"),
                new ValidationError("spec.serviceAllocation.priority", "-5 is negative; use 1 or more (lower is tried first), or leave it unset"),
                new ValidationError("spec.serviceAllocation.namespaces[1]", "\"Not-OK\" is not a valid name: lower-case letters, digits and '-' only, starting and ending with a letter or digit"),
            ],
            result.Errors);
    }

    [Fact]
    public void Validate_MinimalPool_AppliesMetalLBDefaults()
    {
        var result = PoolValidator.Validate(Objects.Pool("""{"addresses":["198.51.100.0/24"]}""", name: "default"));

        Assert.True(result.IsValid);
        Assert.Empty(result.Errors);
        Assert.Equal("default", result.Value.Name);
        Assert.True(result.Value.AutoAssign);
        Assert.False(result.Value.AvoidBuggyIPs);
        Assert.Null(result.Value.ServiceAllocation);
        Assert.Equal([Range("198.51.100.0/24")], result.Value.Ranges);
    }

    [Fact]
    public void Validate_DualStackPoolWithRangesAndCidrs_KeepsEntriesInOrder()
    {
        var result = PoolValidator.Validate(Objects.Pool(
            """{"addresses":["198.51.100.10 - 198.51.100.20","2001:db8:1::/120","203.0.113.0/28"],"autoAssign":false,"avoidBuggyIPs":true}"""));

        Assert.True(result.IsValid);
        Assert.Equal([Range("198.51.100.10-198.51.100.20"), Range("2001:db8:1::/120"), Range("203.0.113.0/28")], result.Value.Ranges);
        Assert.False(result.Value.AutoAssign);
        Assert.True(result.Value.AvoidBuggyIPs);
    }

    [Fact]
    public void Validate_AdjacentRanges_AreNotOverlapping()
    {
        var result = PoolValidator.Validate(Objects.Pool("""{"addresses":["198.51.100.0-198.51.100.9","198.51.100.10-198.51.100.20","2001:db8::/64","198.51.100.21/32"]}"""));

        Assert.Empty(result.Errors);
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(0, null)]
    [InlineData(1, 1)]
    [InlineData(50, 50)]
    public void Validate_Priority_ZeroMeansUnsetAsInMetalLB(int? priority, int? expected)
    {
        var spec = priority is null
            ? """{"addresses":["198.51.100.0/24"],"serviceAllocation":{}}"""
            : $$$"""{"addresses":["198.51.100.0/24"],"serviceAllocation":{"priority":{{{priority}}}}}""";

        var result = PoolValidator.Validate(Objects.Pool(spec));

        Assert.True(result.IsValid);
        Assert.Equal(expected, result.Value.ServiceAllocation!.Priority);
    }

    [Fact]
    public void Validate_ServiceAllocation_ConvertsSelectorsToMatchers()
    {
        var result = PoolValidator.Validate(Objects.Pool("""
            {"addresses":["198.51.100.0/24"],
             "serviceAllocation":{
               "namespaces":["demo","shop"],
               "namespaceSelectors":[{"matchLabels":{"example.com/team":"web"}}],
               "serviceSelectors":[{"matchExpressions":[{"key":"tier","operator":"In","values":["public","edge"]},{"key":"legacy","operator":"DoesNotExist"}]}]}}
            """));

        Assert.True(result.IsValid);
        var allocation = result.Value.ServiceAllocation!;
        Assert.Equal(["demo", "shop"], allocation.Namespaces);
        var namespaceSelector = Assert.Single(allocation.NamespaceSelectors);
        Assert.True(namespaceSelector.Matches(Labels(("example.com/team", "web"), ("other", "x"))));
        Assert.False(namespaceSelector.Matches(Labels(("example.com/team", "db"))));
        var serviceSelector = Assert.Single(allocation.ServiceSelectors);
        Assert.True(serviceSelector.Matches(Labels(("tier", "edge"))));
        Assert.False(serviceSelector.Matches(Labels(("tier", "edge"), ("legacy", "yes"))));
        Assert.False(serviceSelector.Matches(Labels(("tier", "internal"))));
    }

    private static IpRange Range(string text) =>
        IpRange.TryParse(text, out var range, out var error) ? range : throw new ArgumentException(error);

    private static Dictionary<string, string> Labels(params (string Key, string Value)[] pairs) =>
        pairs.ToDictionary(p => p.Key, p => p.Value);
}

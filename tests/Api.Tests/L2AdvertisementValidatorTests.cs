using BareLb.Api.Config;
using BareLb.Api.Tests.Support;

namespace BareLb.Api.Tests;

public sealed class L2AdvertisementValidatorTests
{
    public static TheoryData<string, string, string> InvalidAdvertisements => new()
    {
        { """{"interfaces":[""]}""", "spec.interfaces[0]", "interface name must not be empty" },
        { """{"interfaces":["eth 0"]}""", "spec.interfaces[0]", "interface name \"eth 0\" contains 'whitespace', which Linux does not allow" },
        { """{"interfaces":["bond0/1"]}""", "spec.interfaces[0]", "interface name \"bond0/1\" contains '/', which Linux does not allow" },
        { """{"interfaces":["eth0:0"]}""", "spec.interfaces[0]", "interface name \"eth0:0\" contains ':', which Linux does not allow" },
        { """{"interfaces":[".."]}""", "spec.interfaces[0]", "\"..\" is not a valid interface name" },
        { """{"interfaces":["abcdefghijklmnop"]}""", "spec.interfaces[0]", "interface name \"abcdefghijklmnop\" is longer than 15 bytes (Linux IFNAMSIZ)" },
        { """{"interfaces":["eth0","eth1","eth0"]}""", "spec.interfaces[2]", "\"eth0\" is listed twice (also spec.interfaces[0])" },
        { """{"interfaces":[null]}""", "spec.interfaces[0]", "must be a string, not null" },
        { """{"ipAddressPools":["pool_a"]}""", "spec.ipAddressPools[0]",
            "\"pool_a\" is not a valid object name: lower-case letters, digits, '-' and '.' only, each dot-separated part starting and ending with a letter or digit" },
        { """{"ipAddressPools":["a","a"]}""", "spec.ipAddressPools[1]", "\"a\" is listed twice (also spec.ipAddressPools[0])" },
        { """{"ipAddressPoolSelectors":[{"matchLabels":{"tier":"public"}},{"matchLabels":{"tier":"public"}}]}""",
            "spec.ipAddressPoolSelectors[1]", "duplicates spec.ipAddressPoolSelectors[0]" },
        { """{"nodeSelectors":[{"matchExpressions":[{"key":"node-role.kubernetes.io/control-plane","operator":"NotIn"}]}]}""",
            "spec.nodeSelectors[0].matchExpressions[0].values", "NotIn needs at least one value" },
    };

    [Theory]
    [MemberData(nameof(InvalidAdvertisements))]
    public void Validate_InvalidSpec_ReportsFieldAndReason(string spec, string field, string reason)
    {
        var result = L2AdvertisementValidator.Validate(Objects.L2(spec));

        Assert.False(result.IsValid);
        Assert.Equal([new ValidationError(field, reason)], result.Errors);
    }

    [Fact]
    public void Validate_EmptySpec_AnnouncesEveryPoolFromEveryNodeAndInterface()
    {
        var result = L2AdvertisementValidator.Validate(Objects.L2("{}"));

        Assert.True(result.IsValid);
        Assert.True(result.Value.Pools.SelectsAll);
        Assert.True(result.Value.AllInterfaces);
        Assert.True(result.Value.SelectsNode(new Dictionary<string, string>()));
    }

    [Fact]
    public void Validate_Selection_KeepsNamesSelectorsAndInterfaces()
    {
        var result = L2AdvertisementValidator.Validate(Objects.L2(
            """{"ipAddressPools":["web"],"ipAddressPoolSelectors":[{"matchLabels":{"tier":"public"}}],"interfaces":["eth0","bond0.100"],"nodeSelectors":[{"matchLabels":{"edge":"true"}}]}"""));

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var advertisement = result.Value;
        Assert.True(advertisement.Pools.Selects("web", new Dictionary<string, string>()));
        Assert.True(advertisement.Pools.Selects("other", new Dictionary<string, string> { ["tier"] = "public" }));
        Assert.False(advertisement.Pools.Selects("other", new Dictionary<string, string> { ["tier"] = "private" }));
        Assert.Equal(["eth0", "bond0.100"], advertisement.Interfaces);
        Assert.True(advertisement.SelectsNode(new Dictionary<string, string> { ["edge"] = "true" }));
        Assert.False(advertisement.SelectsNode(new Dictionary<string, string>()));
    }
}

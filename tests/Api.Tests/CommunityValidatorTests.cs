using BareLb.Api.Config;
using BareLb.Api.Tests.Support;

namespace BareLb.Api.Tests;

public sealed class CommunityValidatorTests
{
    public static TheoryData<string, string, string> InvalidCommunities => new()
    {
        { """{"communities":[null]}""", "spec.communities[0]", "must be an object with name and value, not null" },
        { """{"communities":[{"value":"65535:65282"}]}""", "spec.communities[0].name", "must be set" },
        { """{"communities":[{"name":"a:b","value":"65535:65282"}]}""", "spec.communities[0].name",
            "alias \"a:b\" contains ':', which would make it read as a community value" },
        { """{"communities":[{"name":"no export","value":"65535:65281"}]}""", "spec.communities[0].name", "alias \"no export\" contains whitespace" },
        { """{"communities":[{"name":"NO_EXPORT"}]}""", "spec.communities[0].value", "must be set" },
        { """{"communities":[{"name":"NO_EXPORT","value":"NO_EXPORT"}]}""", "spec.communities[0].value",
            "\"NO_EXPORT\" is not a community: expected \"AS:value\" (two numbers 0-65535) or \"large:global:local1:local2\" (three numbers 0-4294967295)" },
        { """{"communities":[{"name":"big","value":"large:1:2"}]}""", "spec.communities[0].value",
            "\"large:1:2\" is not a community: expected \"AS:value\" (two numbers 0-65535) or \"large:global:local1:local2\" (three numbers 0-4294967295)" },
        { """{"communities":[{"name":"big","value":"huge:1:2:3"}]}""", "spec.communities[0].value",
            "\"huge:1:2:3\" is not a community: expected \"AS:value\" (two numbers 0-65535) or \"large:global:local1:local2\" (three numbers 0-4294967295)" },
        { """{"communities":[{"name":"big","value":"70000:1"}]}""", "spec.communities[0].value", "\"70000\" in community \"70000:1\" is not a number from 0 to 65535" },
        { """{"communities":[{"name":"a","value":"1:1"},{"name":"a","value":"1:2"}]}""", "spec.communities[1].name",
            "alias \"a\" is defined twice (also spec.communities[0])" },
    };

    [Theory]
    [MemberData(nameof(InvalidCommunities))]
    public void Validate_InvalidSpec_ReportsFieldAndReason(string spec, string field, string reason)
    {
        var result = CommunityValidator.Validate(Objects.Community(spec));

        Assert.False(result.IsValid);
        Assert.Equal([new ValidationError(field, reason)], result.Errors);
    }

    [Fact]
    public void Validate_Aliases_AreParsed()
    {
        var result = CommunityValidator.Validate(Objects.Community(
            """{"communities":[{"name":"NO_ADVERTISE","value":"65535:65282"},{"name":"site","value":"large:64512:100:0"}]}"""));

        Assert.True(result.IsValid);
        Assert.Equal(BgpCommunity.Standard(65535, 65282), result.Value["NO_ADVERTISE"]);
        Assert.Equal(BgpCommunity.Large(64512, 100, 0), result.Value["site"]);
    }

    [Fact]
    public void Validate_NoSpec_IsAnEmptySetOfAliases()
    {
        var result = CommunityValidator.Validate(Objects.Community("null"));

        Assert.True(result.IsValid);
        Assert.Empty(result.Value);
    }
}

using BareLb.Api.Config;

namespace BareLb.Api.Tests;

public sealed class BgpCommunityTests
{
    [Theory]
    [InlineData("0:0", BgpCommunityKind.Standard, 0u, 0u, 0u)]
    [InlineData("65535:65282", BgpCommunityKind.Standard, 65535u, 65282u, 0u)]
    [InlineData("large:0:0:0", BgpCommunityKind.Large, 0u, 0u, 0u)]
    [InlineData("large:4294967295:4294967295:4294967295", BgpCommunityKind.Large, 4294967295u, 4294967295u, 4294967295u)]
    public void TryParse_ValidText_RoundTrips(string text, BgpCommunityKind kind, uint first, uint second, uint third)
    {
        Assert.True(BgpCommunity.TryParse(text, out var community, out var error), error);

        Assert.Equal(new BgpCommunity(kind, first, second, third), community);
        Assert.Equal(text, community.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("65535")]
    [InlineData("1:2:3")]
    [InlineData("+1:2")]
    [InlineData("1:0x2")]
    [InlineData("LARGE:1:2:3")]
    [InlineData("large:1:2:3:4")]
    [InlineData("99999999999999999999999:1")]
    public void TryParse_InvalidText_Fails(string text)
    {
        Assert.False(BgpCommunity.TryParse(text, out _, out var error));
        Assert.Contains(text, error);
    }

    [Fact]
    public void StandardValue_IsTheWireEncoding()
    {
        Assert.Equal(0xFFFFFF02u, BgpCommunity.Standard(65535, 65282).StandardValue);
        Assert.Throws<InvalidOperationException>(() => BgpCommunity.Large(1, 2, 3).StandardValue);
    }
}

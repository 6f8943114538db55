using System.Net;
using BareLb.Bgp.Wire;

namespace BareLb.Bgp.Tests.Session;

/// <summary>
/// <see cref="BgpSpeaker.SetPeersAsync"/> as desired state. The peers are passive and the speaker does not listen,
/// so no socket is ever opened.
/// </summary>
public sealed class SpeakerTests
{
    private static BgpSessionOptions Peer(string address, int hold = 90) => new()
    {
        LocalAsn = 64512,
        PeerAsn = 64513,
        PeerAddress = IPAddress.Parse(address),
        RouterId = IPAddress.Parse("198.51.100.10"),
        HoldTime = TimeSpan.FromSeconds(hold),
        Passive = true,
        AddressFamilies = [AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast],
    };

    [Fact]
    public async Task SetPeersAsync_SameOptionsRebuilt_KeepsSessions()
    {
        await using var speaker = new BgpSpeaker();
        var first = await speaker.SetPeersAsync([Peer("198.51.100.1"), Peer("198.51.100.2")]);
        var again = await speaker.SetPeersAsync([Peer("198.51.100.2"), Peer("198.51.100.1")]);
        Assert.Equal(first.OrderBy(s => s.Options.PeerAddress.ToString()), again.OrderBy(s => s.Options.PeerAddress.ToString()));
        Assert.All(again, s => Assert.Equal(BgpSessionState.Active, s.State));
    }

    [Fact]
    public async Task SetPeersAsync_ChangedOptions_ReplacesSessionKeepingRoutes()
    {
        await using var speaker = new BgpSpeaker();
        var old = (await speaker.SetPeersAsync([Peer("198.51.100.1")])).Single();
        BgpRoute[] routes = [new(IPNetwork.Parse("198.51.100.100/32"))];
        old.SetRoutes(routes);
        var replaced = (await speaker.SetPeersAsync([Peer("198.51.100.1", hold: 30)])).Single();
        Assert.NotSame(old, replaced);
        Assert.Equal(TimeSpan.FromSeconds(30), replaced.Options.HoldTime);
        Assert.Equal(routes, replaced.DesiredRoutes);
        Assert.Same(replaced, speaker.Session(IPAddress.Parse("198.51.100.1")));
    }

    [Fact]
    public async Task SetPeersAsync_PeerRemoved_SessionGone()
    {
        await using var speaker = new BgpSpeaker();
        await speaker.SetPeersAsync([Peer("198.51.100.1"), Peer("198.51.100.2")]);
        var left = await speaker.SetPeersAsync([Peer("198.51.100.2")]);
        Assert.Equal(IPAddress.Parse("198.51.100.2"), left.Single().Options.PeerAddress);
        Assert.Null(speaker.Session(IPAddress.Parse("198.51.100.1")));
    }

    [Fact]
    public async Task StopAsync_AllSessionsIdle()
    {
        await using var speaker = new BgpSpeaker();
        await speaker.SetPeersAsync([Peer("198.51.100.1"), Peer("198.51.100.2")]);
        await speaker.StopAsync(BgpStopMode.Restart);
        Assert.All(speaker.Sessions, s => Assert.Equal(BgpSessionState.Idle, s.State));
    }

    [Fact]
    public async Task SetPeersAsync_DuplicatePeer_Throws()
    {
        await using var speaker = new BgpSpeaker();
        await Assert.ThrowsAsync<ArgumentException>(() => speaker.SetPeersAsync([Peer("198.51.100.1"), Peer("198.51.100.1", hold: 30)]));
    }

    [Fact]
    public void Validate_BadSettings_ArgumentExceptionNamingThem()
    {
        Assert.Contains("HoldTime", Assert.Throws<ArgumentException>(() => (Peer("198.51.100.1") with { HoldTime = TimeSpan.FromSeconds(2) }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("RouterId", Assert.Throws<ArgumentException>(() => (Peer("198.51.100.1") with { RouterId = null }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("Password", Assert.Throws<ArgumentException>(() => (Peer("198.51.100.1") with { Password = new string('k', 81) }).Validate()).Message, StringComparison.Ordinal);
        Assert.Contains("RestartTime", Assert.Throws<ArgumentException>(() => (Peer("198.51.100.1") with { RestartTime = TimeSpan.FromSeconds(5000) }).Validate()).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("65000:100", 0xFDE80064u)]
    [InlineData("no-export", 0xFFFFFF01u)]
    [InlineData("NO-ADVERTISE", 0xFFFFFF02u)]
    [InlineData("no-export-subconfed", 0xFFFFFF03u)]
    [InlineData("blackhole", 0xFFFF029Au)]
    [InlineData("graceful-shutdown", 0xFFFF0000u)]
    public void BgpCommunity_TryParse_NumbersAndWellKnownNames(string text, uint value)
    {
        Assert.True(BgpCommunity.TryParse(text, out var c));
        Assert.Equal(value, c.Value);
    }

    [Theory]
    [InlineData("65536:1")]
    [InlineData("1")]
    [InlineData("a:b")]
    [InlineData("")]
    public void BgpCommunity_TryParse_Invalid_False(string text) => Assert.False(BgpCommunity.TryParse(text, out _));

    [Theory]
    [InlineData("large:4200000000:1:2", 4_200_000_000u, 1u, 2u)]
    [InlineData("65000:0:4294967295", 65000u, 0u, 4_294_967_295u)]
    public void BgpLargeCommunity_TryParse_WithAndWithoutPrefix(string text, uint g, uint l1, uint l2)
    {
        Assert.True(BgpLargeCommunity.TryParse(text, out var c));
        Assert.Equal(new BgpLargeCommunity(g, l1, l2), c);
    }

    [Fact]
    public void SetRoutes_DuplicatePrefix_Throws()
    {
        var rib = new AdjRibOut();
        Assert.Throws<ArgumentException>(() => rib.SetDesired([new BgpRoute(IPNetwork.Parse("198.51.100.1/32")), new BgpRoute(IPNetwork.Parse("198.51.100.1/32"))]));
    }
}

using System.Net;
using BareLb.Bgp.Wire;

namespace BareLb.Bgp.Tests.Wire;

/// <summary>
/// OPENs and UPDATEs that FRR 8.4, BIRD 2.0 and GoBGP 3.10 sent to our speaker (TestData/*.hex, recorded by
/// TestData/capture.sh with tcpdump), decoded and checked against what each daemon was configured to send.
/// </summary>
public sealed class CapturedMessageTests
{
    private static readonly UpdateParseContext FromRouter = new(FourOctetAs: true, External: true, PeerAsOnPath: 64513);

    private static List<(string Kind, byte[] Message)> Load(string daemon) =>
        File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "TestData", daemon + ".hex"))
            .Where(l => !l.StartsWith('#') && l.Length > 0)
            .Select(l => (l[..l.IndexOf(' ', StringComparison.Ordinal)], Convert.FromHexString(l[(l.IndexOf(' ', StringComparison.Ordinal) + 1)..])))
            .ToList();

    private static BgpOpenMessage Open(string daemon)
    {
        var (kind, message) = Load(daemon).First();
        Assert.Equal("OPEN", kind);
        Assert.Equal(BgpFrameStatus.Complete, BgpHeader.TryReadFrame(message, out var length, out _, out _));
        Assert.Equal(message.Length, length);
        Assert.True(BgpOpenMessage.TryDecode(message, out var open, out var error), error.ToString());
        Assert.Equal(64513u, open!.AutonomousSystem);
        Assert.Equal(64513, open.MyAutonomousSystem);
        Assert.Equal("198.51.100.1", BgpOpenMessage.Identifier(open.BgpIdentifier));
        Assert.Equal(64513u, open.Capabilities.FourOctetAs);
        Assert.Contains(AfiSafi.IPv4Unicast, open.Capabilities.Multiprotocol);
        Assert.Contains(AfiSafi.IPv6Unicast, open.Capabilities.Multiprotocol);
        Assert.True(open.Capabilities.RouteRefresh);
        return open;
    }

    private static List<BgpUpdate> Updates(string daemon) =>
        Load(daemon).Where(m => m.Kind == "UPDATE").Select(m =>
        {
            Assert.True(BgpUpdate.TryDecode(m.Message, FromRouter, out var u, out var error), $"{daemon}: {error}");
            return u!;
        }).ToList();

    [Fact]
    public void Frr_Open_CapabilitiesIncludingGracefulRestartAndUnknownOnes()
    {
        var open = Open("frr");
        Assert.Equal(180, open.HoldTimeSeconds);
        var gr = open.Capabilities.GracefulRestart!;
        Assert.Equal(120, gr.RestartTimeSeconds);
        // FRR also sends capabilities we do not interpret (extended next hop, add-path, FQDN, long-lived GR): kept raw.
        Assert.Contains(open.Capabilities.Other, c => c.Code == 73);
        Assert.True(open.Capabilities.EnhancedRouteRefresh);
    }

    [Fact]
    public void Frr_Updates_OurRoutesReflectedWithItsAsPrependedAndEndOfRib()
    {
        var updates = Updates("frr");
        var v4 = updates.Single(u => u.Nlri.Count > 0);
        Assert.Equal([IPNetwork.Parse("198.51.100.100/32")], v4.Nlri);
        Assert.Equal([64513u, 64512u], v4.FlatAsPath());
        Assert.Equal(IPAddress.Parse("198.51.100.1"), v4.NextHop);
        Assert.Equal([BgpCommunity.Parse("65000:1")], v4.Communities);
        var v6 = updates.Single(u => u.MpReachNlri.Count > 0);
        Assert.Equal([IPNetwork.Parse("2001:db8:1::100/128")], v6.MpReachNlri);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), v6.MpReachNextHops[0]);
        Assert.True(v6.MpReachNextHops[1].IsIPv6LinkLocal);
        Assert.Equal([AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast], updates.Where(u => u.EndOfRib is not null).Select(u => u.EndOfRib!.Value));
    }

    [Fact]
    public void Bird_OpenAndUpdates_StaticRoutesWithCommunities()
    {
        var open = Open("bird");
        Assert.Equal(240, open.HoldTimeSeconds);
        Assert.Equal(120, open.Capabilities.GracefulRestart!.RestartTimeSeconds);
        var updates = Updates("bird");
        var v4 = updates.Single(u => u.Nlri.Count > 0);
        Assert.Equal([IPNetwork.Parse("203.0.113.0/24")], v4.Nlri);
        Assert.Equal([64513u], v4.FlatAsPath());
        Assert.Equal([BgpCommunity.Parse("64513:7")], v4.Communities);
        Assert.Equal([new BgpLargeCommunity(64513, 7, 7)], v4.LargeCommunities);
        var v6 = updates.Single(u => u.MpReachNlri.Count > 0);
        Assert.Equal([IPNetwork.Parse("2001:db8:ff::/48")], v6.MpReachNlri);
        Assert.Equal(IPAddress.Parse("2001:db8::1"), v6.MpReachNextHops[0]);
        Assert.Equal(2, updates.Count(u => u.EndOfRib is not null));
    }

    [Fact]
    public void GoBgp_OpenAndUpdates_Ipv6OverIpv4SessionUsesMappedNextHop()
    {
        var open = Open("gobgp");
        Assert.Equal(90, open.HoldTimeSeconds);
        var updates = Updates("gobgp");
        var v4 = updates.Single(u => u.Nlri.Count > 0);
        Assert.Equal([IPNetwork.Parse("203.0.113.0/24")], v4.Nlri);
        Assert.Equal((byte)2, v4.Origin);
        Assert.Equal([new BgpLargeCommunity(64513, 7, 7)], v4.LargeCommunities);
        var v6 = updates.Single(u => u.MpReachNlri.Count > 0);
        Assert.Equal([IPNetwork.Parse("2001:db8:ff::/48")], v6.MpReachNlri);
        Assert.Equal(IPAddress.Parse("::ffff:198.51.100.1"), v6.MpReachNextHops[0]);
    }

    [Theory]
    [InlineData("frr")]
    [InlineData("bird")]
    [InlineData("gobgp")]
    public void StateMachine_CapturedSession_EstablishesAndAcceptsEveryUpdate(string daemon)
    {
        var messages = Load(daemon);
        var h = new Session.FsmHarness(Session.FsmHarness.Defaults());
        h.Machine.Start();
        var id = h.Connects[0];
        h.Machine.OnOutboundConnected(id, null, null);
        h.Machine.OnMessage(id, messages[0].Message);
        h.Machine.OnMessage(id, Session.FsmHarness.Keepalive());
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
        foreach (var (_, message) in messages.Skip(1))
        {
            h.Machine.OnMessage(id, message);
        }
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
        Assert.Equal(0, h.Machine.Counters.NotificationsSent);
        Assert.True(h.Machine.Counters.PrefixesReceived >= 2);
    }
}

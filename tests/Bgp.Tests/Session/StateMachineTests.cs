using System.Net;
using BareLb.Bgp.Wire;
using BareLb.TestSupport;
using static BareLb.Bgp.Tests.Session.FsmHarness;

namespace BareLb.Bgp.Tests.Session;

public sealed class StateMachineTests
{
    private static readonly TimeSpan S = TimeSpan.FromSeconds(1);

    private static BgpRoute V4(string prefix, params string[] communities) => new(IPNetwork.Parse(prefix))
    {
        Communities = communities.Select(BgpCommunity.Parse).ToArray(),
    };

    [Fact]
    public void Start_ConnectsAtOnce_StateConnect()
    {
        var h = new FsmHarness();
        h.Machine.Start();
        Assert.Single(h.Connects);
        Assert.Equal(BgpSessionState.Connect, h.Machine.State);
    }

    [Fact]
    public void OnOutboundConnected_SendsOpenWithOurCapabilities()
    {
        var h = new FsmHarness(Defaults() with { LocalAsn = 4_200_000_001, GracefulRestart = true, Restarted = true });
        h.Machine.Start();
        h.Machine.OnOutboundConnected(h.Connects[0], null, null);
        var (type, message) = h.SentOn(h.Connects[0]).Single();
        Assert.Equal(BgpMessageType.Open, type);
        Assert.True(BgpOpenMessage.TryDecode(message, out var open, out _));
        Assert.Equal(BgpOpenMessage.AsTrans, open!.MyAutonomousSystem);
        Assert.Equal(4_200_000_001u, open.Capabilities.FourOctetAs);
        Assert.Equal(9, open.HoldTimeSeconds);
        Assert.Equal(0xC633640Au, open.BgpIdentifier);
        Assert.Equal([AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast], open.Capabilities.Multiprotocol);
        Assert.True(open.Capabilities.RouteRefresh);
        var gr = open.Capabilities.GracefulRestart!;
        Assert.True(gr.Restarting);
        Assert.Equal(120, gr.RestartTimeSeconds);
        Assert.All(gr.Families, f => Assert.True(f.ForwardingStatePreserved));
        Assert.Equal(BgpSessionState.OpenSent, h.Machine.State);
    }

    [Fact]
    public void GracefulRestart_RBitOnlyUntilFirstEstablished()
    {
        var h = new FsmHarness(Defaults() with { GracefulRestart = true, Restarted = true });
        var first = h.Establish();
        Assert.True(Open(h, first).Capabilities.GracefulRestart!.Restarting);
        h.Machine.OnConnectionClosed(first, "reset by peer");
        h.Advance(2 * S);
        var second = h.Connects[^1];
        h.Machine.OnOutboundConnected(second, null, null);
        var gr = Open(h, second).Capabilities.GracefulRestart!;
        Assert.False(gr.Restarting);
        Assert.All(gr.Families, f => Assert.True(f.ForwardingStatePreserved));
    }

    [Fact]
    public void GracefulRestart_Disabled_NoCapability()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        Assert.Null(Open(h, id).Capabilities.GracefulRestart);
    }

    private static BgpOpenMessage Open(FsmHarness h, int connection)
    {
        Assert.True(BgpOpenMessage.TryDecode(h.SentOn(connection).First(s => s.Type == BgpMessageType.Open).Message, out var open, out _));
        return open!;
    }

    [Fact]
    public void Establish_RoutesSetBefore_FullSetThenEndOfRibPerFamily()
    {
        var h = new FsmHarness();
        h.Machine.SetRoutes([V4("198.51.100.100/32", "no-export"), V4("198.51.100.101/32", "no-export"), new BgpRoute(IPNetwork.Parse("2001:db8::100/128"))]);
        var id = h.Establish();
        var updates = h.UpdatesSentOn(id);
        Assert.Equal(3, updates.Count);
        var v4 = updates.Single(u => u.Nlri.Count > 0);
        Assert.Equal(["198.51.100.100/32", "198.51.100.101/32"], v4.Nlri.Select(p => p.ToString()).Order());
        Assert.Equal(IPAddress.Parse("198.51.100.10"), v4.NextHop);
        Assert.Equal([64512u], v4.FlatAsPath());
        Assert.Equal([BgpCommunity.NoExport], v4.Communities);
        Assert.Null(v4.LocalPreference);
        // No IPv6 next hop known (IPv4 session, none configured): the IPv6 route is held back, not sent wrong.
        Assert.DoesNotContain(updates, u => u.MpReachNlri.Count > 0);
        Assert.Equal(1, h.Machine.Rib.Unsendable);
        Assert.Equal([AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast], updates.Where(u => u.EndOfRib is not null).Select(u => u.EndOfRib!.Value));
        Assert.Equal(AfiSafi.IPv4Unicast, updates[^2].EndOfRib);
    }

    [Fact]
    public void SetRoutes_WhileEstablished_SendsOnlyTheDifference()
    {
        var h = new FsmHarness(Defaults() with { NextHopIPv6 = IPAddress.Parse("2001:db8::10"), NextHopIPv6LinkLocal = IPAddress.Parse("fe80::10") });
        h.Machine.SetRoutes([V4("198.51.100.100/32"), V4("198.51.100.101/32"), new BgpRoute(IPNetwork.Parse("2001:db8::100/128"))]);
        var id = h.Establish();
        h.ClearSent();

        h.Machine.SetRoutes([V4("198.51.100.100/32"), V4("198.51.100.102/32", "65000:7"), new BgpRoute(IPNetwork.Parse("2001:db8::101/128"))]);
        var updates = h.UpdatesSentOn(id);
        Assert.Equal(["198.51.100.101/32"], updates.SelectMany(u => u.Withdrawn).Select(p => p.ToString()));
        Assert.Equal(["2001:db8::100/128"], updates.SelectMany(u => u.MpUnreachNlri).Select(p => p.ToString()));
        Assert.Equal(["198.51.100.102/32"], updates.SelectMany(u => u.Nlri).Select(p => p.ToString()));
        var v6 = updates.Single(u => u.MpReachNlri.Count > 0);
        Assert.Equal(["2001:db8::101/128"], v6.MpReachNlri.Select(p => p.ToString()));
        Assert.Equal([IPAddress.Parse("2001:db8::10"), IPAddress.Parse("fe80::10")], v6.MpReachNextHops);
        Assert.Equal(4, updates.Count);

        h.ClearSent();
        h.Machine.SetRoutes([V4("198.51.100.100/32"), V4("198.51.100.102/32", "65000:7"), new BgpRoute(IPNetwork.Parse("2001:db8::101/128"))]);
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void SetRoutes_Ibgp_EmptyAsPathAndLocalPreference()
    {
        var h = new FsmHarness(Defaults() with { PeerAsn = 64512 });
        h.Machine.SetRoutes([V4("198.51.100.100/32") with { LocalPreference = 250 }, V4("198.51.100.101/32")]);
        var id = h.Establish(PeerOpen(asn: 64512));
        var updates = h.UpdatesSentOn(id).Where(u => u.Nlri.Count > 0).ToList();
        Assert.Equal(2, updates.Count);
        Assert.All(updates, u => Assert.Empty(u.FlatAsPath()));
        Assert.Equal([100u, 250u], updates.Select(u => u.LocalPreference!.Value).Order());
    }

    [Fact]
    public void SetRoutes_FourOctetLocalAsToTwoOctetPeer_AsTransWithAs4Path()
    {
        var h = new FsmHarness(Defaults() with { LocalAsn = 4_200_000_001 });
        h.Machine.SetRoutes([V4("198.51.100.100/32")]);
        var id = h.Establish(PeerOpen(as4: false));
        var u = h.UpdatesSentOn(id, fourOctet: false).Single(x => x.Nlri.Count > 0);
        Assert.Equal([(uint)BgpOpenMessage.AsTrans], u.AsPath!.SelectMany(s => s.Asns));
        Assert.Equal([4_200_000_001u], u.As4Path!.SelectMany(s => s.Asns));
        Assert.Equal([4_200_000_001u], u.FlatAsPath());
    }

    [Fact]
    public void Pump_LimitedRoom_PausesAndResumesOnSendRoom()
    {
        var h = new FsmHarness();
        var routes = Enumerable.Range(0, 3000).Select(i => V4($"10.{i >> 8}.{i & 255}.0/24")).ToArray();
        h.Machine.SetRoutes(routes);
        h.Room = 3 * 4096;
        var id = h.Establish();
        var firstBatch = h.UpdatesSentOn(id).Count;
        Assert.InRange(firstBatch, 1, 3);
        h.Room = int.MaxValue;
        h.Machine.OnSendRoom();
        var all = h.UpdatesSentOn(id);
        Assert.Equal(3000, all.Sum(u => u.Nlri.Count));
        Assert.True(all.Count > firstBatch);
        Assert.Equal(3000, h.Machine.Counters.AdvertisedIPv4);
    }

    [Fact]
    public void Negotiation_HoldIsTheSmallerAndKeepaliveAThird()
    {
        var h = new FsmHarness(Defaults() with { HoldTime = TimeSpan.FromSeconds(90) });
        h.Establish(PeerOpen(hold: 30));
        Assert.Equal(TimeSpan.FromSeconds(30), h.Machine.Negotiated!.HoldTime);
        Assert.Equal(TimeSpan.FromSeconds(10), h.Machine.Negotiated.KeepaliveTime);
    }

    [Fact]
    public void KeepaliveSchedule_EveryThirdOfHold_AndPeerKeepalivesKeepSessionUp()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        h.ClearSent();
        for (var i = 0; i < 10; i++)
        {
            h.Advance(S);
            if (i % 2 == 1)
            {
                h.Machine.OnMessage(id, Keepalive());
            }
        }
        // hold 9 s → keepalive every 3 s: at 3, 6 and 9 s after establishment.
        Assert.Equal([BgpMessageType.Keepalive, BgpMessageType.Keepalive, BgpMessageType.Keepalive], h.TypesSentOn(id));
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
    }

    [Fact]
    public void HoldTimer_NothingReceived_ExpiresAtHoldTimeWithNotification()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        h.Advance(TimeSpan.FromSeconds(8.9));
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
        h.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
        var n = h.LastNotification(id);
        Assert.Equal((BgpErrorCode.HoldTimerExpired, (byte)0), (n.Code, n.Subcode));
        Assert.Contains(id, h.Closed);
        Assert.Contains("hold timer expired", h.Machine.LastError, StringComparison.Ordinal);
        Assert.Equal(0, h.Machine.Counters.AdvertisedIPv4);
    }

    [Fact]
    public void HoldTimer_CheckedLate_GrantsOneSecondForQueuedInput()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        // The process was frozen: the first chance to look at the clock is 5 s after the deadline.
        h.Clock.Advance(TimeSpan.FromSeconds(14));
        h.Machine.OnTimer();
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
        Assert.Equal(1, h.Machine.Counters.LateTimerTicks);
        // The keepalive that was waiting in the socket is read: the session lives on.
        h.Machine.OnMessage(id, Keepalive());
        h.Advance(TimeSpan.FromSeconds(8));
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
        h.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
    }

    [Fact]
    public void HoldTimer_LateAndNothingQueued_ExpiresAfterTheGrace()
    {
        var h = new FsmHarness();
        h.Establish();
        h.Clock.Advance(TimeSpan.FromSeconds(14));
        h.Machine.OnTimer();
        h.Advance(TimeSpan.FromSeconds(0.9));
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
        h.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
    }

    [Fact]
    public void HoldTimeZero_NoKeepalivesNoExpiry()
    {
        var h = new FsmHarness(Defaults() with { HoldTime = TimeSpan.Zero });
        var id = h.Establish(PeerOpen(hold: 0));
        h.ClearSent();
        h.Advance(TimeSpan.FromHours(1));
        Assert.Empty(h.Sent);
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
        Assert.Equal(long.MaxValue, h.Machine.NextDeadline);
        _ = id;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Backoff_RepeatedFailures_JitteredWithinBoundsUpToConnectRetryTime(int seed)
    {
        var h = new FsmHarness(Defaults() with { ConnectRetryTime = TimeSpan.FromSeconds(20) }, seed);
        h.Machine.Start();
        var delays = new List<TimeSpan>();
        for (var attempt = 0; attempt < 8; attempt++)
        {
            h.Machine.OnConnectionClosed(h.Connects[^1], "connection refused");
            Assert.Equal(BgpSessionState.Active, h.Machine.State);
            var delay = h.Machine.CurrentRetryDelay!.Value;
            delays.Add(delay);
            var connects = h.Connects.Count;
            h.Advance(delay - TimeSpan.FromMilliseconds(1));
            Assert.Equal(connects, h.Connects.Count);
            h.Advance(TimeSpan.FromMilliseconds(1));
            Assert.Equal(connects + 1, h.Connects.Count);
        }
        double[] ceilings = [1, 2, 4, 8, 16, 20, 20, 20];
        for (var i = 0; i < delays.Count; i++)
        {
            Assert.InRange(delays[i].TotalSeconds, 0.75 * ceilings[i], ceilings[i]);
        }
        Assert.True(delays.Distinct().Count() > 4, "delays are jittered");
    }

    [Fact]
    public void Backoff_DifferentSeeds_DifferentDelays()
    {
        var first = new List<TimeSpan>();
        foreach (var seed in new[] { 10, 11, 12, 13 })
        {
            var h = new FsmHarness(seed: seed);
            h.Machine.Start();
            h.Machine.OnConnectionClosed(h.Connects[^1], "refused");
            first.Add(h.Machine.CurrentRetryDelay!.Value);
        }
        Assert.Equal(4, first.Distinct().Count());
    }

    [Fact]
    public void Backoff_SessionThatStayedUp_StartsOverAtInitialDelay()
    {
        var h = new FsmHarness(Defaults() with { ConnectRetryTime = TimeSpan.FromSeconds(60) });
        h.Machine.Start();
        for (var i = 0; i < 4; i++)
        {
            h.Machine.OnConnectionClosed(h.Connects[^1], "refused");
            h.Advance(h.Machine.CurrentRetryDelay!.Value);
        }
        var id = h.Connects[^1];
        h.Machine.OnOutboundConnected(id, null, null);
        h.Machine.OnMessage(id, Encode(PeerOpen()));
        h.Machine.OnMessage(id, Keepalive());
        for (var i = 0; i < 40; i++)
        {
            h.Advance(S);
            h.Machine.OnMessage(id, Keepalive());
        }
        h.Machine.OnConnectionClosed(id, "reset");
        Assert.InRange(h.Machine.CurrentRetryDelay!.Value.TotalSeconds, 0.75, 1.0);
    }

    [Fact]
    public void ConnectAttempt_NoAnswer_TimesOutAfterConnectRetryTime()
    {
        var h = new FsmHarness(Defaults() with { ConnectRetryTime = TimeSpan.FromSeconds(5) });
        h.Machine.Start();
        var id = h.Connects[0];
        h.Advance(TimeSpan.FromSeconds(4.9));
        Assert.Equal(BgpSessionState.Connect, h.Machine.State);
        h.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Contains(id, h.Closed);
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
        Assert.Contains("timed out", h.Machine.LastError, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte, byte> OpenErrors => new()
    {
        { "bad peer AS", (byte)BgpErrorCode.OpenMessage, OpenMessageSubcode.BadPeerAs },
        { "hold 2", (byte)BgpErrorCode.OpenMessage, OpenMessageSubcode.UnacceptableHoldTime },
        { "identifier 0", (byte)BgpErrorCode.OpenMessage, OpenMessageSubcode.BadBgpIdentifier },
        { "no common family", (byte)BgpErrorCode.OpenMessage, OpenMessageSubcode.UnsupportedCapability },
        { "version 3", (byte)BgpErrorCode.OpenMessage, OpenMessageSubcode.UnsupportedVersionNumber },
    };

    [Theory]
    [MemberData(nameof(OpenErrors))]
    public void OnMessage_UnacceptableOpen_NotificationCloseAndRetry(string why, byte code, byte subcode)
    {
        var h = new FsmHarness();
        h.Machine.Start();
        var id = h.Connects[0];
        h.Machine.OnOutboundConnected(id, null, null);
        var message = why switch
        {
            "bad peer AS" => Encode(PeerOpen(asn: 65000)),
            "hold 2" => Encode(PeerOpen(hold: 2)),
            "identifier 0" => Encode(PeerOpen(id: 0)),
            "no common family" => Encode(PeerOpen(families: [new AfiSafi(25, 70)])),
            _ => Messages(),
        };
        h.Machine.OnMessage(id, message);
        var n = h.LastNotification(id);
        Assert.Equal(((BgpErrorCode)code, subcode), (n.Code, n.Subcode));
        Assert.Contains(id, h.Closed);
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
        Assert.NotNull(h.Machine.CurrentRetryDelay);

        static byte[] Messages()
        {
            var open = Encode(PeerOpen());
            open[19] = 3;
            return open;
        }
    }

    [Fact]
    public void OnMessage_IbgpPeerWithOurIdentifier_BadBgpIdentifier()
    {
        var h = new FsmHarness(Defaults() with { PeerAsn = 64512 });
        h.Machine.Start();
        h.Machine.OnOutboundConnected(h.Connects[0], null, null);
        h.Machine.OnMessage(h.Connects[0], Encode(PeerOpen(asn: 64512, id: 0xC633640A)));
        Assert.Equal(OpenMessageSubcode.BadBgpIdentifier, h.LastNotification(h.Connects[0]).Subcode);
    }

    [Fact]
    public void OnMessage_UnexpectedMessages_FsmErrorWithStateSubcode()
    {
        // KEEPALIVE in OpenSent
        var h = new FsmHarness();
        h.Machine.Start();
        var id = h.Connects[0];
        h.Machine.OnOutboundConnected(id, null, null);
        h.Machine.OnMessage(id, Keepalive());
        Assert.Equal((BgpErrorCode.FiniteStateMachine, FsmErrorSubcode.UnexpectedMessageInOpenSent), (h.LastNotification(id).Code, h.LastNotification(id).Subcode));

        // UPDATE in OpenConfirm
        h = new FsmHarness();
        h.Machine.Start();
        id = h.Connects[0];
        h.Machine.OnOutboundConnected(id, null, null);
        h.Machine.OnMessage(id, Encode(PeerOpen()));
        Assert.Equal(BgpSessionState.OpenConfirm, h.Machine.State);
        h.Machine.OnMessage(id, Wire.Messages.Update([], [], []));
        Assert.Equal(FsmErrorSubcode.UnexpectedMessageInOpenConfirm, h.LastNotification(id).Subcode);

        // OPEN in Established
        h = new FsmHarness();
        id = h.Establish();
        h.Machine.OnMessage(id, Encode(PeerOpen()));
        Assert.Equal((BgpErrorCode.FiniteStateMachine, FsmErrorSubcode.UnexpectedMessageInEstablished), (h.LastNotification(id).Code, h.LastNotification(id).Subcode));
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
    }

    [Fact]
    public void OnMessage_MalformedUpdate_UpdateErrorAndSessionReset()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        var bad = Wire.Messages.Update([], Wire.Messages.Concat(Wire.Messages.Origin(5), Wire.Messages.AsPath4(64513), Wire.Messages.NextHop(203, 0, 113, 1)), [32, 203, 0, 113, 9]);
        h.Machine.OnMessage(id, bad);
        var n = h.LastNotification(id);
        Assert.Equal((BgpErrorCode.UpdateMessage, UpdateMessageSubcode.InvalidOriginAttribute), (n.Code, n.Subcode));
        Assert.Equal("40010105", Convert.ToHexStringLower(n.Data!));
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
    }

    [Fact]
    public void OnMessage_ValidUpdatesFromPeer_CountedAndEndOfRibRecorded()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        h.Machine.OnMessage(id, Wire.Messages.Update([], Wire.Messages.Concat(Wire.Messages.Origin(), Wire.Messages.AsPath4(64513), Wire.Messages.NextHop(203, 0, 113, 1)), [32, 203, 0, 113, 9, 24, 203, 0, 113]));
        h.Machine.OnMessage(id, Wire.Messages.Update([24, 203, 0, 113], [], []));
        h.Machine.OnMessage(id, Wire.Messages.Update([], [], []));
        Assert.Equal(2, h.Machine.Counters.PrefixesReceived);
        Assert.Equal(1, h.Machine.Counters.WithdrawalsReceived);
        Assert.Contains(AfiSafi.IPv4Unicast, h.Machine.PeerEndOfRib);
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
    }

    [Fact]
    public void OnFramingError_BadMarker_HeaderNotification()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        var message = Keepalive();
        message[0] = 0;
        h.Machine.OnMessage(id, message);
        Assert.Equal((BgpErrorCode.MessageHeader, MessageHeaderSubcode.ConnectionNotSynchronized), (h.LastNotification(id).Code, h.LastNotification(id).Subcode));
    }

    [Fact]
    public void OnMessage_PeerNotification_ClosesWithoutReplyAndRecordsIt()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        h.ClearSent();
        var buffer = new byte[64];
        BgpNotification.TryWrite(buffer, new BgpError(BgpErrorCode.Cease, CeaseSubcode.AdministrativeReset), out var n);
        h.Machine.OnMessage(id, buffer[..n]);
        Assert.Empty(h.Sent);
        Assert.Contains(id, h.Closed);
        Assert.Equal(CeaseSubcode.AdministrativeReset, h.Machine.LastNotificationReceived!.Value.Subcode);
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
    }

    [Fact]
    public void RouteRefresh_NegotiatedFamily_ResendsItsRoutes()
    {
        var h = new FsmHarness();
        h.Machine.SetRoutes([V4("198.51.100.100/32"), V4("198.51.100.101/32")]);
        var id = h.Establish();
        h.ClearSent();
        var refresh = new byte[23];
        BgpRouteRefresh.TryWrite(refresh, AfiSafi.IPv4Unicast, out _);
        h.Machine.OnMessage(id, refresh);
        var updates = h.UpdatesSentOn(id);
        Assert.Equal(["198.51.100.100/32", "198.51.100.101/32"], updates.SelectMany(u => u.Nlri).Select(p => p.ToString()).Order());

        h.ClearSent();
        BgpRouteRefresh.TryWrite(refresh, new AfiSafi(1, 128), out _);
        h.Machine.OnMessage(id, refresh);
        Assert.Empty(h.Sent);
    }

    [Fact]
    public void Stop_Established_CeaseAdministrativeShutdown()
    {
        var h = new FsmHarness();
        var id = h.Establish();
        h.Machine.Stop();
        var n = h.LastNotification(id);
        Assert.Equal((BgpErrorCode.Cease, CeaseSubcode.AdministrativeShutdown), (n.Code, n.Subcode));
        Assert.Equal(BgpSessionState.Idle, h.Machine.State);
        h.Advance(TimeSpan.FromMinutes(5));
        Assert.Single(h.Connects);
    }

    [Fact]
    public void Stop_Silent_ClosesWithoutNotification()
    {
        var h = new FsmHarness(Defaults() with { GracefulRestart = true });
        var id = h.Establish(PeerOpen(gr: new GracefulRestartCapability(false, false, 120, [])));
        Assert.True(h.Machine.GracefulRestartNegotiated);
        h.ClearSent();
        h.Machine.Stop(silent: true);
        Assert.Empty(h.Sent);
        Assert.Contains(id, h.Closed);
    }

    /// <summary>Both sides connect at once; each connection gets the peer's OPEN; the higher identifier's connection survives.</summary>
    [Theory]
    [InlineData(0xCB007101u, false)] // peer 203.0.113.1 > us 198.51.100.10: the peer's (inbound) connection survives
    [InlineData(0x0A000001u, true)]  // peer 10.0.0.1 < us: our outbound connection survives
    public void Collision_BothInOpenConfirm_HigherIdentifierWins(uint peerId, bool outboundSurvives)
    {
        var h = new FsmHarness();
        h.Machine.Start();
        var outbound = h.Connects[0];
        h.Machine.OnOutboundConnected(outbound, null, null);
        var inbound = h.Machine.AllocateConnectionId();
        Assert.True(h.Machine.OnInboundConnection(inbound, null, null));
        Assert.Equal(BgpMessageType.Open, h.TypesSentOn(inbound).Single());

        h.Machine.OnMessage(outbound, Encode(PeerOpen(id: peerId)));
        Assert.Equal(BgpSessionState.OpenConfirm, h.Machine.State);
        h.Machine.OnMessage(inbound, Encode(PeerOpen(id: peerId)));

        var loser = outboundSurvives ? inbound : outbound;
        var winner = outboundSurvives ? outbound : inbound;
        var n = h.LastNotification(loser);
        Assert.Equal((BgpErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution), (n.Code, n.Subcode));
        Assert.Contains(loser, h.Closed);
        Assert.DoesNotContain(winner, h.Closed);
        h.Machine.OnMessage(winner, Keepalive());
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
    }

    [Fact]
    public void Collision_NewConnectionWhileEstablished_NewOneClosed()
    {
        var h = new FsmHarness();
        var established = h.Establish();
        var inbound = h.Machine.AllocateConnectionId();
        Assert.True(h.Machine.OnInboundConnection(inbound, null, null));
        h.Machine.OnMessage(inbound, Encode(PeerOpen()));
        Assert.Equal(CeaseSubcode.ConnectionCollisionResolution, h.LastNotification(inbound).Subcode);
        Assert.Contains(inbound, h.Closed);
        Assert.DoesNotContain(established, h.Closed);
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
    }

    [Fact]
    public void Inbound_WhileOurConnectIsPending_PeerConnectionTakesOver()
    {
        var h = new FsmHarness();
        h.Machine.Start();
        h.Machine.OnOutboundConnected(h.Connects[0], null, null);
        var second = h.Machine.AllocateConnectionId();
        Assert.True(h.Machine.OnInboundConnection(second, null, null));
        // A third connection has no slot.
        var third = h.Machine.AllocateConnectionId();
        Assert.False(h.Machine.OnInboundConnection(third, null, null));
        Assert.Equal(CeaseSubcode.ConnectionRejected, h.LastNotification(third).Subcode);
    }

    [Fact]
    public void Passive_NeverConnectsAndAcceptsInbound()
    {
        var h = new FsmHarness(Defaults() with { Passive = true });
        h.Machine.Start();
        h.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(h.Connects);
        Assert.Equal(BgpSessionState.Active, h.Machine.State);
        var id = h.Machine.AllocateConnectionId();
        Assert.True(h.Machine.OnInboundConnection(id, null, null));
        h.Machine.OnMessage(id, Encode(PeerOpen()));
        h.Machine.OnMessage(id, Keepalive());
        Assert.Equal(BgpSessionState.Established, h.Machine.State);
    }

    [Fact]
    public void States_FullLifecycle_InRfcOrder()
    {
        var h = new FsmHarness();
        h.Establish();
        Assert.Equal([BgpSessionState.Connect, BgpSessionState.OpenSent, BgpSessionState.OpenConfirm, BgpSessionState.Established], h.States);
    }

    [Fact]
    public void LastError_RepeatedFailures_DescribesOnlyTheLatest()
    {
        var h = new FsmHarness();
        h.Machine.Start();
        for (var i = 0; i < 5; i++)
        {
            var id = h.Connects[^1];
            h.Machine.OnOutboundConnected(id, null, null);
            h.Machine.OnMessage(id, Keepalive());
            h.Advance(h.Machine.CurrentRetryDelay!.Value);
        }
        Assert.Equal("sent NOTIFICATION 5/1 FSM: unexpected message in OpenSent", h.Machine.LastError);
        var last = h.Connects[^1];
        h.Machine.OnOutboundConnected(last, null, null);
        h.Machine.OnMessage(last, Encode(PeerOpen(asn: 65000)));
        Assert.Equal("peer AS 65000 is not the configured 64513 (sent NOTIFICATION 2/2 OPEN: bad peer AS)", h.Machine.LastError);
    }
}

/// <summary>The receive path (framing, validation, timers reset, state) allocates nothing per message.</summary>
public sealed class ReceiveAllocationTests
{
    private sealed class NullOutput : IBgpSessionOutput
    {
        public int LastConnect;

        public void Connect(int connectionId) => LastConnect = connectionId;

        public void Send(int connectionId, ReadOnlySpan<byte> message)
        {
        }

        public void Close(int connectionId)
        {
        }

        public int SendRoom(int connectionId) => int.MaxValue;
    }

    [Fact]
    public void OnMessage_KeepalivesAndUpdatesWhileEstablished_AllocateNothing()
    {
        var output = new NullOutput();
        var machine = new BgpSessionStateMachine(FsmHarness.Defaults(), new FakeTimeProvider(), new Random(1), output);
        machine.Start();
        machine.OnOutboundConnected(output.LastConnect, null, null);
        machine.OnMessage(output.LastConnect, FsmHarness.Encode(FsmHarness.PeerOpen()));
        machine.OnMessage(output.LastConnect, FsmHarness.Keepalive());
        Assert.Equal(BgpSessionState.Established, machine.State);
        var keepalive = FsmHarness.Keepalive();
        var update = Wire.Messages.Update([24, 203, 0, 113],
            Wire.Messages.Concat(Wire.Messages.Origin(), Wire.Messages.AsPath4(64513), Wire.Messages.NextHop(203, 0, 113, 1), Wire.Messages.Attr(0xC0, 8, 0xFD, 0xE8, 0, 1)),
            [32, 203, 0, 113, 9, 32, 203, 0, 113, 10]);
        var id = output.LastConnect;
        for (var i = 0; i < 100; i++)
        {
            machine.OnMessage(id, keepalive);
            machine.OnMessage(id, update);
        }
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            machine.OnMessage(id, keepalive);
            machine.OnMessage(id, update);
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(BgpSessionState.Established, machine.State);
        Assert.Equal(2 * 10_100, machine.Counters.PrefixesReceived);
    }
}

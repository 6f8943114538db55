using System.Net;
using BareLb.Layer2.Arp;
using BareLb.Layer2.Ndp;

namespace BareLb.Layer2.Tests;

public sealed class Layer2AnnouncerTests : IAsyncLifetime
{
    private const LinkFlags Up = LinkFlags.Up | LinkFlags.LowerUp;
    private static readonly LinkInfo Eth0 = new(2, "eth0", MacAddress.Parse("02:00:00:00:02:00"), Up);
    private static readonly LinkInfo Eth1 = new(3, "eth1", MacAddress.Parse("02:00:00:00:03:00"), Up);
    private static readonly LinkInfo Veth = new(4, "veth0", MacAddress.Parse("02:00:00:00:04:00"), Up, Kind: "veth");
    private static readonly IPAddress V4 = TestFrames.OwnedV4;
    private static readonly IPAddress V6 = TestFrames.OwnedV6;

    private readonly ManualClock _clock = new();
    private readonly FakeLinkMonitor _links = new(Eth0, Eth1, Veth);
    private readonly FakeChannels _channels;
    private readonly FakeMulticast _multicast = new();
    private readonly Layer2Announcer _announcer;
    private readonly List<IReadOnlyList<AddressAnnouncement>> _events = [];

    public Layer2AnnouncerTests()
    {
        _channels = new FakeChannels(_clock);
        _announcer = new Layer2Announcer(new Layer2Options(), _links, _channels, _multicast, _clock, null);
        _announcer.AnnouncementsChanged += _events.Add;
    }

    public Task InitializeAsync() => _announcer.StartAsync();

    public async Task DisposeAsync() => await _announcer.DisposeAsync();

    [Fact]
    public void SetOwned_NewIPv4_GratuitousArpOnEveryAllowedInterfaceBeforeReturning()
    {
        _announcer.SetOwned([new OwnedAddress(V4)]);

        Assert.Equal(["eth0", "eth1"], _channels.Sent.Select(s => s.Interface).Order());
        Assert.All(_channels.Sent, s => Assert.Equal(TimeSpan.Zero, s.At));
        var eth0 = _channels.Sent.Single(s => s.Interface == "eth0").Frame;
        var expected = new byte[42];
        ArpPacket.TryWriteGratuitous(expected, Eth0.Mac, IpAddresses.ToUInt32(V4), out _);
        Assert.Equal(expected, eth0);
        Assert.Equal([new AddressAnnouncement(V4, ["eth0", "eth1"])], _announcer.Announcements);
        Assert.Equal(_announcer.Announcements, _events[^1]);
        Assert.Equal(2, _announcer.Counters.AnnouncementsSent);
    }

    [Fact]
    public void SetOwned_NewIPv6_UnsolicitedAdvertisementAndGroupJoined()
    {
        _announcer.SetOwned([new OwnedAddress(V6, ["eth1"])]);

        var sent = Assert.Single(_channels.Sent);
        Assert.Equal(("eth1", FrameKind.Ndp), (sent.Interface, sent.Kind));
        var expected = new byte[NeighborAdvertisement.FrameLength];
        NeighborAdvertisement.TryWriteUnsolicited(expected, Eth1.Mac, IpAddresses.ToUInt128(V6), out _);
        Assert.Equal(expected, sent.Frame);
        Assert.Equal([(3, IpAddresses.SolicitedNode(IpAddresses.ToUInt128(V6)))], _multicast.Joined);
        Assert.Equal(["eth1"], _channels.OpenChannels.Select(c => c.Link.Name));
    }

    [Fact]
    public void SetOwned_Takeover_RepeatsOnTheDefaultSchedule()
    {
        _announcer.SetOwned([new OwnedAddress(V4, ["eth0"])]);

        _clock.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(
            new[] { 0, 50, 200, 500, 1000, 2000, 4000 }.Select(ms => TimeSpan.FromMilliseconds(ms)),
            _channels.Sent.Select(s => s.At));
        Assert.Empty(_clock.Pending);
    }

    [Fact]
    public async Task SetOwned_RefreshConfigured_KeepsAnnouncing()
    {
        var clock = new ManualClock();
        var channels = new FakeChannels(clock);
        var options = new Layer2Options { AnnouncementBurst = [TimeSpan.Zero], RefreshInterval = TimeSpan.FromSeconds(30) };
        var announcer = new Layer2Announcer(options, new FakeLinkMonitor(Eth0), channels, new FakeMulticast(), clock, null);
        await announcer.StartAsync();
        announcer.SetOwned([new OwnedAddress(V4)]);

        clock.Advance(TimeSpan.FromSeconds(95));

        Assert.Equal(new[] { 0, 30, 60, 90 }.Select(s => TimeSpan.FromSeconds(s)), channels.Sent.Select(s => s.At));
    }

    [Fact]
    public void Request_OwnedAddress_AnsweredThroughTheChannel()
    {
        _announcer.SetOwned([new OwnedAddress(V4), new OwnedAddress(V6)]);
        _channels.Sent.Clear();

        _channels.Get("eth0", FrameKind.Arp).Deliver(TestFrames.ArpRequest(V4));
        _channels.Get("eth1", FrameKind.Ndp).Deliver(TestFrames.NeighborSolicitation(V6));
        _channels.Get("eth1", FrameKind.Ndp).Deliver(TestFrames.NeighborSolicitation(TestFrames.OtherV6));

        Assert.Equal([("eth0", FrameKind.Arp), ("eth1", FrameKind.Ndp)], _channels.Sent.Select(s => (s.Interface, s.Kind)));
        Assert.Equal(1, _announcer.Counters.Get(FrameKind.Arp, FrameOutcome.Answered));
        Assert.Equal(1, _announcer.Counters.Get(FrameKind.Ndp, FrameOutcome.Answered));
        Assert.Equal(1, _announcer.Counters.NotOwned);
    }

    [Fact]
    public async Task SetOwned_Released_StopsAnsweringLeavesGroupAndClosesSockets()
    {
        _announcer.SetOwned([new OwnedAddress(V4), new OwnedAddress(V6)]);
        var arp = _channels.Get("eth0", FrameKind.Arp);

        _announcer.SetOwned([new OwnedAddress(V6)]);
        arp.Deliver(TestFrames.ArpRequest(V4));
        await _announcer.WhenClosed().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, _announcer.Counters.Get(FrameKind.Arp, FrameOutcome.NotOwned));
        Assert.True(arp.Disposed);
        Assert.DoesNotContain(_channels.OpenChannels, c => c.Kind == FrameKind.Arp);
        Assert.Equal(2, _multicast.Joined.Count);

        _announcer.SetOwned([]);
        await _announcer.WhenClosed().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Empty(_channels.OpenChannels);
        Assert.Empty(_multicast.Joined);
        Assert.Empty(_announcer.Announcements);
        _channels.Sent.Clear();
        _clock.Advance(TimeSpan.FromSeconds(10));
        Assert.Empty(_channels.Sent);
    }

    [Fact]
    public void SetOwned_ReleasedButInterfaceStillInUse_NotOwnedAnymore()
    {
        _announcer.SetOwned([new OwnedAddress(V4), new OwnedAddress(TestFrames.OtherV4)]);
        var arp = _channels.Get("eth0", FrameKind.Arp);

        _announcer.SetOwned([new OwnedAddress(TestFrames.OtherV4)]);
        _channels.Sent.Clear();
        arp.Deliver(TestFrames.ArpRequest(V4));

        Assert.False(arp.Disposed);
        Assert.Empty(_channels.Sent);
        Assert.Equal(1, _announcer.Counters.NotOwned);
    }

    [Fact]
    public void SetOwned_SharedSolicitedNodeGroup_JoinedOnceLeftWithTheLast()
    {
        var a = IPAddress.Parse("2001:db8:1::abc");
        var b = IPAddress.Parse("2001:db8:2::abc");

        _announcer.SetOwned([new OwnedAddress(a, ["eth0"]), new OwnedAddress(b, ["eth0"])]);
        Assert.Equal(1, _multicast.Joins);
        _announcer.SetOwned([new OwnedAddress(b, ["eth0"])]);
        Assert.Equal(0, _multicast.Leaves);
        _announcer.SetOwned([]);
        Assert.Equal(1, _multicast.Leaves);
    }

    [Fact]
    public void SetOwned_NoInterfaceQualifies_ReportsNoAllowedInterface()
    {
        _announcer.SetOwned([new OwnedAddress(V4, ["eth9"]), new OwnedAddress(V6, ["eth0"])]);

        Assert.Equal(
            [new AddressAnnouncement(V4, []), new AddressAnnouncement(V6, ["eth0"])],
            _announcer.Announcements);
        Assert.True(_announcer.Announcements[0].NoAllowedInterface);
        Assert.DoesNotContain(_channels.Sent, s => s.Kind == FrameKind.Arp);
    }

    [Fact]
    public void SetOwned_ExplicitlyNamedExcludedInterface_Honoured()
    {
        _announcer.SetOwned([new OwnedAddress(V4, ["veth0"])]);

        Assert.Equal([new AddressAnnouncement(V4, ["veth0"])], _announcer.Announcements);
    }

    [Fact]
    public void SetOwned_SameSetAgain_NoNewAnnouncementOrEvent()
    {
        _announcer.SetOwned([new OwnedAddress(V4)]);
        var events = _events.Count;
        var sent = _channels.Sent.Count;

        _announcer.SetOwned([new OwnedAddress(V4)]);

        Assert.Equal(events, _events.Count);
        Assert.Equal(sent, _channels.Sent.Count);
    }

    [Fact]
    public void Links_InterfaceAppears_AnnouncedThereAtOnce()
    {
        _announcer.SetOwned([new OwnedAddress(V4)]);
        _channels.Sent.Clear();
        var eth2 = new LinkInfo(5, "eth2", MacAddress.Parse("02:00:00:00:05:00"), Up);

        _links.Set(Eth0, Eth1, Veth, eth2);

        Assert.Equal(["eth2"], _channels.Sent.Select(s => s.Interface));
        Assert.Equal(["eth0", "eth1", "eth2"], _announcer.Announcements.Single().Interfaces);
    }

    [Fact]
    public async Task Links_InterfaceGoesDown_ClosedAndStatusUpdated()
    {
        _announcer.SetOwned([new OwnedAddress(V6)]);

        _links.Set(Eth0, Eth1 with { Flags = LinkFlags.None }, Veth);
        await _announcer.WhenClosed().WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(["eth0"], _announcer.Announcements.Single().Interfaces);
        Assert.Equal(["eth0"], _channels.OpenChannels.Select(c => c.Link.Name));
        Assert.Equal([2], _multicast.Joined.Select(j => j.Interface));
    }

    [Fact]
    public void Links_CarrierReturns_AnnouncedAgain()
    {
        _announcer.SetOwned([new OwnedAddress(V4, ["eth0"])]);
        _links.Set(Eth0 with { Flags = LinkFlags.Up }, Eth1, Veth);
        _clock.Advance(TimeSpan.FromSeconds(10));
        _channels.Sent.Clear();

        _links.Set(Eth0, Eth1, Veth);

        Assert.Single(_channels.Sent);
    }

    [Fact]
    public void Links_MacChanges_ReopenedWithTheNewMac()
    {
        _announcer.SetOwned([new OwnedAddress(V4, ["eth0"])]);
        var newMac = MacAddress.Parse("02:00:00:00:02:99");
        _channels.Sent.Clear();

        _links.Set(Eth0 with { Mac = newMac }, Eth1, Veth);

        Assert.True(EthernetFrame.TryRead(Assert.Single(_channels.Sent).Frame, out var frame));
        Assert.Equal(newMac, frame.Source);
        Assert.Equal(2, _channels.Opened);
    }

    [Fact]
    public void SetOwned_SocketCannotOpen_InterfaceNotReported()
    {
        _channels.FailingInterfaces.Add("eth1");

        _announcer.SetOwned([new OwnedAddress(V4)]);

        Assert.Equal(["eth0"], _announcer.Announcements.Single().Interfaces);
    }

    [Fact]
    public async Task StopAsync_Owned_EverythingClosed()
    {
        _announcer.SetOwned([new OwnedAddress(V4), new OwnedAddress(V6)]);

        await _announcer.StopAsync();

        Assert.Empty(_channels.OpenChannels);
        Assert.Empty(_multicast.Joined);
        Assert.True(_links.Disposed);
        Assert.Throws<ObjectDisposedException>(() => _announcer.SetOwned([]));
    }

    [Fact]
    public async Task StartAsync_Twice_Throws() =>
        await Assert.ThrowsAsync<InvalidOperationException>(() => _announcer.StartAsync());

    [Fact]
    public async Task SetOwned_BeforeStart_AppliedOnStart()
    {
        var clock = new ManualClock();
        var channels = new FakeChannels(clock);
        var announcer = new Layer2Announcer(null, new FakeLinkMonitor(Eth0), channels, new FakeMulticast(), clock, null);

        announcer.SetOwned([new OwnedAddress(V4)]);
        Assert.Empty(channels.Sent);
        await announcer.StartAsync();

        Assert.Single(channels.Sent);
    }
}

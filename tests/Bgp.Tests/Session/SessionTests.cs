using System.Diagnostics;
using System.Net;
using BareLb.Bgp.Transport;
using BareLb.Bgp.Wire;
using BareLb.TestSupport;

namespace BareLb.Bgp.Tests.Session;

/// <summary>
/// <see cref="BgpSession"/> end to end over in-memory streams: two of our sessions peering with each other, and a
/// scripted peer that sends garbage. Time is fake; waits are on conditions, bounded.
/// </summary>
public sealed class SessionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private static BgpSessionOptions Speaker() => new()
    {
        LocalAsn = 64512,
        PeerAsn = 64513,
        PeerAddress = IPAddress.Parse("198.51.100.1"),
        RouterId = IPAddress.Parse("198.51.100.10"),
        HoldTime = TimeSpan.FromSeconds(9),
        NextHopIPv6 = IPAddress.Parse("2001:db8::10"),
    };

    private static BgpSessionOptions Router() => new()
    {
        LocalAsn = 64513,
        PeerAsn = 64512,
        PeerAddress = IPAddress.Parse("198.51.100.10"),
        RouterId = IPAddress.Parse("198.51.100.1"),
        HoldTime = TimeSpan.FromSeconds(9),
        Passive = true,
    };

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (!condition())
        {
            if (watch.Elapsed > Wait)
            {
                throw new TimeoutException(what);
            }
            await Task.Delay(5);
        }
    }

    private sealed class Pair : IAsyncDisposable
    {
        public FakeTimeProvider Clock { get; } = new();
        public InMemoryConnector Connector { get; } = new();
        public BgpSession Speaker { get; }
        public BgpSession Router { get; }

        public Pair(BgpSessionOptions? speaker = null)
        {
            Speaker = new BgpSession(speaker ?? SessionTests.Speaker(), Connector, null, Clock, new Random(3));
            Router = new BgpSession(SessionTests.Router(), new InMemoryConnector(), null, Clock, new Random(4));
            Connector.OnConnect = far => Router.AcceptInbound(new BgpConnection(far, InMemoryConnector.PeerEnd, InMemoryConnector.LocalEnd));
        }

        public async Task StartAsync()
        {
            await Router.StartAsync();
            await Speaker.StartAsync();
            await Speaker.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Wait);
            await Router.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Wait);
        }

        public async ValueTask DisposeAsync()
        {
            await Speaker.DisposeAsync();
            await Router.DisposeAsync();
        }
    }

    [Fact]
    public async Task SetRoutes_TwoOfOurSessions_PeerCountsAnnouncementsThenWithdrawals()
    {
        await using var p = new Pair();
        p.Speaker.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32")), new BgpRoute(IPNetwork.Parse("2001:db8::100/128"))]);
        await p.StartAsync();
        await Eventually(() => p.Router.Counters.PrefixesReceived == 2 && p.Router.PeerEndOfRib.Count == 2, "routes and End-of-RIB reach the router");
        Assert.Equal(1, p.Speaker.Counters.AdvertisedIPv4);
        Assert.Equal(1, p.Speaker.Counters.AdvertisedIPv6);

        p.Speaker.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32"))]);
        await Eventually(() => p.Router.Counters.WithdrawalsReceived == 1, "withdrawal reaches the router");
        Assert.Equal(0, p.Speaker.Counters.AdvertisedIPv6);
        Assert.Equal(0, p.Router.Counters.NotificationsSent);
    }

    [Fact]
    public async Task Keepalives_FakeClockRunsAMinute_SessionStaysUp()
    {
        await using var p = new Pair();
        await p.StartAsync();
        for (var i = 0; i < 60; i++)
        {
            var before = p.Router.Counters.KeepalivesReceived;
            p.Clock.Advance(TimeSpan.FromSeconds(1));
            if (i % 3 == 2)
            {
                // A keepalive is due every 3 s: wait until it has crossed before moving the clock on.
                await Eventually(() => p.Router.Counters.KeepalivesReceived > before, $"keepalive {i}");
            }
        }
        Assert.Equal(BgpSessionState.Established, p.Speaker.State);
        Assert.Equal(BgpSessionState.Established, p.Router.State);
        Assert.InRange(p.Router.Counters.KeepalivesReceived, 20, 22);
    }

    [Fact]
    public async Task StopAsync_Shutdown_PeerReceivesCeaseAndSpeakerIdles()
    {
        await using var p = new Pair();
        await p.StartAsync();
        await p.Speaker.StopAsync();
        Assert.Equal(BgpSessionState.Idle, p.Speaker.State);
        await Eventually(() => p.Router.Counters.NotificationsReceived == 1, "router reads the NOTIFICATION");
        Assert.Contains("6/2 cease: administrative shutdown", p.Router.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PeerGoesSilent_HoldTimerExpires_NotificationAndRetry()
    {
        var clock = new FakeTimeProvider();
        var connector = new InMemoryConnector();
        connector.OnConnect = stream =>
        {
            _ = Task.Run(async () =>
            {
                // A peer that completes the handshake and then freezes: it reads (and drops) but never sends again.
                await stream.WriteAsync(FsmHarness.Encode(FsmHarness.PeerOpen()));
                await stream.WriteAsync(FsmHarness.Keepalive());
                await stream.FlushAsync();
                var buffer = new byte[4096];
                while (await stream.ReadAsync(buffer) > 0)
                {
                }
            });
            return true;
        };
        await using var session = new BgpSession(Speaker(), connector, null, clock, new Random(5));
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Wait);
        connector.Refuse = true;
        clock.Advance(TimeSpan.FromSeconds(8.9));
        Assert.Equal(BgpSessionState.Established, session.State);
        clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.Equal(BgpSessionState.Active, session.State);
        Assert.Contains("hold timer expired", session.LastError ?? "", StringComparison.Ordinal);
        Assert.Equal(1, session.Counters.NotificationsSent);
    }

    [Fact]
    public async Task GarbageFromPeer_NotificationThenReconnectAfterBackoff_NoCrash()
    {
        var clock = new FakeTimeProvider();
        var connector = new InMemoryConnector();
        var received = new List<byte[]>();
        var far = new List<DuplexStream>();
        connector.OnConnect = stream =>
        {
            lock (far)
            {
                far.Add(stream);
            }
            _ = Task.Run(async () =>
            {
                // The "peer" answers with 40 bytes of garbage, then reads what we send until we close.
                await stream.WriteAsync(Enumerable.Range(0, 40).Select(i => (byte)(i * 7)).ToArray());
                await stream.FlushAsync();
                var buffer = new byte[4096];
                var all = new MemoryStream();
                int n;
                while ((n = await stream.ReadAsync(buffer)) > 0)
                {
                    all.Write(buffer, 0, n);
                }
                lock (received)
                {
                    received.Add(all.ToArray());
                }
            });
            return true;
        };
        await using var session = new BgpSession(Speaker(), connector, null, clock, new Random(5));
        await session.StartAsync();
        await Eventually(() => { lock (received) { return received.Count == 1; } }, "first connection closed by us");
        var bytes = received[0];
        // Our OPEN, then NOTIFICATION 1/1 (the garbage has no all-ones marker).
        Assert.True(BgpHeader.TryReadFrame(bytes, out var openLength, out var t1, out _) == BgpFrameStatus.Complete && t1 == BgpMessageType.Open);
        var rest = bytes.AsSpan(openLength);
        Assert.Equal(BgpFrameStatus.Complete, BgpHeader.TryReadFrame(rest, out _, out var t2, out _));
        Assert.Equal(BgpMessageType.Notification, t2);
        Assert.Equal((BgpErrorCode.MessageHeader, MessageHeaderSubcode.ConnectionNotSynchronized), (BgpNotification.Read(rest).Code, BgpNotification.Read(rest).Subcode));

        await Eventually(() => session.State == BgpSessionState.Active, "waiting to reconnect");
        Assert.Equal(1, connector.Attempts);
        clock.Advance(TimeSpan.FromSeconds(1));
        await Eventually(() => connector.Attempts == 2, "reconnected after the backoff");
    }

    [Fact]
    public async Task ConnectRefused_RetriesWithBackoffUntilPeerAppears()
    {
        await using var p = new Pair();
        p.Connector.Refuse = true;
        await p.Router.StartAsync();
        await p.Speaker.StartAsync();
        await Eventually(() => p.Speaker.State == BgpSessionState.Active && p.Connector.Attempts == 1, "first attempt refused");
        p.Connector.Refuse = false;
        p.Clock.Advance(TimeSpan.FromSeconds(1));
        await p.Speaker.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Wait);
        Assert.Equal(2, p.Connector.Attempts);
        Assert.Equal(2, p.Speaker.Counters.ConnectAttempts);
    }

    [Fact]
    public async Task ManyRoutes_BacklogDrains_AllAdvertised()
    {
        await using var p = new Pair();
        var routes = Enumerable.Range(0, 10_000).Select(i => new BgpRoute(new IPNetwork(new IPAddress([10, (byte)(i >> 8), (byte)i, 0]), 24))).ToArray();
        p.Speaker.SetRoutes(routes);
        await p.StartAsync();
        await Eventually(() => p.Router.Counters.PrefixesReceived == 10_000, "all prefixes received");
        await Eventually(() => p.Router.PeerEndOfRib.Contains(AfiSafi.IPv4Unicast), "End-of-RIB after them");
        Assert.Equal(10_000, p.Speaker.Counters.AdvertisedIPv4);
    }

    private sealed class BrokenConnector : IBgpConnector
    {
        public Task<BgpConnection> ConnectAsync(CancellationToken ct) => throw new NotSupportedException("a bug in the transport");
    }

    [Fact]
    public async Task Completion_UnexpectedInternalError_FaultsSoTheHostCanRestart()
    {
        var session = new BgpSession(Speaker(), new BrokenConnector(), null, new FakeTimeProvider(), new Random(1));
        await session.StartAsync();
        var error = await Assert.ThrowsAsync<NotSupportedException>(() => session.Completion.WaitAsync(Wait));
        Assert.Equal("a bug in the transport", error.Message);
    }

    [Fact]
    public async Task Completion_Disposed_CompletesNormally()
    {
        var session = new BgpSession(Speaker(), new InMemoryConnector { Refuse = true }, null, new FakeTimeProvider(), new Random(1));
        await session.StartAsync();
        await session.DisposeAsync();
        await session.Completion.WaitAsync(Wait);
        Assert.True(session.Completion.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task WaitForStateAsync_Cancelled_ThrowsAndLaterStatesStillReported()
    {
        await using var p = new Pair();
        using var cts = new CancellationTokenSource();
        var cancelled = p.Speaker.WaitForStateAsync(BgpSessionState.Established, cts.Token);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        await p.StartAsync();
        Assert.Equal(BgpSessionState.Established, p.Speaker.State);
    }
}

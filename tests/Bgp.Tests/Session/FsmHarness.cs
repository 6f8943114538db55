using System.Net;
using BareLb.Bgp.Wire;
using BareLb.TestSupport;

namespace BareLb.Bgp.Tests.Session;

/// <summary>
/// Drives a <see cref="BgpSessionStateMachine"/> as the transport would, recording what it asks the transport to do,
/// and plays the peer by handing it encoded messages. The clock advances only through <see cref="Advance"/>, which
/// calls <c>OnTimer</c> at every deadline on the way, as the real driver does.
/// </summary>
internal sealed class FsmHarness : IBgpSessionOutput
{
    public const uint PeerId = 0xCB007101; // 203.0.113.1

    public FsmHarness(BgpSessionOptions? options = null, int seed = 1)
    {
        Options = options ?? Defaults();
        Machine = new BgpSessionStateMachine(Options, Clock, new Random(seed), this);
        Machine.StateChanged += (_, to) => States.Add(to);
    }

    public static BgpSessionOptions Defaults() => new()
    {
        LocalAsn = 64512,
        PeerAsn = 64513,
        PeerAddress = IPAddress.Parse("198.51.100.1"),
        RouterId = IPAddress.Parse("198.51.100.10"),
        HoldTime = TimeSpan.FromSeconds(9),
    };

    public BgpSessionOptions Options { get; }
    public FakeTimeProvider Clock { get; } = new();
    public BgpSessionStateMachine Machine { get; }
    public List<int> Connects { get; } = [];
    public List<int> Closed { get; } = [];
    public List<(int Connection, byte[] Message)> Sent { get; } = [];
    public List<BgpSessionState> States { get; } = [];
    public int Room { get; set; } = int.MaxValue;

    public void Connect(int connectionId) => Connects.Add(connectionId);

    public void Send(int connectionId, ReadOnlySpan<byte> message)
    {
        Sent.Add((connectionId, message.ToArray()));
        if (Room != int.MaxValue)
        {
            Room -= message.Length;
        }
    }

    public void Close(int connectionId) => Closed.Add(connectionId);

    public int SendRoom(int connectionId) => Room;

    public static BgpOpenMessage PeerOpen(uint asn = 64513, ushort hold = 90, uint id = PeerId, bool as4 = true, AfiSafi[]? families = null, GracefulRestartCapability? gr = null) =>
        new(4, asn > ushort.MaxValue ? BgpOpenMessage.AsTrans : (ushort)asn, hold, id, new BgpCapabilities
        {
            Multiprotocol = families ?? [AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast],
            RouteRefresh = true,
            FourOctetAs = as4 ? asn : null,
            GracefulRestart = gr,
        });

    public static byte[] Encode(BgpOpenMessage open)
    {
        var b = new byte[4096];
        open.TryWrite(b, out var n);
        return b[..n];
    }

    public static byte[] Keepalive()
    {
        var b = new byte[19];
        BgpKeepalive.TryWrite(b, out _);
        return b;
    }

    /// <summary>Start, connect, exchange OPEN and KEEPALIVE: returns the established connection id.</summary>
    public int Establish(BgpOpenMessage? open = null)
    {
        Machine.Start();
        var id = Connects[^1];
        Machine.OnOutboundConnected(id, new IPEndPoint(IPAddress.Parse("198.51.100.10"), 40000), Options.PeerEndPoint);
        Machine.OnMessage(id, Encode(open ?? PeerOpen()));
        Machine.OnMessage(id, Keepalive());
        Assert.Equal(BgpSessionState.Established, Machine.State);
        return id;
    }

    public void Advance(TimeSpan delta)
    {
        var end = Clock.Elapsed + delta;
        while (true)
        {
            var deadline = Machine.NextDeadline;
            var at = deadline == long.MaxValue ? TimeSpan.MaxValue : TimeSpan.FromTicks(deadline / 4);
            if (at > end)
            {
                Clock.Advance(end - Clock.Elapsed);
                return;
            }
            if (at > Clock.Elapsed)
            {
                Clock.Advance(at - Clock.Elapsed);
            }
            Machine.OnTimer();
        }
    }

    public IEnumerable<(BgpMessageType Type, byte[] Message)> SentOn(int connection) =>
        Sent.Where(s => s.Connection == connection).Select(s => ((BgpMessageType)s.Message[18], s.Message));

    public List<BgpMessageType> TypesSentOn(int connection) => SentOn(connection).Select(s => s.Type).ToList();

    public BgpError LastNotification(int connection) =>
        BgpNotification.Read(SentOn(connection).Last(s => s.Type == BgpMessageType.Notification).Message);

    public List<BgpUpdate> UpdatesSentOn(int connection, bool fourOctet = true) =>
        SentOn(connection).Where(s => s.Type == BgpMessageType.Update).Select(s =>
        {
            Assert.True(BgpUpdate.TryDecode(s.Message, new UpdateParseContext(fourOctet, Options.IsExternal, Options.LocalAsn > ushort.MaxValue && !fourOctet ? BgpOpenMessage.AsTrans : Options.LocalAsn), out var u, out var e), e.ToString());
            return u!;
        }).ToList();

    public void ClearSent() => Sent.Clear();
}

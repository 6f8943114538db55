using System.Net;
using System.Net.Sockets;
using BareLb.Bgp.Wire;

namespace BareLb.Bgp;

/// <summary>What the state machine asks of the transport. Calls happen on the caller's thread, inside an input method.</summary>
internal interface IBgpSessionOutput
{
    /// <summary>Open an outbound TCP connection; report back with <c>OnOutboundConnected</c> or <c>OnConnectionClosed</c>.</summary>
    void Connect(int connectionId);

    void Send(int connectionId, ReadOnlySpan<byte> message);

    /// <summary>Close after what was sent has been flushed (best effort); no further input is expected for the id.</summary>
    void Close(int connectionId);

    /// <summary>Octets the connection's send queue takes before UPDATE generation should pause.</summary>
    int SendRoom(int connectionId);
}

/// <summary>
/// The RFC 4271 finite state machine of one peer, without I/O and without threads: inputs are method calls (a
/// connection event, a received message, "the clock moved", new routes), outputs go to <see cref="IBgpSessionOutput"/>,
/// and time comes from a <see cref="TimeProvider"/> read at each input. The caller (<see cref="BgpSession"/>, or a
/// test) serialises the calls and calls <see cref="OnTimer"/> at <see cref="NextDeadline"/>.
///
/// Up to two connections exist at once (our outbound one and the peer's inbound one); each runs the OpenSent →
/// OpenConfirm → Established sequence, and RFC 4271 section 6.8 collision resolution keeps the one opened by the
/// speaker with the higher BGP identifier. The session state is that of its most advanced connection.
/// </summary>
internal sealed class BgpSessionStateMachine
{
    private const int MaxConnections = 2;
    private static readonly TimeSpan LateTickGrace = TimeSpan.FromSeconds(1);

    private readonly BgpSessionOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly IBgpSessionOutput _output;
    private readonly uint _localId;
    private readonly List<Connection> _connections = [];
    private readonly byte[] _buffer = new byte[BgpHeader.MaxMessageLength];
    private readonly HashSet<AfiSafi> _peerEndOfRib = [];
    private int _nextConnectionId = 1;
    private bool _running;
    private long _retryDeadline = long.MaxValue;
    private int _backoffAttempt;
    private bool _everEstablished;
    private long _establishedAt;
    private BgpSessionState _state = BgpSessionState.Idle;
    private CounterValues _counters;

    public BgpSessionStateMachine(BgpSessionOptions options, TimeProvider time, Random random, IBgpSessionOutput output)
    {
        options.Validate();
        _options = options;
        _time = time;
        _random = random;
        _output = output;
        _localId = options.Identifier();
    }

    public BgpSessionState State => _state;

    public AdjRibOut Rib { get; } = new();

    /// <summary>Set while Established.</summary>
    public NegotiatedSession? Negotiated { get; private set; }

    public string? LastError { get; private set; }

    public BgpError? LastNotificationSent { get; private set; }

    public BgpError? LastNotificationReceived { get; private set; }

    public IReadOnlyCollection<AfiSafi> PeerEndOfRib => _peerEndOfRib;

    /// <summary>The delay before the pending reconnect, when one is pending (for tests of the backoff).</summary>
    public TimeSpan? CurrentRetryDelay { get; private set; }

    public event Action<BgpSessionState, BgpSessionState>? StateChanged;

    /// <summary>Raised for log-worthy events (state changes aside): notifications, errors, collisions.</summary>
    public event Action<string>? Notice;

    /// <summary>The earliest timestamp at which <see cref="OnTimer"/> has something to do, or <see cref="long.MaxValue"/>.</summary>
    public long NextDeadline
    {
        get
        {
            var next = _running && _connections.Count == 0 ? _retryDeadline : long.MaxValue;
            foreach (var c in _connections)
            {
                next = Math.Min(next, Math.Min(c.HoldDeadline, c.KeepaliveDeadline));
            }
            return next;
        }
    }

    public BgpSessionCounters Counters => new()
    {
        OpensSent = _counters.OpensSent,
        OpensReceived = _counters.OpensReceived,
        UpdatesSent = _counters.UpdatesSent,
        UpdatesReceived = _counters.UpdatesReceived,
        KeepalivesSent = _counters.KeepalivesSent,
        KeepalivesReceived = _counters.KeepalivesReceived,
        NotificationsSent = _counters.NotificationsSent,
        NotificationsReceived = _counters.NotificationsReceived,
        RouteRefreshesReceived = _counters.RouteRefreshesReceived,
        EstablishedTransitions = _counters.EstablishedTransitions,
        ConnectAttempts = _counters.ConnectAttempts,
        PrefixesReceived = _counters.PrefixesReceived,
        WithdrawalsReceived = _counters.WithdrawalsReceived,
        LateTimerTicks = _counters.LateTimerTicks,
        AdvertisedIPv4 = Rib.AdvertisedCount(AfiSafi.IPv4Unicast),
        AdvertisedIPv6 = Rib.AdvertisedCount(AfiSafi.IPv6Unicast),
        PendingChanges = Rib.PendingChanges,
    };

    public void Start()
    {
        if (_running)
        {
            return;
        }
        _running = true;
        _backoffAttempt = 0;
        if (_options.Passive)
        {
            _retryDeadline = long.MaxValue;
            UpdateState();
        }
        else
        {
            StartConnect();
        }
    }

    /// <summary>Stops the session: Cease with <paramref name="ceaseSubcode"/>, or a silent close when <paramref name="silent"/>.</summary>
    public void Stop(byte ceaseSubcode = CeaseSubcode.AdministrativeShutdown, bool silent = false, byte[]? data = null)
    {
        _running = false;
        _retryDeadline = long.MaxValue;
        CurrentRetryDelay = null;
        foreach (var c in _connections.ToList())
        {
            if (!silent && c.Phase != Phase.Connecting)
            {
                SendNotification(c, new BgpError(BgpErrorCode.Cease, ceaseSubcode, data));
            }
            Drop(c, silent ? "stopped for restart" : "stopped", scheduleRetry: false);
        }
        UpdateState();
    }

    /// <summary>Graceful restart was negotiated on the current session (so a silent stop keeps our routes at the peer).</summary>
    public bool GracefulRestartNegotiated => Negotiated?.PeerGracefulRestart is not null && _options.GracefulRestart;

    public void SetRoutes(IReadOnlyCollection<BgpRoute> routes)
    {
        Rib.SetDesired(routes);
        Pump();
    }

    /// <summary>The transport has room again: continue sending pending UPDATEs.</summary>
    public void OnSendRoom() => Pump();

    public void OnOutboundConnected(int connectionId, IPEndPoint? local, IPEndPoint? remote)
    {
        var c = Find(connectionId);
        if (c is null || c.Phase != Phase.Connecting)
        {
            _output.Close(connectionId);
            return;
        }
        c.Local = local;
        c.Remote = remote;
        OpenSent(c);
        UpdateState();
    }

    /// <summary>The peer connected to us. False (and the connection closed) when it is not wanted now.</summary>
    public bool OnInboundConnection(int connectionId, IPEndPoint? local, IPEndPoint? remote)
    {
        if (!_running)
        {
            RejectConnection(connectionId);
            return false;
        }
        if (_connections.Count >= MaxConnections)
        {
            // Our own attempt is still connecting: the peer's connection wins the slot.
            var connecting = _connections.FirstOrDefault(c => c.Phase == Phase.Connecting);
            if (connecting is null)
            {
                RejectConnection(connectionId);
                return false;
            }
            Drop(connecting, "superseded by the peer's connection", scheduleRetry: false);
        }
        var inbound = new Connection(connectionId, outbound: false) { Local = local, Remote = remote };
        _nextConnectionId = Math.Max(_nextConnectionId, connectionId + 1);
        _connections.Add(inbound);
        _retryDeadline = long.MaxValue;
        OpenSent(inbound);
        UpdateState();
        return true;
    }

    /// <summary>An id for an inbound connection that will not collide with ours.</summary>
    public int AllocateConnectionId() => _nextConnectionId++;

    public void OnConnectionClosed(int connectionId, string reason)
    {
        var c = Find(connectionId);
        if (c is null)
        {
            return;
        }
        if (c.Phase == Phase.Connecting)
        {
            LastError = $"connect to {_options.PeerEndPoint} failed: {reason}";
        }
        else
        {
            LastError = $"connection closed in {c.Phase}: {reason}";
        }
        Drop(c, reason, scheduleRetry: true);
        UpdateState();
    }

    /// <summary>The stream could not be framed (bad marker, length or type): NOTIFICATION and close.</summary>
    public void OnFramingError(int connectionId, in BgpError error)
    {
        var c = Find(connectionId);
        if (c is not null)
        {
            Fail(c, error);
            UpdateState();
        }
    }

    /// <summary>One whole message, header included, as received on <paramref name="connectionId"/>.</summary>
    public void OnMessage(int connectionId, ReadOnlySpan<byte> message)
    {
        var c = Find(connectionId);
        if (c is null || c.Phase == Phase.Connecting)
        {
            return;
        }
        var status = BgpHeader.TryReadFrame(message, out var length, out var type, out var error);
        if (status != BgpFrameStatus.Complete || length != message.Length)
        {
            Fail(c, status == BgpFrameStatus.Invalid ? error : BgpError.BadLength(message.Length));
            UpdateState();
            return;
        }
        switch (type)
        {
            case BgpMessageType.Notification:
                OnNotification(c, message);
                break;
            case BgpMessageType.Open:
                OnOpen(c, message);
                break;
            case BgpMessageType.Keepalive:
                OnKeepalive(c);
                break;
            case BgpMessageType.Update:
                OnUpdate(c, message);
                break;
            case BgpMessageType.RouteRefresh:
                OnRouteRefresh(c, message);
                break;
        }
        UpdateState();
        Pump();
    }

    public void OnTimer()
    {
        var now = _time.GetTimestamp();
        foreach (var c in _connections.ToList())
        {
            if (!_connections.Contains(c))
            {
                continue;
            }
            if (c.HoldDeadline <= now)
            {
                if (c.Phase == Phase.Connecting)
                {
                    _output.Close(c.Id);
                    LastError = $"connect to {_options.PeerEndPoint} timed out after {_options.ConnectRetryTime.TotalSeconds:0.#} s";
                    Drop(c, "connect timed out", scheduleRetry: true);
                    continue;
                }
                var late = _time.GetElapsedTime(c.HoldDeadline, now);
                if (late > LateTickGrace && !c.GraceGiven)
                {
                    // We ran late (paused process, starved CPU): the peer's keepalives may be waiting unread in
                    // the socket. Give the input one more second before calling the peer dead.
                    _counters.LateTimerTicks++;
                    c.GraceGiven = true;
                    c.HoldDeadline = Deadline(now, LateTickGrace);
                    Notice?.Invoke($"hold timer checked {late.TotalSeconds:0.0} s late; granting {LateTickGrace.TotalSeconds:0} s for queued input");
                    continue;
                }
                Fail(c, new BgpError(BgpErrorCode.HoldTimerExpired, 0), $"hold timer expired in {c.Phase} ({c.Hold.TotalSeconds:0.#} s without a message)");
                continue;
            }
            if (c.KeepaliveDeadline <= now)
            {
                SendKeepalive(c);
                c.KeepaliveDeadline = Deadline(now, c.Keepalive);
            }
        }
        if (_running && _connections.Count == 0 && _retryDeadline <= now)
        {
            _retryDeadline = long.MaxValue;
            CurrentRetryDelay = null;
            if (_options.Passive)
            {
                _retryDeadline = long.MaxValue;
            }
            else
            {
                StartConnect();
            }
        }
        UpdateState();
        Pump();
    }

    private void StartConnect()
    {
        var c = new Connection(_nextConnectionId++, outbound: true)
        {
            Phase = Phase.Connecting,
            HoldDeadline = Deadline(_time.GetTimestamp(), _options.ConnectRetryTime),
        };
        _connections.Add(c);
        _counters.ConnectAttempts++;
        UpdateState();
        _output.Connect(c.Id);
    }

    private void OpenSent(Connection c)
    {
        c.Phase = Phase.OpenSent;
        c.Hold = _options.OpenHoldTime;
        c.HoldDeadline = Deadline(_time.GetTimestamp(), c.Hold);
        c.KeepaliveDeadline = long.MaxValue;
        var open = BuildOpen();
        if (!open.TryWrite(_buffer, out var n))
        {
            throw new InvalidOperationException("our OPEN does not fit 4096 octets (too many address families)");
        }
        Send(c, _buffer.AsSpan(0, n));
        _counters.OpensSent++;
    }

    internal BgpOpenMessage BuildOpen()
    {
        var families = _options.AddressFamilies;
        GracefulRestartCapability? gr = null;
        if (_options.GracefulRestart)
        {
            // F bit set: our "forwarding" is the node's own kernel, which keeps working while we restart.
            gr = new GracefulRestartCapability(
                Restarting: _options.Restarted && !_everEstablished,
                NotificationSupport: false,
                RestartTimeSeconds: (ushort)_options.RestartTime.TotalSeconds,
                Families: families.Select(f => new GracefulRestartFamily(f, true)).ToArray());
        }
        return new BgpOpenMessage(4, _options.LocalAsn > ushort.MaxValue ? BgpOpenMessage.AsTrans : (ushort)_options.LocalAsn,
            (ushort)_options.HoldTime.TotalSeconds, _localId, new BgpCapabilities
            {
                Multiprotocol = families,
                RouteRefresh = true,
                FourOctetAs = _options.LocalAsn,
                GracefulRestart = gr,
            });
    }

    private void OnNotification(Connection c, ReadOnlySpan<byte> message)
    {
        _counters.NotificationsReceived++;
        var error = BgpNotification.Read(message);
        LastNotificationReceived = error;
        LastError = $"peer sent NOTIFICATION {error}";
        Notice?.Invoke(LastError);
        Drop(c, "NOTIFICATION received", scheduleRetry: true);
    }

    private void OnOpen(Connection c, ReadOnlySpan<byte> message)
    {
        _counters.OpensReceived++;
        if (c.Phase != Phase.OpenSent)
        {
            Fail(c, FsmError(c));
            return;
        }
        if (!BgpOpenMessage.TryDecode(message, out var open, out var error))
        {
            Fail(c, error);
            return;
        }
        if (!TryAccept(open!, out var negotiated, out error, out var why))
        {
            Fail(c, error, why);
            return;
        }
        c.PeerOpen = open;
        c.Negotiated = negotiated;

        // Collision (RFC 4271 6.8): another connection that has the peer's OPEN too, or is already Established.
        var other = _connections.FirstOrDefault(o => o != c && o.Phase is Phase.OpenConfirm or Phase.Established);
        if (other is not null)
        {
            var loser = other.Phase == Phase.Established ? c
                : (_localId > open!.BgpIdentifier) == c.Outbound ? other : c;
            Notice?.Invoke($"connection collision: closing the {(loser.Outbound ? "outbound" : "inbound")} connection");
            SendNotification(loser, new BgpError(BgpErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution));
            Drop(loser, "connection collision", scheduleRetry: false);
            if (loser == c)
            {
                return;
            }
        }

        c.Phase = Phase.OpenConfirm;
        c.Hold = negotiated.HoldTime;
        c.Keepalive = negotiated.KeepaliveTime;
        var now = _time.GetTimestamp();
        c.HoldDeadline = c.Hold == TimeSpan.Zero ? long.MaxValue : Deadline(now, c.Hold);
        SendKeepalive(c);
        c.KeepaliveDeadline = c.Keepalive == TimeSpan.Zero ? long.MaxValue : Deadline(now, c.Keepalive);
    }

    private bool TryAccept(BgpOpenMessage open, out NegotiatedSession negotiated, out BgpError error, out string why)
    {
        negotiated = null!;
        error = default;
        why = "";
        if (open.AutonomousSystem != _options.PeerAsn)
        {
            error = BgpError.Open(OpenMessageSubcode.BadPeerAs);
            why = $"peer AS {open.AutonomousSystem} is not the configured {_options.PeerAsn}";
            return false;
        }
        if (open.HoldTimeSeconds is 1 or 2)
        {
            error = BgpError.Open(OpenMessageSubcode.UnacceptableHoldTime);
            why = $"peer proposed hold time {open.HoldTimeSeconds} s";
            return false;
        }
        if (open.BgpIdentifier == 0 || (!_options.IsExternal && open.BgpIdentifier == _localId))
        {
            error = BgpError.Open(OpenMessageSubcode.BadBgpIdentifier);
            why = $"peer BGP identifier {BgpOpenMessage.Identifier(open.BgpIdentifier)} is not acceptable";
            return false;
        }
        // RFC 4760: a peer that sends no multiprotocol capability speaks IPv4 unicast only.
        IReadOnlyList<AfiSafi> theirs = open.Capabilities.Multiprotocol.Count == 0 ? [AfiSafi.IPv4Unicast] : open.Capabilities.Multiprotocol;
        var families = _options.AddressFamilies.Where(theirs.Contains).ToArray();
        if (families.Length == 0)
        {
            var ours = new byte[_options.AddressFamilies.Count * 6];
            for (var i = 0; i < _options.AddressFamilies.Count; i++)
            {
                var f = _options.AddressFamilies[i];
                ours[i * 6] = BgpCapabilities.MultiprotocolCode;
                ours[i * 6 + 1] = 4;
                ours[i * 6 + 2] = (byte)(f.Afi >> 8);
                ours[i * 6 + 3] = (byte)f.Afi;
                ours[i * 6 + 5] = f.Safi;
            }
            error = BgpError.Open(OpenMessageSubcode.UnsupportedCapability, ours);
            why = "no address family in common with the peer";
            return false;
        }
        var holdSeconds = Math.Min((int)_options.HoldTime.TotalSeconds, open.HoldTimeSeconds);
        var hold = TimeSpan.FromSeconds(holdSeconds);
        var keepalive = hold == TimeSpan.Zero ? TimeSpan.Zero
            : _options.KeepaliveTime is { } k && k > TimeSpan.Zero && k < hold / 3 ? k : hold / 3;
        var fourOctet = open.Capabilities.FourOctetAs is not null;
        negotiated = new NegotiatedSession(hold, keepalive, fourOctet, families, open.Capabilities.RouteRefresh,
            open.Capabilities.GracefulRestart, open, _options.IsExternal);
        return true;
    }

    private void OnKeepalive(Connection c)
    {
        _counters.KeepalivesReceived++;
        switch (c.Phase)
        {
            case Phase.OpenSent:
                Fail(c, FsmError(c));
                return;
            case Phase.OpenConfirm:
                ResetHold(c);
                Establish(c);
                return;
            default:
                ResetHold(c);
                return;
        }
    }

    private void Establish(Connection c)
    {
        // The other connection (if any) is still OpenSent: it can only end in a collision we would resolve against
        // it, so it goes now.
        foreach (var other in _connections.Where(o => o != c).ToList())
        {
            if (other.Phase != Phase.Connecting)
            {
                SendNotification(other, new BgpError(BgpErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution));
            }
            Drop(other, "the other connection is established", scheduleRetry: false);
        }
        c.Phase = Phase.Established;
        var n = c.Negotiated!;
        Negotiated = n;
        _everEstablished = true;
        _establishedAt = _time.GetTimestamp();
        _counters.EstablishedTransitions++;
        _peerEndOfRib.Clear();
        CurrentRetryDelay = null;
        var local = c.Local?.Address is { } a && a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : c.Local?.Address;
        var v4 = _options.NextHopIPv4 ?? (local?.AddressFamily == AddressFamily.InterNetwork ? local : null);
        var v6 = _options.NextHopIPv6 ?? (local?.AddressFamily == AddressFamily.InterNetworkV6 && !local.IsIPv6LinkLocal ? local : null);
        Rib.Begin(new UpdateEncodingContext(n.FourOctetAs, n.External, _options.LocalAsn), n.Families, v4, v6, _options.NextHopIPv6LinkLocal);
        LastError = null;
        Notice?.Invoke($"established: {n.PeerOpen}, hold {n.HoldTime.TotalSeconds:0} s, families {string.Join(", ", n.Families)}");
    }

    private void OnUpdate(Connection c, ReadOnlySpan<byte> message)
    {
        _counters.UpdatesReceived++;
        if (c.Phase != Phase.Established)
        {
            Fail(c, FsmError(c));
            return;
        }
        var n = c.Negotiated!;
        var context = new UpdateParseContext(n.FourOctetAs, n.External,
            n.FourOctetAs ? _options.PeerAsn : n.PeerOpen.MyAutonomousSystem);
        if (!BgpUpdateParser.TryParse(message, context, out var update, out var error))
        {
            Fail(c, error, "malformed UPDATE from the peer");
            return;
        }
        ResetHold(c);
        if (update.IsEndOfRib(out var family))
        {
            _peerEndOfRib.Add(family);
            return;
        }
        _counters.PrefixesReceived += update.NlriCount + update.MpReachCount;
        _counters.WithdrawalsReceived += update.WithdrawnCount + update.MpUnreachCount;
    }

    private void OnRouteRefresh(Connection c, ReadOnlySpan<byte> message)
    {
        _counters.RouteRefreshesReceived++;
        if (c.Phase != Phase.Established)
        {
            Fail(c, FsmError(c));
            return;
        }
        ResetHold(c);
        var (family, subtype) = BgpRouteRefresh.Read(message);
        // RFC 2918: ignore families not negotiated; subtypes 1/2 are RFC 7313 markers we did not ask for.
        if (subtype == 0 && c.Negotiated!.Families.Contains(family))
        {
            Rib.Refresh(family);
        }
    }

    private void ResetHold(Connection c)
    {
        if (c.Hold != TimeSpan.Zero)
        {
            c.HoldDeadline = Deadline(_time.GetTimestamp(), c.Hold);
            c.GraceGiven = false;
        }
    }

    private void Pump()
    {
        // Runs after every received message: no LINQ here, the receive path allocates nothing.
        Connection? c = null;
        foreach (var x in _connections)
        {
            if (x.Phase == Phase.Established)
            {
                c = x;
            }
        }
        if (c is null || !Rib.HasWork)
        {
            return;
        }
        var sent = false;
        while (_output.SendRoom(c.Id) >= BgpHeader.MaxMessageLength && Rib.TryWriteNext(_buffer, out var n))
        {
            Send(c, _buffer.AsSpan(0, n));
            _counters.UpdatesSent++;
            sent = true;
        }
        if (sent && c.Keepalive != TimeSpan.Zero)
        {
            // An UPDATE restarts the keepalive interval (RFC 4271 section 4.4).
            c.KeepaliveDeadline = Deadline(_time.GetTimestamp(), c.Keepalive);
        }
    }

    private void SendKeepalive(Connection c)
    {
        BgpKeepalive.TryWrite(_buffer, out var n);
        Send(c, _buffer.AsSpan(0, n));
        _counters.KeepalivesSent++;
    }

    private void SendNotification(Connection c, in BgpError error)
    {
        if (BgpNotification.TryWrite(_buffer, error, out var n))
        {
            Send(c, _buffer.AsSpan(0, n));
            _counters.NotificationsSent++;
            LastNotificationSent = error;
        }
    }

    private void Send(Connection c, ReadOnlySpan<byte> message) => _output.Send(c.Id, message);

    /// <summary>A protocol error on <paramref name="c"/>: NOTIFICATION, close, and a retry after the backoff.</summary>
    private void Fail(Connection c, in BgpError error, string? why = null)
    {
        SendNotification(c, error);
        LastError = why is null ? $"sent NOTIFICATION {error}" : $"{why} (sent NOTIFICATION {error})";
        Notice?.Invoke($"sending NOTIFICATION {error}");
        Drop(c, "protocol error", scheduleRetry: true);
    }

    private void Drop(Connection c, string reason, bool scheduleRetry)
    {
        if (!_connections.Remove(c))
        {
            return;
        }
        _output.Close(c.Id);
        if (c.Phase == Phase.Established)
        {
            Negotiated = null;
            Rib.End();
            var lasted = _time.GetElapsedTime(_establishedAt);
            // A session that stayed up for a while earns a fresh backoff; one that flaps keeps backing off.
            if (lasted >= Max(c.Hold, TimeSpan.FromSeconds(30)))
            {
                _backoffAttempt = 0;
            }
            Notice?.Invoke($"session down: {reason}");
        }
        if (scheduleRetry && _running && _connections.Count == 0)
        {
            ScheduleRetry();
        }
    }

    private void ScheduleRetry()
    {
        var ceiling = _options.ConnectRetryTime;
        var baseDelay = _options.InitialReconnectDelay * Math.Pow(2, Math.Min(_backoffAttempt, 30));
        if (baseDelay > ceiling)
        {
            baseDelay = ceiling;
        }
        // RFC 4271 section 10: jitter by a factor in [0.75, 1.0] so that peers restarted together do not stay in step.
        var delay = baseDelay * (0.75 + 0.25 * _random.NextDouble());
        _backoffAttempt++;
        CurrentRetryDelay = delay;
        _retryDeadline = Deadline(_time.GetTimestamp(), delay);
    }

    private void RejectConnection(int connectionId)
    {
        // RFC 4486: Cease / Connection Rejected, sent before (instead of) an OPEN.
        var error = new BgpError(BgpErrorCode.Cease, CeaseSubcode.ConnectionRejected);
        if (BgpNotification.TryWrite(_buffer, error, out var n))
        {
            _output.Send(connectionId, _buffer.AsSpan(0, n));
            _counters.NotificationsSent++;
        }
        _output.Close(connectionId);
    }

    private static BgpError FsmError(Connection c) => new(BgpErrorCode.FiniteStateMachine, c.Phase switch
    {
        Phase.OpenSent => FsmErrorSubcode.UnexpectedMessageInOpenSent,
        Phase.OpenConfirm => FsmErrorSubcode.UnexpectedMessageInOpenConfirm,
        Phase.Established => FsmErrorSubcode.UnexpectedMessageInEstablished,
        _ => FsmErrorSubcode.Unspecified,
    });

    private void UpdateState()
    {
        var most = Phase.Connecting;
        foreach (var c in _connections)
        {
            if (c.Phase > most)
            {
                most = c.Phase;
            }
        }
        var next = _connections.Count == 0
            ? (_running ? BgpSessionState.Active : BgpSessionState.Idle)
            : most switch
            {
                Phase.Connecting => BgpSessionState.Connect,
                Phase.OpenSent => BgpSessionState.OpenSent,
                Phase.OpenConfirm => BgpSessionState.OpenConfirm,
                _ => BgpSessionState.Established,
            };
        if (next != _state)
        {
            var previous = _state;
            _state = next;
            StateChanged?.Invoke(previous, next);
        }
    }

    private Connection? Find(int id)
    {
        foreach (var c in _connections)
        {
            if (c.Id == id)
            {
                return c;
            }
        }
        return null;
    }

    private long Deadline(long now, TimeSpan delay) =>
        now + (long)((Int128)delay.Ticks * _time.TimestampFrequency / TimeSpan.TicksPerSecond);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private enum Phase
    {
        Connecting,
        OpenSent,
        OpenConfirm,
        Established,
    }

    private sealed class Connection(int id, bool outbound)
    {
        public int Id { get; } = id;
        public bool Outbound { get; } = outbound;
        public Phase Phase { get; set; }
        public long HoldDeadline { get; set; } = long.MaxValue;
        public long KeepaliveDeadline { get; set; } = long.MaxValue;
        public TimeSpan Hold { get; set; }
        public TimeSpan Keepalive { get; set; }
        public bool GraceGiven { get; set; }
        public IPEndPoint? Local { get; set; }
        public IPEndPoint? Remote { get; set; }
        public BgpOpenMessage? PeerOpen { get; set; }
        public NegotiatedSession? Negotiated { get; set; }
    }

    private struct CounterValues
    {
        public long OpensSent, OpensReceived, UpdatesSent, UpdatesReceived, KeepalivesSent, KeepalivesReceived;
        public long NotificationsSent, NotificationsReceived, RouteRefreshesReceived, EstablishedTransitions, ConnectAttempts;
        public long PrefixesReceived, WithdrawalsReceived, LateTimerTicks;
    }
}

/// <summary>What both OPENs agreed on.</summary>
public sealed record NegotiatedSession(
    TimeSpan HoldTime,
    TimeSpan KeepaliveTime,
    bool FourOctetAs,
    IReadOnlyList<AfiSafi> Families,
    bool PeerRouteRefresh,
    GracefulRestartCapability? PeerGracefulRestart,
    BgpOpenMessage PeerOpen,
    bool External);

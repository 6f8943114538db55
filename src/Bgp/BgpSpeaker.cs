using System.Net;
using System.Net.Sockets;
using BareLb.Bgp.Transport;
using BareLb.Bgp.Wire;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Bgp;

public sealed record BgpSpeakerOptions
{
    /// <summary>
    /// Port to accept the peers' connections on (179); null: never listen, only connect out. Listening lets a router
    /// that insists on connecting reach us and makes collisions possible, which the sessions resolve (RFC 4271 6.8).
    /// Off by default: port 179 in the host network is often taken (another BGP daemon on the node).
    /// </summary>
    public int? ListenPort { get; init; }

    public IPAddress ListenAddress { get; init; } = IPAddress.IPv6Any;
}

/// <summary>
/// The node's BGP speaker: one <see cref="BgpSession"/> per peer, kept in line with a desired list of peers, and an
/// optional listener that hands inbound connections to the session of the connecting address.
/// </summary>
public sealed partial class BgpSpeaker : IAsyncDisposable
{
    private readonly BgpSpeakerOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly BgpSocketFactory? _socketFactory;
    private readonly object _gate = new();
    private readonly Dictionary<(IPAddress, int), BgpSession> _sessions = [];
    private readonly CancellationTokenSource _stop = new();
    private Socket? _listener;
    private Task? _acceptLoop;

    public BgpSpeaker(BgpSpeakerOptions? options = null, ILoggerFactory? loggers = null, TimeProvider? time = null, BgpSocketFactory? socketFactory = null)
    {
        _options = options ?? new BgpSpeakerOptions();
        _loggers = loggers ?? NullLoggerFactory.Instance;
        _logger = _loggers.CreateLogger<BgpSpeaker>();
        _time = time ?? TimeProvider.System;
        _socketFactory = socketFactory;
    }

    public IReadOnlyCollection<BgpSession> Sessions
    {
        get
        {
            lock (_gate)
            {
                return _sessions.Values.ToArray();
            }
        }
    }

    public BgpSession? Session(IPAddress peer, int port = 179)
    {
        lock (_gate)
        {
            return _sessions.GetValueOrDefault((Normalize(peer), port));
        }
    }

    public Task StartAsync(CancellationToken ct = default)
    {
        if (_options.ListenPort is { } port)
        {
            var address = _options.ListenAddress;
            Socket socket;
            try
            {
                socket = Listen(address, port);
            }
            catch (SocketException) when (address.Equals(IPAddress.IPv6Any))
            {
                // A node with IPv6 disabled: listen on IPv4 only.
                socket = Listen(IPAddress.Any, port);
            }
            _listener = socket;
            lock (_gate)
            {
                foreach (var session in _sessions.Values)
                {
                    SetListenerKey(session.Options, remove: false);
                }
            }
            _acceptLoop = Task.Run(AcceptLoopAsync, CancellationToken.None);
        }
        return Task.CompletedTask;
    }

    private Socket Listen(IPAddress address, int port)
    {
        var socket = _socketFactory?.Invoke(address.AddressFamily) ?? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = address.Equals(IPAddress.IPv6Any);
            }
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(16);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Makes the sessions match <paramref name="peers"/>: new peers start; peers no longer listed stop with Cease
    /// "peer de-configured"; peers whose options changed restart with Cease "other configuration change" and keep
    /// their routes. Returns the sessions now running.
    /// </summary>
    public async Task<IReadOnlyCollection<BgpSession>> SetPeersAsync(IEnumerable<BgpSessionOptions> peers, CancellationToken ct = default)
    {
        var wanted = new Dictionary<(IPAddress, int), BgpSessionOptions>();
        foreach (var p in peers)
        {
            p.Validate();
            if (!wanted.TryAdd((Normalize(p.PeerAddress), p.PeerPort), p))
            {
                throw new ArgumentException($"peer {p.PeerAddress} port {p.PeerPort} appears twice");
            }
        }
        var stops = new List<Task>();
        var starts = new List<BgpSession>();
        lock (_gate)
        {
            foreach (var (key, session) in _sessions.ToList())
            {
                if (!wanted.TryGetValue(key, out var options))
                {
                    _sessions.Remove(key);
                    SetListenerKey(session.Options, remove: true);
                    stops.Add(StopAndDisposeAsync(session, CeaseSubcode.PeerDeconfigured));
                }
                else if (options != session.Options)
                {
                    _sessions.Remove(key);
                    SetListenerKey(session.Options, remove: true);
                    stops.Add(StopAndDisposeAsync(session, CeaseSubcode.OtherConfigurationChange));
                    var replacement = Create(options);
                    replacement.SetRoutes(session.DesiredRoutes);
                    _sessions[key] = replacement;
                    starts.Add(replacement);
                }
            }
            foreach (var (key, options) in wanted)
            {
                if (!_sessions.ContainsKey(key))
                {
                    var session = Create(options);
                    _sessions[key] = session;
                    starts.Add(session);
                }
            }
        }
        await Task.WhenAll(stops).ConfigureAwait(false);
        foreach (var s in starts)
        {
            await s.StartAsync(ct).ConfigureAwait(false);
        }
        return Sessions;
    }

    /// <summary>
    /// Stops every session: <see cref="BgpStopMode.Restart"/> on a planned restart (routers that negotiated graceful
    /// restart keep our routes until the new process re-advertises them), <see cref="BgpStopMode.Shutdown"/> otherwise.
    /// </summary>
    public Task StopAsync(BgpStopMode mode, CancellationToken ct = default) =>
        Task.WhenAll(Sessions.Select(s => s.StopAsync(mode, ct)));

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        BgpSession[] sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Values];
            _sessions.Clear();
        }
        await Task.WhenAll(sessions.Select(s => s.DisposeAsync().AsTask())).ConfigureAwait(false);
        _stop.Dispose();
    }

    private BgpSession Create(BgpSessionOptions options)
    {
        SetListenerKey(options, remove: false);
        return new BgpSession(options, _loggers.CreateLogger<BgpSession>(), _time, _socketFactory);
    }

    private static async Task StopAndDisposeAsync(BgpSession session, byte subcode)
    {
        await session.StopAsync(BgpStopMode.Shutdown, subcode, CancellationToken.None).ConfigureAwait(false);
        await session.DisposeAsync().ConfigureAwait(false);
    }

    private void SetListenerKey(BgpSessionOptions options, bool remove)
    {
        if (_listener is null || options.Password is not { Length: > 0 })
        {
            return;
        }
        try
        {
            TcpSocketOptions.SetMd5(_listener, options.PeerAddress, remove ? "" : options.Password);
        }
        catch (SocketException e)
        {
            LogListenerKeyFailed(_logger, options.PeerAddress, e.Message);
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _listener!.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }
                LogAcceptFailed(_logger, e.Message);
                continue;
            }
            var remote = (IPEndPoint)accepted.RemoteEndPoint!;
            var peer = Normalize(remote.Address);
            BgpSession? session;
            lock (_gate)
            {
                session = _sessions.Values.FirstOrDefault(s => Normalize(s.Options.PeerAddress).Equals(peer));
            }
            if (session is null)
            {
                LogUnknownPeer(_logger, peer);
                accepted.Dispose();
                continue;
            }
            try
            {
                accepted.NoDelay = true;
                if (session.Options.EffectiveTtl is { } ttl)
                {
                    TcpSocketOptions.SetTtl(accepted, ttl);
                }
                var local = (IPEndPoint)accepted.LocalEndPoint!;
                session.AcceptInbound(new BgpConnection(new NetworkStream(accepted, ownsSocket: true),
                    new IPEndPoint(Normalize(local.Address), local.Port), new IPEndPoint(peer, remote.Port), accepted));
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                accepted.Dispose();
            }
        }
    }

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    [LoggerMessage(EventId = 20, Level = LogLevel.Warning, Message = "BGP: connection from {Peer}, which is not a configured peer; closed")]
    private static partial void LogUnknownPeer(ILogger logger, IPAddress peer);

    [LoggerMessage(EventId = 21, Level = LogLevel.Warning, Message = "BGP: accept failed: {Reason}")]
    private static partial void LogAcceptFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 22, Level = LogLevel.Warning, Message = "BGP: could not set the TCP MD5 key for {Peer} on the listener: {Reason}")]
    private static partial void LogListenerKeyFailed(ILogger logger, IPAddress peer, string reason);
}

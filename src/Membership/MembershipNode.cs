using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Threading.Channels;
using BareLb.Membership.Protocol;
using BareLb.Membership.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Membership;

/// <summary>
/// This speaker's membership in the cluster of speakers: which nodes are alive, agreed quickly by all. It runs the
/// protocol (<c>MembershipProtocol</c>) on a timer loop and a receive loop over a transport (UDP by default).
/// </summary>
/// <remarks>
/// The speaker hands it the peer list (from Node objects) and the keys (from the Secret) and may change both at any
/// time; without further updates it keeps working with the last ones. <see cref="Alive"/> is the truth at any
/// moment; <see cref="Changes"/> says when it moved. On shutdown call <see cref="LeaveAsync"/> so the others drop
/// this node at once, then dispose. If a loop fails unexpectedly <see cref="Completion"/> faults: the host should
/// stop rather than run a speaker whose liveness nobody can see.
/// </remarks>
public sealed partial class MembershipNode : IAsyncDisposable
{
    private const int ChangeBacklog = 1024;

    private readonly object _gate = new();
    private readonly MembershipProtocol _protocol;
    private readonly MembershipOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<IMembershipTransport> _transportFactory;
    private readonly Channel<MembershipChange> _changes =
        Channel.CreateBounded<MembershipChange>(new BoundedChannelOptions(ChangeBacklog) { FullMode = BoundedChannelFullMode.DropOldest });
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _leaveSent = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private IMembershipTransport? _transport;
    private Task _loops = Task.CompletedTask;
    private FrozenSet<string> _alive;
    private long _packetsSent;
    private long _bytesSent;
    private long _sendFailures;
    private int _started;
    private int _disposed;

    /// <param name="nodeName">This node's name, as in the peer lists of the others.</param>
    /// <param name="keys">HMAC keys: the first signs, all verify (rotation). At least 16 bytes each.</param>
    /// <param name="transport">Null: a UDP socket on <see cref="MembershipOptions.BindAddress"/>:<see cref="MembershipOptions.Port"/>, opened by <see cref="StartAsync"/>.</param>
    public MembershipNode(
        string nodeName,
        IEnumerable<byte[]> keys,
        MembershipOptions? options = null,
        IMembershipTransport? transport = null,
        TimeProvider? timeProvider = null,
        ILogger<MembershipNode>? logger = null)
        : this(nodeName, keys, options, transport, timeProvider, logger, new Random(RandomNumberGenerator.GetInt32(int.MaxValue)))
    {
    }

    internal MembershipNode(
        string nodeName,
        IEnumerable<byte[]> keys,
        MembershipOptions? options,
        IMembershipTransport? transport,
        TimeProvider? timeProvider,
        ILogger? logger,
        Random random)
    {
        ArgumentNullException.ThrowIfNull(keys);
        _options = options?.Clone() ?? new MembershipOptions();
        _options.Validate();
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _transportFactory = transport is null
            ? () => new UdpMembershipTransport(_options.BindAddress, _options.Port)
            : () => transport;

        // The boot orders this process after every earlier one of the same node (see ReplayWindow): the wall clock
        // is the one thing that survives a restart without storage. Low bits keep two boots in one millisecond apart.
        var boot = ((ulong)_time.GetUtcNow().ToUnixTimeMilliseconds() << 16) | (ushort)random.Next(1 << 16);
        _protocol = new MembershipProtocol(nodeName, boot, _options, keys.Select(k => (ReadOnlyMemory<byte>)k), _time.TimestampFrequency, random);
        Name = nodeName;
        _alive = FrozenSet.Create(StringComparer.Ordinal, nodeName);
    }

    public string Name { get; }

    private long _ticksProcessed;

    /// <summary>Ticks handled so far: the barrier tests on a fake clock wait on.</summary>
    internal long TicksProcessed => Interlocked.Read(ref _ticksProcessed);

    /// <summary>Names of the live speakers, this one included (Suspect members count as alive until declared dead).</summary>
    public IReadOnlySet<string> Alive => Volatile.Read(ref _alive);

    /// <summary>Every configured peer and this node, with state and version, as of now.</summary>
    public IReadOnlyList<MemberSnapshot> Members
    {
        get
        {
            lock (_gate)
            {
                return _protocol.Snapshot().ToArray();
            }
        }
    }

    /// <summary>
    /// State changes in order. Bounded: when nobody reads, the oldest are dropped, so treat it as a wake-up signal
    /// with history and <see cref="Alive"/> as the truth.
    /// </summary>
    public ChannelReader<MembershipChange> Changes => _changes.Reader;

    /// <summary>Faults if a loop stopped on an unexpected error; completes after <see cref="DisposeAsync"/>.</summary>
    public Task Completion => _completion.Task;

    public MembershipCounters Counters
    {
        get
        {
            lock (_gate)
            {
                var c = _protocol.Counters;
                return new MembershipCounters
                {
                    PacketsSent = _packetsSent,
                    BytesSent = _bytesSent,
                    SendFailures = _sendFailures,
                    PacketsReceived = c.PacketsReceived,
                    Malformed = c.Malformed,
                    AuthFailures = c.AuthFailures,
                    Replays = c.Replays,
                    UnknownSenders = c.UnknownSenders,
                    Probes = c.Probes,
                    IndirectProbes = c.IndirectProbes,
                    FailedProbes = c.FailedProbes,
                    Suspicions = c.Suspicions,
                    Refutations = c.Refutations,
                    DeathsDeclared = c.DeathsDeclared,
                    LateTicks = c.LateTicks,
                    LocalHealth = _protocol.LocalHealth,
                };
            }
        }
    }

    /// <summary>Replaces the peers to watch (this node's own name in the list is ignored).</summary>
    public void SetPeers(IEnumerable<Peer> peers)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var list = peers.ToArray();
        lock (_gate)
        {
            _protocol.SetPeers(list, _time.GetTimestamp());
            Publish();
        }
    }

    /// <summary>Replaces the keys: the first signs, all verify.</summary>
    public void SetKeys(IEnumerable<byte[]> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        var list = keys.Select(k => (ReadOnlyMemory<byte>)k.ToArray()).ToArray();
        lock (_gate)
        {
            _protocol.SetKeys(list);
        }
    }

    /// <summary>Opens the transport and starts the loops; returns once both run.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("already started");
        }
        _transport = _transportFactory();
        Log.Started(_logger, Name, _options.Port, _protocol.Boot);
        // Armed here, not inside the loop task, so the first tick is due one interval after StartAsync returns.
        var timer = new PeriodicTimer(_options.TickInterval, _time);
        var transport = _transport;
        _loops = Task.WhenAll(
            Task.Run(() => GuardAsync(() => TickLoopAsync(timer, _stopping.Token)), CancellationToken.None),
            Task.Run(() => GuardAsync(() => ReceiveLoopAsync(transport, _stopping.Token)), CancellationToken.None));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Tells every peer this node is leaving (<see cref="MembershipOptions.LeaveRepeats"/> times, spaced by
    /// <see cref="MembershipOptions.LeaveSpacing"/>) and stops the loops. The others mark it Left as soon as one
    /// goodbye arrives, so its addresses move without waiting for a timeout.
    /// </summary>
    public async Task LeaveAsync(CancellationToken ct)
    {
        if (Volatile.Read(ref _started) == 0)
        {
            return;
        }
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_gate)
        {
            _protocol.Leave(_time.GetTimestamp());
            Flush();
            Publish();
            Volatile.Write(ref _alive, _protocol.AliveNames().ToFrozenSet(StringComparer.Ordinal));
        }
        Log.Leaving(_logger, Name);
        await _leaveSent.Task.WaitAsync(ct).ConfigureAwait(false);
        await StopLoopsAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await StopLoopsAsync().ConfigureAwait(false);
        if (_transport is not null)
        {
            await _transport.DisposeAsync().ConfigureAwait(false);
        }
        lock (_gate)
        {
            _protocol.Dispose();
        }
        _changes.Writer.TryComplete();
        _completion.TrySetResult();
        _stopping.Dispose();
    }

    private async Task StopLoopsAsync()
    {
        try
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        // The loops never throw (GuardAsync reports through Completion).
        await _loops.ConfigureAwait(false);
    }

    /// <summary>A loop that fails stops the other one and faults <see cref="Completion"/>.</summary>
    private async Task GuardAsync(Func<Task> loop)
    {
        try
        {
            await loop().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Log.LoopFailed(_logger, e, Name);
            _completion.TrySetException(e);
            try
            {
                await _stopping.CancelAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private async Task TickLoopAsync(PeriodicTimer timer, CancellationToken ct)
    {
        using var _ = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                lock (_gate)
                {
                    // The protocol compares consecutive tick times itself: a late tick is a signal (this process
                    // was not running), handled there, not noise to smooth over here.
                    _protocol.Tick(_time.GetTimestamp());
                    Flush();
                    Publish();
                    if (_protocol.LeaveComplete)
                    {
                        _leaveSent.TrySetResult();
                    }
                    Interlocked.Increment(ref _ticksProcessed);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private async Task ReceiveLoopAsync(IMembershipTransport transport, CancellationToken ct)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var length = await transport.ReceiveAsync(buffer, ct).ConfigureAwait(false);
                lock (_gate)
                {
                    _protocol.Receive(buffer.AsSpan(0, length), _time.GetTimestamp());
                    Flush();
                    Publish();
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        catch (Exception e) when (ct.IsCancellationRequested && e is ObjectDisposedException or System.Net.Sockets.SocketException)
        {
        }
    }

    /// <summary>Sends what the protocol queued. Called under the lock; UDP sends do not block.</summary>
    private void Flush()
    {
        var outbox = _protocol.Outbox;
        if (_transport is null)
        {
            outbox.Clear();
            return;
        }
        for (var i = 0; i < outbox.Count; i++)
        {
            var datagram = outbox.DatagramOf(i);
            if (_transport.TrySend(datagram, outbox.DestinationOf(i)))
            {
                _packetsSent++;
                _bytesSent += datagram.Length;
            }
            else
            {
                _sendFailures++;
            }
        }
        outbox.Clear();
    }

    /// <summary>Publishes state changes and new snapshots. Called under the lock.</summary>
    private void Publish()
    {
        var changes = _protocol.Changes;
        if (changes.Count == 0)
        {
            return;
        }
        // Alive first: whoever hears of a change (a reader of Changes, on another thread, at once) reads Alive next.
        // Published the other way round, a speaker could plan with a member it was just told is dead, and with no
        // further change it would never take that member's addresses over.
        if (changes.Any(c => c.AliveChanged))
        {
            Volatile.Write(ref _alive, _protocol.AliveNames().ToFrozenSet(StringComparer.Ordinal));
        }
        foreach (var change in changes)
        {
            LogChange(change);
            _changes.Writer.TryWrite(change);
        }
        changes.Clear();
    }

    private void LogChange(MembershipChange change)
    {
        if (change.Current == MemberState.Suspect)
        {
            Log.Suspected(_logger, change.Member, change.Incarnation);
        }
        else if (change.Previous == MemberState.Suspect && change.Current == MemberState.Alive)
        {
            Log.Refuted(_logger, change.Member, change.Incarnation);
        }
        else
        {
            Log.StateChanged(_logger, change.Member, change.Previous, change.Current, change.Incarnation);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Membership of {Node} started on port {Port}, boot {Boot}")]
        public static partial void Started(ILogger logger, string node, int port, ulong boot);

        [LoggerMessage(2, LogLevel.Information, "Member {Member}: {Previous} -> {Current} (incarnation {Incarnation})")]
        public static partial void StateChanged(ILogger logger, string member, MemberState previous, MemberState current, uint incarnation);

        [LoggerMessage(3, LogLevel.Debug, "Member {Member} is suspect (incarnation {Incarnation})")]
        public static partial void Suspected(ILogger logger, string member, uint incarnation);

        [LoggerMessage(4, LogLevel.Debug, "Member {Member} refuted a suspicion (incarnation {Incarnation})")]
        public static partial void Refuted(ILogger logger, string member, uint incarnation);

        [LoggerMessage(5, LogLevel.Information, "Membership of {Node} leaving")]
        public static partial void Leaving(ILogger logger, string node);

        [LoggerMessage(6, LogLevel.Critical, "Membership loop of {Node} failed; this node can no longer see or be seen by its peers")]
        public static partial void LoopFailed(ILogger logger, Exception exception, string node);
    }
}

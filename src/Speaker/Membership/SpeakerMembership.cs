using System.Net;
using BareLb.Membership;
using BareLb.Membership.Transport;
using BareLb.Speaker.Planning;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker.Membership;

/// <summary>
/// This speaker's seat in the speakers' membership: started once the shared key is known, fed with the peers from
/// the Node objects (InternalIP at the membership port), and reporting which speakers are alive. Until it has had a
/// chance to hear from its peers (<see cref="SettleTime"/>), it reports nobody alive, so that a speaker that has just
/// started never claims every address for itself.
/// </summary>
/// <param name="transport">Null: UDP on the options' address and port, opened when the key arrives.</param>
public sealed partial class SpeakerMembership(
    string nodeName,
    MembershipOptions options,
    TimeProvider time,
    ILoggerFactory loggerFactory,
    IMembershipTransport? transport = null) : IAsyncDisposable
{
    private static readonly IReadOnlySet<string> Nobody = new HashSet<string>();

    private readonly ILogger _logger = loggerFactory.CreateLogger<SpeakerMembership>();
    private readonly object _gate = new();
    private MembershipNode? _node;
    private long _startedAt;
    private IReadOnlyList<Peer> _peers = [];
    private byte[]? _key;
    // The keys the node has now, the signing one first.
    private byte[][] _keys = [];
    private int _rotation;
    // Once every peer has been heard from (or the settle time is over) the view stays trusted: a peer leaving or dying
    // within the settle time is news, not a reason to report nobody alive again.
    private volatile bool _settled;

    /// <summary>How long after start to wait for peers before trusting the alive set: a few probe rounds.</summary>
    public TimeSpan SettleTime { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Each step of a key rotation. Speakers see a changed Secret at different moments, so a new key is first only
    /// accepted, one step later used to sign, and one more step later the old key is dropped: as long as every speaker
    /// sees the Secret within one step of the first, no packet is ever refused and nobody is taken for dead.
    /// </summary>
    public TimeSpan KeyRotationStep { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Raised on any change of the alive set (and when the settle time is over).</summary>
    public event Action? Changed;

    /// <summary>Completes with the membership loops; faults if they fail (the speaker must then stop).</summary>
    public Task Completion => _node?.Completion ?? Task.Delay(Timeout.Infinite);

    public bool Started => _node is not null;

    public IReadOnlySet<string> Alive
    {
        get
        {
            var node = _node;
            if (node is null || !Settled(node))
            {
                return Nobody;
            }
            return node.Alive;
        }
    }

    public MembershipCounters? Counters => _node?.Counters;

    /// <summary>Peers from the Node objects: every other node with an InternalIP.</summary>
    public void SetNodes(IEnumerable<NodeInfo> nodes)
    {
        var peers = nodes
            .Where(n => n.Name != nodeName && n.InternalAddress is not null)
            .Select(n => new Peer(n.Name, new IPEndPoint(n.InternalAddress!, options.Port)))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToList();
        lock (_gate)
        {
            if (peers.SequenceEqual(_peers))
            {
                return;
            }
            _peers = peers;
            _node?.SetPeers(peers);
        }
    }

    /// <summary>The shared key from the Secret; the first call starts the membership, a different key rotates to it.</summary>
    public async Task SetKeyAsync(byte[] key, CancellationToken ct)
    {
        MembershipNode? start = null;
        lock (_gate)
        {
            if (_key is not null && _key.AsSpan().SequenceEqual(key))
            {
                return;
            }
            _key = [.. key];
            if (_node is not null)
            {
                // Accept the new key at once, keep signing with the current one for now.
                var rotation = ++_rotation;
                _keys = [_keys[0], _key, .. _keys.Skip(1).Where(k => !k.AsSpan().SequenceEqual(key))];
                _node.SetKeys(_keys);
                LogKeyRotating(KeyRotationStep);
                _ = RotateAsync(rotation, _key, ct);
                return;
            }
            _keys = [_key];
            _node = new MembershipNode(nodeName, _keys, options, transport, time, loggerFactory.CreateLogger<MembershipNode>());
            _node.SetPeers(_peers);
            _startedAt = time.GetTimestamp();
            start = _node;
        }
        await start.StartAsync(ct).ConfigureAwait(false);
        LogStarted(options.Port, _peers.Count);
        _ = ForwardChangesAsync(start, ct);
        _ = SignalWhenSettledAsync(ct);
    }

    /// <summary>The later steps of a rotation; a newer rotation supersedes it.</summary>
    private async Task RotateAsync(int rotation, byte[] key, CancellationToken ct)
    {
        try
        {
            await Task.Delay(KeyRotationStep, time, ct).ConfigureAwait(false);
            lock (_gate)
            {
                if (rotation != _rotation)
                {
                    return;
                }
                _keys = [key, .. _keys.Where(k => !k.AsSpan().SequenceEqual(key))];
                _node!.SetKeys(_keys);
            }
            await Task.Delay(KeyRotationStep, time, ct).ConfigureAwait(false);
            lock (_gate)
            {
                if (rotation != _rotation)
                {
                    return;
                }
                _keys = [key];
                _node!.SetKeys(_keys);
            }
            LogKeyRotated();
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Tells the peers this speaker is leaving, so its addresses move at once rather than after a timeout.</summary>
    public async Task LeaveAsync(CancellationToken ct)
    {
        if (_node is { } node)
        {
            await node.LeaveAsync(ct).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_node is { } node)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }
    }

    private bool Settled(MembershipNode node)
    {
        if (!_settled && (time.GetElapsedTime(_startedAt) >= SettleTime || AllPeersHeardFrom(node)))
        {
            _settled = true;
        }
        return _settled;
    }

    // With no peer known yet there is nobody to have heard from: only the settle time can make that view trusted.
    private bool AllPeersHeardFrom(MembershipNode node)
    {
        var alive = node.Alive;
        var peers = Volatile.Read(ref _peers);
        return peers.Count > 0 && peers.All(p => alive.Contains(p.Name));
    }

    private async Task ForwardChangesAsync(MembershipNode node, CancellationToken ct)
    {
        try
        {
            await foreach (var change in node.Changes.ReadAllAsync(ct).ConfigureAwait(false))
            {
                LogMemberChanged(change.Member, change.Previous.ToString(), change.Current.ToString());
                _ = Settled(node);
                Changed?.Invoke();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SignalWhenSettledAsync(CancellationToken ct)
    {
        try
        {
            await Task.Delay(SettleTime, time, ct).ConfigureAwait(false);
            Changed?.Invoke();
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Membership started on UDP port {Port} with {Peers} peers")]
    private partial void LogStarted(int port, int peers);

    [LoggerMessage(2, LogLevel.Information, "Speaker {Member}: {Previous} -> {Current}")]
    private partial void LogMemberChanged(string member, string previous, string current);

    [LoggerMessage(3, LogLevel.Information, "Membership key changed: accepting the new key now, signing with it in {Step}, dropping the old one a step later")]
    private partial void LogKeyRotating(TimeSpan step);

    [LoggerMessage(4, LogLevel.Information, "Membership key rotated: only the new key is accepted")]
    private partial void LogKeyRotated();
}

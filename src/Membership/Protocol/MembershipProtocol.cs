using System.Text;
using BareLb.Membership.Wire;

namespace BareLb.Membership.Protocol;

/// <summary>
/// The SWIM failure detector with Lifeguard's refinements, as a pure state machine: it is driven by
/// <see cref="Tick"/> and <see cref="Receive"/> with timestamps from a <see cref="TimeProvider"/>, and leaves the
/// datagrams to send in <see cref="Outbox"/> and the state changes in <see cref="Changes"/>. No I/O, no clock of
/// its own, no threads: one caller at a time.
/// </summary>
/// <remarks>
/// <para>Per probe interval one member is probed: the one heard from least recently (a member that went silent is
/// probed next). No Ack within the direct timeout: the ping is repeated and k helpers probe it too (PingReq); a
/// third ping follows. No Ack, direct or relayed, by the probe timeout: the member becomes Suspect and this node
/// pushes the suspicion to every member at once. Members hearing of a suspicion probe the suspect immediately and,
/// when that fails too, confirm it; each distinct confirmation shortens the suspicion timeout from its maximum
/// towards its minimum (Lifeguard). A suspect that hears of it refutes by raising its incarnation, so a live member
/// reachable at all clears itself long before the timeout. Rumors about a member always ride first on packets to
/// that member, so a suspect or wrongly dead member learns of it from whoever talks to it.</para>
/// <para>Lifeguard's local health: failed probes with missing Nacks, refutations and late ticks raise a multiplier
/// that stretches this node's probe interval and timeouts; successful probes lower it. A node that is itself slow or
/// cut off so accuses others less. A late tick also shifts every pending deadline by the time lost, so a process
/// that was not scheduled never blames peers for its own stall.</para>
/// <para>Trust: every packet is authenticated and checked for replay before anything in it is used. Rumors from
/// other members are trusted as SWIM trusts them. A member that is not alive in our view (unknown, dead, left) is
/// revived only by an Ack to a nonce we just sent, never by a packet that merely claims it is alive: such a packet
/// could be a replay to a receiver that restarted and lost its replay windows.</para>
/// </remarks>
internal sealed partial class MembershipProtocol : IDisposable
{
    private const int MaxRelays = 64;
    private const int MaxVerifiers = 4;

    private readonly MembershipOptions _options;
    private readonly Random _random;
    private readonly Dictionary<string, Member> _members = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Member>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    private readonly List<Member> _memberList = [];
    private readonly List<Probe> _probes = [];
    private readonly List<Relay> _relays = [];
    private readonly GossipQueue _gossip = new();
    private readonly List<Rumor> _written = [];
    private readonly byte[] _selfNameUtf8;

    private readonly long _probeInterval;
    private readonly long _directTimeout;
    private readonly long _probeTimeout;
    private readonly long _suspicionMin;
    private readonly long _suspicionMax;
    private readonly long _tickInterval;
    private readonly long _lateTick;
    private readonly long _reconnectInterval;
    private readonly long _leaveSpacing;

    private PacketAuthenticator _authenticator;
    private ulong _sequence;
    private ulong _nextNonce;
    private long _lastTick;
    private long _nextProbeAt;
    private long _nextReconnectAt;
    private bool _started;
    private int _leavesSent;
    private long _nextLeaveAt;

    public MembershipProtocol(string selfName, ulong boot, MembershipOptions options, IEnumerable<ReadOnlyMemory<byte>> keys, long timestampFrequency, Random random)
    {
        ArgumentException.ThrowIfNullOrEmpty(selfName);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(random);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timestampFrequency);
        options.Validate();
        _selfNameUtf8 = Encoding.UTF8.GetBytes(selfName);
        if (_selfNameUtf8.Length > PacketFormat.MaxNameLength)
        {
            throw new ArgumentException($"node name longer than {PacketFormat.MaxNameLength} bytes", nameof(selfName));
        }
        SelfName = selfName;
        Boot = boot;
        _options = options;
        _random = random;
        _authenticator = new PacketAuthenticator(keys);
        _lookup = _members.GetAlternateLookup<ReadOnlySpan<char>>();
        _nextNonce = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 32);

        long Ticks(TimeSpan t) => (long)((Int128)t.Ticks * timestampFrequency / TimeSpan.TicksPerSecond);
        _probeInterval = Ticks(options.ProbeInterval);
        _directTimeout = Ticks(options.DirectProbeTimeout);
        _probeTimeout = Ticks(options.ProbeTimeout);
        _suspicionMin = Ticks(options.SuspicionTimeoutMin);
        _suspicionMax = Ticks(options.SuspicionTimeoutMax);
        _tickInterval = Ticks(options.TickInterval);
        _lateTick = Ticks(options.LateTickThreshold);
        _reconnectInterval = Ticks(options.ReconnectInterval);
        _leaveSpacing = Ticks(options.LeaveSpacing);
    }

    public string SelfName { get; }

    public ulong Boot { get; }

    public uint Incarnation { get; private set; }

    public Outbox Outbox { get; } = new();

    /// <summary>State changes since the caller last cleared the list.</summary>
    public List<MembershipChange> Changes { get; } = [];

    public ProtocolCounters Counters { get; } = new();

    /// <summary>Lifeguard's local health multiplier (0 = healthy).</summary>
    public int LocalHealth { get; private set; }

    public bool Leaving { get; private set; }

    /// <summary>Every goodbye has been sent; the caller may stop.</summary>
    public bool LeaveComplete => Leaving && _leavesSent >= _options.LeaveRepeats;

    public MemberState StateOf(string name) =>
        string.Equals(name, SelfName, StringComparison.Ordinal)
            ? (Leaving ? MemberState.Left : MemberState.Alive)
            : _members.TryGetValue(name, out var m) ? m.State : MemberState.Unknown;

    internal Member? Find(string name) => _members.GetValueOrDefault(name);

    /// <summary>Self (unless leaving) and every member currently Alive or Suspect.</summary>
    public IEnumerable<string> AliveNames()
    {
        if (!Leaving)
        {
            yield return SelfName;
        }
        foreach (var m in _memberList)
        {
            if (m.IsAlive)
            {
                yield return m.Name;
            }
        }
    }

    public IEnumerable<MemberSnapshot> Snapshot()
    {
        yield return new MemberSnapshot(SelfName, Leaving ? MemberState.Left : MemberState.Alive, Boot, Incarnation);
        foreach (var m in _memberList)
        {
            yield return new MemberSnapshot(m.Name, m.State, m.Boot, m.Incarnation);
        }
    }

    /// <summary>
    /// Replaces the peer list. New peers start Unknown and are pinged at the next tick; removed peers are forgotten
    /// (they leave the alive set without a Dead state, as the speaker asked); a changed endpoint is used from now on.
    /// </summary>
    public void SetPeers(IEnumerable<Peer> peers, long now)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var wanted = new Dictionary<string, Peer>(StringComparer.Ordinal);
        foreach (var peer in peers)
        {
            if (string.Equals(peer.Name, SelfName, StringComparison.Ordinal))
            {
                continue;
            }
            if (Encoding.UTF8.GetByteCount(peer.Name) is 0 or > PacketFormat.MaxNameLength)
            {
                throw new ArgumentException($"peer name '{peer.Name}' must be 1 to {PacketFormat.MaxNameLength} UTF-8 bytes", nameof(peers));
            }
            wanted[peer.Name] = peer;
        }

        for (var i = _memberList.Count - 1; i >= 0; i--)
        {
            var m = _memberList[i];
            if (wanted.ContainsKey(m.Name))
            {
                continue;
            }
            _memberList.RemoveAt(i);
            _members.Remove(m.Name);
            _gossip.RemoveSubject(m.Name);
            _probes.RemoveAll(p => p.Target == m);
            _relays.RemoveAll(r => r.Target == m || r.Origin == m);
            foreach (var p in _probes)
            {
                p.Helpers.Remove(m);
            }
            if (m.State != MemberState.Unknown)
            {
                Changes.Add(new MembershipChange(m.Name, m.State, MemberState.Unknown, m.Incarnation));
            }
        }

        foreach (var peer in wanted.Values)
        {
            if (_members.TryGetValue(peer.Name, out var known))
            {
                known.EndPoint = peer.EndPoint;
                continue;
            }
            var m = new Member(peer.Name, peer.EndPoint) { NextReconnectAt = now };
            _members.Add(peer.Name, m);
            _memberList.Add(m);
        }
    }

    /// <summary>Replaces the keys: the first signs, all verify.</summary>
    public void SetKeys(IEnumerable<ReadOnlyMemory<byte>> keys)
    {
        var next = new PacketAuthenticator(keys);
        _authenticator.Dispose();
        _authenticator = next;
    }

    /// <summary>Starts leaving: a Left rumor about this node goes to every peer, <see cref="MembershipOptions.LeaveRepeats"/> times.</summary>
    public void Leave(long now)
    {
        if (Leaving)
        {
            return;
        }
        Leaving = true;
        _nextLeaveAt = now;
        _probes.Clear();
        _relays.Clear();
        SendLeaves(now);
    }

    public void Tick(long now)
    {
        if (!_started)
        {
            _started = true;
            _lastTick = now;
            _nextProbeAt = now;
            _nextReconnectAt = now;
        }
        else
        {
            var gap = now - _lastTick;
            if (gap > _lateTick)
            {
                // This process did not run for a while (CPU starvation, GC, VM pause). Whatever was in flight
                // got no chance to be answered or processed, so the lost time is not counted against peers.
                Counters.LateTicks++;
                RaiseHealth(1);
                ShiftDeadlines(gap - _tickInterval);
            }
            _lastTick = now;
        }

        if (Leaving)
        {
            SendLeaves(now);
            return;
        }

        AdvanceProbes(now);
        AdvanceRelays(now);
        ExpireSuspicions(now);
        StartVerifications(now);
        if (now >= _nextProbeAt)
        {
            StartScheduledProbe(now);
            _nextProbeAt = now + _probeInterval * (1 + LocalHealth);
        }
        PingAbsentMembers(now);
    }

    public void Dispose() => _authenticator.Dispose();

    // ---- probing ------------------------------------------------------------------------------------------------

    private void StartScheduledProbe(long now)
    {
        // The member heard from least recently: silence is what a dead member produces, so it is probed first.
        Member? best = null;
        var count = _memberList.Count;
        var offset = count == 0 ? 0 : _random.Next(count);
        for (var i = 0; i < count; i++)
        {
            var m = _memberList[(i + offset) % count];
            if (!m.IsAlive || m.Probe is not null)
            {
                continue;
            }
            if (best is null || m.LastHeard < best.LastHeard)
            {
                best = m;
            }
        }
        if (best is not null)
        {
            StartProbe(best, now, reconnect: false);
        }
    }

    private void StartVerifications(long now)
    {
        foreach (var m in _memberList)
        {
            if (m.VerifyPending)
            {
                m.VerifyPending = false;
                if (m.State == MemberState.Suspect && m.Probe is null)
                {
                    StartProbe(m, now, reconnect: false);
                }
            }
        }
    }

    private void StartProbe(Member target, long now, bool reconnect)
    {
        var scale = 1 + LocalHealth;
        var probe = new Probe(target, NewNonce())
        {
            Reconnect = reconnect,
            IndirectAt = now + _directTimeout * scale,
            SecondRepingAt = now + 2 * _directTimeout * scale,
            FailAt = now + _probeTimeout * scale,
        };
        target.Probe = probe;
        _probes.Add(probe);
        Counters.Probes++;
        Send(target, new Control(MessageType.Ping, probe.Nonce));
    }

    private void AdvanceProbes(long now)
    {
        for (var i = _probes.Count - 1; i >= 0; i--)
        {
            var probe = _probes[i];
            if (now >= probe.FailAt)
            {
                _probes.RemoveAt(i);
                probe.Target.Probe = null;
                ProbeFailed(probe, now);
                continue;
            }
            if (!probe.IndirectSent && now >= probe.IndirectAt)
            {
                probe.IndirectSent = true;
                Send(probe.Target, new Control(MessageType.Ping, probe.Nonce));
                if (!probe.Reconnect)
                {
                    AskHelpers(probe);
                }
            }
            if (!probe.SecondRepingSent && now >= probe.SecondRepingAt && probe.SecondRepingAt < probe.FailAt)
            {
                probe.SecondRepingSent = true;
                Send(probe.Target, new Control(MessageType.Ping, probe.Nonce));
            }
        }
    }

    private void AskHelpers(Probe probe)
    {
        var candidates = 0;
        foreach (var m in _memberList)
        {
            if (m.State == MemberState.Alive && m != probe.Target)
            {
                candidates++;
            }
        }
        var wanted = Math.Min(_options.IndirectProbes, candidates);
        if (wanted == 0)
        {
            return;
        }
        Counters.IndirectProbes++;
        // Selection sampling (Knuth's algorithm S): each eligible member is taken with probability
        // still-needed / still-eligible, which gives every subset of the wanted size the same chance.
        var start = _random.Next(_memberList.Count);
        var remaining = candidates;
        for (var i = 0; i < _memberList.Count && probe.Helpers.Count < wanted; i++)
        {
            var m = _memberList[(i + start) % _memberList.Count];
            if (m.State != MemberState.Alive || m == probe.Target)
            {
                continue;
            }
            if (_random.Next(remaining) < wanted - probe.Helpers.Count)
            {
                probe.Helpers.Add(m);
                Send(m, new Control(MessageType.PingReq, probe.Nonce, probe.Target));
            }
            remaining--;
        }
    }

    private void ProbeFailed(Probe probe, long now)
    {
        if (probe.Reconnect)
        {
            return;
        }
        Counters.FailedProbes++;
        // Lifeguard: helpers that answered with a Nack prove our own links work, so the failure is the target's;
        // helpers that stayed silent (or no helpers at all) point at us.
        var expected = probe.Helpers.Count;
        RaiseHealth(expected == 0 ? 1 : expected - Math.Min(probe.Nacks, expected));

        var target = probe.Target;
        if (target.State == MemberState.Alive)
        {
            Counters.Suspicions++;
            BeginSuspicion(target, target.Boot, target.Incarnation, SelfName, now);
            PushRumor(RumorOf(target), includeSubject: true);
        }
        else if (target.State == MemberState.Suspect && target.Suspicion is { } s && !s.HasAccuser(SelfName))
        {
            Counters.Suspicions++;
            Confirm(target, SelfName);
            PushRumor(new Rumor(target.Name, target.NameUtf8, MemberState.Suspect, target.Boot, target.Incarnation, SelfName, _selfNameUtf8), includeSubject: true);
        }
    }

    private void ProbeSucceeded(Probe probe)
    {
        _probes.Remove(probe);
        probe.Target.Probe = null;
        if (!probe.Reconnect)
        {
            LowerHealth();
        }
    }

    private void AdvanceRelays(long now)
    {
        for (var i = _relays.Count - 1; i >= 0; i--)
        {
            var relay = _relays[i];
            if (now >= relay.NackAt)
            {
                _relays.RemoveAt(i);
                Send(relay.Origin, new Control(MessageType.Nack, relay.OriginNonce));
                continue;
            }
            if (!relay.Repinged && now >= relay.RepingAt)
            {
                relay.Repinged = true;
                Send(relay.Target, new Control(MessageType.Ping, relay.Nonce));
            }
        }
    }

    private void PingAbsentMembers(long now)
    {
        // Members not alive are pinged to notice when they come (back): each new peer once right away (joining),
        // then at most one member per probe interval and each at most once per reconnect interval, so the rate
        // stays bounded however many configured nodes run no speaker.
        var scheduled = now >= _nextReconnectAt;
        if (scheduled)
        {
            _nextReconnectAt = now + _probeInterval;
        }
        Member? due = null;
        foreach (var m in _memberList)
        {
            if (m.IsAlive || m.State == MemberState.Left || m.Probe is not null)
            {
                continue;
            }
            if (!m.Pinged)
            {
                m.Pinged = true;
                m.NextReconnectAt = now + _reconnectInterval;
                StartProbe(m, now, reconnect: true);
                continue;
            }
            if (scheduled && now >= m.NextReconnectAt && (due is null || m.NextReconnectAt < due.NextReconnectAt))
            {
                due = m;
            }
        }
        if (due is not null)
        {
            due.NextReconnectAt = now + _reconnectInterval;
            StartProbe(due, now, reconnect: true);
        }
    }

    // ---- suspicion ------------------------------------------------------------------------------------------

    private void BeginSuspicion(Member m, ulong boot, uint incarnation, string? accuser, long now)
    {
        var previous = m.State;
        m.Boot = boot;
        m.Incarnation = incarnation;
        m.State = MemberState.Suspect;
        // Lifeguard's K: the confirmations that can be expected, at most the members other than self and suspect.
        var others = 0;
        foreach (var o in _memberList)
        {
            if (o.IsAlive && o != m)
            {
                others++;
            }
        }
        var suspicion = new Suspicion(now, Math.Min(_options.SuspicionConfirmations, others));
        if (accuser is not null)
        {
            suspicion.AddAccuser(accuser);
        }
        m.Suspicion = suspicion;
        suspicion.Deadline = now + SuspicionTimeout(suspicion);
        Record(m, previous);
    }

    private bool Confirm(Member m, string accuser)
    {
        var suspicion = m.Suspicion!;
        if (!suspicion.AddAccuser(accuser))
        {
            return false;
        }
        suspicion.Deadline = suspicion.Start + SuspicionTimeout(suspicion);
        return true;
    }

    private long SuspicionTimeout(Suspicion s) =>
        SuspicionTimeoutFor(Math.Max(0, s.Accusers - 1), s.Expected, _suspicionMin, _suspicionMax);

    /// <summary>
    /// Lifeguard: max - (max - min) * log(C + 1) / log(K + 1) for C confirmations beyond the first accuser, never
    /// below min. With nobody able to confirm (two-member cluster) the timeout stays at max: one lossy link alone
    /// must not kill the only peer.
    /// </summary>
    internal static long SuspicionTimeoutFor(int confirmations, int expected, long min, long max)
    {
        if (expected < 1)
        {
            return max;
        }
        var fraction = Math.Log(confirmations + 1) / Math.Log(expected + 1);
        return Math.Max(min, max - (long)((max - min) * fraction));
    }

    private void ExpireSuspicions(long now)
    {
        foreach (var m in _memberList)
        {
            if (m.State == MemberState.Suspect && m.Suspicion is { } s && now >= s.Deadline)
            {
                Counters.DeathsDeclared++;
                SetState(m, MemberState.Dead, m.Boot, m.Incarnation);
                PushRumor(RumorOf(m), includeSubject: true);
            }
        }
    }

    // ---- local health ----------------------------------------------------------------------------------------

    private void RaiseHealth(int delta) => LocalHealth = Math.Min(_options.MaxLocalHealth, LocalHealth + delta);

    private void LowerHealth() => LocalHealth = Math.Max(0, LocalHealth - 1);

    private void ShiftDeadlines(long delta)
    {
        foreach (var p in _probes)
        {
            p.IndirectAt += delta;
            p.SecondRepingAt += delta;
            p.FailAt += delta;
        }
        foreach (var r in _relays)
        {
            r.RepingAt += delta;
            r.NackAt += delta;
        }
        foreach (var m in _memberList)
        {
            if (m.Suspicion is { } s)
            {
                s.Start += delta;
                s.Deadline += delta;
            }
        }
        _nextProbeAt += delta;
    }

    // ---- state ------------------------------------------------------------------------------------------------

    private void SetState(Member m, MemberState state, ulong boot, uint incarnation)
    {
        var previous = m.State;
        m.State = state;
        m.Boot = boot;
        m.Incarnation = incarnation;
        if (state != MemberState.Suspect)
        {
            m.Suspicion = null;
        }
        if (!m.IsAlive && m.Probe is { Reconnect: false } probe)
        {
            _probes.Remove(probe);
            m.Probe = null;
        }
        if (!m.IsAlive)
        {
            m.NextReconnectAt = _lastTick + _reconnectInterval;
        }
        Record(m, previous);
    }

    private void Record(Member m, MemberState previous)
    {
        if (previous != m.State)
        {
            Changes.Add(new MembershipChange(m.Name, previous, m.State, m.Incarnation));
        }
    }

    private Rumor RumorOf(Member m)
    {
        string? accuser = null;
        var accuserUtf8 = Array.Empty<byte>();
        if (m.State == MemberState.Suspect)
        {
            accuser = m.Suspicion?.FirstAccuser ?? SelfName;
            accuserUtf8 = string.Equals(accuser, SelfName, StringComparison.Ordinal)
                ? _selfNameUtf8
                : _members.TryGetValue(accuser, out var a) ? a.NameUtf8 : Encoding.UTF8.GetBytes(accuser);
        }
        return new Rumor(m.Name, m.NameUtf8, m.State, m.Boot, m.Incarnation, accuser, accuserUtf8);
    }

    private Rumor SelfRumor() =>
        new(SelfName, _selfNameUtf8, Leaving ? MemberState.Left : MemberState.Alive, Boot, Incarnation, null, []);

    private ulong NewNonce() => _nextNonce++;

    private int RetransmitLimit()
    {
        var alive = 1;
        foreach (var m in _memberList)
        {
            if (m.IsAlive)
            {
                alive++;
            }
        }
        return _options.RetransmitMultiplier * (int)Math.Ceiling(Math.Log2(alive + 1));
    }
}

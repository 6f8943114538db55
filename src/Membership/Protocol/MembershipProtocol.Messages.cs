using System.Text;
using BareLb.Membership.Wire;

namespace BareLb.Membership.Protocol;

internal sealed partial class MembershipProtocol
{
    /// <summary>
    /// Handles one datagram. Order matters: parse, authenticate, then replay-check, so that neither garbage nor
    /// forgeries can move a replay window; then rumors before Pings/Acks, so that a refutation triggered by this
    /// packet is already in the incarnation of the Ack we answer with.
    /// </summary>
    public void Receive(ReadOnlySpan<byte> datagram, long now)
    {
        Counters.PacketsReceived++;
        if (PacketReader.TryOpen(datagram, out var reader) != PacketError.Ok)
        {
            Counters.Malformed++;
            return;
        }
        if (!_authenticator.Verify(reader.KeyHint, reader.Signed, _selfNameUtf8, reader.Tag))
        {
            Counters.AuthFailures++;
            return;
        }
        var sender = Lookup(reader.SenderName);
        if (sender is null)
        {
            Counters.UnknownSenders++;
            return;
        }
        if (!sender.Replay.TryAccept(reader.Boot, reader.Sequence))
        {
            Counters.Replays++;
            return;
        }
        if (Leaving)
        {
            return;
        }
        sender.LastHeard = now;

        if (sender.IsAlive)
        {
            if (sender.CompareVersion(reader.Boot, reader.Incarnation) > 0)
            {
                // The member speaking for itself with a newer version: a refutation (or a restart) heard first-hand.
                var suspicion = sender.Suspicion;
                SetState(sender, MemberState.Alive, reader.Boot, reader.Incarnation);
                var rumor = RumorOf(sender);
                _gossip.Add(rumor);
                if (suspicion is not null)
                {
                    ForwardToAccusers(suspicion, rumor);
                }
            }
        }

        var rumors = reader;
        while (rumors.TryReadMessage(out var message))
        {
            if (message.Type == MessageType.Rumor)
            {
                ApplyRumor(message, sender, now);
            }
        }

        if (!sender.IsAlive && sender.Probe is null && (sender.State != MemberState.Left || reader.Boot > sender.Boot))
        {
            // A member we do not count as alive is talking to us: check with a nonce of our own whether it is back.
            // After the rumors, so that our ping already carries a refutation this packet may have caused. (A member
            // that left comes back only as a new process, with a newer boot.)
            StartProbe(sender, now, reconnect: true);
        }

        while (reader.TryReadMessage(out var message))
        {
            switch (message.Type)
            {
                case MessageType.Ping:
                    Send(sender, new Control(MessageType.Ack, message.Nonce));
                    break;
                case MessageType.Ack:
                    HandleAck(sender, message.Nonce, reader.Boot, reader.Incarnation);
                    break;
                case MessageType.PingReq:
                    HandlePingReq(sender, message.Nonce, message.Name, now);
                    break;
                case MessageType.Nack:
                    HandleNack(sender, message.Nonce);
                    break;
            }
        }
    }

    private void HandleAck(Member sender, ulong nonce, ulong boot, uint incarnation)
    {
        foreach (var probe in _probes)
        {
            if (probe.Nonce != nonce)
            {
                continue;
            }
            if (probe.Target == sender)
            {
                if (!sender.IsAlive)
                {
                    Revive(sender, boot, incarnation);
                }
                ProbeSucceeded(probe);
                return;
            }
            if (probe.Helpers.Contains(sender))
            {
                ProbeSucceeded(probe);
                return;
            }
            return;
        }

        for (var i = 0; i < _relays.Count; i++)
        {
            var relay = _relays[i];
            if (relay.Nonce == nonce && relay.Target == sender)
            {
                _relays.RemoveAt(i);
                Send(relay.Origin, new Control(MessageType.Ack, relay.OriginNonce));
                return;
            }
        }
    }

    /// <summary>An Ack to our own nonce from a member we did not count alive: fresh proof that it runs.</summary>
    private void Revive(Member m, ulong boot, uint incarnation)
    {
        // A dead or departed member comes back only with a newer version; the same version means it has not yet
        // heard that it was declared dead, which our packets to it say first thing (it then refutes).
        if (m.State != MemberState.Unknown && m.CompareVersion(boot, incarnation) <= 0)
        {
            return;
        }
        SetState(m, MemberState.Alive, boot, incarnation);
        _gossip.Add(RumorOf(m));
    }

    private void HandlePingReq(Member origin, ulong originNonce, ReadOnlySpan<byte> targetName, long now)
    {
        var target = Lookup(targetName);
        if (target is null || target == origin || _relays.Count >= MaxRelays)
        {
            return;
        }
        // The origin gives up at its probe timeout; our Nack must reach it before then to count in its favour.
        var budget = _probeTimeout - _directTimeout;
        var relay = new Relay(origin, originNonce, target, NewNonce())
        {
            RepingAt = now + Math.Min(_directTimeout, budget / 2),
            NackAt = now + budget * 4 / 5,
        };
        _relays.Add(relay);
        Send(target, new Control(MessageType.Ping, relay.Nonce));
    }

    private void HandleNack(Member sender, ulong nonce)
    {
        foreach (var probe in _probes)
        {
            if (probe.Nonce == nonce && probe.Helpers.Contains(sender))
            {
                probe.Nacks++;
                return;
            }
        }
    }

    private void ApplyRumor(in MessageView message, Member sender, long now)
    {
        if (message.Name.SequenceEqual(_selfNameUtf8))
        {
            RumorAboutSelf(message);
            return;
        }
        var subject = Lookup(message.Name);
        if (subject is null)
        {
            return;
        }
        if (subject == sender && !sender.IsAlive && message.State == MemberState.Alive)
        {
            // Only an Ack to our nonce revives it (see Receive); the probe is under way.
            return;
        }

        var newer = subject.CompareVersion(message.Boot, message.Incarnation);
        switch (message.State)
        {
            case MemberState.Alive:
                if (subject.State == MemberState.Unknown || newer > 0)
                {
                    SetState(subject, MemberState.Alive, message.Boot, message.Incarnation);
                    _gossip.Add(RumorOf(subject));
                }
                break;

            case MemberState.Suspect:
                var accuser = AccuserName(message.Accuser);
                if ((subject.State is MemberState.Alive or MemberState.Unknown && newer >= 0) || newer > 0)
                {
                    BeginSuspicion(subject, message.Boot, message.Incarnation, accuser, now);
                    _gossip.Add(RumorOf(subject));
                    RequestVerification(subject, accuser);
                }
                else if (subject.State == MemberState.Suspect && newer == 0 && accuser is not null && subject.Suspicion is not null)
                {
                    if (subject.Suspicion.AddAccuser(accuser))
                    {
                        subject.Suspicion.Deadline = subject.Suspicion.Start + SuspicionTimeout(subject.Suspicion);
                        _gossip.Add(new Rumor(subject.Name, subject.NameUtf8, MemberState.Suspect, subject.Boot, subject.Incarnation, accuser, message.Accuser.ToArray()));
                    }
                }
                break;

            case MemberState.Dead:
                if ((subject.State is MemberState.Alive or MemberState.Suspect or MemberState.Unknown && newer >= 0) || newer > 0)
                {
                    SetState(subject, MemberState.Dead, message.Boot, message.Incarnation);
                    _gossip.Add(RumorOf(subject));
                }
                break;

            case MemberState.Left:
                if ((subject.State != MemberState.Left && newer >= 0) || newer > 0)
                {
                    SetState(subject, MemberState.Left, message.Boot, message.Incarnation);
                    _gossip.Add(RumorOf(subject));
                }
                break;
        }
    }

    /// <summary>
    /// Someone else suspects <paramref name="subject"/>: probe it now instead of at its turn, so that a real death
    /// collects confirmations within one probe timeout, while a live member's Ack (carrying the rumor to it, which
    /// it refutes) ends a false suspicion. In large clusters only a few members verify, to bound the burst.
    /// </summary>
    private void RequestVerification(Member subject, string? accuser)
    {
        if (string.Equals(accuser, SelfName, StringComparison.Ordinal))
        {
            return;
        }
        var others = 0;
        foreach (var m in _memberList)
        {
            if (m.IsAlive && m != subject)
            {
                others++;
            }
        }
        if (others <= MaxVerifiers || _random.Next(others) < MaxVerifiers)
        {
            subject.VerifyPending = true;
        }
    }

    private void RumorAboutSelf(in MessageView message)
    {
        if (message.State == MemberState.Alive || message.Boot != Boot || message.Incarnation < Incarnation)
        {
            return;
        }
        // SWIM refutation: we are alive, with a version newer than the rumor's.
        Incarnation = message.Incarnation + 1;
        Counters.Refutations++;
        RaiseHealth(1);
        PushRumor(SelfRumor(), includeSubject: false);
    }

    private string? AccuserName(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty)
        {
            return null;
        }
        if (utf8.SequenceEqual(_selfNameUtf8))
        {
            return SelfName;
        }
        return Lookup(utf8)?.Name;
    }

    private Member? Lookup(ReadOnlySpan<byte> utf8)
    {
        if (utf8.IsEmpty || utf8.Length > PacketFormat.MaxNameLength)
        {
            return null;
        }
        Span<char> chars = stackalloc char[PacketFormat.MaxNameLength];
        var count = Encoding.UTF8.GetChars(utf8, chars);
        return _lookup.TryGetValue(chars[..count], out var member) ? member : null;
    }

    // ---- sending ----------------------------------------------------------------------------------------------

    private readonly record struct Control(MessageType Type, ulong Nonce, Member? Target = null)
    {
        public static Control None => default;
    }

    /// <summary>
    /// Queues a rumor this node originates and sends it at once to every live member (and its subject), up to
    /// <see cref="MembershipOptions.MaxPushFanout"/>: state changes reach all nodes in one hop instead of waiting
    /// for piggybacks. Only originated rumors are pushed, so one event costs O(members) packets, not O(members²).
    /// </summary>
    private void PushRumor(Rumor rumor, bool includeSubject)
    {
        _gossip.Add(rumor);
        var targets = new List<Member>();
        foreach (var m in _memberList)
        {
            if (m.IsAlive || (includeSubject && string.Equals(m.Name, rumor.Subject, StringComparison.Ordinal)))
            {
                targets.Add(m);
            }
        }
        while (targets.Count > _options.MaxPushFanout)
        {
            targets.RemoveAt(_random.Next(targets.Count));
        }
        foreach (var m in targets)
        {
            Send(m, Control.None, rumor);
        }
    }

    /// <summary>
    /// A suspect's refutation heard first-hand goes straight to the members that accused it: when the link between
    /// the suspect and an accuser is what failed, the suspect's own push cannot reach the accuser, and waiting for
    /// piggybacks could outlast the suspicion timeout. At most K+1 packets, and only from members that talk to
    /// the suspect directly.
    /// </summary>
    private void ForwardToAccusers(Suspicion suspicion, Rumor refutation)
    {
        foreach (var name in suspicion.AccuserNames)
        {
            if (_members.TryGetValue(name, out var accuser) && accuser.IsAlive && !string.Equals(name, refutation.Subject, StringComparison.Ordinal))
            {
                Send(accuser, Control.None, refutation);
            }
        }
    }

    private void SendLeaves(long now)
    {
        if (_leavesSent >= _options.LeaveRepeats || now < _nextLeaveAt)
        {
            return;
        }
        _leavesSent++;
        _nextLeaveAt = now + _leaveSpacing;
        var goodbye = SelfRumor();
        foreach (var m in _memberList)
        {
            Send(m, Control.None, goodbye);
        }
    }

    /// <summary>
    /// One datagram to <paramref name="to"/>: the pushed rumor if any, what we believe about the receiver itself if
    /// that is bad news (so it can refute), the control message, then as many queued rumors as fit.
    /// </summary>
    private void Send(Member to, Control control, Rumor? pushed = null)
    {
        var buffer = Outbox.Reserve(_options.MaxPacketSize);
        if (!PacketWriter.TryBegin(buffer, _authenticator.SigningHint, Boot, ++_sequence, Incarnation, _selfNameUtf8, out var writer))
        {
            return;
        }
        _written.Clear();
        // A pushed rumor is not counted as a piggyback transmission: the queue still spreads it to whoever
        // missed the push.
        if (pushed is not null)
        {
            writer.TryWriteRumor(pushed.State, pushed.Boot, pushed.Incarnation, pushed.SubjectUtf8, pushed.AccuserUtf8);
        }

        var aboutReceiver = pushed is not null && string.Equals(pushed.Subject, to.Name, StringComparison.Ordinal);
        if (!aboutReceiver && to.State is MemberState.Suspect or MemberState.Dead or MemberState.Left)
        {
            aboutReceiver = true;
            var accuser = ReadOnlySpan<byte>.Empty;
            if (to.State == MemberState.Suspect)
            {
                var first = to.Suspicion?.FirstAccuser;
                accuser = first is null || string.Equals(first, SelfName, StringComparison.Ordinal)
                    ? _selfNameUtf8
                    : _members.TryGetValue(first, out var a) ? a.NameUtf8 : _selfNameUtf8;
            }
            writer.TryWriteRumor(to.State, to.Boot, to.Incarnation, to.NameUtf8, accuser);
        }

        switch (control.Type)
        {
            case MessageType.Ping:
                writer.TryWritePing(control.Nonce);
                break;
            case MessageType.Ack:
                writer.TryWriteAck(control.Nonce);
                break;
            case MessageType.Nack:
                writer.TryWriteNack(control.Nonce);
                break;
            case MessageType.PingReq:
                writer.TryWritePingReq(control.Nonce, control.Target!.NameUtf8);
                break;
        }

        _gossip.SortForSending();
        foreach (var rumor in _gossip.Rumors)
        {
            if (rumor == pushed || rumor.WireSize > writer.Remaining
                || (aboutReceiver && string.Equals(rumor.Subject, to.Name, StringComparison.Ordinal)))
            {
                continue;
            }
            if (writer.TryWriteRumor(rumor.State, rumor.Boot, rumor.Incarnation, rumor.SubjectUtf8, rumor.AccuserUtf8))
            {
                _written.Add(rumor);
            }
        }

        if (!writer.TryFinish(_authenticator, to.NameUtf8, out var written))
        {
            return;
        }
        Outbox.Commit(to.EndPoint, to.Name, written);
        var limit = RetransmitLimit();
        foreach (var rumor in _written)
        {
            _gossip.Transmitted(rumor, limit);
        }
    }
}

/// <summary>The protocol's own counters (the runner adds what only it can see, such as send failures).</summary>
internal sealed class ProtocolCounters
{
    public long PacketsReceived;
    public long Malformed;
    public long AuthFailures;
    public long Replays;
    public long UnknownSenders;
    public long Probes;
    public long IndirectProbes;
    public long FailedProbes;
    public long Suspicions;
    public long Refutations;
    public long DeathsDeclared;
    public long LateTicks;
}

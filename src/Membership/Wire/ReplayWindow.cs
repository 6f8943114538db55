namespace BareLb.Membership.Wire;

/// <summary>
/// Replay protection for one sender, after RFC 4303's anti-replay window. Every packet carries the sender's boot
/// (milliseconds since the Unix epoch when its process started, plus random low bits) and a sequence number that
/// increases by one per packet for that boot. A packet is fresh when its boot is newer than any seen from that
/// sender, or it is the current boot and its sequence number is new and within 64 of the highest seen. Packets
/// of an older boot are always replays: a restarted sender starts a newer boot, so nothing it sent before the
/// restart can be replayed to us.
/// </summary>
/// <remarks>
/// The window is only advanced for packets whose tag verified, so forged packets cannot move it. Two limits are
/// deliberate: a receiver that restarts has an empty window, so the first packet it gets of a sender's boot may be
/// a replay of one sent before that restart (the protocol therefore revives a member only on an Ack to a nonce it
/// just sent, see <c>MembershipProtocol</c>); and a sender whose wall clock stepped back across its restart is
/// refused by receivers that remember its previous boot until its clock passes that boot time.
/// </remarks>
internal struct ReplayWindow
{
    public const int Size = 64;

    private ulong _boot;
    private ulong _highest;
    private ulong _seen; // bit i: _highest - i was received
    private bool _started;

    /// <summary>True (and records it) when (boot, sequence) has not been seen and is not too old.</summary>
    public bool TryAccept(ulong boot, ulong sequence)
    {
        if (!_started || boot > _boot)
        {
            // Everything before the first packet we accept of a boot counts as seen: after a restart of ours, a
            // packet the sender sent before it cannot be replayed to us as new.
            _started = true;
            _boot = boot;
            _highest = sequence;
            _seen = ulong.MaxValue;
            return true;
        }
        if (boot < _boot)
        {
            return false;
        }
        if (sequence > _highest)
        {
            var shift = sequence - _highest;
            _seen = shift >= Size ? 1 : (_seen << (int)shift) | 1;
            _highest = sequence;
            return true;
        }
        var age = _highest - sequence;
        if (age >= Size)
        {
            return false;
        }
        var bit = 1UL << (int)age;
        if ((_seen & bit) != 0)
        {
            return false;
        }
        _seen |= bit;
        return true;
    }
}

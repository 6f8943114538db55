namespace BareLb.Membership.Protocol;

/// <summary>A rumor: what one member's state is, as of (boot, incarnation). Suspicions name their accuser.</summary>
internal sealed class Rumor(string subject, byte[] subjectUtf8, MemberState state, ulong boot, uint incarnation, string? accuser, byte[] accuserUtf8)
{
    public string Subject { get; } = subject;

    public byte[] SubjectUtf8 { get; } = subjectUtf8;

    public MemberState State { get; } = state;

    public ulong Boot { get; } = boot;

    public uint Incarnation { get; } = incarnation;

    public string? Accuser { get; } = accuser;

    public byte[] AccuserUtf8 { get; } = accuserUtf8;

    public int Transmissions { get; set; }

    public int WireSize => Wire.PacketWriter.RumorSize(SubjectUtf8.Length, AccuserUtf8.Length);
}

/// <summary>
/// Rumors waiting to be piggybacked (SWIM's dissemination component). Each is sent a bounded number of times
/// (Lifeguard/memberlist: a multiple of log2 of the cluster size), least-sent first, so the packet size and the
/// gossip per message stay bounded whatever happens. A newer rumor about a member replaces the older ones;
/// suspicions keep one rumor per accuser so that confirmations travel too.
/// </summary>
internal sealed class GossipQueue
{
    private readonly List<Rumor> _rumors = [];

    public IReadOnlyList<Rumor> Rumors => _rumors;

    public void Add(Rumor rumor)
    {
        for (var i = _rumors.Count - 1; i >= 0; i--)
        {
            var old = _rumors[i];
            if (!string.Equals(old.Subject, rumor.Subject, StringComparison.Ordinal))
            {
                continue;
            }
            var sameSuspicion = old.State == MemberState.Suspect && rumor.State == MemberState.Suspect
                && old.Boot == rumor.Boot && old.Incarnation == rumor.Incarnation
                && !string.Equals(old.Accuser, rumor.Accuser, StringComparison.Ordinal);
            if (!sameSuspicion)
            {
                _rumors.RemoveAt(i);
            }
        }
        _rumors.Add(rumor);
    }

    public void RemoveSubject(string subject) =>
        _rumors.RemoveAll(r => string.Equals(r.Subject, subject, StringComparison.Ordinal));

    /// <summary>Orders the queue least-sent first; call before filling a packet.</summary>
    public void SortForSending() =>
        _rumors.Sort(static (a, b) => a.Transmissions.CompareTo(b.Transmissions));

    /// <summary>Counts one piggyback of <paramref name="rumor"/>; drops it once sent <paramref name="limit"/> times.</summary>
    public void Transmitted(Rumor rumor, int limit)
    {
        rumor.Transmissions++;
        if (rumor.Transmissions >= limit)
        {
            _rumors.Remove(rumor);
        }
    }
}

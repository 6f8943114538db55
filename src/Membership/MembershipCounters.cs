namespace BareLb.Membership;

/// <summary>Totals since start, for metrics. Read through <see cref="MembershipNode.Counters"/>.</summary>
public readonly record struct MembershipCounters
{
    public long PacketsSent { get; init; }
    public long BytesSent { get; init; }
    public long SendFailures { get; init; }
    public long PacketsReceived { get; init; }

    /// <summary>Received datagrams that were not a well-formed packet of our version.</summary>
    public long Malformed { get; init; }

    /// <summary>Well-formed packets whose tag did not verify with any configured key.</summary>
    public long AuthFailures { get; init; }

    /// <summary>Authenticated packets already seen, or from an older boot of their sender.</summary>
    public long Replays { get; init; }

    /// <summary>Authenticated packets from a name not in the peer list.</summary>
    public long UnknownSenders { get; init; }

    public long Probes { get; init; }
    public long IndirectProbes { get; init; }
    public long FailedProbes { get; init; }

    /// <summary>Suspicions this node raised or confirmed from its own failed probes.</summary>
    public long Suspicions { get; init; }

    /// <summary>Times this node refuted a rumor that it was suspect, dead or gone.</summary>
    public long Refutations { get; init; }

    /// <summary>Members this node declared dead when their suspicion timed out.</summary>
    public long DeathsDeclared { get; init; }

    /// <summary>Ticks that came late enough to count as a stall of this process (Lifeguard's local health signal).</summary>
    public long LateTicks { get; init; }

    /// <summary>Lifeguard's local health multiplier now: 0 is healthy; probe timing is stretched by (1 + this).</summary>
    public int LocalHealth { get; init; }
}

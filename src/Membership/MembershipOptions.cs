using System.Net;

namespace BareLb.Membership;

/// <summary>
/// Timing and transport settings. The defaults are chosen for a LAN (sub-millisecond round trips) and the product
/// targets: a dead speaker is agreed dead by every survivor within about 300 ms (p99), and 10% random packet loss
/// between nodes causes no false death. docs/architecture.md ("Membership") explains each figure.
/// </summary>
public sealed class MembershipOptions
{
    /// <summary>Default UDP port, the one MetalLB's memberlist uses.</summary>
    public const int DefaultPort = 7946;

    /// <summary>Local address to bind. The default, IPv6Any, is dual-stack: it takes IPv4 and IPv6 peers.</summary>
    public IPAddress BindAddress { get; set; } = IPAddress.IPv6Any;

    public int Port { get; set; } = DefaultPort;

    /// <summary>One probe of one member starts per interval (stretched by local health).</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Wait for a direct Ack before asking helpers (and pinging again directly).</summary>
    public TimeSpan DirectProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>A probe with no Ack, direct or relayed, and no packet at all from the target by then has failed.</summary>
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromMilliseconds(80);

    /// <summary>Helpers asked to probe the target when the direct probe times out (SWIM's k).</summary>
    public int IndirectProbes { get; set; } = 3;

    /// <summary>Suspicion timeout once enough other members confirm the suspicion (Lifeguard's minimum).</summary>
    public TimeSpan SuspicionTimeoutMin { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Suspicion timeout when nobody else confirms it (Lifeguard's maximum).</summary>
    public TimeSpan SuspicionTimeoutMax { get; set; } = TimeSpan.FromMilliseconds(600);

    /// <summary>Independent confirmations that bring the suspicion timeout down to the minimum (capped by cluster size).</summary>
    public int SuspicionConfirmations { get; set; } = 3;

    /// <summary>A rumor is piggybacked this many times log2(cluster size) before it is dropped.</summary>
    public int RetransmitMultiplier { get; set; } = 4;

    /// <summary>How often the runner drives the protocol's timers; the resolution of every timeout above.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>A tick this late means this process was not running; the time lost is not charged to peers.</summary>
    public TimeSpan LateTickThreshold { get; set; } = TimeSpan.FromMilliseconds(40);

    /// <summary>Members not alive (never heard from, dead) are pinged at most this often each, to notice their return.</summary>
    public TimeSpan ReconnectInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Upper bound of Lifeguard's local health multiplier.</summary>
    public int MaxLocalHealth { get; set; } = 8;

    /// <summary>A leaving member sends its goodbye to every peer this many times.</summary>
    public int LeaveRepeats { get; set; } = 3;

    public TimeSpan LeaveSpacing { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>State changes this node originates are pushed directly to at most this many members.</summary>
    public int MaxPushFanout { get; set; } = 64;

    /// <summary>Largest datagram sent; gossip fills packets up to it. Below the usual 1500-byte MTU.</summary>
    public int MaxPacketSize { get; set; } = 1400;

    /// <summary>A copy, so that a running node is not affected by later edits of the caller's instance.</summary>
    public MembershipOptions Clone() => (MembershipOptions)MemberwiseClone();

    public void Validate()
    {
        static void Positive(TimeSpan value, string name)
        {
            if (value <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(name, value, "must be positive");
            }
        }

        ArgumentNullException.ThrowIfNull(BindAddress);
        ArgumentOutOfRangeException.ThrowIfNegative(Port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(Port, 65535);
        Positive(ProbeInterval, nameof(ProbeInterval));
        Positive(DirectProbeTimeout, nameof(DirectProbeTimeout));
        Positive(TickInterval, nameof(TickInterval));
        Positive(ReconnectInterval, nameof(ReconnectInterval));
        Positive(LeaveSpacing, nameof(LeaveSpacing));
        if (ProbeTimeout <= DirectProbeTimeout)
        {
            throw new ArgumentOutOfRangeException(nameof(ProbeTimeout), ProbeTimeout, "must be longer than DirectProbeTimeout");
        }
        if (SuspicionTimeoutMin <= TimeSpan.Zero || SuspicionTimeoutMax < SuspicionTimeoutMin)
        {
            throw new ArgumentOutOfRangeException(nameof(SuspicionTimeoutMax), SuspicionTimeoutMax, "need 0 < SuspicionTimeoutMin <= SuspicionTimeoutMax");
        }
        if (LateTickThreshold <= TickInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(LateTickThreshold), LateTickThreshold, "must be longer than TickInterval");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(IndirectProbes);
        ArgumentOutOfRangeException.ThrowIfNegative(SuspicionConfirmations);
        ArgumentOutOfRangeException.ThrowIfLessThan(RetransmitMultiplier, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(MaxLocalHealth);
        ArgumentOutOfRangeException.ThrowIfLessThan(LeaveRepeats, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPushFanout, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPacketSize, 576);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxPacketSize, 65507);
    }
}

using System.Net;
using System.Net.Sockets;
using BareLb.Bgp.Wire;

namespace BareLb.Bgp;

/// <summary>
/// One BGP peering, as MetalLB's <c>BGPPeer</c> describes it: myASN → <see cref="LocalAsn"/>, peerASN →
/// <see cref="PeerAsn"/>, peerAddress/peerPort/sourceAddress, holdTime/keepaliveTime/connectTime, routerID,
/// password, ebgpMultiHop, enableGracefulRestart.
/// </summary>
public sealed record BgpSessionOptions
{
    public required uint LocalAsn { get; init; }

    public required uint PeerAsn { get; init; }

    public required IPAddress PeerAddress { get; init; }

    public int PeerPort { get; init; } = 179;

    /// <summary>Local address to bind the TCP connection to; null lets the kernel choose.</summary>
    public IPAddress? SourceAddress { get; init; }

    /// <summary>Proposed hold time: 0 (no keepalives, no hold timer) or at least 3 s. Negotiated down to the peer's.</summary>
    public TimeSpan HoldTime { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>Null: a third of the negotiated hold time. Never more than that.</summary>
    public TimeSpan? KeepaliveTime { get; init; }

    /// <summary>
    /// MetalLB's connectTime: how long one TCP connection attempt may take, and the ceiling of the jittered
    /// reconnect backoff (which starts at <see cref="InitialReconnectDelay"/> and doubles).
    /// </summary>
    public TimeSpan ConnectRetryTime { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan InitialReconnectDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>BGP identifier; null takes <see cref="SourceAddress"/> when it is IPv4.</summary>
    public IPAddress? RouterId { get; init; }

    /// <summary>TCP MD5 signature key (RFC 2385), at most 80 octets; null for none.</summary>
    public string? Password { get; init; }

    /// <summary>eBGP peers not on a shared link: the IP TTL becomes 255 (or <see cref="Ttl"/>) instead of 1.</summary>
    public bool EbgpMultiHop { get; init; }

    /// <summary>Explicit TTL / hop limit for the session's packets; null: 1 for single-hop eBGP, 255 for multi-hop, the system default for iBGP.</summary>
    public int? Ttl { get; init; }

    public IReadOnlyList<AfiSafi> AddressFamilies { get; init; } = [AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast];

    /// <summary>Advertise the RFC 4724 capability as the restarting speaker: routers keep our routes while we restart.</summary>
    public bool GracefulRestart { get; init; }

    public TimeSpan RestartTime { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>This process restarted after a previous one had the session: set the R bit until the first session is up.</summary>
    public bool Restarted { get; init; }

    /// <summary>Next hop for IPv4 routes without their own; null: the local address of the session when it is IPv4.</summary>
    public IPAddress? NextHopIPv4 { get; init; }

    /// <summary>Global next hop for IPv6 routes without their own; null: the local address of the session when it is global IPv6.</summary>
    public IPAddress? NextHopIPv6 { get; init; }

    /// <summary>Optional link-local next hop sent after the global one (32-octet MP_REACH next hop).</summary>
    public IPAddress? NextHopIPv6LinkLocal { get; init; }

    /// <summary>Never connect out; only accept the peer's connections (through <see cref="BgpSpeaker"/>'s listener).</summary>
    public bool Passive { get; init; }

    /// <summary>Hold time while waiting for the peer's OPEN (RFC 4271 suggests 4 minutes).</summary>
    public TimeSpan OpenHoldTime { get; init; } = TimeSpan.FromMinutes(4);

    public bool IsExternal => LocalAsn != PeerAsn;

    public IPEndPoint PeerEndPoint => new(PeerAddress, PeerPort);

    /// <summary>The effective TTL (null leaves the system default).</summary>
    public int? EffectiveTtl => Ttl ?? (IsExternal ? (EbgpMultiHop ? 255 : 1) : null);

    /// <summary>Value equality, the address family list included, so that a re-read configuration compares equal.</summary>
    public bool Equals(BgpSessionOptions? other) =>
        other is not null
        && LocalAsn == other.LocalAsn && PeerAsn == other.PeerAsn && Equals(PeerAddress, other.PeerAddress) && PeerPort == other.PeerPort
        && Equals(SourceAddress, other.SourceAddress) && HoldTime == other.HoldTime && KeepaliveTime == other.KeepaliveTime
        && ConnectRetryTime == other.ConnectRetryTime && InitialReconnectDelay == other.InitialReconnectDelay
        && Equals(RouterId, other.RouterId) && Password == other.Password && EbgpMultiHop == other.EbgpMultiHop && Ttl == other.Ttl
        && AddressFamilies.SequenceEqual(other.AddressFamilies) && GracefulRestart == other.GracefulRestart
        && RestartTime == other.RestartTime && Restarted == other.Restarted && Equals(NextHopIPv4, other.NextHopIPv4)
        && Equals(NextHopIPv6, other.NextHopIPv6) && Equals(NextHopIPv6LinkLocal, other.NextHopIPv6LinkLocal)
        && Passive == other.Passive && OpenHoldTime == other.OpenHoldTime;

    public override int GetHashCode() => HashCode.Combine(LocalAsn, PeerAsn, PeerAddress, PeerPort, HoldTime);

    /// <summary>The BGP identifier as a number; throws when it cannot be determined.</summary>
    public uint Identifier()
    {
        var id = RouterId ?? (SourceAddress?.AddressFamily == AddressFamily.InterNetwork ? SourceAddress : null)
            ?? throw new ArgumentException("RouterId is required when the source address is not IPv4");
        if (id.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException("RouterId must be an IPv4 address");
        }
        var bytes = id.GetAddressBytes();
        return (uint)(bytes[0] << 24 | bytes[1] << 16 | bytes[2] << 8 | bytes[3]);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (HoldTime != TimeSpan.Zero && (HoldTime < TimeSpan.FromSeconds(3) || HoldTime > TimeSpan.FromSeconds(65535)))
        {
            throw new ArgumentException("HoldTime must be 0 or between 3 and 65535 seconds");
        }
        if (KeepaliveTime is { } k && (k < TimeSpan.Zero || (HoldTime != TimeSpan.Zero && k > HoldTime)))
        {
            throw new ArgumentException("KeepaliveTime must not exceed HoldTime");
        }
        if (PeerPort is < 1 or > 65535)
        {
            throw new ArgumentException("PeerPort must be 1-65535");
        }
        if (LocalAsn == 0 || PeerAsn == 0)
        {
            throw new ArgumentException("AS numbers must not be 0");
        }
        if (Password is { } p && System.Text.Encoding.UTF8.GetByteCount(p) > 80)
        {
            throw new ArgumentException("Password must be at most 80 octets (TCP_MD5SIG_MAXKEYLEN)");
        }
        if (ConnectRetryTime <= TimeSpan.Zero || InitialReconnectDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException("ConnectRetryTime and InitialReconnectDelay must be positive");
        }
        if (RestartTime < TimeSpan.Zero || RestartTime > TimeSpan.FromSeconds(4095))
        {
            throw new ArgumentException("RestartTime must be 0-4095 seconds");
        }
        if (AddressFamilies.Count == 0)
        {
            throw new ArgumentException("at least one address family is required");
        }
        _ = Identifier();
    }
}

/// <summary>RFC 4271 section 8.2.2 states of the session (the most advanced of its connections).</summary>
public enum BgpSessionState
{
    Idle,
    Connect,
    Active,
    OpenSent,
    OpenConfirm,
    Established,
}

/// <summary>How <see cref="BgpSession.StopAsync"/> leaves the peer.</summary>
public enum BgpStopMode
{
    /// <summary>NOTIFICATION Cease / Administrative Shutdown: the peer withdraws our routes at once.</summary>
    Shutdown,

    /// <summary>
    /// The process is about to restart: when graceful restart was negotiated the TCP connection is closed without a
    /// NOTIFICATION, so the peer keeps our routes (stale) until we are back; otherwise as <see cref="Shutdown"/>.
    /// </summary>
    Restart,
}

/// <summary>A snapshot of what a session did; all counts since the session object was created.</summary>
public sealed record BgpSessionCounters
{
    public long OpensSent { get; init; }
    public long OpensReceived { get; init; }
    public long UpdatesSent { get; init; }
    public long UpdatesReceived { get; init; }
    public long KeepalivesSent { get; init; }
    public long KeepalivesReceived { get; init; }
    public long NotificationsSent { get; init; }
    public long NotificationsReceived { get; init; }
    public long RouteRefreshesReceived { get; init; }
    public long EstablishedTransitions { get; init; }
    public long ConnectAttempts { get; init; }
    public long PrefixesReceived { get; init; }
    public long WithdrawalsReceived { get; init; }
    public long LateTimerTicks { get; init; }
    public int AdvertisedIPv4 { get; init; }
    public int AdvertisedIPv6 { get; init; }
    public int PendingChanges { get; init; }
}

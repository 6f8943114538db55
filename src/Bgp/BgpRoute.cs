using System.Net;

namespace BareLb.Bgp;

/// <summary>
/// One prefix we want a peer to have, with its attributes. ORIGIN is always IGP; AS_PATH is our AS for eBGP and
/// empty for iBGP; LOCAL_PREF goes to iBGP peers only (100 when not set).
/// </summary>
public sealed record BgpRoute(IPNetwork Prefix)
{
    /// <summary>Null: the session's next hop for the prefix's family (<see cref="BgpSessionOptions.NextHopIPv4"/>/<c>IPv6</c>, else the local TCP address).</summary>
    public IPAddress? NextHop { get; init; }

    public IReadOnlyList<BgpCommunity> Communities { get; init; } = [];

    public IReadOnlyList<BgpLargeCommunity> LargeCommunities { get; init; } = [];

    public uint? LocalPreference { get; init; }

    public bool Equals(BgpRoute? other) =>
        other is not null && Prefix.Equals(other.Prefix) && Equals(NextHop, other.NextHop)
        && Communities.SequenceEqual(other.Communities) && LargeCommunities.SequenceEqual(other.LargeCommunities)
        && LocalPreference == other.LocalPreference;

    public override int GetHashCode() => HashCode.Combine(Prefix, NextHop, Communities.Count, LargeCommunities.Count, LocalPreference);
}

using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;

namespace BareLb.Layer2;

/// <summary>
/// The addresses one interface answers for, as an immutable snapshot: the receive threads read it without locks,
/// and a change of ownership swaps in a new one, so a released address stops being answered with the next frame.
/// </summary>
public sealed class OwnedSet
{
    public static readonly OwnedSet Empty = new(FrozenSet<uint>.Empty, FrozenSet<UInt128>.Empty);

    private readonly FrozenSet<uint> _ipv4;
    private readonly FrozenSet<UInt128> _ipv6;

    private OwnedSet(FrozenSet<uint> ipv4, FrozenSet<UInt128> ipv6)
    {
        _ipv4 = ipv4;
        _ipv6 = ipv6;
    }

    public int IPv4Count => _ipv4.Count;

    public int IPv6Count => _ipv6.Count;

    public static OwnedSet Create(IEnumerable<IPAddress> addresses)
    {
        var ipv4 = new HashSet<uint>();
        var ipv6 = new HashSet<UInt128>();
        foreach (var address in addresses)
        {
            if (address.AddressFamily == AddressFamily.InterNetwork)
            {
                ipv4.Add(IpAddresses.ToUInt32(address));
            }
            else if (address.AddressFamily == AddressFamily.InterNetworkV6)
            {
                ipv6.Add(IpAddresses.ToUInt128(address));
            }
        }
        return ipv4.Count == 0 && ipv6.Count == 0 ? Empty : new OwnedSet(ipv4.ToFrozenSet(), ipv6.ToFrozenSet());
    }

    public bool Contains(uint ipv4) => _ipv4.Contains(ipv4);

    public bool Contains(UInt128 ipv6) => _ipv6.Contains(ipv6);
}

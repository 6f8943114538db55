using System.Net;
using System.Net.Sockets;

namespace BareLb.Layer2.Linux;

/// <summary>
/// Joins solicited-node groups with IPV6_JOIN_GROUP on UDP/IPv6 sockets, which makes the kernel program the NIC's
/// multicast filter and send MLD reports (PACKET_ADD_MEMBERSHIP on the packet socket would only do the former, and
/// an MLD-snooping switch would then deliver nothing). A socket holds a bounded number of memberships
/// (net.core.optmem_max), so another socket is opened when the kernel says ENOBUFS.
/// </summary>
internal sealed class Ipv6MulticastMembership : IMulticastMembership
{
    private readonly List<Socket> _sockets = [];
    private readonly Dictionary<(int, UInt128), Socket> _joined = [];
    private readonly object _gate = new();

    public void Prepare()
    {
        lock (_gate)
        {
            if (_sockets.Count == 0)
            {
                _sockets.Add(new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp));
            }
        }
    }

    public bool Join(int interfaceIndex, UInt128 group)
    {
        var option = new IPv6MulticastOption(IpAddresses.FromIPv6(group), interfaceIndex);
        lock (_gate)
        {
            if (_joined.ContainsKey((interfaceIndex, group)))
            {
                return true;
            }
            for (var i = 0; ; i++)
            {
                if (i == _sockets.Count)
                {
                    _sockets.Add(new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp));
                }
                try
                {
                    _sockets[i].SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.AddMembership, option);
                    _joined[(interfaceIndex, group)] = _sockets[i];
                    return true;
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.NoBufferSpaceAvailable && i < 1024)
                {
                    // This socket is full; try the next (or a new) one.
                }
                catch (SocketException)
                {
                    return false;
                }
            }
        }
    }

    public void Leave(int interfaceIndex, UInt128 group)
    {
        lock (_gate)
        {
            if (!_joined.Remove((interfaceIndex, group), out var socket))
            {
                return;
            }
            try
            {
                socket.SetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.DropMembership, new IPv6MulticastOption(IpAddresses.FromIPv6(group), interfaceIndex));
            }
            catch (SocketException)
            {
                // The interface is gone, and its memberships with it.
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var socket in _sockets)
            {
                socket.Dispose();
            }
            _sockets.Clear();
            _joined.Clear();
        }
    }
}

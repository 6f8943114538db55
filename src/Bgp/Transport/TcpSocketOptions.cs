using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace BareLb.Bgp.Transport;

/// <summary>The Linux socket options a BGP session needs, set with raw option numbers so their meaning is exact.</summary>
internal static class TcpSocketOptions
{
    private const int IpProtoIp = 0;
    private const int IpProtoTcp = 6;
    private const int IpProtoIpv6 = 41;
    private const int IpTos = 1;
    private const int IpTtl = 2;
    private const int Ipv6UnicastHops = 16;
    private const int Ipv6Tclass = 67;
    private const int TcpMd5Sig = 14;
    private const int TcpMd5SigMaxKeyLength = 80;
    private const int SockaddrStorageSize = 128;
    private const byte Cs6 = 0xC0;   // DSCP CS6 (network control), as routers mark their own BGP traffic

    public static void Apply(Socket socket, BgpSessionOptions options)
    {
        socket.NoDelay = true;
        var v6 = socket.AddressFamily == AddressFamily.InterNetworkV6;
        socket.SetRawSocketOption(v6 ? IpProtoIpv6 : IpProtoIp, v6 ? Ipv6Tclass : IpTos, Int(Cs6));
        if (options.EffectiveTtl is { } ttl)
        {
            SetTtl(socket, ttl);
        }
        if (options.Password is { Length: > 0 } password)
        {
            SetMd5(socket, options.PeerAddress, password);
        }
    }

    public static void SetTtl(Socket socket, int ttl)
    {
        if (socket.AddressFamily == AddressFamily.InterNetworkV6)
        {
            socket.SetRawSocketOption(IpProtoIpv6, Ipv6UnicastHops, Int(ttl));
            if (!socket.DualMode)
            {
                return;
            }
        }
        socket.SetRawSocketOption(IpProtoIp, IpTtl, Int(ttl));
    }

    /// <summary>
    /// RFC 2385 signatures for segments to and from <paramref name="peer"/>: Linux <c>TCP_MD5SIG</c> with
    /// <code>
    /// struct tcp_md5sig {
    ///     struct __kernel_sockaddr_storage tcpm_addr;   // 128 octets: family (host order), port, address
    ///     __u8  tcpm_flags;  __u8 tcpm_prefixlen;  __u16 tcpm_keylen;  int tcpm_ifindex;
    ///     __u8  tcpm_key[80];
    /// };
    /// </code>
    /// An empty key removes the peer's entry (used on listening sockets when a peer goes away).
    /// </summary>
    public static void SetMd5(Socket socket, IPAddress peer, string password)
    {
        var key = Encoding.UTF8.GetBytes(password);
        if (key.Length > TcpMd5SigMaxKeyLength)
        {
            throw new ArgumentException("TCP MD5 key longer than 80 octets");
        }
        var option = new byte[SockaddrStorageSize + 8 + TcpMd5SigMaxKeyLength];
        // A v4 peer on a dual-stack socket appears as a v4-mapped v6 address, and the kernel matches it that way.
        if (socket.AddressFamily == AddressFamily.InterNetworkV6 && peer.AddressFamily == AddressFamily.InterNetwork)
        {
            peer = peer.MapToIPv6();
        }
        if (peer.AddressFamily == AddressFamily.InterNetwork)
        {
            BitConverter.TryWriteBytes(option.AsSpan(0, 2), (ushort)2);      // AF_INET, host order
            peer.TryWriteBytes(option.AsSpan(4, 4), out _);
        }
        else
        {
            BitConverter.TryWriteBytes(option.AsSpan(0, 2), (ushort)10);     // AF_INET6, host order
            peer.TryWriteBytes(option.AsSpan(8, 16), out _);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(option.AsSpan(SockaddrStorageSize + 2), (ushort)key.Length);
        key.CopyTo(option.AsSpan(SockaddrStorageSize + 8));
        socket.SetRawSocketOption(IpProtoTcp, TcpMd5Sig, option);
    }

    private static byte[] Int(int value) => BitConverter.GetBytes(value);
}

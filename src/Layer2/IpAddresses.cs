using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BareLb.Layer2;

/// <summary>
/// Addresses as plain numbers for the packet path: IPv4 as a big-endian <see cref="uint"/> (198.51.100.1 is
/// 0xC6336401), IPv6 as a big-endian <see cref="UInt128"/>; no <see cref="IPAddress"/> objects per packet.
/// </summary>
public static class IpAddresses
{
    /// <summary>ff02::1, the all-nodes link-local group.</summary>
    public static readonly UInt128 AllNodes = new(0xFF02_0000_0000_0000UL, 1UL);

    private static readonly UInt128 SolicitedNodePrefix = new(0xFF02_0000_0000_0000UL, 0x0000_0001_FF00_0000UL);
    private static readonly UInt128 SolicitedNodeMask = new(ulong.MaxValue, 0xFFFF_FFFF_FF00_0000UL);

    public static bool IsMulticast(UInt128 address) => (byte)(address >> 120) == 0xFF;

    /// <summary>ff02::1:ffXX:XXXX with the low 24 bits of <paramref name="address"/> (RFC 4291 §2.7.1).</summary>
    public static UInt128 SolicitedNode(UInt128 address) => SolicitedNodePrefix | (address & 0xFF_FFFF);

    public static bool IsSolicitedNode(UInt128 address) => (address & SolicitedNodeMask) == SolicitedNodePrefix;

    public static UInt128 ReadIPv6(ReadOnlySpan<byte> source) => BinaryPrimitives.ReadUInt128BigEndian(source);

    public static void WriteIPv6(Span<byte> destination, UInt128 address) => BinaryPrimitives.WriteUInt128BigEndian(destination, address);

    public static UInt128 ToUInt128(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            throw new ArgumentException($"{address} is not an IPv6 address", nameof(address));
        }
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        return ReadIPv6(bytes);
    }

    public static uint ToUInt32(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetwork)
        {
            throw new ArgumentException($"{address} is not an IPv4 address", nameof(address));
        }
        Span<byte> bytes = stackalloc byte[4];
        address.TryWriteBytes(bytes, out _);
        return BinaryPrimitives.ReadUInt32BigEndian(bytes);
    }

    public static IPAddress FromIPv6(UInt128 address)
    {
        Span<byte> bytes = stackalloc byte[16];
        WriteIPv6(bytes, address);
        return new IPAddress(bytes);
    }

    public static IPAddress FromIPv4(uint address)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, address);
        return new IPAddress(bytes);
    }
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BareLb.Allocator;

// Addresses as 128-bit integers so that range arithmetic is plain integer arithmetic for both families.
public static class IpAddressMath
{
    internal static readonly UInt128 MaxIPv4 = uint.MaxValue;

    public static UInt128 ToUInt128(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        Span<byte> bytes = stackalloc byte[16];
        if (!address.TryWriteBytes(bytes, out var written))
        {
            throw new ArgumentException($"address {address} could not be converted", nameof(address));
        }

        return written switch
        {
            4 => BinaryPrimitives.ReadUInt32BigEndian(bytes),
            16 => BinaryPrimitives.ReadUInt128BigEndian(bytes),
            _ => throw new ArgumentException($"address {address} has an unexpected length of {written} bytes", nameof(address)),
        };
    }

    public static IPAddress ToAddress(IpFamily family, UInt128 value)
    {
        if (family == IpFamily.IPv4)
        {
            if (value > MaxIPv4)
            {
                throw new ArgumentOutOfRangeException(nameof(value), value, "an IPv4 address fits in 32 bits");
            }

            Span<byte> v4 = stackalloc byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(v4, (uint)value);
            return new IPAddress(v4);
        }

        Span<byte> v6 = stackalloc byte[16];
        BinaryPrimitives.WriteUInt128BigEndian(v6, value);
        return new IPAddress(v6);
    }

    public static IpFamily FamilyOf(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => IpFamily.IPv4,
            AddressFamily.InterNetworkV6 => IpFamily.IPv6,
            _ => throw new ArgumentException($"address {address} is neither IPv4 nor IPv6", nameof(address)),
        };
    }

    internal static UInt128 MaxValue(IpFamily family) => family == IpFamily.IPv4 ? MaxIPv4 : UInt128.MaxValue;

    public static int BitCount(IpFamily family) => family == IpFamily.IPv4 ? 32 : 128;

    // Some old clients and routers drop traffic to IPv4 addresses ending in .0 or .255 even outside /24 boundaries
    // (MetalLB's avoidBuggyIPs), so pools may opt out of handing those out.
    internal static bool IsBuggy(IpFamily family, UInt128 value)
    {
        if (family != IpFamily.IPv4)
        {
            return false;
        }

        var lastOctet = (byte)value;
        return lastOctet is 0 or 255;
    }

    // Number of addresses in [first, last] ending in .0 or .255; counted, never enumerated.
    internal static UInt128 CountBuggy(UInt128 first, UInt128 last)
    {
        return CountBuggyUpTo(last) - (first == 0 ? 0 : CountBuggyUpTo(first - 1));
    }

    // Addresses in [0, n] ending in .0 or .255 (n is an IPv4 value, so n + 1 cannot overflow).
    private static UInt128 CountBuggyUpTo(UInt128 n) => (n / 256) + 1 + ((n + 1) / 256);
}

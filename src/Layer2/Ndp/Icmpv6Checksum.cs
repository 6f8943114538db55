using System.Buffers.Binary;

namespace BareLb.Layer2.Ndp;

/// <summary>
/// The ICMPv6 checksum (RFC 4443 §2.3): the 16-bit one's complement of the one's complement sum of the IPv6
/// pseudo-header (RFC 8200 §8.1) and the whole ICMPv6 message, its checksum field taken as zero.
/// <code>
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Source Address (16 octets)                |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  Destination Address (16 octets)              |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Upper-Layer Packet Length                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      zero                     |  Next Header  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public static class Icmpv6Checksum
{
    public const byte NextHeaderIcmpv6 = 58;

    /// <summary>The checksum to store in a message whose checksum field holds zero.</summary>
    public static ushort Compute(UInt128 source, UInt128 destination, ReadOnlySpan<byte> message) =>
        (ushort)~Fold(Sum(source, destination, message));

    /// <summary>True when a received message (checksum field as sent) sums to all ones.</summary>
    public static bool IsValid(UInt128 source, UInt128 destination, ReadOnlySpan<byte> message) =>
        Fold(Sum(source, destination, message)) == 0xFFFF;

    private static ulong Sum(UInt128 source, UInt128 destination, ReadOnlySpan<byte> message)
    {
        ulong sum = 0;
        sum += AddressSum(source);
        sum += AddressSum(destination);
        sum += (uint)message.Length >> 16;
        sum += (uint)message.Length & 0xFFFF;
        sum += NextHeaderIcmpv6;
        var i = 0;
        // 32-bit words into a 64-bit accumulator: no carry is lost for any message an Ethernet frame can carry.
        for (; i + 4 <= message.Length; i += 4)
        {
            sum += BinaryPrimitives.ReadUInt32BigEndian(message[i..]);
        }
        if (i + 2 <= message.Length)
        {
            sum += BinaryPrimitives.ReadUInt16BigEndian(message[i..]);
            i += 2;
        }
        if (i < message.Length)
        {
            sum += (uint)message[i] << 8;
        }
        return sum;
    }

    private static ulong AddressSum(UInt128 address)
    {
        var high = (ulong)(address >> 64);
        var low = (ulong)address;
        return (high >> 32) + (high & 0xFFFF_FFFF) + (low >> 32) + (low & 0xFFFF_FFFF);
    }

    private static ushort Fold(ulong sum)
    {
        while (sum > 0xFFFF)
        {
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)sum;
    }
}

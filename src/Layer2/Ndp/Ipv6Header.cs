using System.Buffers.Binary;

namespace BareLb.Layer2.Ndp;

/// <summary>
/// The fixed IPv6 header (RFC 8200 §3). Extension headers are not followed: Neighbor Discovery messages carry none.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Traffic Class |           Flow Label                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Payload Length        |  Next Header  |   Hop Limit   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Source Address (16 octets)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                Destination Address (16 octets)                |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public readonly ref struct Ipv6Header
{
    public const int Length = 40;

    public byte NextHeader { get; init; }

    public byte HopLimit { get; init; }

    public UInt128 Source { get; init; }

    public UInt128 Destination { get; init; }

    /// <summary>The payload as the header's length field delimits it; link-layer padding after it is dropped.</summary>
    public ReadOnlySpan<byte> Payload { get; init; }

    public static FrameOutcome TryRead(ReadOnlySpan<byte> packet, out Ipv6Header header)
    {
        header = default;
        if (packet.Length < Length)
        {
            return FrameOutcome.Ipv6Truncated;
        }
        if (packet[0] >> 4 != 6)
        {
            return FrameOutcome.Ipv6Version;
        }
        var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(packet[4..]);
        if (packet.Length - Length < payloadLength)
        {
            return FrameOutcome.Ipv6Truncated;
        }
        header = new Ipv6Header
        {
            NextHeader = packet[6],
            HopLimit = packet[7],
            Source = IpAddresses.ReadIPv6(packet[8..]),
            Destination = IpAddresses.ReadIPv6(packet[24..]),
            Payload = packet.Slice(Length, payloadLength),
        };
        return FrameOutcome.Answered;
    }

    /// <summary>Writes the header for a payload of <paramref name="payloadLength"/> octets.</summary>
    public static bool TryWrite(Span<byte> destination, int payloadLength, byte nextHeader, byte hopLimit, UInt128 source, UInt128 target)
    {
        if (destination.Length < Length || (uint)payloadLength > ushort.MaxValue)
        {
            return false;
        }
        BinaryPrimitives.WriteUInt32BigEndian(destination, 0x6000_0000);
        BinaryPrimitives.WriteUInt16BigEndian(destination[4..], (ushort)payloadLength);
        destination[6] = nextHeader;
        destination[7] = hopLimit;
        IpAddresses.WriteIPv6(destination[8..], source);
        IpAddresses.WriteIPv6(destination[24..], target);
        return true;
    }
}

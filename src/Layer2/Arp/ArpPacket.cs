using System.Buffers.Binary;

namespace BareLb.Layer2.Arp;

/// <summary>
/// An ARP packet for IPv4 over Ethernet (RFC 826), the payload of an Ethernet frame with EtherType 0x0806.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Hardware type (1 = Ethernet) |  Protocol type (0x0800)      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  HLEN (6)     |   PLEN (4)    |  Operation (1 req, 2 reply)   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |              Sender hardware address (6 octets)               |
/// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                               | Sender protocol address (4)   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// |                               |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// |              Target hardware address (6 octets)               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |              Target protocol address (4 octets)               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// IPv4 addresses are kept as big-endian <see cref="uint"/> values (198.51.100.1 is 0xC6336401).
/// </summary>
public readonly ref struct ArpPacket
{
    public const int Length = 28;
    public const ushort HardwareTypeEthernet = 1;
    public const ushort OperationRequest = 1;
    public const ushort OperationReply = 2;

    public ushort Operation { get; init; }

    public MacAddress SenderHardware { get; init; }

    public uint SenderProtocol { get; init; }

    public MacAddress TargetHardware { get; init; }

    public uint TargetProtocol { get; init; }

    /// <summary>
    /// Reads an ARP payload. The result is <see cref="FrameOutcome.Answered"/> when the packet is a well-formed
    /// Ethernet/IPv4 ARP packet (of any operation), else the malformation found first.
    /// </summary>
    public static FrameOutcome TryRead(ReadOnlySpan<byte> payload, out ArpPacket packet)
    {
        packet = default;
        if (payload.Length < 8)
        {
            return FrameOutcome.ArpTruncated;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(payload) != HardwareTypeEthernet)
        {
            return FrameOutcome.ArpHardwareType;
        }
        if (BinaryPrimitives.ReadUInt16BigEndian(payload[2..]) != EthernetFrame.EtherTypeIPv4)
        {
            return FrameOutcome.ArpProtocolType;
        }
        if (payload[4] != MacAddress.Length || payload[5] != 4)
        {
            return FrameOutcome.ArpAddressLength;
        }
        var operation = BinaryPrimitives.ReadUInt16BigEndian(payload[6..]);
        if (operation is not (OperationRequest or OperationReply))
        {
            return FrameOutcome.ArpOpcode;
        }
        if (payload.Length < Length)
        {
            return FrameOutcome.ArpTruncated;
        }
        packet = new ArpPacket
        {
            Operation = operation,
            SenderHardware = MacAddress.Read(payload[8..]),
            SenderProtocol = BinaryPrimitives.ReadUInt32BigEndian(payload[14..]),
            TargetHardware = MacAddress.Read(payload[18..]),
            TargetProtocol = BinaryPrimitives.ReadUInt32BigEndian(payload[24..]),
        };
        return FrameOutcome.Answered;
    }

    public bool TryWrite(Span<byte> destination, out int written)
    {
        written = 0;
        if (destination.Length < Length)
        {
            return false;
        }
        BinaryPrimitives.WriteUInt16BigEndian(destination, HardwareTypeEthernet);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], EthernetFrame.EtherTypeIPv4);
        destination[4] = MacAddress.Length;
        destination[5] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(destination[6..], Operation);
        SenderHardware.WriteTo(destination[8..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[14..], SenderProtocol);
        TargetHardware.WriteTo(destination[18..]);
        BinaryPrimitives.WriteUInt32BigEndian(destination[24..], TargetProtocol);
        written = Length;
        return true;
    }

    /// <summary>A whole Ethernet frame carrying this packet.</summary>
    public bool TryWriteFrame(Span<byte> destination, MacAddress to, MacAddress from, out int written)
    {
        written = 0;
        if (destination.Length < EthernetFrame.HeaderLength + Length ||
            !EthernetFrame.TryWriteHeader(destination, to, from, EthernetFrame.EtherTypeArp) ||
            !TryWrite(destination[EthernetFrame.HeaderLength..], out var arp))
        {
            return false;
        }
        written = EthernetFrame.HeaderLength + arp;
        return true;
    }

    /// <summary>
    /// A gratuitous ARP announcing that <paramref name="address"/> is at <paramref name="mac"/>: a broadcast request
    /// with sender and target protocol address both the announced address (RFC 5227 §3 "ARP Announcement"). Linux
    /// neighbours treat it as gratuitous and override an existing entry even within its lock time.
    /// </summary>
    public static bool TryWriteGratuitous(Span<byte> destination, MacAddress mac, uint address, out int written) =>
        new ArpPacket
        {
            Operation = OperationRequest,
            SenderHardware = mac,
            SenderProtocol = address,
            TargetHardware = MacAddress.Zero,
            TargetProtocol = address,
        }.TryWriteFrame(destination, MacAddress.Broadcast, mac, out written);
}

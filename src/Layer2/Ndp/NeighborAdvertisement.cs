using System.Buffers.Binary;

namespace BareLb.Layer2.Ndp;

/// <summary>
/// A Neighbor Advertisement (RFC 4861 §4.4) with the Target Link-Layer Address option, written as a whole Ethernet
/// frame: IPv6 hop limit 255 (§7.1.2 makes receivers drop anything else) and the ICMPv6 checksum filled in.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type (136)|     Code (0)  |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |R|S|O|                     Reserved                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Target Address (16 octets)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Type (2)     |  Length (1)   |  Target link-layer address... |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public readonly ref struct NeighborAdvertisement
{
    public const byte IcmpType = 136;
    public const int IcmpLength = 32;
    public const int FrameLength = EthernetFrame.HeaderLength + Ipv6Header.Length + IcmpLength;
    public const uint FlagRouter = 0x8000_0000;
    public const uint FlagSolicited = 0x4000_0000;
    public const uint FlagOverride = 0x2000_0000;

    /// <summary>
    /// IPv6 source. We send from the target address itself, as Linux does when it answers for its own address:
    /// it is an address of the sending node, and §7.1.2 puts no other condition on the source.
    /// </summary>
    public UInt128 Source { get; init; }

    public UInt128 Destination { get; init; }

    public UInt128 Target { get; init; }

    public bool Solicited { get; init; }

    public bool Override { get; init; }

    public MacAddress TargetLinkLayer { get; init; }

    public bool TryWriteFrame(Span<byte> destination, MacAddress to, MacAddress from, out int written)
    {
        written = 0;
        if (destination.Length < FrameLength ||
            !EthernetFrame.TryWriteHeader(destination, to, from, EthernetFrame.EtherTypeIPv6) ||
            !Ipv6Header.TryWrite(destination[EthernetFrame.HeaderLength..], IcmpLength, Icmpv6Checksum.NextHeaderIcmpv6, 255, Source, Destination))
        {
            return false;
        }
        var message = destination.Slice(EthernetFrame.HeaderLength + Ipv6Header.Length, IcmpLength);
        message[0] = IcmpType;
        message[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(message[4..], (Solicited ? FlagSolicited : 0) | (Override ? FlagOverride : 0));
        IpAddresses.WriteIPv6(message[8..], Target);
        message[24] = NeighborSolicitation.OptionTargetLinkLayer;
        message[25] = 1;
        TargetLinkLayer.WriteTo(message[26..]);
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], Icmpv6Checksum.Compute(Source, Destination, message));
        written = FrameLength;
        return true;
    }

    /// <summary>
    /// The unsolicited advertisement sent on takeover (RFC 4861 §7.2.6): to all-nodes, Override set so that
    /// neighbours replace the old owner's link-layer address, Solicited clear.
    /// </summary>
    public static bool TryWriteUnsolicited(Span<byte> destination, MacAddress mac, UInt128 address, out int written) =>
        new NeighborAdvertisement
        {
            Source = address,
            Destination = IpAddresses.AllNodes,
            Target = address,
            Solicited = false,
            Override = true,
            TargetLinkLayer = mac,
        }.TryWriteFrame(destination, MacAddress.ForIPv6Multicast(IpAddresses.AllNodes), mac, out written);
}

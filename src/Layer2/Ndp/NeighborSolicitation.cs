using System.Buffers.Binary;

namespace BareLb.Layer2.Ndp;

/// <summary>
/// A Neighbor Solicitation (RFC 4861 §4.3), the ICMPv6 payload of an IPv6 packet, validated per §7.1.1.
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type (135)|     Code (0)  |          Checksum             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           Reserved                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Target Address (16 octets)                  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |   Options ...
/// +-+-+-+-+-+-+-+-+-+-+-+-
///
/// Option (§4.6): |  Type  | Length (units of 8 octets, never 0) | ... |
/// Source Link-Layer Address (§4.6.1), Ethernet: | 1 | 1 | MAC (6 octets) |
/// </code>
/// </summary>
public readonly ref struct NeighborSolicitation
{
    public const byte IcmpType = 135;
    public const int MessageLength = 24;
    public const byte OptionSourceLinkLayer = 1;
    public const byte OptionTargetLinkLayer = 2;

    public UInt128 Source { get; init; }

    public UInt128 Destination { get; init; }

    public UInt128 Target { get; init; }

    /// <summary>The Source Link-Layer Address option, when present.</summary>
    public MacAddress? SourceLinkLayer { get; init; }

    /// <summary>Duplicate Address Detection probe: sent from the unspecified address (RFC 4862 §5.4.2).</summary>
    public bool IsDadProbe => Source == UInt128.Zero;

    /// <summary>
    /// Reads an IPv6 packet (starting at its header) as a Neighbor Solicitation. <see cref="FrameOutcome.Answered"/>
    /// means it passed every check of RFC 4861 §7.1.1; <see cref="FrameOutcome.NotARequest"/> means it is another
    /// ICMPv6 message.
    /// </summary>
    public static FrameOutcome TryRead(ReadOnlySpan<byte> packet, out NeighborSolicitation solicitation)
    {
        solicitation = default;
        var outcome = Ipv6Header.TryRead(packet, out var ip);
        if (outcome != FrameOutcome.Answered)
        {
            return outcome;
        }
        if (ip.NextHeader != Icmpv6Checksum.NextHeaderIcmpv6)
        {
            return FrameOutcome.UnsupportedProtocol;
        }
        var message = ip.Payload;
        if (message.Length < 2)
        {
            return FrameOutcome.NdpTooShort;
        }
        if (message[0] != IcmpType)
        {
            return FrameOutcome.NotARequest;
        }
        if (IpAddresses.IsMulticast(ip.Source))
        {
            return FrameOutcome.Ipv6SourceMulticast;
        }
        if (ip.HopLimit != 255)
        {
            return FrameOutcome.NdpHopLimit;
        }
        if (message[1] != 0)
        {
            return FrameOutcome.NdpCode;
        }
        if (message.Length < MessageLength)
        {
            return FrameOutcome.NdpTooShort;
        }
        if (!Icmpv6Checksum.IsValid(ip.Source, ip.Destination, message))
        {
            return FrameOutcome.NdpChecksum;
        }
        var target = IpAddresses.ReadIPv6(message[8..]);
        if (IpAddresses.IsMulticast(target))
        {
            return FrameOutcome.NdpTargetMulticast;
        }

        MacAddress? sourceLinkLayer = null;
        var options = message[MessageLength..];
        while (!options.IsEmpty)
        {
            if (options.Length < 2)
            {
                return FrameOutcome.NdpOptionTruncated;
            }
            var length = options[1] * 8;
            if (length == 0)
            {
                return FrameOutcome.NdpOptionLengthZero;
            }
            if (length > options.Length)
            {
                return FrameOutcome.NdpOptionTruncated;
            }
            if (options[0] == OptionSourceLinkLayer)
            {
                // For Ethernet the option is exactly 8 octets (RFC 2464 §6); any other size is not an Ethernet address.
                if (length != 8)
                {
                    return FrameOutcome.NdpLinkLayerOptionLength;
                }
                sourceLinkLayer ??= MacAddress.Read(options[2..]);
            }
            options = options[length..];
        }

        if (ip.Source == UInt128.Zero)
        {
            if (!IpAddresses.IsSolicitedNode(ip.Destination))
            {
                return FrameOutcome.NdpDadDestination;
            }
            if (sourceLinkLayer is not null)
            {
                return FrameOutcome.NdpDadSourceLinkLayerOption;
            }
        }

        solicitation = new NeighborSolicitation
        {
            Source = ip.Source,
            Destination = ip.Destination,
            Target = target,
            SourceLinkLayer = sourceLinkLayer,
        };
        return FrameOutcome.Answered;
    }

    /// <summary>
    /// Writes a whole Ethernet frame with this solicitation (hop limit 255, valid checksum, the source link-layer
    /// option when <see cref="SourceLinkLayer"/> is set). Test clients and the load generator use it.
    /// </summary>
    public bool TryWriteFrame(Span<byte> destination, MacAddress to, MacAddress from, out int written)
    {
        written = 0;
        var icmpLength = MessageLength + (SourceLinkLayer is null ? 0 : 8);
        var total = EthernetFrame.HeaderLength + Ipv6Header.Length + icmpLength;
        if (destination.Length < total ||
            !EthernetFrame.TryWriteHeader(destination, to, from, EthernetFrame.EtherTypeIPv6) ||
            !Ipv6Header.TryWrite(destination[EthernetFrame.HeaderLength..], icmpLength, Icmpv6Checksum.NextHeaderIcmpv6, 255, Source, Destination))
        {
            return false;
        }
        var message = destination.Slice(EthernetFrame.HeaderLength + Ipv6Header.Length, icmpLength);
        message[0] = IcmpType;
        message[1] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], 0);
        BinaryPrimitives.WriteUInt32BigEndian(message[4..], 0);
        IpAddresses.WriteIPv6(message[8..], Target);
        if (SourceLinkLayer is { } mac)
        {
            message[24] = OptionSourceLinkLayer;
            message[25] = 1;
            mac.WriteTo(message[26..]);
        }
        BinaryPrimitives.WriteUInt16BigEndian(message[2..], Icmpv6Checksum.Compute(Source, Destination, message));
        written = total;
        return true;
    }
}

using System.Buffers.Binary;

namespace BareLb.Layer2;

/// <summary>
/// An Ethernet II header (IEEE 802.3, DIX framing). The frames handed to us by an AF_PACKET SOCK_RAW socket start
/// here and carry no FCS; a VLAN tag, if any, has already been removed by the kernel (the socket filter drops frames
/// that still carry one, see <see cref="Bpf.SocketFilters"/>).
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Destination MAC (6 octets)                    |
/// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                               |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// |                   Source MAC (6 octets)                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           EtherType           |   Payload ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public readonly ref struct EthernetFrame
{
    public const int HeaderLength = 14;
    public const ushort EtherTypeIPv4 = 0x0800;
    public const ushort EtherTypeArp = 0x0806;
    public const ushort EtherTypeIPv6 = 0x86DD;

    private EthernetFrame(ReadOnlySpan<byte> frame)
    {
        Destination = MacAddress.Read(frame);
        Source = MacAddress.Read(frame[6..]);
        EtherType = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
        Payload = frame[HeaderLength..];
    }

    public MacAddress Destination { get; }

    public MacAddress Source { get; }

    public ushort EtherType { get; }

    /// <summary>Everything after the header, including any padding up to the 60-octet minimum.</summary>
    public ReadOnlySpan<byte> Payload { get; }

    public static bool TryRead(ReadOnlySpan<byte> frame, out EthernetFrame header)
    {
        if (frame.Length < HeaderLength)
        {
            header = default;
            return false;
        }
        header = new EthernetFrame(frame);
        return true;
    }

    public static bool TryWriteHeader(Span<byte> destination, MacAddress to, MacAddress from, ushort etherType)
    {
        if (destination.Length < HeaderLength)
        {
            return false;
        }
        to.WriteTo(destination);
        from.WriteTo(destination[6..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[12..], etherType);
        return true;
    }
}

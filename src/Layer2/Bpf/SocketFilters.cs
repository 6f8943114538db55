namespace BareLb.Layer2.Bpf;

/// <summary>
/// The classic BPF programs attached to the packet sockets, so that the kernel queues only frames worth decoding:
/// ARP requests on the ARP socket and Neighbor Solicitations on the IPv6 socket. They check the fields that say what
/// a frame claims to be (EtherType, ARP opcode, IPv6 next header, ICMPv6 type) and leave every validity rule to the
/// decoder, so that malformed frames are still seen and counted. Both programs also drop
/// <list type="bullet">
/// <item>frames still carrying a VLAN tag in the socket buffer (a tagged request must be answered on its VLAN
///   interface, tagged, not untagged on the parent), and</item>
/// <item>frames whose packet type is not host, broadcast or multicast: our own outgoing frames and, in promiscuous
///   mode, frames for other hosts.</item>
/// </list>
/// The IPv6 program expects ICMPv6 directly after the fixed header (offset 54): NDP messages carry no extension headers.
/// </summary>
public static class SocketFilters
{
    /// <summary>Octets kept of an accepted frame; beyond any MTU we meet, the receive buffer bounds it anyway.</summary>
    public const uint AcceptLength = 0x4_0000;

    /// <summary>PACKET_HOST = 0, PACKET_BROADCAST = 1, PACKET_MULTICAST = 2; above that: other host, outgoing, loopback.</summary>
    private const uint LastInboundPacketType = 2;

    public static IReadOnlyList<BpfInstruction> ArpRequests { get; } =
    [
        BpfInstruction.LoadWord(BpfInstruction.AncillaryVlanTagPresent),
        BpfInstruction.JumpIfEqual(0, 0, 7),
        BpfInstruction.LoadWord(BpfInstruction.AncillaryPacketType),
        BpfInstruction.JumpIfGreater(LastInboundPacketType, 5, 0),
        BpfInstruction.LoadHalf(12),
        BpfInstruction.JumpIfEqual(EthernetFrame.EtherTypeArp, 0, 3),
        BpfInstruction.LoadHalf(EthernetFrame.HeaderLength + 6),
        BpfInstruction.JumpIfEqual(Arp.ArpPacket.OperationRequest, 0, 1),
        BpfInstruction.Return(AcceptLength),
        BpfInstruction.Return(0),
    ];

    public static IReadOnlyList<BpfInstruction> NeighborSolicitations { get; } =
    [
        BpfInstruction.LoadWord(BpfInstruction.AncillaryVlanTagPresent),
        BpfInstruction.JumpIfEqual(0, 0, 9),
        BpfInstruction.LoadWord(BpfInstruction.AncillaryPacketType),
        BpfInstruction.JumpIfGreater(LastInboundPacketType, 7, 0),
        BpfInstruction.LoadHalf(12),
        BpfInstruction.JumpIfEqual(EthernetFrame.EtherTypeIPv6, 0, 5),
        BpfInstruction.LoadByte(EthernetFrame.HeaderLength + 6),
        BpfInstruction.JumpIfEqual(Ndp.Icmpv6Checksum.NextHeaderIcmpv6, 0, 3),
        BpfInstruction.LoadByte(EthernetFrame.HeaderLength + Ndp.Ipv6Header.Length),
        BpfInstruction.JumpIfEqual(Ndp.NeighborSolicitation.IcmpType, 0, 1),
        BpfInstruction.Return(AcceptLength),
        BpfInstruction.Return(0),
    ];
}

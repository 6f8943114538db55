using System.Net;
using System.Net.NetworkInformation;
using ArpPacket = BareLb.Layer2.Arp.ArpPacket;
using BareLb.Layer2.Ndp;
using BenchmarkDotNet.Attributes;
using PacketDotNet;
using PacketDotNet.Ndp;

namespace BareLb.Layer2.Benchmarks;

/// <summary>
/// One received request to one reply frame, as the receive loop runs it: our span codecs and responder against
/// PacketDotNet decoding the same frame and building the same reply (the first prototype's path).
/// </summary>
[MemoryDiagnoser]
public class ResponderBenchmarks
{
    private static readonly MacAddress NodeMac = MacAddress.Parse("02:00:00:00:00:0a");
    private static readonly MacAddress ClientMac = MacAddress.Parse("02:00:00:00:00:c1");
    private static readonly IPAddress OwnedV4 = IPAddress.Parse("198.51.100.10");
    private static readonly IPAddress OwnedV6 = IPAddress.Parse("2001:db8::10");

    private readonly byte[] _reply = new byte[NeighborResponder.MaxReplyLength];
    private readonly HashSet<IPAddress> _ownedSet = [OwnedV4, OwnedV6];
    private NeighborResponder _responder = null!;
    private byte[] _arpRequest = null!;
    private byte[] _solicitation = null!;
    private byte[] _notOwned = null!;

    [GlobalSetup]
    public void Setup()
    {
        _responder = new NeighborResponder(NodeMac) { Owned = OwnedSet.Create([OwnedV4, OwnedV6]) };
        _arpRequest = new byte[42];
        new ArpPacket { Operation = ArpPacket.OperationRequest, SenderHardware = ClientMac, SenderProtocol = IpAddresses.ToUInt32(IPAddress.Parse("198.51.100.200")), TargetProtocol = IpAddresses.ToUInt32(OwnedV4) }
            .TryWriteFrame(_arpRequest, MacAddress.Broadcast, ClientMac, out _);
        _notOwned = new byte[42];
        new ArpPacket { Operation = ArpPacket.OperationRequest, SenderHardware = ClientMac, SenderProtocol = IpAddresses.ToUInt32(IPAddress.Parse("198.51.100.200")), TargetProtocol = IpAddresses.ToUInt32(IPAddress.Parse("198.51.100.11")) }
            .TryWriteFrame(_notOwned, MacAddress.Broadcast, ClientMac, out _);
        var target = IpAddresses.ToUInt128(OwnedV6);
        var ns = new byte[86];
        new NeighborSolicitation { Source = IpAddresses.ToUInt128(IPAddress.Parse("2001:db8::c1")), Destination = IpAddresses.SolicitedNode(target), Target = target, SourceLinkLayer = ClientMac }
            .TryWriteFrame(ns, MacAddress.ForIPv6Multicast(IpAddresses.SolicitedNode(target)), ClientMac, out _);
        _solicitation = ns;
    }

    [Benchmark(Description = "ARP request, ours")]
    public int ArpOurs() => _responder.Respond(_arpRequest, _reply, out var n) == FrameOutcome.Answered ? n : -1;

    [Benchmark(Description = "ARP request, PacketDotNet")]
    public int ArpPacketDotNet()
    {
        var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, _arpRequest);
        var arp = ethernet.Extract<PacketDotNet.ArpPacket>();
        if (arp is null || arp.Operation != ArpOperation.Request || !_ownedSet.Contains(arp.TargetProtocolAddress))
        {
            return -1;
        }
        var mac = new PhysicalAddress(NodeMac.ToArray());
        var reply = new PacketDotNet.ArpPacket(ArpOperation.Response, arp.SenderHardwareAddress, arp.SenderProtocolAddress, mac, arp.TargetProtocolAddress);
        var frame = new EthernetPacket(mac, arp.SenderHardwareAddress, EthernetType.Arp) { PayloadPacket = reply };
        return frame.Bytes.Length;
    }

    [Benchmark(Description = "NS, ours")]
    public int NsOurs() => _responder.Respond(_solicitation, _reply, out var n) == FrameOutcome.Answered ? n : -1;

    [Benchmark(Description = "NS, PacketDotNet (decode only)")]
    public int NsPacketDotNetDecode()
    {
        // Decoding alone: building an NA through PacketDotNet's object model produced corrupt frames in the prototype,
        // so there is no faithful PacketDotNet encode to compare with.
        var ethernet = (EthernetPacket)Packet.ParsePacket(LinkLayers.Ethernet, _solicitation);
        var ip = ethernet.Extract<IPv6Packet>();
        var ns = ethernet.Extract<NdpNeighborSolicitationPacket>();
        if (ip is null || ns is null || ip.HopLimit != 255 || !_ownedSet.Contains(ns.TargetAddress))
        {
            return -1;
        }
        var link = ns.OptionsCollection.OfType<NdpLinkLayerAddressOption>().FirstOrDefault();
        return link is null ? 0 : link.LinkLayerAddress.GetAddressBytes().Length;
    }

    [Benchmark(Description = "ARP request not owned, ours")]
    public FrameOutcome NotOwnedOurs() => _responder.Respond(_notOwned, _reply, out _);
}

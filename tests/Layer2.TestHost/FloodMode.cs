using System.Buffers.Binary;
using System.Net;
using BareLb.Layer2.Arp;
using BareLb.Layer2.Linux;
using BareLb.Layer2.Ndp;

namespace BareLb.Layer2.TestHost;

/// <summary>Sends a bounded number of malformed ARP and NS frames, cycling through five kinds, as fast as the socket takes them.</summary>
internal static class FloodMode
{
    public static int Run(Arguments args)
    {
        var name = args.Get("interface");
        var count = args.GetInt("count", 10_000);
        var nodeMac = MacAddress.Parse(args.Get("node-mac"));
        var v4 = IpAddresses.ToUInt32(IPAddress.Parse(args.Get("v4")));
        var v6 = IpAddresses.ToUInt128(IPAddress.Parse(args.Get("v6")));
        var mac = Sys.Mac(name);
        var frames = Build(mac, nodeMac, v4, v6);
        using var socket = PacketSocket.Open(PacketSocket.InterfaceIndex(name), 0, null);
        var sent = 0;
        var failed = 0;
        for (var i = 0; i < count; i++)
        {
            if (socket.Send(frames[i % frames.Length]) == 0)
            {
                sent++;
            }
            else
            {
                failed++;
            }
        }
        Console.WriteLine($"sent {sent} failed {failed}");
        return 0;
    }

    private static byte[][] Build(MacAddress mac, MacAddress nodeMac, uint v4, UInt128 v6)
    {
        var client = IpAddresses.ToUInt128(IPAddress.Parse("2001:db8::c1"));
        var goodNs = new byte[94];
        new NeighborSolicitation { Source = client, Destination = v6, Target = v6, SourceLinkLayer = mac }
            .TryWriteFrame(goodNs, nodeMac, mac, out var nsLength);
        goodNs = goodNs[..nsLength];

        // NS whose only option has length 0, checksum valid: the option loop that hangs naive decoders.
        var zeroOption = goodNs.ToArray();
        zeroOption[79] = 0;
        FixChecksum(zeroOption);
        // NS with a wrong checksum.
        var badChecksum = goodNs.ToArray();
        badChecksum[56] ^= 0x5A;
        // NS with hop limit 64 (forwarded from off-link), checksum valid.
        var hopLimit = goodNs.ToArray();
        hopLimit[21] = 64;
        // ARP request cut after the opcode and sender MAC: 30 octets.
        var arp = new byte[42];
        new ArpPacket { Operation = ArpPacket.OperationRequest, SenderHardware = mac, SenderProtocol = 0xC63364C8, TargetProtocol = v4 }
            .TryWriteFrame(arp, MacAddress.Broadcast, mac, out _);
        var truncatedArp = arp[..30];
        // ARP request with hardware type 6 (IEEE 802).
        var badHardware = arp.ToArray();
        badHardware[15] = 6;
        return [zeroOption, badChecksum, hopLimit, truncatedArp, badHardware];
    }

    private static void FixChecksum(byte[] frame)
    {
        var icmp = frame.AsSpan(54);
        icmp[2] = 0;
        icmp[3] = 0;
        var checksum = Icmpv6Checksum.Compute(IpAddresses.ReadIPv6(frame.AsSpan(22)), IpAddresses.ReadIPv6(frame.AsSpan(38)), icmp);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], checksum);
    }
}

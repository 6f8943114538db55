using System.Net;
using BareLb.Layer2.Bpf;
using BareLb.Layer2.Linux;
using BareLb.Layer2.Ndp;

namespace BareLb.Layer2.TestHost;

/// <summary>
/// Sends one Neighbor Solicitation the way a neighbour's reachability probe does (unicast to the node's MAC and the
/// target address, no source link-layer option), or with --dad true the way Duplicate Address Detection does (from
/// ::, to the target's solicited-node group), and prints every Neighbor Advertisement for the target that arrives
/// within --wait-ms.
/// </summary>
internal static class SolicitMode
{
    public static int Run(Arguments args)
    {
        var name = args.Get("interface");
        var target = IpAddresses.ToUInt128(IPAddress.Parse(args.Get("target")));
        var dad = args.Find("dad") == "true";
        var source = dad ? UInt128.Zero : IpAddresses.ToUInt128(IPAddress.Parse(args.Get("source")));
        var destination = dad ? IpAddresses.SolicitedNode(target) : target;
        var nodeMac = dad ? MacAddress.ForIPv6Multicast(destination) : MacAddress.Parse(args.Get("node-mac"));
        var wait = TimeSpan.FromMilliseconds(args.GetInt("wait-ms", 1000));
        var mac = Sys.Mac(name);
        var index = PacketSocket.InterfaceIndex(name);
        BpfInstruction[] advertisements =
        [
            BpfInstruction.LoadHalf(12),
            BpfInstruction.JumpIfEqual(EthernetFrame.EtherTypeIPv6, 0, 5),
            BpfInstruction.LoadByte(20),
            BpfInstruction.JumpIfEqual(Icmpv6Checksum.NextHeaderIcmpv6, 0, 3),
            BpfInstruction.LoadByte(54),
            BpfInstruction.JumpIfEqual(NeighborAdvertisement.IcmpType, 0, 1),
            BpfInstruction.Return(SocketFilters.AcceptLength),
            BpfInstruction.Return(0),
        ];
        using var receiver = PacketSocket.Open(index, EthernetFrame.EtherTypeIPv6, advertisements);
        using var sender = PacketSocket.Open(index, 0, null);
        var frame = new byte[128];
        new NeighborSolicitation { Source = source, Destination = destination, Target = target, SourceLinkLayer = null }
            .TryWriteFrame(frame, nodeMac, mac, out var length);
        if (sender.Send(frame.AsSpan(0, length)) != 0)
        {
            Console.WriteLine("send failed");
            return 1;
        }
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var buffer = new byte[2048];
        var answers = 0;
        while (clock.Elapsed < wait && receiver.WaitReadable(wait - clock.Elapsed))
        {
            var n = receiver.Receive(buffer, wait: false);
            if (n < 86 || !EthernetFrame.TryRead(buffer.AsSpan(0, n), out var ethernet) ||
                Ipv6Header.TryRead(ethernet.Payload, out var ip) != FrameOutcome.Answered ||
                IpAddresses.ReadIPv6(ip.Payload[8..]) != target)
            {
                continue;
            }
            answers++;
            var solicited = (ip.Payload[4] & 0x40) != 0;
            Console.WriteLine($"na-from {ethernet.Source} to {ethernet.Destination} dst={IpAddresses.FromIPv6(ip.Destination)} solicited={solicited} checksum={(Icmpv6Checksum.IsValid(ip.Source, ip.Destination, ip.Payload) ? "valid" : "invalid")}");
        }
        Console.WriteLine($"answers {answers}");
        return 0;
    }
}

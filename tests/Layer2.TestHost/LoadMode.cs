using System.Diagnostics;
using System.Globalization;
using System.Net;
using BareLb.Layer2.Arp;
using BareLb.Layer2.Bpf;
using BareLb.Layer2.Linux;

namespace BareLb.Layer2.TestHost;

/// <summary>
/// Load generator for the layer-2 benchmark: one thread sends ARP requests for --target as fast as the socket takes
/// them (or at --rate per second) for --seconds; another counts the ARP replies from --target. Prints both rates.
/// </summary>
internal static class LoadMode
{
    public static int Run(Arguments args)
    {
        var name = args.Get("interface");
        var target = IpAddresses.ToUInt32(IPAddress.Parse(args.Get("target")));
        var duration = TimeSpan.FromSeconds(args.GetDouble("seconds", 5));
        var rate = args.GetDouble("rate", 0);
        var mac = Sys.Mac(name);
        var index = PacketSocket.InterfaceIndex(name);
        BpfInstruction[] replies =
        [
            BpfInstruction.LoadHalf(12),
            BpfInstruction.JumpIfEqual(EthernetFrame.EtherTypeArp, 0, 3),
            BpfInstruction.LoadHalf(20),
            BpfInstruction.JumpIfEqual(ArpPacket.OperationReply, 0, 1),
            BpfInstruction.Return(SocketFilters.AcceptLength),
            BpfInstruction.Return(0),
        ];
        using var receiver = PacketSocket.Open(index, EthernetFrame.EtherTypeArp, replies);
        using var sender = PacketSocket.Open(index, 0, null);
        var request = new byte[42];
        new ArpPacket { Operation = ArpPacket.OperationRequest, SenderHardware = mac, SenderProtocol = 0xC63364C8, TargetProtocol = target }
            .TryWriteFrame(request, MacAddress.Broadcast, mac, out _);

        long received = 0;
        var stop = false;
        var counter = new Thread(() =>
        {
            var buffer = new byte[2048];
            while (!Volatile.Read(ref stop))
            {
                if (!receiver.WaitReadable(TimeSpan.FromMilliseconds(100)))
                {
                    continue;
                }
                while (receiver.Receive(buffer, wait: false) is var n && n > 0)
                {
                    if (ArpPacket.TryRead(buffer.AsSpan(14, Math.Min(n, buffer.Length) - 14), out var arp) == FrameOutcome.Answered && arp.SenderProtocol == target)
                    {
                        Interlocked.Increment(ref received);
                    }
                }
            }
        }) { IsBackground = true };
        counter.Start();

        long sent = 0;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < duration)
        {
            if (rate > 0 && sent >= rate * clock.Elapsed.TotalSeconds)
            {
                Thread.SpinWait(50);
                continue;
            }
            if (sender.Send(request) == 0)
            {
                sent++;
            }
        }
        var elapsed = clock.Elapsed.TotalSeconds;
        Thread.Sleep(200);
        Volatile.Write(ref stop, true);
        counter.Join();
        var answered = Interlocked.Read(ref received);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"load sent={sent} replies={answered} seconds={elapsed:F2} sent_per_s={sent / elapsed:F0} replies_per_s={answered / elapsed:F0} answered={(sent == 0 ? 0 : 100.0 * answered / sent):F1}%"));
        return 0;
    }
}

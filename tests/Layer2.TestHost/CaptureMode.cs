using PacketDotNet;
using PacketDotNet.Ndp;
using SharpPcap;
using SharpPcap.LibPcap;

namespace BareLb.Layer2.TestHost;

/// <summary>
/// Captures ARP and ICMPv6 with SharpPcap (libpcap) and prints, decoded by PacketDotNet, each ARP reply, gratuitous
/// ARP and Neighbor Advertisement; stops after --seconds, or --count lines, or when a line arrives on stdin.
/// </summary>
internal static class CaptureMode
{
    public static int Run(Arguments args)
    {
        var name = args.Get("interface");
        var seconds = args.GetDouble("seconds", 5);
        var count = args.GetInt("count", int.MaxValue);
        var seen = 0;
        using var done = new ManualResetEventSlim();
        using var device = LibPcapLiveDeviceList.New().FirstOrDefault(d => d.Name == name)
            ?? throw new InvalidOperationException($"no capture device {name}");
        device.Open(new DeviceConfiguration { Mode = DeviceModes.None, ReadTimeout = 50, Immediate = true });
        device.Filter = "arp or icmp6";
        device.OnPacketArrival += (_, e) =>
        {
            var line = Describe(e.GetPacket());
            if (line is null)
            {
                return;
            }
            Console.WriteLine(line);
            if (Interlocked.Increment(ref seen) >= count)
            {
                done.Set();
            }
        };
        device.StartCapture();
        Console.WriteLine("capturing");
        var stdin = new Thread(() =>
        {
            Console.ReadLine();
            done.Set();
        }) { IsBackground = true };
        stdin.Start();
        done.Wait(TimeSpan.FromSeconds(seconds));
        device.StopCapture();
        Console.WriteLine($"captured {seen}");
        return 0;
    }

    private static string? Describe(RawCapture raw)
    {
        var packet = Packet.ParsePacket(raw.LinkLayerType, raw.Data);
        if (packet.Extract<ArpPacket>() is { } arp)
        {
            var kind = arp.Operation == ArpOperation.Response ? "arp-reply" : arp.SenderProtocolAddress.Equals(arp.TargetProtocolAddress) ? "arp-gratuitous" : null;
            return kind is null ? null : $"{kind} sha={Mac(arp.SenderHardwareAddress)} spa={arp.SenderProtocolAddress} tha={Mac(arp.TargetHardwareAddress)} tpa={arp.TargetProtocolAddress}";
        }
        if (packet.Extract<NdpNeighborAdvertisementPacket>() is { } na)
        {
            var ip = packet.Extract<IPv6Packet>();
            var icmp = packet.Extract<IcmpV6Packet>();
            var tlla = na.OptionsCollection.OfType<NdpLinkLayerAddressOption>().FirstOrDefault()?.LinkLayerAddress;
            return $"na target={na.TargetAddress} tlla={(tlla is null ? "none" : Mac(tlla))} solicited={na.Solicited} override={na.Override} dst={ip.DestinationAddress} hoplimit={ip.HopLimit} checksum={(icmp.ValidIcmpChecksum ? "valid" : "invalid")}";
        }
        return null;
    }

    private static string Mac(System.Net.NetworkInformation.PhysicalAddress address) =>
        string.Join(':', address.GetAddressBytes().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
}

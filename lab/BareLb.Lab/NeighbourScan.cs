using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using BareLb.NetTestSupport;

namespace BareLb.Lab;

/// <summary>
/// Asks the LAN who answers for each address, from a namespace: an ARP request per IPv4 address and a Neighbor
/// Solicitation per IPv6 address (to its solicited-node group), then collects every reply for a while. The result
/// tells, per address, every MAC that answered: "at most one node answers for an address" is checked on the wire.
/// </summary>
public static class NeighbourScan
{
    private const ushort EthPAll = 0x0003;

    public static async Task<IReadOnlyDictionary<IPAddress, IReadOnlySet<string>>> ScanAsync(
        string netns, IReadOnlyCollection<IPAddress> addresses, TimeSpan listen, string device = "eth0")
    {
        var link = JsonNode.Parse(await Shell.RunCheckedAsync("ip", ["-n", netns, "-j", "link", "show", device], default).ConfigureAwait(false))![0]!;
        var ifindex = link["ifindex"]!.GetValue<int>();
        var mac = Convert.FromHexString(link["address"]!.GetValue<string>().Replace(":", "", StringComparison.Ordinal));
        var addrs = JsonNode.Parse(await Shell.RunCheckedAsync("ip", ["-n", netns, "-j", "addr", "show", device], default).ConfigureAwait(false))![0]!["addr_info"]!.AsArray();
        var ourV4 = IPAddress.Parse(addrs.First(a => a!["family"]!.GetValue<string>() == "inet")!["local"]!.GetValue<string>());
        var ourV6 = IPAddress.Parse(addrs.First(a => a!["family"]!.GetValue<string>() == "inet6" && a["scope"]!.GetValue<string>() == "global")!["local"]!.GetValue<string>());

        using var sockets = new NamespaceSockets(netns);
        using var socket = sockets.CreateSocket(AddressFamily.Packet, SocketType.Raw, (ProtocolType)BinaryPrimitives.ReverseEndianness(EthPAll));
        var address = new SocketAddress(AddressFamily.Packet, 20);
        BinaryPrimitives.WriteUInt16BigEndian(address.Buffer.Span[2..], EthPAll);
        BinaryPrimitives.WriteInt32LittleEndian(address.Buffer.Span[4..], ifindex);
        address.Buffer.Span[11] = 6;
        // Our own outgoing requests come back on an ETH_P_ALL socket too: room for every request and every reply
        // (SO_RCVBUFFORCE, as root, goes past net.core.rmem_max).
        Span<byte> size = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(size, 16 << 20);
        socket.SetRawSocketOption(1, 33, size);
        socket.Bind(new PacketEndPoint(address));

        var answers = addresses.ToDictionary(a => a, _ => new HashSet<string>(StringComparer.Ordinal));
        using var stop = new CancellationTokenSource(listen);
        var receiving = Task.Run(() => Receive(socket, answers, stop.Token));
        var sent = 0;
        foreach (var target in addresses)
        {
            var frame = target.AddressFamily == AddressFamily.InterNetwork ? ArpRequest(mac, ourV4, target) : Solicitation(mac, ourV6, target);
            socket.SendTo(frame, SocketFlags.None, address);
            if (++sent % 50 == 0)
            {
                await Task.Delay(2).ConfigureAwait(false);
            }
        }
        await receiving.ConfigureAwait(false);
        return answers.ToDictionary(kv => kv.Key, kv => (IReadOnlySet<string>)kv.Value);
    }

    private static void Receive(Socket socket, Dictionary<IPAddress, HashSet<string>> answers, CancellationToken ct)
    {
        var buffer = new byte[2048];
        socket.ReceiveTimeout = 50;
        while (!ct.IsCancellationRequested)
        {
            int length;
            try
            {
                length = socket.Receive(buffer);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
            {
                continue;
            }
            var frame = buffer.AsSpan(0, length);
            if (frame.Length < 14)
            {
                continue;
            }
            var type = BinaryPrimitives.ReadUInt16BigEndian(frame[12..]);
            if (type == 0x0806 && frame.Length >= 42 && BinaryPrimitives.ReadUInt16BigEndian(frame[20..]) == 2)
            {
                Record(answers, new IPAddress(frame.Slice(28, 4)), frame.Slice(22, 6));
            }
            else if (type == 0x86dd && frame.Length >= 14 + 40 + 24 && frame[20] == 58 && frame[54] == 136 && (frame[14 + 40 + 4] & 0x40) != 0)
            {
                // Solicited advertisements only, as only ARP replies above: an unsolicited one is a node announcing
                // an address it has just taken over, not an answer; counted, a handover during the scan looked like
                // two nodes answering.
                // Neighbor Advertisement: the target address, and the target link-layer option if present (else the source MAC).
                var target = new IPAddress(frame.Slice(14 + 40 + 8, 16));
                var lladdr = frame.Length >= 14 + 40 + 32 && frame[14 + 40 + 24] == 2 ? frame.Slice(14 + 40 + 26, 6) : frame.Slice(6, 6);
                Record(answers, target, lladdr);
            }
        }
    }

    private static void Record(Dictionary<IPAddress, HashSet<string>> answers, IPAddress address, ReadOnlySpan<byte> mac)
    {
        if (answers.TryGetValue(address, out var macs))
        {
            lock (macs)
            {
                macs.Add(string.Join(':', mac.ToArray().Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture))));
            }
        }
    }

    private static byte[] ArpRequest(byte[] mac, IPAddress sender, IPAddress target)
    {
        var frame = new byte[42];
        frame.AsSpan(0, 6).Fill(0xff);
        mac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0806);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(14), 1);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(16), 0x0800);
        frame[18] = 6;
        frame[19] = 4;
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(20), 1);
        mac.CopyTo(frame, 22);
        sender.GetAddressBytes().CopyTo(frame, 28);
        target.GetAddressBytes().CopyTo(frame, 38);
        return frame;
    }

    private static byte[] Solicitation(byte[] mac, IPAddress source, IPAddress target)
    {
        var t = target.GetAddressBytes();
        byte[] group = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, t[13], t[14], t[15]];
        var frame = new byte[14 + 40 + 32];
        byte[] destinationMac = [0x33, 0x33, 0xff, t[13], t[14], t[15]];
        destinationMac.CopyTo(frame, 0);
        mac.CopyTo(frame, 6);
        BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x86dd);
        var ip = frame.AsSpan(14);
        ip[0] = 0x60;
        BinaryPrimitives.WriteUInt16BigEndian(ip[4..], 32);
        ip[6] = 58;
        ip[7] = 255;
        source.GetAddressBytes().CopyTo(ip[8..]);
        group.CopyTo(ip[24..]);
        var icmp = ip[40..];
        icmp[0] = 135;
        t.CopyTo(icmp[8..]);
        icmp[24] = 1;
        icmp[25] = 1;
        mac.CopyTo(icmp[26..]);
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], Checksum(source.GetAddressBytes(), group, icmp));
        return frame;
    }

    private static ushort Checksum(byte[] source, byte[] destination, ReadOnlySpan<byte> icmp)
    {
        uint sum = 0;
        for (var i = 0; i < 16; i += 2)
        {
            sum += (uint)((source[i] << 8) | source[i + 1]) + (uint)((destination[i] << 8) | destination[i + 1]);
        }
        sum += (uint)icmp.Length + 58;
        for (var i = 0; i < icmp.Length; i += 2)
        {
            sum += (uint)((icmp[i] << 8) | (i + 1 < icmp.Length ? icmp[i + 1] : 0));
        }
        while (sum > 0xffff)
        {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        return (ushort)~sum;
    }

    /// <summary>An endpoint wrapping a raw sockaddr_ll, for binding a packet socket.</summary>
    private sealed class PacketEndPoint(SocketAddress address) : EndPoint
    {
        public override AddressFamily AddressFamily => AddressFamily.Packet;

        public override SocketAddress Serialize() => address;
    }
}

using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using BareLb.NetTestSupport;

namespace BareLb.Lab;

/// <summary>
/// A bounded flood of malformed ARP and NDP frames onto the LAN from inside a namespace (a raw AF_PACKET socket
/// created there): truncated ARP, wrong hardware/protocol types and lengths, Neighbor Solicitations with an option of
/// length 0, a bad checksum, a wrong hop limit, truncated ICMPv6. It stops after <c>frames</c> or <c>limit</c>.
/// </summary>
public static class MalformedFrames
{
    public static async Task<int> FloodAsync(string netns, int frames, TimeSpan limit, string device = "eth0")
    {
        var link = JsonNode.Parse(await Shell.RunCheckedAsync("ip", ["-n", netns, "-j", "link", "show", device], default).ConfigureAwait(false))![0]!;
        var ifindex = link["ifindex"]!.GetValue<int>();
        var mac = Convert.FromHexString(link["address"]!.GetValue<string>().Replace(":", "", StringComparison.Ordinal));
        using var sockets = new NamespaceSockets(netns);
        using var socket = sockets.CreateSocket(AddressFamily.Packet, SocketType.Raw, ProtocolType.Raw);
        var kinds = Build(mac);
        var address = new SocketAddress(AddressFamily.Packet, 20);
        var buffer = address.Buffer.Span;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], 0x0003); // ETH_P_ALL; the frame carries its own EtherType
        BinaryPrimitives.WriteInt32LittleEndian(buffer[4..], ifindex);
        buffer[11] = 6;
        var clock = Stopwatch.StartNew();
        var sent = 0;
        while (sent < frames && clock.Elapsed < limit)
        {
            var frame = kinds[sent % kinds.Count];
            try
            {
                socket.SendTo(frame, SocketFlags.None, address);
                sent++;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.NoBufferSpaceAvailable or SocketError.WouldBlock)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }
        }
        return sent;
    }

    private static List<byte[]> Build(byte[] source)
    {
        var broadcast = new byte[] { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
        var solicitedNode = new byte[] { 0x33, 0x33, 0xff, 0x00, 0x01, 0x56 };
        byte[] Ethernet(byte[] destination, ushort type, byte[] payload) =>
            [.. destination, .. source, (byte)(type >> 8), (byte)type, .. payload];

        byte[] Arp(ushort hardware, ushort protocol, byte hlen, byte plen, ushort op, int length)
        {
            var arp = new byte[28];
            BinaryPrimitives.WriteUInt16BigEndian(arp, hardware);
            BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(2), protocol);
            arp[4] = hlen;
            arp[5] = plen;
            BinaryPrimitives.WriteUInt16BigEndian(arp.AsSpan(6), op);
            source.CopyTo(arp, 8);
            new byte[] { 198, 51, 100, 250 }.CopyTo(arp, 14);
            new byte[] { 198, 51, 100, 156 }.CopyTo(arp, 24);
            return arp[..length];
        }

        byte[] Solicitation(byte hopLimit, byte optionLength, bool badChecksum, int truncateTo = 0)
        {
            // IPv6 header (40) + NS (24) + source link-layer option (8).
            var packet = new byte[72];
            packet[0] = 0x60;
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(4), 32);
            packet[6] = 58;
            packet[7] = hopLimit;
            var src = new byte[] { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0xfa };
            var dst = new byte[] { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0x00, 0x01, 0x56 };
            src.CopyTo(packet, 8);
            dst.CopyTo(packet, 24);
            packet[40] = 135;
            new byte[] { 0x20, 0x01, 0x0d, 0xb8, 0x01, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0x56 }.CopyTo(packet, 48);
            packet[64] = 1;
            packet[65] = optionLength;
            source.CopyTo(packet, 66);
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(42), badChecksum ? (ushort)0xbeef : (ushort)0);
            return truncateTo > 0 ? packet[..truncateTo] : packet;
        }

        return
        [
            Ethernet(broadcast, 0x0806, Arp(1, 0x0800, 6, 4, 1, 20)),          // truncated ARP
            Ethernet(broadcast, 0x0806, Arp(6, 0x0800, 6, 4, 1, 28)),          // hardware type not Ethernet
            Ethernet(broadcast, 0x0806, Arp(1, 0x86dd, 6, 4, 1, 28)),          // protocol not IPv4
            Ethernet(broadcast, 0x0806, Arp(1, 0x0800, 8, 4, 1, 28)),          // hardware length 8
            Ethernet(broadcast, 0x0806, Arp(1, 0x0800, 6, 16, 1, 28)),         // protocol length 16
            Ethernet(broadcast, 0x0806, Arp(1, 0x0800, 6, 4, 7, 28)),          // opcode 7
            Ethernet(solicitedNode, 0x86dd, Solicitation(255, 0, badChecksum: false)),  // option of length 0
            Ethernet(solicitedNode, 0x86dd, Solicitation(255, 1, badChecksum: true)),   // bad checksum
            Ethernet(solicitedNode, 0x86dd, Solicitation(64, 1, badChecksum: false)),   // hop limit not 255
            Ethernet(solicitedNode, 0x86dd, Solicitation(255, 1, badChecksum: false, truncateTo: 50)), // truncated ICMPv6
            Ethernet(broadcast, 0x0806, []),                                    // Ethernet header alone
        ];
    }
}

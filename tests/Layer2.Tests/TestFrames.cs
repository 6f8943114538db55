using System.Buffers.Binary;
using System.Net;
using BareLb.Layer2.Arp;
using BareLb.Layer2.Ndp;

namespace BareLb.Layer2.Tests;

/// <summary>Frames for the tests, built with plain byte arithmetic where a test mutates them.</summary>
internal static class TestFrames
{
    public static readonly MacAddress NodeMac = MacAddress.Parse("02:00:00:00:00:0a");
    public static readonly MacAddress ClientMac = MacAddress.Parse("02:00:00:00:00:c1");
    public static readonly IPAddress OwnedV4 = IPAddress.Parse("198.51.100.10");
    public static readonly IPAddress OtherV4 = IPAddress.Parse("198.51.100.11");
    public static readonly IPAddress ClientV4 = IPAddress.Parse("198.51.100.200");
    public static readonly IPAddress OwnedV6 = IPAddress.Parse("2001:db8::10");
    public static readonly IPAddress OtherV6 = IPAddress.Parse("2001:db8::11");
    public static readonly IPAddress ClientV6 = IPAddress.Parse("2001:db8::c1");

    public static byte[] ArpRequest(IPAddress target, IPAddress? sender = null, MacAddress? from = null)
    {
        var frame = new byte[42];
        new ArpPacket
        {
            Operation = ArpPacket.OperationRequest,
            SenderHardware = from ?? ClientMac,
            SenderProtocol = IpAddresses.ToUInt32(sender ?? ClientV4),
            TargetHardware = MacAddress.Zero,
            TargetProtocol = IpAddresses.ToUInt32(target),
        }.TryWriteFrame(frame, MacAddress.Broadcast, from ?? ClientMac, out _);
        return frame;
    }

    /// <summary>A Neighbor Solicitation frame; <paramref name="dad"/> sends from :: without the link-layer option.</summary>
    public static byte[] NeighborSolicitation(IPAddress target, bool withLinkLayer = true, bool unicast = false, bool dad = false, IPAddress? source = null)
    {
        var t = IpAddresses.ToUInt128(target);
        var destination = unicast ? t : IpAddresses.SolicitedNode(t);
        var frame = new byte[94];
        new NeighborSolicitation
        {
            Source = dad ? UInt128.Zero : IpAddresses.ToUInt128(source ?? ClientV6),
            Destination = destination,
            Target = t,
            SourceLinkLayer = withLinkLayer && !dad ? ClientMac : null,
        }.TryWriteFrame(frame, unicast ? NodeMac : MacAddress.ForIPv6Multicast(destination), ClientMac, out var written);
        return frame[..written];
    }

    /// <summary>Recomputes the ICMPv6 checksum of an IPv6-in-Ethernet frame after a test changed it, independently of the product code.</summary>
    public static void FixIcmpChecksum(byte[] frame)
    {
        var payloadLength = BinaryPrimitives.ReadUInt16BigEndian(frame.AsSpan(18));
        var icmp = frame.AsSpan(54, Math.Min(payloadLength, frame.Length - 54));
        if (icmp.Length < 4)
        {
            return;
        }
        icmp[2] = 0;
        icmp[3] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], ReferenceChecksum(frame.AsSpan(22, 16), frame.AsSpan(38, 16), icmp));
    }

    /// <summary>RFC 1071 over a byte-wise pseudo-header, 16 bits at a time: the slow, obvious reference.</summary>
    public static ushort ReferenceChecksum(ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, ReadOnlySpan<byte> message)
    {
        var pseudo = new List<byte>();
        pseudo.AddRange(source.ToArray());
        pseudo.AddRange(destination.ToArray());
        pseudo.AddRange([(byte)(message.Length >> 24), (byte)(message.Length >> 16), (byte)(message.Length >> 8), (byte)message.Length, 0, 0, 0, 58]);
        pseudo.AddRange(message.ToArray());
        if (pseudo.Count % 2 == 1)
        {
            pseudo.Add(0);
        }
        uint sum = 0;
        for (var i = 0; i < pseudo.Count; i += 2)
        {
            sum += (uint)(pseudo[i] << 8 | pseudo[i + 1]);
            sum = (sum & 0xFFFF) + (sum >> 16);
        }
        return (ushort)~sum;
    }
}

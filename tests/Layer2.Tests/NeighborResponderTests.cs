using System.Net;
using BareLb.Layer2.Arp;
using BareLb.Layer2.Ndp;

namespace BareLb.Layer2.Tests;

public sealed class NeighborResponderTests
{
    private readonly NeighborResponder _responder = new(TestFrames.NodeMac)
    {
        Owned = OwnedSet.Create([TestFrames.OwnedV4, TestFrames.OwnedV6]),
    };

    private readonly byte[] _reply = new byte[NeighborResponder.MaxReplyLength];

    public static TheoryData<string, FrameOutcome> Decisions => new()
    {
        { "ARP request for an owned address", FrameOutcome.Answered },
        { "ARP request for another address", FrameOutcome.NotOwned },
        { "ARP probe (sender 0.0.0.0) for an owned address", FrameOutcome.Answered },
        { "gratuitous ARP from someone else for an owned address", FrameOutcome.Announcement },
        { "ARP reply for an owned address", FrameOutcome.NotARequest },
        { "ARP request from our own MAC", FrameOutcome.FromSelf },
        { "NS multicast with link-layer option", FrameOutcome.Answered },
        { "NS multicast without link-layer option", FrameOutcome.Answered },
        { "NS unicast reachability probe", FrameOutcome.Answered },
        { "NS DAD probe for an owned address", FrameOutcome.Answered },
        { "NS for another address", FrameOutcome.NotOwned },
        { "NS DAD probe for another address", FrameOutcome.NotOwned },
        { "IPv4 packet", FrameOutcome.UnsupportedProtocol },
        { "13-octet frame", FrameOutcome.EthernetTruncated },
    };

    [Theory]
    [MemberData(nameof(Decisions))]
    public void Respond_Frame_Decides(string frame, FrameOutcome expected)
    {
        var input = frame switch
        {
            "ARP request for an owned address" => TestFrames.ArpRequest(TestFrames.OwnedV4),
            "ARP request for another address" => TestFrames.ArpRequest(TestFrames.OtherV4),
            "ARP probe (sender 0.0.0.0) for an owned address" => TestFrames.ArpRequest(TestFrames.OwnedV4, sender: IPAddress.Any),
            "gratuitous ARP from someone else for an owned address" => TestFrames.ArpRequest(TestFrames.OwnedV4, sender: TestFrames.OwnedV4),
            "ARP reply for an owned address" => WithByte(TestFrames.ArpRequest(TestFrames.OwnedV4), 21, 2),
            "ARP request from our own MAC" => TestFrames.ArpRequest(TestFrames.OwnedV4, from: TestFrames.NodeMac),
            "NS multicast with link-layer option" => TestFrames.NeighborSolicitation(TestFrames.OwnedV6),
            "NS multicast without link-layer option" => TestFrames.NeighborSolicitation(TestFrames.OwnedV6, withLinkLayer: false),
            "NS unicast reachability probe" => TestFrames.NeighborSolicitation(TestFrames.OwnedV6, withLinkLayer: false, unicast: true),
            "NS DAD probe for an owned address" => TestFrames.NeighborSolicitation(TestFrames.OwnedV6, dad: true),
            "NS for another address" => TestFrames.NeighborSolicitation(TestFrames.OtherV6),
            "NS DAD probe for another address" => TestFrames.NeighborSolicitation(TestFrames.OtherV6, dad: true),
            "IPv4 packet" => WithByte(WithByte(TestFrames.ArpRequest(TestFrames.OwnedV4), 12, 0x08), 13, 0x00),
            "13-octet frame" => new byte[13],
            _ => throw new ArgumentOutOfRangeException(nameof(frame)),
        };

        var outcome = _responder.Respond(input, _reply, out var written);

        Assert.Equal(expected, outcome);
        Assert.Equal(expected == FrameOutcome.Answered ? written : 0, written);
        if (expected != FrameOutcome.Answered)
        {
            Assert.All(_reply, b => Assert.Equal(0, b));
        }
    }

    [Fact]
    public void Respond_ArpRequest_UnicastReplyToRequester()
    {
        var outcome = _responder.Respond(TestFrames.ArpRequest(TestFrames.OwnedV4), _reply, out var written);

        Assert.Equal(FrameOutcome.Answered, outcome);
        Assert.Equal(42, written);
        Assert.True(EthernetFrame.TryRead(_reply.AsSpan(0, written), out var ethernet));
        Assert.Equal(TestFrames.ClientMac, ethernet.Destination);
        Assert.Equal(TestFrames.NodeMac, ethernet.Source);
        Assert.Equal(EthernetFrame.EtherTypeArp, ethernet.EtherType);
        Assert.Equal(FrameOutcome.Answered, ArpPacket.TryRead(ethernet.Payload, out var arp));
        Assert.Equal(ArpPacket.OperationReply, arp.Operation);
        Assert.Equal(TestFrames.NodeMac, arp.SenderHardware);
        Assert.Equal(IpAddresses.ToUInt32(TestFrames.OwnedV4), arp.SenderProtocol);
        Assert.Equal(TestFrames.ClientMac, arp.TargetHardware);
        Assert.Equal(IpAddresses.ToUInt32(TestFrames.ClientV4), arp.TargetProtocol);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void Respond_Solicitation_SolicitedOverrideAdvertisementToSolicitor(bool withLinkLayer, bool unicast)
    {
        var outcome = _responder.Respond(TestFrames.NeighborSolicitation(TestFrames.OwnedV6, withLinkLayer, unicast), _reply, out var written);

        Assert.Equal(FrameOutcome.Answered, outcome);
        var na = ReadAdvertisement(_reply.AsSpan(0, written), out var ethernetDestination, out var ipDestination, out var flags, out var hopLimit);
        Assert.Equal(TestFrames.ClientMac, ethernetDestination);
        Assert.Equal(IpAddresses.ToUInt128(TestFrames.ClientV6), ipDestination);
        Assert.Equal(NeighborAdvertisement.FlagSolicited | NeighborAdvertisement.FlagOverride, flags);
        Assert.Equal(255, hopLimit);
        Assert.Equal(IpAddresses.ToUInt128(TestFrames.OwnedV6), na.Target);
        Assert.Equal(TestFrames.NodeMac, na.Mac);
    }

    [Fact]
    public void Respond_SolicitationWithOtherLinkLayerOption_RepliesToTheOption()
    {
        var frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6);
        var optionMac = MacAddress.Parse("02:00:00:00:00:77");
        optionMac.WriteTo(frame.AsSpan(80));
        TestFrames.FixIcmpChecksum(frame);

        Assert.Equal(FrameOutcome.Answered, _responder.Respond(frame, _reply, out var written));
        ReadAdvertisement(_reply.AsSpan(0, written), out var to, out _, out _, out _);
        Assert.Equal(optionMac, to);
    }

    [Fact]
    public void Respond_DadProbe_UnsolicitedAdvertisementToAllNodes()
    {
        var outcome = _responder.Respond(TestFrames.NeighborSolicitation(TestFrames.OwnedV6, dad: true), _reply, out var written);

        Assert.Equal(FrameOutcome.Answered, outcome);
        ReadAdvertisement(_reply.AsSpan(0, written), out var ethernetDestination, out var ipDestination, out var flags, out _);
        Assert.Equal(MacAddress.Parse("33:33:00:00:00:01"), ethernetDestination);
        Assert.Equal(IpAddresses.AllNodes, ipDestination);
        Assert.Equal(NeighborAdvertisement.FlagOverride, flags);
    }

    [Fact]
    public void Respond_AfterRelease_StopsAnsweringAtOnce()
    {
        var request = TestFrames.ArpRequest(TestFrames.OwnedV4);
        Assert.Equal(FrameOutcome.Answered, _responder.Respond(request, _reply, out _));

        _responder.Owned = OwnedSet.Create([TestFrames.OwnedV6]);

        Assert.Equal(FrameOutcome.NotOwned, _responder.Respond(request, _reply, out _));
        Assert.Equal(FrameOutcome.Answered, _responder.Respond(TestFrames.NeighborSolicitation(TestFrames.OwnedV6), _reply, out _));
    }

    [Fact]
    public void Respond_ReplyBufferTooSmall_Throws() =>
        Assert.Throws<ArgumentException>(() => _responder.Respond(TestFrames.ArpRequest(TestFrames.OwnedV4), new byte[41], out _));

    private static (UInt128 Target, MacAddress Mac) ReadAdvertisement(
        ReadOnlySpan<byte> frame, out MacAddress ethernetDestination, out UInt128 ipDestination, out uint flags, out byte hopLimit)
    {
        Assert.Equal(NeighborAdvertisement.FrameLength, frame.Length);
        Assert.True(EthernetFrame.TryRead(frame, out var ethernet));
        Assert.Equal(TestFrames.NodeMac, ethernet.Source);
        Assert.Equal(FrameOutcome.Answered, Ipv6Header.TryRead(ethernet.Payload, out var ip));
        Assert.True(Icmpv6Checksum.IsValid(ip.Source, ip.Destination, ip.Payload));
        Assert.Equal(NeighborAdvertisement.IcmpType, ip.Payload[0]);
        Assert.Equal(2, ip.Payload[24]);
        Assert.Equal(1, ip.Payload[25]);
        ethernetDestination = ethernet.Destination;
        ipDestination = ip.Destination;
        hopLimit = ip.HopLimit;
        flags = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(ip.Payload[4..]);
        return (IpAddresses.ReadIPv6(ip.Payload[8..]), MacAddress.Read(ip.Payload[26..]));
    }

    private static byte[] WithByte(byte[] frame, int offset, byte value)
    {
        frame[offset] = value;
        return frame;
    }
}

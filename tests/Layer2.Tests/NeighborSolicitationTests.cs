using System.Buffers.Binary;
using BareLb.Layer2.Ndp;

namespace BareLb.Layer2.Tests;

public sealed class NeighborSolicitationTests
{
    [Fact]
    public void TryRead_WrittenSolicitation_RoundTrips()
    {
        var frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6);

        Assert.Equal(86, frame.Length);
        Assert.True(EthernetFrame.TryRead(frame, out var ethernet));
        Assert.Equal(MacAddress.Parse("33:33:ff:00:00:10"), ethernet.Destination);
        Assert.Equal(FrameOutcome.Answered, NeighborSolicitation.TryRead(ethernet.Payload, out var read));
        Assert.Equal(IpAddresses.ToUInt128(TestFrames.ClientV6), read.Source);
        Assert.Equal(IpAddresses.ToUInt128(System.Net.IPAddress.Parse("ff02::1:ff00:10")), read.Destination);
        Assert.Equal(IpAddresses.ToUInt128(TestFrames.OwnedV6), read.Target);
        Assert.Equal(TestFrames.ClientMac, read.SourceLinkLayer);
        Assert.False(read.IsDadProbe);
    }

    [Fact]
    public void TryRead_WithoutLinkLayerOption_HasNone()
    {
        var frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6, withLinkLayer: false, unicast: true);

        Assert.Equal(FrameOutcome.Answered, NeighborSolicitation.TryRead(frame.AsSpan(14), out var read));
        Assert.Null(read.SourceLinkLayer);
        Assert.Equal(read.Target, read.Destination);
    }

    [Fact]
    public void TryRead_TrailingEthernetPadding_Ignored()
    {
        var frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6).Concat(new byte[10]).ToArray();

        Assert.Equal(FrameOutcome.Answered, NeighborSolicitation.TryRead(frame.AsSpan(14), out _));
    }

    [Fact]
    public void TryRead_UnknownOptionBeforeLinkLayer_SkipsIt()
    {
        var frame = WithOptions(TestFrames.NeighborSolicitation(TestFrames.OwnedV6, withLinkLayer: false),
            [14, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 0, 0, 0, 0, 0xc1]);

        Assert.Equal(FrameOutcome.Answered, NeighborSolicitation.TryRead(frame.AsSpan(14), out var read));
        Assert.Equal(TestFrames.ClientMac, read.SourceLinkLayer);
    }

    [Fact]
    public void TryRead_OtherIcmpv6Message_NotARequest()
    {
        var frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6);
        frame[54] = 136;
        TestFrames.FixIcmpChecksum(frame);

        Assert.Equal(FrameOutcome.NotARequest, NeighborSolicitation.TryRead(frame.AsSpan(14), out _));
    }

    [Fact]
    public void TryRead_UdpInsteadOfIcmpv6_UnsupportedProtocol()
    {
        var frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6);
        frame[20] = 17;

        Assert.Equal(FrameOutcome.UnsupportedProtocol, NeighborSolicitation.TryRead(frame.AsSpan(14), out _));
    }

    /// <summary>Each rule of RFC 4861 §7.1.1 (and the IPv6 framing under it), broken alone, with the checksum made valid again unless the rule is the checksum.</summary>
    public static TheoryData<string, FrameOutcome> Malformed => new()
    {
        { "hop limit 64", FrameOutcome.NdpHopLimit },
        { "hop limit 254", FrameOutcome.NdpHopLimit },
        { "ICMP code 1", FrameOutcome.NdpCode },
        { "checksum off by one", FrameOutcome.NdpChecksum },
        { "checksum of another pseudo-header (destination changed after)", FrameOutcome.NdpChecksum },
        { "ICMP length 23", FrameOutcome.NdpTooShort },
        { "ICMP length 1", FrameOutcome.NdpTooShort },
        { "target ff02::1", FrameOutcome.NdpTargetMulticast },
        { "option of length 0", FrameOutcome.NdpOptionLengthZero },
        { "option of length 0 after a good one", FrameOutcome.NdpOptionLengthZero },
        { "option longer than the message", FrameOutcome.NdpOptionTruncated },
        { "one stray octet after the options", FrameOutcome.NdpOptionTruncated },
        { "source link-layer option of 16 octets", FrameOutcome.NdpLinkLayerOptionLength },
        { "DAD probe to a unicast destination", FrameOutcome.NdpDadDestination },
        { "DAD probe to all-nodes", FrameOutcome.NdpDadDestination },
        { "DAD probe with a source link-layer option", FrameOutcome.NdpDadSourceLinkLayerOption },
        { "multicast IPv6 source", FrameOutcome.Ipv6SourceMulticast },
        { "IP version 4 in an IPv6 frame", FrameOutcome.Ipv6Version },
        { "payload length beyond the frame", FrameOutcome.Ipv6Truncated },
        { "frame ends inside the IPv6 header", FrameOutcome.Ipv6Truncated },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void TryRead_Malformed_ReturnsReason(string rule, FrameOutcome expected)
    {
        var frame = Break(rule);

        Assert.Equal(expected, NeighborSolicitation.TryRead(frame.AsSpan(14), out _));
    }

    private static byte[] Break(string rule)
    {
        var frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6);
        switch (rule)
        {
            case "hop limit 64": frame[21] = 64; break;
            case "hop limit 254": frame[21] = 254; break;
            case "ICMP code 1": frame[55] = 1; TestFrames.FixIcmpChecksum(frame); break;
            case "checksum off by one": frame[57]++; break;
            case "checksum of another pseudo-header (destination changed after)": frame[53] ^= 0x01; break;
            case "ICMP length 23": frame = Resize(frame, 23); TestFrames.FixIcmpChecksum(frame); break;
            case "ICMP length 1": frame = Resize(frame, 1); break;
            case "target ff02::1":
                frame[62] = 0xff; frame[63] = 0x02; TestFrames.FixIcmpChecksum(frame); break;
            case "option of length 0": frame[79] = 0; TestFrames.FixIcmpChecksum(frame); break;
            case "option of length 0 after a good one":
                frame = WithOptions(frame, [1, 1, 2, 0, 0, 0, 0, 0xc1, 14, 0, 0, 0, 0, 0, 0, 0]); break;
            case "option longer than the message": frame[79] = 2; TestFrames.FixIcmpChecksum(frame); break;
            case "one stray octet after the options":
                frame = WithOptions(frame, [1, 1, 2, 0, 0, 0, 0, 0xc1, 7]); break;
            case "source link-layer option of 16 octets":
                frame = WithOptions(frame, [1, 2, 2, 0, 0, 0, 0, 0xc1, 0, 0, 0, 0, 0, 0, 0, 0]); break;
            case "DAD probe to a unicast destination":
                frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6, dad: true);
                SetAddress(frame, 38, TestFrames.OwnedV6.GetAddressBytes()); TestFrames.FixIcmpChecksum(frame); break;
            case "DAD probe to all-nodes":
                frame = TestFrames.NeighborSolicitation(TestFrames.OwnedV6, dad: true);
                SetAddress(frame, 38, System.Net.IPAddress.Parse("ff02::1").GetAddressBytes()); TestFrames.FixIcmpChecksum(frame); break;
            case "DAD probe with a source link-layer option":
                SetAddress(frame, 22, new byte[16]); TestFrames.FixIcmpChecksum(frame); break;
            case "multicast IPv6 source":
                SetAddress(frame, 22, System.Net.IPAddress.Parse("ff02::2").GetAddressBytes()); TestFrames.FixIcmpChecksum(frame); break;
            case "IP version 4 in an IPv6 frame": frame[14] = 0x45; break;
            case "payload length beyond the frame": frame[19]++; break;
            case "frame ends inside the IPv6 header": frame = frame[..53]; break;
            default: throw new ArgumentOutOfRangeException(nameof(rule), rule, null);
        }
        return frame;
    }

    /// <summary>Replaces the options of a solicitation, fixing the payload length and checksum.</summary>
    internal static byte[] WithOptions(byte[] frame, byte[] options)
    {
        var result = frame[..(54 + 24)].Concat(options).ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(18), (ushort)(24 + options.Length));
        TestFrames.FixIcmpChecksum(result);
        return result;
    }

    private static byte[] Resize(byte[] frame, int icmpLength)
    {
        var result = frame[..(54 + icmpLength)];
        BinaryPrimitives.WriteUInt16BigEndian(result.AsSpan(18), (ushort)icmpLength);
        return result;
    }

    private static void SetAddress(byte[] frame, int offset, byte[] address) => address.CopyTo(frame, offset);
}

using BareLb.Layer2.Arp;

namespace BareLb.Layer2.Tests;

public sealed class ArpPacketTests
{
    [Fact]
    public void TryRead_WrittenPacket_RoundTrips()
    {
        var frame = new byte[42];
        var written = new ArpPacket
        {
            Operation = ArpPacket.OperationReply,
            SenderHardware = TestFrames.NodeMac,
            SenderProtocol = 0xC6336401,
            TargetHardware = TestFrames.ClientMac,
            TargetProtocol = 0xCB007102,
        }.TryWriteFrame(frame, TestFrames.ClientMac, TestFrames.NodeMac, out var length);

        Assert.True(written);
        Assert.Equal(42, length);
        Assert.Equal(
            "02000000 00c10200 0000000a 08060001 08000604 00020200 0000000a c6336401 02000000 00c1cb00 7102",
            Hex(frame));
        Assert.True(EthernetFrame.TryRead(frame, out var ethernet));
        Assert.Equal(FrameOutcome.Answered, ArpPacket.TryRead(ethernet.Payload, out var read));
        Assert.Equal(ArpPacket.OperationReply, read.Operation);
        Assert.Equal(TestFrames.NodeMac, read.SenderHardware);
        Assert.Equal(0xC6336401u, read.SenderProtocol);
        Assert.Equal(TestFrames.ClientMac, read.TargetHardware);
        Assert.Equal(0xCB007102u, read.TargetProtocol);
    }

    [Fact]
    public void TryWriteGratuitous_Address_BroadcastRequestWithSenderEqualToTarget()
    {
        var frame = new byte[42];

        Assert.True(ArpPacket.TryWriteGratuitous(frame, TestFrames.NodeMac, 0xC633640A, out var length));

        Assert.Equal(42, length);
        Assert.Equal(
            "ffffffff ffff0200 0000000a 08060001 08000604 00010200 0000000a c633640a 00000000 0000c633 640a",
            Hex(frame));
    }

    [Fact]
    public void TryWrite_DestinationTooSmall_ReturnsFalseAndWritesNothing()
    {
        var frame = new byte[41];

        Assert.False(ArpPacket.TryWriteGratuitous(frame, TestFrames.NodeMac, 1, out var length));
        Assert.Equal(0, length);
        Assert.All(frame, b => Assert.Equal(0, b));
    }

    public static TheoryData<string, int, byte, FrameOutcome> Malformed => new()
    {
        // description, offset into the ARP payload, new value (or truncate to that length when offset is -1), outcome
        { "hardware type 6 (IEEE 802)", 1, 6, FrameOutcome.ArpHardwareType },
        { "protocol type 0x0806", 3, 0x06, FrameOutcome.ArpProtocolType },
        { "hardware length 8", 4, 8, FrameOutcome.ArpAddressLength },
        { "protocol length 16", 5, 16, FrameOutcome.ArpAddressLength },
        { "opcode 3 (RARP request)", 7, 3, FrameOutcome.ArpOpcode },
        { "opcode 0", 7, 0, FrameOutcome.ArpOpcode },
        { "truncated inside the fixed header", -1, 7, FrameOutcome.ArpTruncated },
        { "truncated after the opcode", -1, 8, FrameOutcome.ArpTruncated },
        { "truncated inside the target address", -1, 27, FrameOutcome.ArpTruncated },
        { "empty", -1, 0, FrameOutcome.ArpTruncated },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void TryRead_Malformed_ReturnsReason(string description, int offset, byte value, FrameOutcome expected)
    {
        var payload = TestFrames.ArpRequest(TestFrames.OwnedV4)[EthernetFrame.HeaderLength..];
        if (offset < 0)
        {
            payload = payload[..value];
        }
        else
        {
            payload[offset] = value;
        }

        Assert.True(expected == ArpPacket.TryRead(payload, out _), description);
    }

    private static string Hex(byte[] bytes) =>
        string.Join(' ', Convert.ToHexStringLower(bytes).Chunk(8).Select(c => new string(c)));
}

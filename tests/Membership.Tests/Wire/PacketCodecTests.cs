using System.Buffers.Binary;
using System.Text;
using BareLb.Membership.Tests.Support;
using BareLb.Membership.Wire;

namespace BareLb.Membership.Tests.Wire;

public sealed class PacketCodecTests
{
    private static readonly TestMessage[] EveryKind =
    [
        TestMessage.Ping(0x0102030405060708),
        TestMessage.Ack(ulong.MaxValue),
        TestMessage.Nack(0),
        TestMessage.PingReq(42, "node-b.example"),
        TestMessage.Rumor(MemberState.Alive, "node-c", 0xAABBCCDDEEFF0011, 7),
        TestMessage.Rumor(MemberState.Suspect, "node-c", 1, uint.MaxValue, "node-a"),
        TestMessage.Rumor(MemberState.Dead, "nöde-ü", 2, 0),
        TestMessage.Rumor(MemberState.Left, "node-a", 3, 1),
    ];

    [Fact]
    public void TryOpen_EveryMessageKind_ReadsBackHeaderAndMessages()
    {
        var packet = TestPackets.Build("node-a", 0x1122334455667788, 99, 5, "node-b", EveryKind);

        Assert.Equal(PacketError.Ok, PacketReader.TryOpen(packet, out var reader));
        Assert.Equal(0x1122334455667788UL, reader.Boot);
        Assert.Equal(99UL, reader.Sequence);
        Assert.Equal(5U, reader.Incarnation);
        Assert.Equal("node-a", Encoding.UTF8.GetString(reader.SenderName));
        Assert.Equal(PacketAuthenticator.HintOf(TestPackets.Key), reader.KeyHint);
        Assert.Equal(packet.Length - PacketFormat.TagSize, reader.Signed.Length);
        Assert.Equal(EveryKind, TestPackets.ReadAll(packet));
    }

    [Fact]
    public void TryWriteRumor_NoRoomLeft_WritesNothingAndReturnsFalse()
    {
        var buffer = new byte[PacketFormat.FixedHeaderSize + 1 + PacketFormat.TagSize + 20];
        Assert.True(PacketWriter.TryBegin(buffer, 0, 1, 1, 0, "a"u8, out var writer));
        Assert.True(writer.TryWritePing(1)); // 11 bytes, 9 left
        var before = writer.Position;

        Assert.False(writer.TryWriteRumor(MemberState.Alive, 1, 1, "node"u8, default));
        Assert.Equal(before, writer.Position);
        Assert.False(writer.TryWriteRumor(MemberState.Alive, 1, 1, "n"u8, default));
        Assert.Equal(before, writer.Position);
    }

    [Theory]
    [InlineData(MemberState.Suspect, "")] // a suspicion names its accuser
    [InlineData(MemberState.Alive, "x")] // only suspicions do
    [InlineData(MemberState.Unknown, "")] // not a rumor state
    public void TryWriteRumor_InvalidCombination_Refused(MemberState state, string accuser)
    {
        var buffer = new byte[200];
        Assert.True(PacketWriter.TryBegin(buffer, 0, 1, 1, 0, "a"u8, out var writer));
        Assert.False(writer.TryWriteRumor(state, 1, 1, "b"u8, Encoding.UTF8.GetBytes(accuser)));
    }

    [Fact]
    public void TryOpen_UnknownMessageType_IsSkipped()
    {
        using var auth = new PacketAuthenticator([TestPackets.Key]);
        var buffer = new byte[200];
        Assert.True(PacketWriter.TryBegin(buffer, auth.SigningHint, 1, 1, 0, "a"u8, out var writer));
        Assert.True(writer.TryWritePing(7));
        Assert.True(writer.TryWriteRaw(200, [1, 2, 3, 4, 5]));
        Assert.True(writer.TryWriteAck(8));
        Assert.True(writer.TryFinish(auth, "b"u8, out var written));

        Assert.Equal([TestMessage.Ping(7), TestMessage.Ack(8)], TestPackets.ReadAll(buffer.AsSpan(0, written)));
    }

    public static TheoryData<string, Func<byte[], byte[]>, string> Malformed => new()
    {
        { "empty", _ => [], nameof(PacketError.TooShort) },
        { "shorter than header+tag", p => p[..(PacketFormat.MinPacketSize - 1)], nameof(PacketError.TooShort) },
        { "bad magic", p => Patch(p, 0, 0x00), nameof(PacketError.BadMagic) },
        { "version 2", p => Patch(p, 2, 2), nameof(PacketError.UnsupportedVersion) },
        { "empty sender name", p => Patch(p, 24, 0), nameof(PacketError.BadSenderName) },
        { "sender name past the end", p => Patch(p, 24, 255), nameof(PacketError.BadSenderName) },
        { "message length past the end", p => PatchU16(p, MessageStart + 1, 500), nameof(PacketError.TruncatedMessage) },
        { "ping body of 7 bytes", p => PatchU16(Cut(p, MessageStart + 3 + 7, 1), MessageStart + 1, 7), nameof(PacketError.BadMessageBody) },
        { "dangling message header byte", p => Insert(p, p.Length - PacketFormat.TagSize, [1]), nameof(PacketError.TruncatedMessage) },
    };

    // Sender "node-a" (6 bytes): messages start right after the name.
    private const int MessageStart = PacketFormat.FixedHeaderSize + 6;

    [Theory]
    [MemberData(nameof(Malformed))]
    public void TryOpen_MalformedPacket_TypedError(string what, Func<byte[], byte[]> damage, string expected)
    {
        var packet = damage(TestPackets.Build("node-a", 1, 1, 0, "node-b", [TestMessage.Ping(1)]));

        Assert.Equal((what, expected), (what, PacketReader.TryOpen(packet, out _).ToString()));
    }

    public static TheoryData<string, byte[]> MalformedRumorBodies => new()
    {
        { "too short", [1, 0, 0] },
        { "state 0", RumorBody(0, "b", "") },
        { "state 9", RumorBody(9, "b", "") },
        { "empty subject", RumorBody(1, "", "") },
        { "suspect without accuser", RumorBody(2, "b", "") },
        { "dead with accuser", RumorBody(3, "b", "a") },
        { "trailing byte", [.. RumorBody(1, "b", ""), 0] },
        { "subject length past body", Patch(RumorBody(1, "b", ""), 13, 9) },
        { "accuser length past body", Patch(RumorBody(2, "b", "a"), 15, 9) },
    };

    [Theory]
    [MemberData(nameof(MalformedRumorBodies))]
    public void TryOpen_MalformedRumor_BadMessageBody(string what, byte[] body)
    {
        Assert.True(PacketError.BadMessageBody == PacketReader.TryOpen(WithRawMessage(MessageType.Rumor, body), out _), what);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1 })] // no target length
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 0 })] // empty target
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 3, (byte)'a' })] // target shorter than its length
    [InlineData(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 1, (byte)'a', (byte)'b' })] // trailing byte
    public void TryOpen_MalformedPingReq_BadMessageBody(byte[] body)
    {
        Assert.Equal(PacketError.BadMessageBody, PacketReader.TryOpen(WithRawMessage(MessageType.PingReq, body), out _));
    }

    [Fact]
    public void TryOpen_EveryTruncation_NeverThrowsAndNeverAuthenticates()
    {
        var packet = TestPackets.Build("node-a", 1, 1, 0, "node-b", EveryKind);
        using var auth = new PacketAuthenticator([TestPackets.Key]);
        for (var length = 0; length < packet.Length; length++)
        {
            var cut = packet[..length];
            if (PacketReader.TryOpen(cut, out var reader) == PacketError.Ok)
            {
                Assert.False(auth.Verify(reader.KeyHint, reader.Signed, "node-b"u8, reader.Tag), $"length {length}");
            }
        }
    }

    private static byte[] RumorBody(byte state, string subject, string accuser)
    {
        var s = Encoding.UTF8.GetBytes(subject);
        var a = Encoding.UTF8.GetBytes(accuser);
        var body = new byte[PacketFormat.RumorFixedSize + s.Length + a.Length];
        body[0] = state;
        body[13] = (byte)s.Length;
        s.CopyTo(body, 14);
        body[14 + s.Length] = (byte)a.Length;
        a.CopyTo(body, 15 + s.Length);
        return body;
    }

    private static byte[] WithRawMessage(MessageType type, byte[] body)
    {
        using var auth = new PacketAuthenticator([TestPackets.Key]);
        var buffer = new byte[400];
        Assert.True(PacketWriter.TryBegin(buffer, auth.SigningHint, 1, 1, 0, "node-a"u8, out var writer));
        Assert.True(writer.TryWriteRaw((byte)type, body));
        Assert.True(writer.TryFinish(auth, "node-b"u8, out var written));
        return buffer[..written];
    }

    private static byte[] Patch(byte[] p, int offset, byte value)
    {
        var copy = p.ToArray();
        copy[offset] = value;
        return copy;
    }

    private static byte[] PatchU16(byte[] p, int offset, ushort value)
    {
        var copy = p.ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(copy.AsSpan(offset), value);
        return copy;
    }

    private static byte[] Cut(byte[] p, int offset, int count) => [.. p[..offset], .. p[(offset + count)..]];

    private static byte[] Insert(byte[] p, int offset, byte[] bytes) => [.. p[..offset], .. bytes, .. p[offset..]];
}

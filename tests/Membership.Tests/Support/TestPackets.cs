using System.Text;
using BareLb.Membership.Wire;

namespace BareLb.Membership.Tests.Support;

/// <summary>A message as plain data, to build packets from and to compare decoded ones against.</summary>
internal sealed record TestMessage(MessageType Type, ulong Nonce = 0, string Name = "", MemberState State = MemberState.Unknown, ulong Boot = 0, uint Incarnation = 0, string Accuser = "")
{
    public static TestMessage Ping(ulong nonce) => new(MessageType.Ping, nonce);
    public static TestMessage Ack(ulong nonce) => new(MessageType.Ack, nonce);
    public static TestMessage Nack(ulong nonce) => new(MessageType.Nack, nonce);
    public static TestMessage PingReq(ulong nonce, string target) => new(MessageType.PingReq, nonce, target);

    public static TestMessage Rumor(MemberState state, string subject, ulong boot, uint incarnation, string accuser = "") =>
        new(MessageType.Rumor, 0, subject, state, boot, incarnation, accuser);

    public static TestMessage From(in MessageView m) => m.Type == MessageType.Rumor
        ? Rumor(m.State, Encoding.UTF8.GetString(m.Name), m.Boot, m.Incarnation, Encoding.UTF8.GetString(m.Accuser))
        : new TestMessage(m.Type, m.Nonce, Encoding.UTF8.GetString(m.Name));
}

/// <summary>Builds signed packets as another member would send them.</summary>
internal static class TestPackets
{
    public static readonly byte[] Key = [.. Enumerable.Range(100, 32).Select(i => (byte)i)];
    public static readonly byte[] OtherKey = [.. Enumerable.Range(1, 32).Select(i => (byte)(255 - i))];

    public static byte[] Build(string sender, ulong boot, ulong sequence, uint incarnation, string receiver, IEnumerable<TestMessage> messages, byte[]? key = null)
    {
        using var auth = new PacketAuthenticator([key ?? Key]);
        var buffer = new byte[1400];
        Assert.True(PacketWriter.TryBegin(buffer, auth.SigningHint, boot, sequence, incarnation, Encoding.UTF8.GetBytes(sender), out var writer));
        foreach (var m in messages)
        {
            Assert.True(Write(ref writer, m), $"{m} did not fit");
        }
        Assert.True(writer.TryFinish(auth, Encoding.UTF8.GetBytes(receiver), out var written));
        return buffer[..written];
    }

    public static bool Write(ref PacketWriter writer, TestMessage m) => m.Type switch
    {
        MessageType.Ping => writer.TryWritePing(m.Nonce),
        MessageType.Ack => writer.TryWriteAck(m.Nonce),
        MessageType.Nack => writer.TryWriteNack(m.Nonce),
        MessageType.PingReq => writer.TryWritePingReq(m.Nonce, Encoding.UTF8.GetBytes(m.Name)),
        MessageType.Rumor => writer.TryWriteRumor(m.State, m.Boot, m.Incarnation, Encoding.UTF8.GetBytes(m.Name), Encoding.UTF8.GetBytes(m.Accuser)),
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };

    public static List<TestMessage> ReadAll(ReadOnlySpan<byte> datagram)
    {
        Assert.Equal(PacketError.Ok, PacketReader.TryOpen(datagram, out var reader));
        var list = new List<TestMessage>();
        while (reader.TryReadMessage(out var m))
        {
            list.Add(TestMessage.From(m));
        }
        return list;
    }

    public static string SenderOf(ReadOnlySpan<byte> datagram)
    {
        Assert.Equal(PacketError.Ok, PacketReader.TryOpen(datagram, out var reader));
        return Encoding.UTF8.GetString(reader.SenderName);
    }
}

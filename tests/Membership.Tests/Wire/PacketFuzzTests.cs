using BareLb.Membership.Tests.Support;
using BareLb.Membership.Wire;
using FsCheck;
using FsCheck.Fluent;
using Microsoft.FSharp.Core;

namespace BareLb.Membership.Tests.Wire;

/// <summary>
/// The decoder against hostile input: random datagrams and random damage to valid packets never throw, and a
/// damaged packet never authenticates. Plus a property test: any sequence of messages that fits reads back as
/// written. Findings of the fuzz loops belong in <see cref="PacketCodecTests"/> as byte-array regressions.
/// </summary>
public sealed class PacketFuzzTests
{
    private const ulong Seed = 0x5EED_0F_F022;

    [Fact]
    public void TryOpen_RandomBytes_NeverThrows()
    {
        var random = new Random(1);
        var buffer = new byte[1500];
        var opened = 0;
        for (var i = 0; i < 200_000; i++)
        {
            var length = random.Next(buffer.Length);
            random.NextBytes(buffer.AsSpan(0, length));
            // Half of the inputs start like a packet so the fuzzing reaches past the magic check.
            if (i % 2 == 0 && length >= 4)
            {
                buffer[0] = PacketFormat.Magic0;
                buffer[1] = PacketFormat.Magic1;
                buffer[2] = PacketFormat.Version;
                if (length > 24)
                {
                    buffer[24] = (byte)random.Next(8);
                }
            }
            if (PacketReader.TryOpen(buffer.AsSpan(0, length), out var reader) == PacketError.Ok)
            {
                opened++;
                while (reader.TryReadMessage(out _))
                {
                }
            }
        }
        Assert.True(opened > 0, "no random input opened: the generator does not reach the message parser");
    }

    [Fact]
    public void TryOpen_DamagedValidPacket_NeverThrowsNeverAuthenticates()
    {
        var original = TestPackets.Build("node-a", 3, 4, 5, "node-b",
            [TestMessage.Ping(1), TestMessage.PingReq(2, "node-c"), TestMessage.Rumor(MemberState.Suspect, "node-c", 9, 9, "node-a")]);
        using var auth = new PacketAuthenticator([TestPackets.Key]);
        var random = new Random(2);
        for (var i = 0; i < 50_000; i++)
        {
            var damaged = original.ToArray();
            var flips = 1 + random.Next(4);
            for (var f = 0; f < flips; f++)
            {
                damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            }
            if (damaged.AsSpan().SequenceEqual(original))
            {
                continue;
            }
            if (PacketReader.TryOpen(damaged, out var reader) == PacketError.Ok)
            {
                Assert.False(auth.Verify(reader.KeyHint, reader.Signed, "node-b"u8, reader.Tag), Convert.ToHexString(damaged));
                while (reader.TryReadMessage(out _))
                {
                }
            }
        }
    }

    private static readonly Gen<string> NameGen =
        Gen.Elements("a", "node-1", "k8s-worker-17.example.internal", "ünïcødé", new string('x', 63), new string('y', 255));

    private static readonly Gen<TestMessage> MessageGen = Gen.OneOf(
        ArbMap.Default.GeneratorFor<ulong>().Select(TestMessage.Ping),
        ArbMap.Default.GeneratorFor<ulong>().Select(TestMessage.Ack),
        ArbMap.Default.GeneratorFor<ulong>().Select(TestMessage.Nack),
        from n in ArbMap.Default.GeneratorFor<ulong>() from t in NameGen select TestMessage.PingReq(n, t),
        from state in Gen.Elements(MemberState.Alive, MemberState.Suspect, MemberState.Dead, MemberState.Left)
        from subject in NameGen
        from accuser in NameGen
        from boot in ArbMap.Default.GeneratorFor<ulong>()
        from inc in ArbMap.Default.GeneratorFor<uint>()
        select TestMessage.Rumor(state, subject, boot, inc, state == MemberState.Suspect ? accuser : ""));

    [Fact]
    public void WriteThenRead_AnyMessages_RoundTripInOrderAndAuthenticate()
    {
        var config = Config.QuickThrowOnFailure.WithMaxTest(500)
            .WithReplay(FSharpOption<Replay>.Some(new Replay(new Rnd(Seed), FSharpOption<int>.None)));
        var gen = from sender in NameGen
                  from boot in ArbMap.Default.GeneratorFor<ulong>()
                  from seq in ArbMap.Default.GeneratorFor<ulong>()
                  from inc in ArbMap.Default.GeneratorFor<uint>()
                  from messages in MessageGen.ArrayOf()
                  select (sender, boot, seq, inc, messages);

        Check.One(config, Prop.ForAll(Arb.From(gen), input =>
        {
            var (sender, boot, seq, inc, messages) = input;
            using var auth = new PacketAuthenticator([TestPackets.Key]);
            var buffer = new byte[1400];
            Assert.True(PacketWriter.TryBegin(buffer, auth.SigningHint, boot, seq, inc, System.Text.Encoding.UTF8.GetBytes(sender), out var writer));
            // Model: the messages that fit, in order; TryWrite refuses the rest without writing anything.
            var expected = new List<TestMessage>();
            foreach (var m in messages)
            {
                if (TestPackets.Write(ref writer, m))
                {
                    expected.Add(m);
                }
            }
            Assert.True(writer.TryFinish(auth, "receiver"u8, out var written));
            Assert.True(written <= buffer.Length);

            var packet = buffer.AsSpan(0, written);
            Assert.Equal(PacketError.Ok, PacketReader.TryOpen(packet, out var reader));
            Assert.Equal((boot, seq, inc), (reader.Boot, reader.Sequence, reader.Incarnation));
            Assert.True(auth.Verify(reader.KeyHint, reader.Signed, "receiver"u8, reader.Tag));
            Assert.Equal(expected, TestPackets.ReadAll(packet));
        }));
    }
}

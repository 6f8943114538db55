using BareLb.Membership.Tests.Support;
using BareLb.Membership.Wire;

namespace BareLb.Membership.Tests.Wire;

public sealed class PacketAuthenticatorTests
{
    private static bool Verifies(byte[] packet, string receiver, params byte[][] keys)
    {
        using var auth = new PacketAuthenticator(keys.Select(k => (ReadOnlyMemory<byte>)k));
        Assert.Equal(PacketError.Ok, PacketReader.TryOpen(packet, out var reader));
        return auth.Verify(reader.KeyHint, reader.Signed, System.Text.Encoding.UTF8.GetBytes(receiver), reader.Tag);
    }

    [Fact]
    public void Verify_SameKeyAndReceiver_Accepts()
    {
        Assert.True(Verifies(TestPackets.Build("a", 1, 1, 0, "b", [TestMessage.Ping(1)]), "b", TestPackets.Key));
    }

    [Fact]
    public void Verify_OtherKey_Rejects()
    {
        Assert.False(Verifies(TestPackets.Build("a", 1, 1, 0, "b", [TestMessage.Ping(1)], TestPackets.OtherKey), "b", TestPackets.Key));
    }

    [Fact]
    public void Verify_PacketAddressedToAnotherMember_Rejects()
    {
        // The tag covers the receiver's name: a packet for "b" replayed to "c" is worthless.
        Assert.False(Verifies(TestPackets.Build("a", 1, 1, 0, "b", [TestMessage.Ping(1)]), "c", TestPackets.Key));
    }

    [Fact]
    public void Verify_RotationList_AcceptsEitherKey()
    {
        var byOld = TestPackets.Build("a", 1, 1, 0, "b", [TestMessage.Ping(1)], TestPackets.Key);
        var byNew = TestPackets.Build("a", 1, 2, 0, "b", [TestMessage.Ping(1)], TestPackets.OtherKey);

        Assert.True(Verifies(byOld, "b", TestPackets.OtherKey, TestPackets.Key));
        Assert.True(Verifies(byNew, "b", TestPackets.OtherKey, TestPackets.Key));
    }

    [Fact]
    public void Sign_WithRotationList_UsesFirstKey()
    {
        using var auth = new PacketAuthenticator([TestPackets.OtherKey, TestPackets.Key]);
        Assert.Equal(PacketAuthenticator.HintOf(TestPackets.OtherKey), auth.SigningHint);
    }

    [Fact]
    public void Constructor_ShortKeyOrNoKey_Throws()
    {
        Assert.Throws<ArgumentException>(() => new PacketAuthenticator([new byte[15]]));
        Assert.Throws<ArgumentException>(() => new PacketAuthenticator([]));
    }
}

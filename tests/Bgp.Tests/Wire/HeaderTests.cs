using BareLb.Bgp.Wire;

namespace BareLb.Bgp.Tests.Wire;

public sealed class HeaderTests
{
    [Fact]
    public void TryReadFrame_Keepalive_Complete()
    {
        var message = new byte[19];
        Assert.True(BgpKeepalive.TryWrite(message, out var written));
        Assert.Equal(19, written);
        Assert.Equal(BgpFrameStatus.Complete, BgpHeader.TryReadFrame(message, out var length, out var type, out _));
        Assert.Equal(19, length);
        Assert.Equal(BgpMessageType.Keepalive, type);
    }

    [Fact]
    public void TryReadFrame_PartialHeaderOrBody_Incomplete()
    {
        var open = Messages.Frame(BgpMessageType.Open, new byte[10]);
        Assert.Equal(BgpFrameStatus.Incomplete, BgpHeader.TryReadFrame(open.AsSpan(0, 18), out _, out _, out _));
        Assert.Equal(BgpFrameStatus.Incomplete, BgpHeader.TryReadFrame(open.AsSpan(0, 28), out _, out _, out _));
        Assert.Equal(BgpFrameStatus.Complete, BgpHeader.TryReadFrame(open, out var length, out _, out _));
        Assert.Equal(29, length);
    }

    public static TheoryData<string, byte, string> BadHeaders => new()
    {
        // marker byte 3 is not 0xFF
        { "ffffff00ffffffffffffffffffffffff001304", MessageHeaderSubcode.ConnectionNotSynchronized, "" },
        { "ffffffffffffffffffffffffffffffff001204", MessageHeaderSubcode.BadMessageLength, "0012" },
        { "ffffffffffffffffffffffffffffffff100104", MessageHeaderSubcode.BadMessageLength, "1001" },
        { "ffffffffffffffffffffffffffffffff001306", MessageHeaderSubcode.BadMessageType, "06" },
        { "ffffffffffffffffffffffffffffffff001300", MessageHeaderSubcode.BadMessageType, "00" },
        // KEEPALIVE of 20 octets, OPEN of 28, UPDATE of 22, NOTIFICATION of 20, ROUTE-REFRESH of 24
        { "ffffffffffffffffffffffffffffffff001404", MessageHeaderSubcode.BadMessageLength, "0014" },
        { "ffffffffffffffffffffffffffffffff001c01", MessageHeaderSubcode.BadMessageLength, "001c" },
        { "ffffffffffffffffffffffffffffffff001602", MessageHeaderSubcode.BadMessageLength, "0016" },
        { "ffffffffffffffffffffffffffffffff001403", MessageHeaderSubcode.BadMessageLength, "0014" },
        { "ffffffffffffffffffffffffffffffff001805", MessageHeaderSubcode.BadMessageLength, "0018" },
    };

    [Theory]
    [MemberData(nameof(BadHeaders))]
    public void TryReadFrame_BadHeader_MessageHeaderErrorWithData(string hex, byte subcode, string data)
    {
        var status = BgpHeader.TryReadFrame(Convert.FromHexString(hex), out _, out _, out var error);
        Assert.Equal(BgpFrameStatus.Invalid, status);
        Assert.Equal(BgpErrorCode.MessageHeader, error.Code);
        Assert.Equal(subcode, error.Subcode);
        Assert.Equal(data, Convert.ToHexStringLower(error.Data ?? []));
    }

    [Fact]
    public void Notification_WriteThenRead_RoundTrips()
    {
        var error = new BgpError(BgpErrorCode.Cease, CeaseSubcode.AdministrativeShutdown, BgpNotification.ShutdownCommunication("maintenance"));
        var buffer = new byte[64];
        Assert.True(BgpNotification.TryWrite(buffer, error, out var written));
        Assert.Equal(19 + 2 + 12, written);
        var message = buffer.AsSpan(0, written);
        Assert.Equal(BgpFrameStatus.Complete, BgpHeader.TryReadFrame(message, out _, out var type, out _));
        Assert.Equal(BgpMessageType.Notification, type);
        var read = BgpNotification.Read(message);
        Assert.Equal(error.Code, read.Code);
        Assert.Equal(error.Subcode, read.Subcode);
        Assert.Equal(error.Data, read.Data);
        Assert.Equal("6/2 cease: administrative shutdown \"maintenance\"", read.ToString());
    }

    [Fact]
    public void RouteRefresh_WriteThenRead_RoundTrips()
    {
        var buffer = new byte[23];
        Assert.True(BgpRouteRefresh.TryWrite(buffer, AfiSafi.IPv6Unicast, out var written));
        Assert.Equal(23, written);
        Assert.Equal("ffffffffffffffffffffffffffffffff00170500020001", Convert.ToHexStringLower(buffer));
        Assert.Equal((AfiSafi.IPv6Unicast, (byte)0), BgpRouteRefresh.Read(buffer));
    }
}

using BareLb.Bgp.Wire;

namespace BareLb.Bgp.Tests.Wire;

/// <summary>
/// Random and mutated input through every decoder, bounded in count: whatever comes in, the result is a value or a
/// typed error, never an exception. Findings become regression cases in the table tests.
/// </summary>
public sealed class FuzzTests
{
    private static readonly UpdateParseContext[] Contexts =
    [
        new(true, true, 64512), new(false, true, 64512), new(true, false, 64512), new(false, false, 64512),
    ];

    [Fact]
    public void Decoders_RandomBytesWithValidHeader_NeverThrow()
    {
        var random = new Random(0xB6B);
        var buffer = new byte[4096];
        for (var i = 0; i < 20_000; i++)
        {
            var type = (BgpMessageType)random.Next(1, 6);
            var length = type switch
            {
                BgpMessageType.Keepalive => 19,
                BgpMessageType.RouteRefresh => 23,
                _ => random.Next(23, i % 10 == 0 ? 4096 : 120),
            };
            random.NextBytes(buffer.AsSpan(BgpHeader.Length, length - BgpHeader.Length));
            BgpHeader.Write(buffer, length, type);
            Decode(buffer.AsSpan(0, length));
        }
    }

    [Fact]
    public void Decoders_MutatedValidMessages_NeverThrow()
    {
        var random = new Random(0xF022);
        var seeds = ValidMessages();
        var buffer = new byte[4096];
        for (var i = 0; i < 30_000; i++)
        {
            var seed = seeds[random.Next(seeds.Count)];
            seed.CopyTo(buffer, 0);
            var length = seed.Length;
            var flips = random.Next(1, 4);
            for (var f = 0; f < flips; f++)
            {
                // Mutate the body only, mostly small values so that lengths stay plausible and reach deep code.
                var at = random.Next(BgpHeader.Length, length);
                buffer[at] = random.Next(3) switch
                {
                    0 => (byte)random.Next(256),
                    1 => (byte)(buffer[at] + random.Next(-2, 3)),
                    _ => (byte)(buffer[at] ^ (1 << random.Next(8))),
                };
            }
            if (random.Next(4) == 0)
            {
                length = Math.Max(BgpHeader.Length + 4, length - random.Next(1, 8));
                BgpHeader.Write(buffer, length, (BgpMessageType)buffer[18]);
            }
            Decode(buffer.AsSpan(0, length));
        }
    }

    [Fact]
    public void TryReadFrame_RandomStreams_NeverThrow()
    {
        var random = new Random(7);
        var buffer = new byte[256];
        for (var i = 0; i < 50_000; i++)
        {
            random.NextBytes(buffer);
            if (i % 2 == 0)
            {
                buffer.AsSpan(0, 16).Fill(0xFF);
            }
            var length = random.Next(0, buffer.Length);
            var status = BgpHeader.TryReadFrame(buffer.AsSpan(0, length), out var messageLength, out _, out var error);
            if (status == BgpFrameStatus.Complete)
            {
                Assert.InRange(messageLength, BgpHeader.Length, length);
            }
            if (status == BgpFrameStatus.Invalid)
            {
                Assert.Equal(BgpErrorCode.MessageHeader, error.Code);
            }
        }
    }

    private static void Decode(ReadOnlySpan<byte> message)
    {
        if (BgpHeader.TryReadFrame(message, out var length, out var type, out _) != BgpFrameStatus.Complete)
        {
            return;
        }
        var m = message[..length];
        switch (type)
        {
            case BgpMessageType.Open:
                if (BgpOpenMessage.TryDecode(m, out var open, out _))
                {
                    Assert.NotNull(open);
                }
                break;
            case BgpMessageType.Update:
                foreach (var ctx in Contexts)
                {
                    if (BgpUpdate.TryDecode(m, ctx, out var update, out var error))
                    {
                        Assert.NotNull(update);
                    }
                    else
                    {
                        Assert.Equal(BgpErrorCode.UpdateMessage, error.Code);
                    }
                }
                break;
            case BgpMessageType.Notification:
                _ = BgpNotification.Read(m).ToString();
                break;
            case BgpMessageType.RouteRefresh:
                _ = BgpRouteRefresh.Read(m);
                break;
        }
    }

    private static List<byte[]> ValidMessages()
    {
        var list = new List<byte[]>();
        var buffer = new byte[4096];
        var open = new BgpOpenMessage(4, 64512, 90, 1, new BgpCapabilities
        {
            Multiprotocol = [AfiSafi.IPv4Unicast, AfiSafi.IPv6Unicast],
            RouteRefresh = true,
            FourOctetAs = 64512,
            GracefulRestart = new GracefulRestartCapability(true, false, 120, [new GracefulRestartFamily(AfiSafi.IPv4Unicast, true)]),
        });
        open.TryWrite(buffer, out var n);
        list.Add(buffer[..n]);
        var attrs = BgpUpdateWriter.EncodeAttributes(new UpdateEncodingContext(false, true, 64512), System.Net.IPAddress.Parse("198.51.100.1"), 100,
            [BgpCommunity.NoExport], [new BgpLargeCommunity(1, 2, 3)]);
        System.Net.IPNetwork[] v4 = [System.Net.IPNetwork.Parse("198.51.100.10/32"), System.Net.IPNetwork.Parse("203.0.113.0/24")];
        System.Net.IPNetwork[] v6 = [System.Net.IPNetwork.Parse("2001:db8::10/128"), System.Net.IPNetwork.Parse("2001:db8:1::/48")];
        BgpUpdateWriter.WriteAnnouncements(buffer, AfiSafi.IPv4Unicast, attrs, [], v4, 0, out n);
        list.Add(buffer[..n]);
        var attrs6 = BgpUpdateWriter.EncodeAttributes(new UpdateEncodingContext(true, false, 64512), null, 100, [BgpCommunity.NoExport], [new BgpLargeCommunity(1, 2, 3)]);
        BgpUpdateWriter.WriteAnnouncements(buffer, AfiSafi.IPv6Unicast, attrs6, BgpUpdateWriter.EncodeIPv6NextHop(System.Net.IPAddress.Parse("2001:db8::1"), System.Net.IPAddress.Parse("fe80::1")), v6, 0, out n);
        list.Add(buffer[..n]);
        BgpUpdateWriter.WriteWithdrawals(buffer, AfiSafi.IPv4Unicast, v4, 0, out n);
        list.Add(buffer[..n]);
        BgpUpdateWriter.WriteWithdrawals(buffer, AfiSafi.IPv6Unicast, v6, 0, out n);
        list.Add(buffer[..n]);
        BgpNotification.TryWrite(buffer, new BgpError(BgpErrorCode.Cease, 2, [3, 97, 98, 99]), out n);
        list.Add(buffer[..n]);
        return list;
    }
}

/// <summary>Random and mutated messages into an established state machine: never an exception; every error ends in a NOTIFICATION.</summary>
public sealed class StateMachineFuzzTests
{
    [Fact]
    public void OnMessage_RandomInputWhileEstablished_NotificationOrAcceptedNeverThrows()
    {
        var random = new Random(0x5E55);
        var buffer = new byte[4096];
        var accepted = 0;
        var rejected = 0;
        for (var i = 0; i < 3000; i++)
        {
            var h = new Session.FsmHarness();
            var id = h.Establish();
            var length = random.Next(19, i % 20 == 0 ? 4096 : 100);
            random.NextBytes(buffer.AsSpan(0, length));
            if (random.Next(4) != 0)
            {
                // Mostly a valid header, so the body reaches the decoders.
                BgpHeader.Write(buffer, length, (BgpMessageType)random.Next(1, 6));
            }
            h.Machine.OnMessage(id, buffer.AsSpan(0, length));
            if (h.Machine.State == BgpSessionState.Established)
            {
                accepted++;
            }
            else
            {
                rejected++;
                Assert.Equal(BgpSessionState.Active, h.Machine.State);
                Assert.Contains(id, h.Closed);
                var types = h.TypesSentOn(id);
                // A NOTIFICATION from the peer is closed without a reply; anything else we reject with one.
                Assert.True(buffer[18] == (byte)BgpMessageType.Notification || types[^1] == BgpMessageType.Notification);
            }
        }
        Assert.True(rejected > 2000, $"{rejected} rejected");
        Assert.True(accepted > 0, $"{accepted} accepted");
    }
}

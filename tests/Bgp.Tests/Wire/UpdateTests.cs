using System.Net;
using BareLb.Bgp.Wire;
using FsCheck;
using FsCheck.Fluent;
using static BareLb.Bgp.Tests.Wire.Messages;

namespace BareLb.Bgp.Tests.Wire;

public sealed class UpdateTests
{
    private static readonly byte[] V4Nlri = [32, 198, 51, 100, 10];

    [Fact]
    public void TryDecode_HandBuiltIPv4Announcement_AllFields()
    {
        var message = Update([24, 203, 0, 113],
            Concat(Origin(0), AsPath2(64512, 64513), NextHop(198, 51, 100, 1), Attr(0x80, 4, 0, 0, 0, 5),
                Attr(0xC0, 8, 0xFF, 0xFF, 0xFF, 0x01, 0xFD, 0xE8, 0x00, 0x64),
                Attr(0xC0, 32, 0, 0, 0xFD, 0xE8, 0, 0, 0, 1, 0, 0, 0, 2)),
            V4Nlri);
        var ctx = new UpdateParseContext(FourOctetAs: false, External: true, PeerAsOnPath: 64512);
        Assert.True(BgpUpdate.TryDecode(message, ctx, out var u, out var error), error.ToString());
        Assert.Equal([IPNetwork.Parse("203.0.113.0/24")], u!.Withdrawn);
        Assert.Equal([IPNetwork.Parse("198.51.100.10/32")], u.Nlri);
        Assert.Equal((byte)0, u.Origin);
        Assert.Equal([64512u, 64513u], u.FlatAsPath());
        Assert.Equal(IPAddress.Parse("198.51.100.1"), u.NextHop);
        Assert.Equal(5u, u.Med);
        Assert.Equal([BgpCommunity.NoExport, BgpCommunity.Parse("65000:100")], u.Communities);
        Assert.Equal([new BgpLargeCommunity(65000, 1, 2)], u.LargeCommunities);
        Assert.Null(u.EndOfRib);
    }

    [Fact]
    public void TryParse_TrailingBitsSetInPrefix_MaskedOnDecode()
    {
        var message = Update([], Concat(Origin(), AsPath4(64512), NextHop(198, 51, 100, 1)), [23, 198, 51, 101]);
        Assert.True(BgpUpdate.TryDecode(message, Ebgp4(), out var u, out _));
        Assert.Equal([IPNetwork.Parse("198.51.100.0/23")], u!.Nlri);
    }

    [Fact]
    public void TryDecode_As4PathFromTwoOctetPeer_MergedIntoFlatPath()
    {
        // An OLD speaker (AS 64512) relays a path through AS 4200000001, written as AS_TRANS with AS4_PATH.
        var as4Path = Attr(0xC0, 17, 2, 1, 0xFA, 0x56, 0xEA, 0x01);
        var message = Update([], Concat(Origin(), AsPath2(64512, BgpOpenMessage.AsTrans), NextHop(198, 51, 100, 1), as4Path), V4Nlri);
        var ctx = new UpdateParseContext(FourOctetAs: false, External: true, PeerAsOnPath: 64512);
        Assert.True(BgpUpdate.TryDecode(message, ctx, out var u, out _));
        Assert.Equal([64512u, 4_200_000_001u], u!.FlatAsPath());
    }

    [Fact]
    public void TryDecode_EndOfRibMarkers_Recognised()
    {
        var buffer = new byte[64];
        var n = BgpUpdateWriter.WriteEndOfRib(buffer, AfiSafi.IPv4Unicast);
        Assert.True(BgpUpdate.TryDecode(buffer.AsSpan(0, n), Ebgp4(), out var v4, out _));
        Assert.Equal(AfiSafi.IPv4Unicast, v4!.EndOfRib);
        n = BgpUpdateWriter.WriteEndOfRib(buffer, AfiSafi.IPv6Unicast);
        Assert.Equal("ffffffffffffffffffffffffffffffff001d02" + "0000" + "0006" + "800f03000201", Convert.ToHexStringLower(buffer.AsSpan(0, n)));
        Assert.True(BgpUpdate.TryDecode(buffer.AsSpan(0, n), Ebgp4(), out var v6, out _));
        Assert.Equal(AfiSafi.IPv6Unicast, v6!.EndOfRib);
    }

    [Fact]
    public void IsEndOfRib_UpdateWithOnlyAnAttribute_NotEndOfRib()
    {
        // ATOMIC_AGGREGATE alone, no NLRI: valid (attributes without routes are ignored), but not an End-of-RIB.
        Assert.True(BgpUpdateParser.TryParse(Update([], Attr(0x40, 6), []), Ebgp4(), out var u, out _));
        Assert.False(u.IsEndOfRib(out _));
        // MP_UNREACH with a prefix is a withdrawal, not an End-of-RIB.
        Assert.True(BgpUpdateParser.TryParse(Update([], Attr(0x80, 15, 0, 2, 1, 32, 0x20, 0x01, 0x0d, 0xb8), []), Ebgp4(), out u, out _));
        Assert.False(u.IsEndOfRib(out _));
        Assert.Equal(1, u.MpUnreachCount);
    }

    public static TheoryData<string, byte[], byte, string> BadUpdates()
    {
        var good = Concat(Origin(), AsPath4(64512), NextHop(198, 51, 100, 1));
        var data = new TheoryData<string, byte[], byte, string>
        {
            { "withdrawn length past the end", Frame(BgpMessageType.Update, 0, 9, 0, 0), UpdateMessageSubcode.MalformedAttributeList, "" },
            { "attribute length past the end", Frame(BgpMessageType.Update, 0, 0, 0, 9, 0x40, 1), UpdateMessageSubcode.MalformedAttributeList, "" },
            { "attribute header cut", Update([], [0x40, 1], []), UpdateMessageSubcode.MalformedAttributeList, "" },
            { "attribute value past the attributes", Update([], [0x40, 1, 5, 0], []), UpdateMessageSubcode.AttributeLengthError, "40010500" },
            { "ORIGIN twice", Update([], Concat(good, Origin()), V4Nlri), UpdateMessageSubcode.MalformedAttributeList, "" },
            { "unknown well-known attribute", Update([], Concat(good, Attr(0x40, 99, 1)), V4Nlri), UpdateMessageSubcode.UnrecognizedWellKnownAttribute, "40630101" },
            { "ORIGIN marked optional", Update([], Concat(Attr(0xC0, 1, 0), AsPath4(64512), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.AttributeFlagsError, "c0010100" },
            { "MED marked transitive", Update([], Concat(good, Attr(0xC0, 4, 0, 0, 0, 1)), V4Nlri), UpdateMessageSubcode.AttributeFlagsError, "c00404" + "00000001" },
            { "NEXT_HOP partial", Update([], Concat(Origin(), AsPath4(64512), Attr(0x60, 3, 198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.AttributeFlagsError, "600304c6336401" },
            { "ORIGIN of two octets", Update([], Concat(Attr(0x40, 1, 0, 0), AsPath4(64512), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.AttributeLengthError, "4001020000" },
            { "LOCAL_PREF of three octets", Update([], Concat(good, Attr(0x40, 5, 0, 0, 100)), V4Nlri), UpdateMessageSubcode.AttributeLengthError, "400503000064" },
            { "COMMUNITIES of five octets", Update([], Concat(good, Attr(0xC0, 8, 1, 2, 3, 4, 5)), V4Nlri), UpdateMessageSubcode.AttributeLengthError, "c008050102030405" },
            { "LARGE_COMMUNITY of eleven octets", Update([], Concat(good, Attr(0xC0, 32, new byte[11])), V4Nlri), UpdateMessageSubcode.AttributeLengthError, "c0200b" + new string('0', 22) },
            { "ORIGIN 3", Update([], Concat(Origin(3), AsPath4(64512), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.InvalidOriginAttribute, "40010103" },
            { "missing ORIGIN", Update([], Concat(AsPath4(64512), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.MissingWellKnownAttribute, "01" },
            { "missing AS_PATH", Update([], Concat(Origin(), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.MissingWellKnownAttribute, "02" },
            { "missing NEXT_HOP", Update([], Concat(Origin(), AsPath4(64512)), V4Nlri), UpdateMessageSubcode.MissingWellKnownAttribute, "03" },
            { "NEXT_HOP 0.0.0.0", Update([], Concat(Origin(), AsPath4(64512), NextHop(0, 0, 0, 0)), V4Nlri), UpdateMessageSubcode.InvalidNextHopAttribute, "40030400000000" },
            { "NEXT_HOP multicast", Update([], Concat(Origin(), AsPath4(64512), NextHop(224, 0, 0, 5)), V4Nlri), UpdateMessageSubcode.InvalidNextHopAttribute, "400304e0000005" },
            { "NLRI /33", Update([], good, [33, 1, 2, 3, 4, 5]), UpdateMessageSubcode.InvalidNetworkField, "" },
            { "NLRI cut", Update([], good, [24, 198, 51]), UpdateMessageSubcode.InvalidNetworkField, "" },
            { "withdrawn /40", Update([40, 1, 2, 3, 4, 5], [], []), UpdateMessageSubcode.InvalidNetworkField, "" },
            { "AS_PATH segment type 7", Update([], Concat(Origin(), Attr(0x40, 2, 7, 1, 0, 0, 0xFC, 0), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.MalformedAsPath, "" },
            { "AS_PATH segment cut", Update([], Concat(Origin(), Attr(0x40, 2, 2, 2, 0, 0, 0xFC, 0), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.MalformedAsPath, "" },
            { "AS_PATH empty segment", Update([], Concat(Origin(), Attr(0x40, 2, 2, 0), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.MalformedAsPath, "" },
            { "eBGP AS_PATH not starting with the peer", Update([], Concat(Origin(), AsPath4(65000), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.MalformedAsPath, "" },
            { "eBGP AS_PATH empty", Update([], Concat(Origin(), AsPath2(), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.MalformedAsPath, "" },
            { "eBGP confederation segment", Update([], Concat(Origin(), Attr(0x40, 2, 3, 1, 0, 0, 0xFC, 0), NextHop(198, 51, 100, 1)), V4Nlri), UpdateMessageSubcode.MalformedAsPath, "" },
            { "MP_REACH IPv6 next hop of 4 octets", Update([], Concat(Attr(0x80, 14, 0, 2, 1, 4, 1, 2, 3, 4, 0), Origin(), AsPath4(64512)), []), UpdateMessageSubcode.OptionalAttributeError, "800e09000201040102030400" },
            { "MP_REACH cut", Update([], Attr(0x80, 14, 0, 2, 1, 16, 1, 2), []), UpdateMessageSubcode.OptionalAttributeError, "800e06000201100102" },
            { "MP_UNREACH /129", Update([], Attr(0x80, 15, 0, 2, 1, 129), []), UpdateMessageSubcode.OptionalAttributeError, "800f0400020181" },
        };
        return data;
    }

    [Theory]
    [MemberData(nameof(BadUpdates))]
    public void TryParse_Malformed_UpdateMessageErrorWithData(string why, byte[] message, byte subcode, string data)
    {
        Assert.False(BgpUpdateParser.TryParse(message, Ebgp4(), out _, out var error), why);
        Assert.Equal(BgpErrorCode.UpdateMessage, error.Code);
        Assert.Equal(subcode, error.Subcode);
        Assert.Equal(data, Convert.ToHexStringLower(error.Data ?? []));
    }

    [Fact]
    public void TryParse_IbgpConfederationAndMalformedAs4Path_Accepted()
    {
        var ctx = new UpdateParseContext(FourOctetAs: false, External: false, PeerAsOnPath: 64512);
        var as4Broken = Attr(0xC0, 17, 2, 5, 0, 0);
        var message = Update([], Concat(Origin(), Attr(0x40, 2, 3, 1, 0xFC, 0), NextHop(198, 51, 100, 1), Attr(0x40, 5, 0, 0, 0, 100), as4Broken), V4Nlri);
        Assert.True(BgpUpdateParser.TryParse(message, ctx, out var u, out var error), error.ToString());
        Assert.False(u.HasAs4Path);
        Assert.Equal(100u, u.LocalPreference);
    }

    [Fact]
    public void TryParse_UnknownOptionalAttributeAndOtherFamily_Ignored()
    {
        // An optional transitive attribute 200, and MP_REACH for VPNv4 (1/128) whose NLRI we do not read.
        var message = Update([], Concat(Attr(0x80, 14, [0, 1, 128, 12, .. new byte[12], 0, 0x58, 1, 2, 3]), Origin(), AsPath4(64512), Attr(0xC0, 200, 9, 9)), []);
        Assert.True(BgpUpdateParser.TryParse(message, Ebgp4(), out var u, out var error), error.ToString());
        Assert.Equal(new AfiSafi(1, 128), u.MpReachFamily);
        Assert.Equal(1, u.OtherAttributes);
    }

    private static readonly Gen<IPNetwork> V4Prefix =
        from a in Gen.Choose(0, int.MaxValue)
        from len in Gen.Choose(0, 32)
        select new IPNetwork(Mask(new IPAddress(BitConverter.GetBytes(a)), len), len);

    private static readonly Gen<IPNetwork> V6Prefix =
        from hi in Gen.Choose(0, int.MaxValue)
        from lo in Gen.Choose(0, int.MaxValue)
        from len in Gen.Choose(0, 128)
        select new IPNetwork(Mask(new IPAddress([.. BitConverter.GetBytes(hi), .. new byte[8], .. BitConverter.GetBytes(lo)]), len), len);

    private static IPAddress Mask(IPAddress address, int bits)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(bits - 8 * i, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }

    [Fact]
    public void WriteAnnouncementsAndWithdrawals_RandomRoutes_ParseBackExactly()
    {
        var gen =
            from v6 in Gen.Elements(false, true)
            from prefixes in (v6 ? V6Prefix : V4Prefix).ListOf().Select(l => l.Distinct().ToArray())
            from communities in Gen.Choose(0, int.MaxValue).Select(x => new BgpCommunity((uint)x)).ListOf().Select(l => l.Take(40).Distinct().Order().ToArray())
            from large in Gen.Choose(0, 1000).Select(x => new BgpLargeCommunity((uint)x, 7, (uint)(x * 3))).ListOf().Select(l => l.Take(20).Distinct().Order().ToArray())
            from external in Gen.Elements(false, true)
            from fourOctet in Gen.Elements(false, true)
            from localAs in Gen.Elements(64512u, 4_200_000_001u)
            from localPref in Gen.Choose(0, 1000)
            from linkLocal in Gen.Elements(false, true)
            select (v6, prefixes, communities, large, external, fourOctet, localAs, localPref: (uint)localPref, linkLocal);
        Prop.ForAll(Arb.From(gen), c =>
        {
            var family = c.v6 ? AfiSafi.IPv6Unicast : AfiSafi.IPv4Unicast;
            var ctx = new UpdateEncodingContext(c.fourOctet, c.external, c.localAs);
            var attributes = BgpUpdateWriter.EncodeAttributes(ctx, c.v6 ? null : IPAddress.Parse("198.51.100.7"), c.localPref, c.communities, c.large);
            var nextHop = BgpUpdateWriter.EncodeIPv6NextHop(IPAddress.Parse("2001:db8::7"), c.linkLocal ? IPAddress.Parse("fe80::7") : null);
            var expectedFirstAs = c.fourOctet || c.localAs <= ushort.MaxValue ? c.localAs : BgpOpenMessage.AsTrans;
            var parse = new UpdateParseContext(c.fourOctet, c.external, expectedFirstAs);
            var buffer = new byte[4096];
            var announced = new List<IPNetwork>();
            for (var start = 0; start < c.prefixes.Length || start == 0;)
            {
                var n = BgpUpdateWriter.WriteAnnouncements(buffer, family, attributes, nextHop, c.prefixes, start, out var written);
                Assert.True(written <= 4096);
                Assert.True(BgpUpdate.TryDecode(buffer.AsSpan(0, written), parse, out var u, out var error), error.ToString());
                announced.AddRange(c.v6 ? u!.MpReachNlri : u!.Nlri);
                if (c.prefixes.Length > 0)
                {
                    Assert.Equal(c.communities, u.Communities);
                    Assert.Equal(c.large, u.LargeCommunities);
                    Assert.Equal(c.external ? [c.localAs] : [], u.FlatAsPath());
                    Assert.Equal(c.external ? null : (uint?)c.localPref, u.LocalPreference);
                    if (c.v6)
                    {
                        Assert.Equal(c.linkLocal ? 2 : 1, u.MpReachNextHops.Count);
                        Assert.Equal(IPAddress.Parse("2001:db8::7"), u.MpReachNextHops[0]);
                    }
                    else
                    {
                        Assert.Equal(IPAddress.Parse("198.51.100.7"), u.NextHop);
                    }
                }
                if (n == 0)
                {
                    break;
                }
                start += n;
            }
            Assert.Equal(c.prefixes, announced);

            var withdrawn = new List<IPNetwork>();
            for (var start = 0; start < c.prefixes.Length;)
            {
                var n = BgpUpdateWriter.WriteWithdrawals(buffer, family, c.prefixes, start, out var written);
                Assert.True(n > 0 && written <= 4096);
                Assert.True(BgpUpdate.TryDecode(buffer.AsSpan(0, written), parse, out var u, out var error), error.ToString());
                withdrawn.AddRange(c.v6 ? u!.MpUnreachNlri : u!.Withdrawn);
                start += n;
            }
            Assert.Equal(c.prefixes, withdrawn);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void WriteAnnouncements_TenThousandHostRoutes_PacksMessagesFull()
    {
        var prefixes = Enumerable.Range(0, 10_000).Select(i => new IPNetwork(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]), 32)).ToArray();
        var attributes = BgpUpdateWriter.EncodeAttributes(new UpdateEncodingContext(true, true, 64512), IPAddress.Parse("198.51.100.7"), 100, [], []);
        var buffer = new byte[4096];
        var messages = 0;
        for (var start = 0; start < prefixes.Length; messages++)
        {
            start += BgpUpdateWriter.WriteAnnouncements(buffer, AfiSafi.IPv4Unicast, attributes, [], prefixes, start, out _);
        }
        // (4096 - 19 - 4 - 20 octets of attributes) / 5 = 810 host routes per message.
        Assert.Equal(13, messages);
    }
}

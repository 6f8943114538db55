using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BareLb.Bgp.Wire;

/// <summary>How our UPDATEs are encoded on one established session.</summary>
/// <param name="FourOctetAs">Both sides sent the RFC 6793 capability: AS_PATH carries 4-octet ASes.</param>
/// <param name="External">eBGP: our AS leads AS_PATH and LOCAL_PREF is not sent; iBGP: empty AS_PATH, LOCAL_PREF always.</param>
public readonly record struct UpdateEncodingContext(bool FourOctetAs, bool External, uint LocalAs);

/// <summary>
/// Writes our UPDATE messages, each at most <see cref="BgpHeader.MaxMessageLength"/> octets, as many prefixes
/// as fit. IPv4 goes in the classic withdrawn/NLRI fields, IPv6 in MP_UNREACH_NLRI / MP_REACH_NLRI, which is
/// written first among the attributes as RFC 7606 section 5.1 asks. Attribute layout: see <see cref="BgpUpdateParser"/>.
/// </summary>
public static class BgpUpdateWriter
{
    private const byte OriginIgp = 0;
    private const byte AsSequence = 2;

    /// <summary>Writes withdrawals from <paramref name="prefixes"/>[start..]; returns how many went in.</summary>
    public static int WriteWithdrawals(Span<byte> destination, AfiSafi family, IReadOnlyList<IPNetwork> prefixes, int start, out int written)
    {
        var d = destination[..Math.Min(destination.Length, BgpHeader.MaxMessageLength)];
        var body = d[BgpHeader.Length..];
        int count;
        if (family == AfiSafi.IPv4Unicast)
        {
            count = WritePrefixes(body[2..^2], prefixes, start, out var used);
            BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)used);
            BinaryPrimitives.WriteUInt16BigEndian(body[(2 + used)..], 0);
            written = BgpHeader.Length + 4 + used;
        }
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(body, 0);
            var attribute = body[4..];
            count = WritePrefixes(attribute[7..], prefixes, start, out var used);
            attribute[0] = PathAttributeFlags.Optional | PathAttributeFlags.ExtendedLength;
            attribute[1] = PathAttributeType.MpUnreachNlri;
            BinaryPrimitives.WriteUInt16BigEndian(attribute[2..], (ushort)(3 + used));
            BinaryPrimitives.WriteUInt16BigEndian(attribute[4..], family.Afi);
            attribute[6] = family.Safi;
            BinaryPrimitives.WriteUInt16BigEndian(body[2..], (ushort)(7 + used));
            written = BgpHeader.Length + 4 + 7 + used;
        }
        BgpHeader.Write(d, written, BgpMessageType.Update);
        return count;
    }

    /// <summary>
    /// Writes announcements sharing <paramref name="attributes"/> (encoded by <see cref="EncodeAttributes"/>); for
    /// IPv6, <paramref name="mpNextHop"/> is the 16 or 32 octet MP_REACH next hop.
    /// </summary>
    public static int WriteAnnouncements(Span<byte> destination, AfiSafi family, ReadOnlySpan<byte> attributes, ReadOnlySpan<byte> mpNextHop, IReadOnlyList<IPNetwork> prefixes, int start, out int written)
    {
        var d = destination[..Math.Min(destination.Length, BgpHeader.MaxMessageLength)];
        var body = d[BgpHeader.Length..];
        BinaryPrimitives.WriteUInt16BigEndian(body, 0);
        int count;
        if (family == AfiSafi.IPv4Unicast)
        {
            attributes.CopyTo(body[4..]);
            count = WritePrefixes(body[(4 + attributes.Length)..], prefixes, start, out var used);
            BinaryPrimitives.WriteUInt16BigEndian(body[2..], (ushort)attributes.Length);
            written = BgpHeader.Length + 4 + attributes.Length + used;
        }
        else
        {
            var mp = body[4..];
            var fixedPart = 4 + 5 + mpNextHop.Length;
            // The NLRI sit inside MP_REACH, before the other attributes: count what fits first, then move the rest up.
            count = WritePrefixes(mp[fixedPart..^attributes.Length], prefixes, start, out var used);
            mp[0] = PathAttributeFlags.Optional | PathAttributeFlags.ExtendedLength;
            mp[1] = PathAttributeType.MpReachNlri;
            BinaryPrimitives.WriteUInt16BigEndian(mp[2..], (ushort)(fixedPart - 4 + used));
            BinaryPrimitives.WriteUInt16BigEndian(mp[4..], family.Afi);
            mp[6] = family.Safi;
            mp[7] = (byte)mpNextHop.Length;
            mpNextHop.CopyTo(mp[8..]);
            mp[8 + mpNextHop.Length] = 0;
            attributes.CopyTo(mp[(fixedPart + used)..]);
            var attributesLength = fixedPart + used + attributes.Length;
            BinaryPrimitives.WriteUInt16BigEndian(body[2..], (ushort)attributesLength);
            written = BgpHeader.Length + 4 + attributesLength;
        }
        BgpHeader.Write(d, written, BgpMessageType.Update);
        return count;
    }

    /// <summary>RFC 4724 End-of-RIB: an empty UPDATE for IPv4 unicast, an empty MP_UNREACH_NLRI for other families.</summary>
    public static int WriteEndOfRib(Span<byte> destination, AfiSafi family)
    {
        if (family == AfiSafi.IPv4Unicast)
        {
            destination[19..23].Clear();
            BgpHeader.Write(destination, 23, BgpMessageType.Update);
            return 23;
        }
        var body = destination[BgpHeader.Length..];
        BinaryPrimitives.WriteUInt16BigEndian(body, 0);
        BinaryPrimitives.WriteUInt16BigEndian(body[2..], 6);
        body[4] = PathAttributeFlags.Optional;
        body[5] = PathAttributeType.MpUnreachNlri;
        body[6] = 3;
        BinaryPrimitives.WriteUInt16BigEndian(body[7..], family.Afi);
        body[9] = family.Safi;
        BgpHeader.Write(destination, 29, BgpMessageType.Update);
        return 29;
    }

    /// <summary>
    /// The attributes one group of our routes shares, in type-code order (MP_REACH_NLRI, written per message, goes
    /// before them): ORIGIN IGP, AS_PATH, NEXT_HOP (IPv4 only), LOCAL_PREF (iBGP only), COMMUNITIES, AS4_PATH
    /// (our AS does not fit a 2-octet session), LARGE_COMMUNITY.
    /// </summary>
    public static byte[] EncodeAttributes(in UpdateEncodingContext context, IPAddress? ipv4NextHop, uint localPreference, IReadOnlyList<BgpCommunity> communities, IReadOnlyList<BgpLargeCommunity> largeCommunities)
    {
        Span<byte> buffer = stackalloc byte[BgpHeader.MaxMessageLength];
        var w = new SpanWriter(buffer);
        w.Byte(PathAttributeFlags.Transitive);
        w.Byte(PathAttributeType.Origin);
        w.Byte(1);
        w.Byte(OriginIgp);

        var as4Needed = context.External && !context.FourOctetAs && context.LocalAs > ushort.MaxValue;
        w.Byte(PathAttributeFlags.Transitive);
        w.Byte(PathAttributeType.AsPath);
        if (!context.External)
        {
            w.Byte(0);
        }
        else if (context.FourOctetAs)
        {
            w.Byte(6);
            w.Byte(AsSequence);
            w.Byte(1);
            w.UInt32(context.LocalAs);
        }
        else
        {
            w.Byte(4);
            w.Byte(AsSequence);
            w.Byte(1);
            w.UInt16(as4Needed ? BgpOpenMessage.AsTrans : (ushort)context.LocalAs);
        }

        if (ipv4NextHop is not null)
        {
            Span<byte> address = stackalloc byte[4];
            ipv4NextHop.TryWriteBytes(address, out _);
            w.Byte(PathAttributeFlags.Transitive);
            w.Byte(PathAttributeType.NextHop);
            w.Byte(4);
            w.Bytes(address);
        }

        if (!context.External)
        {
            w.Byte(PathAttributeFlags.Transitive);
            w.Byte(PathAttributeType.LocalPref);
            w.Byte(4);
            w.UInt32(localPreference);
        }

        if (communities.Count > 0)
        {
            WriteHeader(ref w, PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.Communities, communities.Count * 4);
            foreach (var c in communities)
            {
                w.UInt32(c.Value);
            }
        }

        if (as4Needed)
        {
            w.Byte(PathAttributeFlags.Optional | PathAttributeFlags.Transitive);
            w.Byte(PathAttributeType.As4Path);
            w.Byte(6);
            w.Byte(AsSequence);
            w.Byte(1);
            w.UInt32(context.LocalAs);
        }

        if (largeCommunities.Count > 0)
        {
            WriteHeader(ref w, PathAttributeFlags.Optional | PathAttributeFlags.Transitive, PathAttributeType.LargeCommunities, largeCommunities.Count * 12);
            foreach (var c in largeCommunities)
            {
                w.UInt32(c.GlobalAdministrator);
                w.UInt32(c.LocalData1);
                w.UInt32(c.LocalData2);
            }
        }
        if (w.Overflowed || w.Position > BgpHeader.MaxMessageLength - BgpHeader.Length - 4 - 64)
        {
            throw new ArgumentException("the route's attributes do not fit one UPDATE message (too many communities)");
        }
        return buffer[..w.Position].ToArray();
    }

    /// <summary>The MP_REACH next hop: a global IPv6 address, followed by a link-local one when given (32 octets).</summary>
    public static byte[] EncodeIPv6NextHop(IPAddress global, IPAddress? linkLocal)
    {
        var bytes = new byte[linkLocal is null ? 16 : 32];
        global.TryWriteBytes(bytes, out _);
        if (linkLocal is not null)
        {
            // The scope id is local to this host; only the 16 address octets travel.
            new IPAddress(linkLocal.GetAddressBytes()).TryWriteBytes(bytes.AsSpan(16), out _);
        }
        return bytes;
    }

    public static AfiSafi FamilyOf(IPNetwork prefix) =>
        prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? AfiSafi.IPv4Unicast : AfiSafi.IPv6Unicast;

    private static void WriteHeader(ref SpanWriter w, byte flags, byte type, int length)
    {
        if (length > 255)
        {
            w.Byte((byte)(flags | PathAttributeFlags.ExtendedLength));
            w.Byte(type);
            w.UInt16((ushort)length);
        }
        else
        {
            w.Byte(flags);
            w.Byte(type);
            w.Byte((byte)length);
        }
    }

    private static int WritePrefixes(Span<byte> room, IReadOnlyList<IPNetwork> prefixes, int start, out int used)
    {
        used = 0;
        var i = start;
        for (; i < prefixes.Count; i++)
        {
            var size = BgpPrefix.EncodedSize(prefixes[i]);
            if (used + size > room.Length)
            {
                break;
            }
            used += BgpPrefix.Write(room[used..], prefixes[i]);
        }
        return i - start;
    }
}

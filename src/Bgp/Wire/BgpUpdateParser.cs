using System.Buffers.Binary;

namespace BareLb.Bgp.Wire;

/// <summary>Path attribute type codes (RFC 4271, 4456, 4760, 1997, 4360, 6793, 8092).</summary>
public static class PathAttributeType
{
    public const byte Origin = 1;
    public const byte AsPath = 2;
    public const byte NextHop = 3;
    public const byte MultiExitDisc = 4;
    public const byte LocalPref = 5;
    public const byte AtomicAggregate = 6;
    public const byte Aggregator = 7;
    public const byte Communities = 8;
    public const byte OriginatorId = 9;
    public const byte ClusterList = 10;
    public const byte MpReachNlri = 14;
    public const byte MpUnreachNlri = 15;
    public const byte ExtendedCommunities = 16;
    public const byte As4Path = 17;
    public const byte As4Aggregator = 18;
    public const byte LargeCommunities = 32;
}

public static class PathAttributeFlags
{
    public const byte Optional = 0x80;
    public const byte Transitive = 0x40;
    public const byte Partial = 0x20;
    public const byte ExtendedLength = 0x10;
}

/// <summary>What the session knows that decides how an UPDATE is read: AS number width, and whether the peer is external.</summary>
/// <param name="PeerAsOnPath">The AS the peer must put first in AS_PATH (its OPEN's My AS on a 2-octet session).</param>
public readonly record struct UpdateParseContext(bool FourOctetAs, bool External, uint PeerAsOnPath);

/// <summary>
/// One UPDATE, validated, as spans into the received message: nothing is allocated. Attributes the RFCs allow at
/// most once are kept in fields; reachability and withdrawals are left encoded and counted.
/// </summary>
public ref struct ParsedUpdate
{
    public ReadOnlySpan<byte> Withdrawn;
    public int WithdrawnCount;
    public ReadOnlySpan<byte> Nlri;
    public int NlriCount;
    public bool HasOrigin;
    public byte Origin;
    public bool HasAsPath;
    public ReadOnlySpan<byte> AsPath;
    public bool HasNextHop;
    public uint NextHop;
    public bool HasMed;
    public uint Med;
    public bool HasLocalPreference;
    public uint LocalPreference;
    public bool AtomicAggregate;
    public ReadOnlySpan<byte> Communities;
    public ReadOnlySpan<byte> LargeCommunities;
    public bool HasAs4Path;
    public ReadOnlySpan<byte> As4Path;
    public bool HasMpReach;
    public AfiSafi MpReachFamily;
    public ReadOnlySpan<byte> MpReachNextHop;
    public ReadOnlySpan<byte> MpReachNlri;
    public int MpReachCount;
    public bool HasMpUnreach;
    public AfiSafi MpUnreachFamily;
    public ReadOnlySpan<byte> MpUnreachNlri;
    public int MpUnreachCount;
    public int OtherAttributes;
    public int AttributeCount;

    /// <summary>RFC 4724 End-of-RIB: an empty UPDATE (IPv4 unicast), or one holding only an empty MP_UNREACH_NLRI.</summary>
    public readonly bool IsEndOfRib(out AfiSafi family)
    {
        family = default;
        if (Withdrawn.Length != 0 || Nlri.Length != 0)
        {
            return false;
        }
        if (AttributeCount == 0)
        {
            family = AfiSafi.IPv4Unicast;
            return true;
        }
        if (AttributeCount == 1 && HasMpUnreach && MpUnreachNlri.IsEmpty)
        {
            family = MpUnreachFamily;
            return true;
        }
        return false;
    }
}

/// <summary>
/// Reads and validates an UPDATE (RFC 4271 section 4.3 and the checks of section 6.3):
/// <code>
/// +-----------------------------------------------------+
/// |   Withdrawn Routes Length (2 octets)                |
/// +-----------------------------------------------------+
/// |   Withdrawn Routes (variable)                       |
/// +-----------------------------------------------------+
/// |   Total Path Attribute Length (2 octets)            |
/// +-----------------------------------------------------+
/// |   Path Attributes (variable)                        |
/// +-----------------------------------------------------+
/// |   Network Layer Reachability Information (variable) |
/// +-----------------------------------------------------+
///
/// path attribute:
///  0                   1
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5
/// +---------------+---------------+---------------+ - - - - - - - +
/// |O|T|P|E| 0 0 0 0| Type Code    | Length (1, or 2 when E)       |
/// +---------------+---------------+---------------+ - - - - - - - +
/// </code>
/// Every error maps to the NOTIFICATION subcode and data RFC 4271 names. Two deliberate choices: a malformed
/// AS4_PATH is discarded (RFC 6793 section 6) rather than resetting the session, and NLRI of families other than
/// IPv4/IPv6 unicast inside MP_REACH/MP_UNREACH is skipped unread.
/// </summary>
public static class BgpUpdateParser
{
    private const byte AsSet = 1;
    private const byte AsSequence = 2;
    private const byte AsConfedSequence = 3;
    private const byte AsConfedSet = 4;

    /// <param name="message">The whole message, header included (its length already checked by <see cref="BgpHeader"/>).</param>
    public static bool TryParse(ReadOnlySpan<byte> message, in UpdateParseContext context, out ParsedUpdate update, out BgpError error)
    {
        update = default;
        error = default;
        var body = message[BgpHeader.Length..];
        if (body.Length < 4)
        {
            error = BgpError.BadLength(message.Length);
            return false;
        }
        int withdrawnLength = BinaryPrimitives.ReadUInt16BigEndian(body);
        if (2 + withdrawnLength + 2 > body.Length)
        {
            error = BgpError.Update(UpdateMessageSubcode.MalformedAttributeList);
            return false;
        }
        int attributesLength = BinaryPrimitives.ReadUInt16BigEndian(body[(2 + withdrawnLength)..]);
        if (4 + withdrawnLength + attributesLength > body.Length)
        {
            error = BgpError.Update(UpdateMessageSubcode.MalformedAttributeList);
            return false;
        }
        update.Withdrawn = body.Slice(2, withdrawnLength);
        var attributes = body.Slice(4 + withdrawnLength, attributesLength);
        update.Nlri = body[(4 + withdrawnLength + attributesLength)..];
        if (!BgpPrefix.TryCount(update.Withdrawn, 32, out update.WithdrawnCount)
            || !BgpPrefix.TryCount(update.Nlri, 32, out update.NlriCount))
        {
            error = BgpError.Update(UpdateMessageSubcode.InvalidNetworkField);
            return false;
        }

        Span<ulong> seen = stackalloc ulong[4];
        while (!attributes.IsEmpty)
        {
            if (attributes.Length < 3 || ((attributes[0] & PathAttributeFlags.ExtendedLength) != 0 && attributes.Length < 4))
            {
                error = BgpError.Update(UpdateMessageSubcode.MalformedAttributeList);
                return false;
            }
            var flags = attributes[0];
            var type = attributes[1];
            var extended = (flags & PathAttributeFlags.ExtendedLength) != 0;
            var headerSize = extended ? 4 : 3;
            int length = extended ? BinaryPrimitives.ReadUInt16BigEndian(attributes[2..]) : attributes[2];
            if (attributes.Length < headerSize + length)
            {
                error = BgpError.Update(UpdateMessageSubcode.AttributeLengthError, attributes);
                return false;
            }
            var whole = attributes[..(headerSize + length)];
            var value = whole[headerSize..];
            attributes = attributes[(headerSize + length)..];

            ref var word = ref seen[type >> 6];
            var bit = 1UL << (type & 63);
            if ((word & bit) != 0)
            {
                error = BgpError.Update(UpdateMessageSubcode.MalformedAttributeList);
                return false;
            }
            word |= bit;
            update.AttributeCount++;

            if (!TryReadAttribute(flags, type, value, whole, context, ref update, out error))
            {
                return false;
            }
        }

        var reachable = update.NlriCount > 0 || (update.HasMpReach && update.MpReachCount > 0);
        if (reachable)
        {
            if (!update.HasOrigin)
            {
                error = BgpError.Update(UpdateMessageSubcode.MissingWellKnownAttribute, [PathAttributeType.Origin]);
                return false;
            }
            if (!update.HasAsPath)
            {
                error = BgpError.Update(UpdateMessageSubcode.MissingWellKnownAttribute, [PathAttributeType.AsPath]);
                return false;
            }
            if (update.NlriCount > 0 && !update.HasNextHop)
            {
                error = BgpError.Update(UpdateMessageSubcode.MissingWellKnownAttribute, [PathAttributeType.NextHop]);
                return false;
            }
            if (update.NlriCount > 0 && !IsUsableNextHop(update.NextHop))
            {
                error = BgpError.Update(UpdateMessageSubcode.InvalidNextHopAttribute, NextHopAttribute(update.NextHop));
                return false;
            }
            if (context.External && !FirstAsIs(update.AsPath, context.FourOctetAs ? 4 : 2, context.PeerAsOnPath))
            {
                error = BgpError.Update(UpdateMessageSubcode.MalformedAsPath);
                return false;
            }
        }
        return true;
    }

    private static bool TryReadAttribute(byte flags, byte type, ReadOnlySpan<byte> value, ReadOnlySpan<byte> whole, in UpdateParseContext context, ref ParsedUpdate update, out BgpError error)
    {
        error = default;
        // Expected O and T bits; P must be clear except on optional transitive attributes.
        (bool Known, bool Optional, bool Transitive) expected = type switch
        {
            PathAttributeType.Origin or PathAttributeType.AsPath or PathAttributeType.NextHop
                or PathAttributeType.LocalPref or PathAttributeType.AtomicAggregate => (true, false, true),
            PathAttributeType.MultiExitDisc or PathAttributeType.OriginatorId or PathAttributeType.ClusterList
                or PathAttributeType.MpReachNlri or PathAttributeType.MpUnreachNlri => (true, true, false),
            PathAttributeType.Aggregator or PathAttributeType.Communities or PathAttributeType.ExtendedCommunities
                or PathAttributeType.As4Path or PathAttributeType.As4Aggregator or PathAttributeType.LargeCommunities => (true, true, true),
            _ => (false, false, false),
        };
        var optional = (flags & PathAttributeFlags.Optional) != 0;
        var transitive = (flags & PathAttributeFlags.Transitive) != 0;
        var partial = (flags & PathAttributeFlags.Partial) != 0;
        if (!expected.Known)
        {
            if (!optional)
            {
                error = BgpError.Update(UpdateMessageSubcode.UnrecognizedWellKnownAttribute, whole);
                return false;
            }
            update.OtherAttributes++;
            return true;
        }
        if (optional != expected.Optional || transitive != expected.Transitive || (partial && !(expected.Optional && expected.Transitive)))
        {
            error = BgpError.Update(UpdateMessageSubcode.AttributeFlagsError, whole);
            return false;
        }

        switch (type)
        {
            case PathAttributeType.Origin:
                if (value.Length != 1)
                {
                    return LengthError(whole, out error);
                }
                if (value[0] > 2)
                {
                    error = BgpError.Update(UpdateMessageSubcode.InvalidOriginAttribute, whole);
                    return false;
                }
                update.HasOrigin = true;
                update.Origin = value[0];
                return true;
            case PathAttributeType.AsPath:
                if (!IsWellFormedPath(value, context.FourOctetAs ? 4 : 2, allowConfederation: !context.External))
                {
                    error = BgpError.Update(UpdateMessageSubcode.MalformedAsPath);
                    return false;
                }
                update.HasAsPath = true;
                update.AsPath = value;
                return true;
            case PathAttributeType.NextHop:
                if (value.Length != 4)
                {
                    return LengthError(whole, out error);
                }
                update.HasNextHop = true;
                update.NextHop = BinaryPrimitives.ReadUInt32BigEndian(value);
                return true;
            case PathAttributeType.MultiExitDisc:
                if (value.Length != 4)
                {
                    return LengthError(whole, out error);
                }
                update.HasMed = true;
                update.Med = BinaryPrimitives.ReadUInt32BigEndian(value);
                return true;
            case PathAttributeType.LocalPref:
                if (value.Length != 4)
                {
                    return LengthError(whole, out error);
                }
                update.HasLocalPreference = true;
                update.LocalPreference = BinaryPrimitives.ReadUInt32BigEndian(value);
                return true;
            case PathAttributeType.AtomicAggregate:
                if (value.Length != 0)
                {
                    return LengthError(whole, out error);
                }
                update.AtomicAggregate = true;
                return true;
            case PathAttributeType.Aggregator:
                return value.Length == (context.FourOctetAs ? 8 : 6) || LengthError(whole, out error);
            case PathAttributeType.As4Aggregator:
                return value.Length == 8 || LengthError(whole, out error);
            case PathAttributeType.OriginatorId:
                return value.Length == 4 || LengthError(whole, out error);
            case PathAttributeType.ClusterList:
                return (value.Length > 0 && value.Length % 4 == 0) || LengthError(whole, out error);
            case PathAttributeType.ExtendedCommunities:
                return value.Length % 8 == 0 || LengthError(whole, out error);
            case PathAttributeType.Communities:
                if (value.Length == 0 || value.Length % 4 != 0)
                {
                    return LengthError(whole, out error);
                }
                update.Communities = value;
                return true;
            case PathAttributeType.LargeCommunities:
                if (value.Length == 0 || value.Length % 12 != 0)
                {
                    return LengthError(whole, out error);
                }
                update.LargeCommunities = value;
                return true;
            case PathAttributeType.As4Path:
                // RFC 6793: a 4-octet peer never sends it (ignored if it does); a malformed one is discarded.
                if (!context.FourOctetAs && IsWellFormedPath(value, 4, allowConfederation: false))
                {
                    update.HasAs4Path = true;
                    update.As4Path = value;
                }
                return true;
            case PathAttributeType.MpReachNlri:
                return TryReadMpReach(value, whole, ref update, out error);
            case PathAttributeType.MpUnreachNlri:
                return TryReadMpUnreach(value, whole, ref update, out error);
            default:
                update.OtherAttributes++;
                return true;
        }
    }

    /// <summary>
    /// MP_REACH_NLRI (RFC 4760 section 3):
    /// <code>
    /// +---------------------------------------------------------+
    /// | Address Family Identifier (2 octets)                    |
    /// | Subsequent Address Family Identifier (1 octet)          |
    /// | Length of Next Hop Network Address (1 octet)            |
    /// | Network Address of Next Hop (variable)                  |
    /// | Reserved (1 octet)                                      |
    /// | Network Layer Reachability Information (variable)       |
    /// +---------------------------------------------------------+
    /// </code>
    /// </summary>
    private static bool TryReadMpReach(ReadOnlySpan<byte> value, ReadOnlySpan<byte> whole, ref ParsedUpdate update, out BgpError error)
    {
        error = default;
        if (value.Length < 5 || value.Length < 5 + value[3])
        {
            error = BgpError.Update(UpdateMessageSubcode.OptionalAttributeError, whole);
            return false;
        }
        var family = new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(value), value[2]);
        var nextHop = value.Slice(4, value[3]);
        var nlri = value[(5 + nextHop.Length)..];
        update.HasMpReach = true;
        update.MpReachFamily = family;
        update.MpReachNextHop = nextHop;
        update.MpReachNlri = nlri;
        int maxBits;
        if (family == AfiSafi.IPv6Unicast)
        {
            maxBits = 128;
            if (nextHop.Length is not (16 or 32))
            {
                error = BgpError.Update(UpdateMessageSubcode.OptionalAttributeError, whole);
                return false;
            }
        }
        else if (family == AfiSafi.IPv4Unicast)
        {
            maxBits = 32;
            if (nextHop.Length is not (4 or 16 or 32))
            {
                error = BgpError.Update(UpdateMessageSubcode.OptionalAttributeError, whole);
                return false;
            }
        }
        else
        {
            return true;
        }
        if (!BgpPrefix.TryCount(nlri, maxBits, out update.MpReachCount))
        {
            error = BgpError.Update(UpdateMessageSubcode.OptionalAttributeError, whole);
            return false;
        }
        return true;
    }

    /// <summary>MP_UNREACH_NLRI (RFC 4760 section 4): AFI (2), SAFI (1), withdrawn routes (variable).</summary>
    private static bool TryReadMpUnreach(ReadOnlySpan<byte> value, ReadOnlySpan<byte> whole, ref ParsedUpdate update, out BgpError error)
    {
        error = default;
        if (value.Length < 3)
        {
            error = BgpError.Update(UpdateMessageSubcode.OptionalAttributeError, whole);
            return false;
        }
        var family = new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(value), value[2]);
        update.HasMpUnreach = true;
        update.MpUnreachFamily = family;
        update.MpUnreachNlri = value[3..];
        var maxBits = family == AfiSafi.IPv6Unicast ? 128 : family == AfiSafi.IPv4Unicast ? 32 : -1;
        if (maxBits > 0 && !BgpPrefix.TryCount(update.MpUnreachNlri, maxBits, out update.MpUnreachCount))
        {
            error = BgpError.Update(UpdateMessageSubcode.OptionalAttributeError, whole);
            return false;
        }
        return true;
    }

    /// <summary>
    /// AS_PATH segments (RFC 4271 section 4.3, RFC 5065 for the confederation types):
    /// <code>| segment type (1) | segment length in ASes (1) | ASes (2 or 4 octets each) |</code>
    /// </summary>
    internal static bool IsWellFormedPath(ReadOnlySpan<byte> path, int asSize, bool allowConfederation)
    {
        while (!path.IsEmpty)
        {
            if (path.Length < 2)
            {
                return false;
            }
            var segmentType = path[0];
            var count = path[1];
            var valid = segmentType is AsSet or AsSequence || (allowConfederation && segmentType is AsConfedSequence or AsConfedSet);
            if (!valid || count == 0 || path.Length < 2 + count * asSize)
            {
                return false;
            }
            path = path[(2 + count * asSize)..];
        }
        return true;
    }

    private static bool FirstAsIs(ReadOnlySpan<byte> path, int asSize, uint expected)
    {
        if (path.Length < 2 + asSize || path[0] != AsSequence)
        {
            return false;
        }
        var first = asSize == 4 ? BinaryPrimitives.ReadUInt32BigEndian(path[2..]) : BinaryPrimitives.ReadUInt16BigEndian(path[2..]);
        return first == expected;
    }

    // RFC 4271 6.3: a NEXT_HOP that is not a valid unicast address (0.0.0.0, multicast, class E, broadcast).
    private static bool IsUsableNextHop(uint address) => address != 0 && (address >> 28) < 0xE;

    private static byte[] NextHopAttribute(uint address)
    {
        var data = new byte[7];
        data[0] = PathAttributeFlags.Transitive;
        data[1] = PathAttributeType.NextHop;
        data[2] = 4;
        BinaryPrimitives.WriteUInt32BigEndian(data.AsSpan(3), address);
        return data;
    }

    private static bool LengthError(ReadOnlySpan<byte> whole, out BgpError error)
    {
        error = BgpError.Update(UpdateMessageSubcode.AttributeLengthError, whole);
        return false;
    }
}

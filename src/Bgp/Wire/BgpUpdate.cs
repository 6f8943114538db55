using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace BareLb.Bgp.Wire;

public readonly record struct AsPathSegment(byte Type, IReadOnlyList<uint> Asns)
{
    public bool Equals(AsPathSegment other) => Type == other.Type && Asns.SequenceEqual(other.Asns);

    public override int GetHashCode() => HashCode.Combine(Type, Asns.Count);
}

/// <summary>
/// An UPDATE decoded into objects: for tests, captured messages and diagnostics. The session itself validates with
/// <see cref="BgpUpdateParser"/> and never builds this.
/// </summary>
public sealed record BgpUpdate
{
    public IReadOnlyList<IPNetwork> Withdrawn { get; init; } = [];
    public IReadOnlyList<IPNetwork> Nlri { get; init; } = [];
    public byte? Origin { get; init; }
    public IReadOnlyList<AsPathSegment>? AsPath { get; init; }
    public IReadOnlyList<AsPathSegment>? As4Path { get; init; }
    public IPAddress? NextHop { get; init; }
    public uint? Med { get; init; }
    public uint? LocalPreference { get; init; }
    public IReadOnlyList<BgpCommunity> Communities { get; init; } = [];
    public IReadOnlyList<BgpLargeCommunity> LargeCommunities { get; init; } = [];
    public AfiSafi? MpReachFamily { get; init; }
    public IReadOnlyList<IPAddress> MpReachNextHops { get; init; } = [];
    public IReadOnlyList<IPNetwork> MpReachNlri { get; init; } = [];
    public AfiSafi? MpUnreachFamily { get; init; }
    public IReadOnlyList<IPNetwork> MpUnreachNlri { get; init; } = [];
    public AfiSafi? EndOfRib { get; init; }

    /// <summary>The AS numbers of AS_PATH in order (sets flattened), AS4_PATH merged per RFC 6793 when present.</summary>
    public IReadOnlyList<uint> FlatAsPath()
    {
        var path = (AsPath ?? []).SelectMany(s => s.Asns).ToList();
        var as4 = (As4Path ?? []).SelectMany(s => s.Asns).ToList();
        if (as4.Count == 0 || as4.Count > path.Count)
        {
            return path;
        }
        return [.. path.Take(path.Count - as4.Count), .. as4];
    }

    public static bool TryDecode(ReadOnlySpan<byte> message, in UpdateParseContext context, out BgpUpdate? update, out BgpError error)
    {
        update = null;
        if (!BgpUpdateParser.TryParse(message, context, out var p, out error))
        {
            return false;
        }
        var asSize = context.FourOctetAs ? 4 : 2;
        var isEor = p.IsEndOfRib(out var eorFamily);
        update = new BgpUpdate
        {
            Withdrawn = BgpPrefix.ReadAll(p.Withdrawn, AddressFamily.InterNetwork),
            Nlri = BgpPrefix.ReadAll(p.Nlri, AddressFamily.InterNetwork),
            Origin = p.HasOrigin ? p.Origin : null,
            AsPath = p.HasAsPath ? ReadPath(p.AsPath, asSize) : null,
            As4Path = p.HasAs4Path ? ReadPath(p.As4Path, 4) : null,
            NextHop = p.HasNextHop ? new IPAddress(BinaryPrimitives.ReverseEndianness(p.NextHop)) : null,
            Med = p.HasMed ? p.Med : null,
            LocalPreference = p.HasLocalPreference ? p.LocalPreference : null,
            Communities = ReadCommunities(p.Communities),
            LargeCommunities = ReadLargeCommunities(p.LargeCommunities),
            MpReachFamily = p.HasMpReach ? p.MpReachFamily : null,
            MpReachNextHops = p.HasMpReach ? ReadNextHops(p.MpReachNextHop) : [],
            MpReachNlri = p.HasMpReach && IsUnicast(p.MpReachFamily) ? BgpPrefix.ReadAll(p.MpReachNlri, Family(p.MpReachFamily)) : [],
            MpUnreachFamily = p.HasMpUnreach ? p.MpUnreachFamily : null,
            MpUnreachNlri = p.HasMpUnreach && IsUnicast(p.MpUnreachFamily) ? BgpPrefix.ReadAll(p.MpUnreachNlri, Family(p.MpUnreachFamily)) : [],
            EndOfRib = isEor ? eorFamily : null,
        };
        return true;
    }

    private static bool IsUnicast(AfiSafi f) => f == AfiSafi.IPv4Unicast || f == AfiSafi.IPv6Unicast;

    private static AddressFamily Family(AfiSafi f) => f == AfiSafi.IPv4Unicast ? AddressFamily.InterNetwork : AddressFamily.InterNetworkV6;

    private static List<AsPathSegment> ReadPath(ReadOnlySpan<byte> path, int asSize)
    {
        var segments = new List<AsPathSegment>();
        while (!path.IsEmpty)
        {
            var type = path[0];
            var count = path[1];
            var asns = new uint[count];
            for (var i = 0; i < count; i++)
            {
                var at = path[(2 + i * asSize)..];
                asns[i] = asSize == 4 ? BinaryPrimitives.ReadUInt32BigEndian(at) : BinaryPrimitives.ReadUInt16BigEndian(at);
            }
            segments.Add(new AsPathSegment(type, asns));
            path = path[(2 + count * asSize)..];
        }
        return segments;
    }

    private static List<BgpCommunity> ReadCommunities(ReadOnlySpan<byte> value)
    {
        var list = new List<BgpCommunity>(value.Length / 4);
        for (var i = 0; i + 4 <= value.Length; i += 4)
        {
            list.Add(new BgpCommunity(BinaryPrimitives.ReadUInt32BigEndian(value[i..])));
        }
        return list;
    }

    private static List<BgpLargeCommunity> ReadLargeCommunities(ReadOnlySpan<byte> value)
    {
        var list = new List<BgpLargeCommunity>(value.Length / 12);
        for (var i = 0; i + 12 <= value.Length; i += 12)
        {
            list.Add(new BgpLargeCommunity(
                BinaryPrimitives.ReadUInt32BigEndian(value[i..]),
                BinaryPrimitives.ReadUInt32BigEndian(value[(i + 4)..]),
                BinaryPrimitives.ReadUInt32BigEndian(value[(i + 8)..])));
        }
        return list;
    }

    private static List<IPAddress> ReadNextHops(ReadOnlySpan<byte> value) => value.Length switch
    {
        4 or 16 => [new IPAddress(value)],
        32 => [new IPAddress(value[..16]), new IPAddress(value[16..])],
        _ => [],
    };
}

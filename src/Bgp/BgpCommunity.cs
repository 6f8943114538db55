using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace BareLb.Bgp;

/// <summary>An RFC 1997 community, written <c>ASN:value</c> (two 16-bit halves) or by its well-known name.</summary>
public readonly record struct BgpCommunity(uint Value) : IComparable<BgpCommunity>
{
    public static readonly BgpCommunity GracefulShutdown = new(0xFFFF0000);   // RFC 8326
    public static readonly BgpCommunity AcceptOwn = new(0xFFFF0001);          // RFC 7611
    public static readonly BgpCommunity LlgrStale = new(0xFFFF0006);          // RFC 9494
    public static readonly BgpCommunity NoLlgr = new(0xFFFF0007);             // RFC 9494
    public static readonly BgpCommunity Blackhole = new(0xFFFF029A);          // RFC 7999
    public static readonly BgpCommunity NoExport = new(0xFFFFFF01);           // RFC 1997
    public static readonly BgpCommunity NoAdvertise = new(0xFFFFFF02);        // RFC 1997
    public static readonly BgpCommunity NoExportSubconfed = new(0xFFFFFF03);  // RFC 1997
    public static readonly BgpCommunity NoPeer = new(0xFFFFFF04);             // RFC 3765

    private static readonly (string Name, BgpCommunity Value)[] WellKnown =
    [
        ("graceful-shutdown", GracefulShutdown),
        ("accept-own", AcceptOwn),
        ("llgr-stale", LlgrStale),
        ("no-llgr", NoLlgr),
        ("blackhole", Blackhole),
        ("no-export", NoExport),
        ("no-advertise", NoAdvertise),
        ("no-export-subconfed", NoExportSubconfed),
        ("local-as", NoExportSubconfed),
        ("no-peer", NoPeer),
    ];

    public BgpCommunity(ushort high, ushort low)
        : this(((uint)high << 16) | low)
    {
    }

    public ushort High => (ushort)(Value >> 16);

    public ushort Low => (ushort)Value;

    /// <summary>Parses <c>65000:100</c> or a well-known name (<c>no-export</c>, <c>no-advertise</c>, ...).</summary>
    public static bool TryParse(string? text, out BgpCommunity community)
    {
        community = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        text = text.Trim();
        foreach (var (name, value) in WellKnown)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                community = value;
                return true;
            }
        }
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0
            && ushort.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var high)
            && ushort.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var low))
        {
            community = new BgpCommunity(high, low);
            return true;
        }
        return false;
    }

    public static BgpCommunity Parse(string text) =>
        TryParse(text, out var c) ? c : throw new FormatException($"'{text}' is not a BGP community (ASN:value or a well-known name)");

    public int CompareTo(BgpCommunity other) => Value.CompareTo(other.Value);

    public override string ToString() => $"{High.ToString(CultureInfo.InvariantCulture)}:{Low.ToString(CultureInfo.InvariantCulture)}";
}

/// <summary>An RFC 8092 large community <c>global:local1:local2</c>; MetalLB writes it with a <c>large:</c> prefix.</summary>
public readonly record struct BgpLargeCommunity(uint GlobalAdministrator, uint LocalData1, uint LocalData2) : IComparable<BgpLargeCommunity>
{
    public static bool TryParse(string? text, out BgpLargeCommunity community)
    {
        community = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }
        var s = text.Trim();
        if (s.StartsWith("large:", StringComparison.OrdinalIgnoreCase))
        {
            s = s[6..];
        }
        var parts = s.Split(':');
        if (parts.Length == 3
            && uint.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var g)
            && uint.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var l1)
            && uint.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var l2))
        {
            community = new BgpLargeCommunity(g, l1, l2);
            return true;
        }
        return false;
    }

    public static BgpLargeCommunity Parse(string text) =>
        TryParse(text, out var c) ? c : throw new FormatException($"'{text}' is not a large community (large:global:local1:local2)");

    /// <summary>True when <paramref name="text"/> is meant as a large community (MetalLB's <c>large:</c> prefix).</summary>
    public static bool IsLargeSyntax([NotNullWhen(true)] string? text) =>
        text is not null && text.TrimStart().StartsWith("large:", StringComparison.OrdinalIgnoreCase);

    public int CompareTo(BgpLargeCommunity other)
    {
        var c = GlobalAdministrator.CompareTo(other.GlobalAdministrator);
        if (c == 0)
        {
            c = LocalData1.CompareTo(other.LocalData1);
        }
        return c != 0 ? c : LocalData2.CompareTo(other.LocalData2);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{GlobalAdministrator}:{LocalData1}:{LocalData2}");
}

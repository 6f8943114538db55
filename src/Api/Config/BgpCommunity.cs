using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace BareLb.Api.Config;

public enum BgpCommunityKind
{
    /// <summary>RFC 1997: two 16-bit halves, written "AS:value".</summary>
    Standard,

    /// <summary>RFC 8092: three 32-bit parts, written "large:global:local1:local2" (MetalLB's syntax).</summary>
    Large,
}

/// <summary>A BGP community value in MetalLB's text syntax.</summary>
public readonly record struct BgpCommunity(BgpCommunityKind Kind, uint First, uint Second, uint Third)
{
    private const string LargeMarker = "large";

    public static BgpCommunity Standard(ushort asn, ushort value) => new(BgpCommunityKind.Standard, asn, value, 0);

    public static BgpCommunity Large(uint global, uint local1, uint local2) => new(BgpCommunityKind.Large, global, local1, local2);

    /// <summary>The 32-bit wire value of a standard community.</summary>
    public uint StandardValue => Kind == BgpCommunityKind.Standard
        ? (First << 16) | Second
        : throw new InvalidOperationException("a large community has no 32-bit value");

    /// <summary>
    /// True when the text has the shape of a community (two, or four with the "large" marker, ':'-separated
    /// parts), whether or not its numbers are in range. Text without that shape may be an alias name.
    /// </summary>
    public static bool LooksLikeCommunity(string text)
    {
        var parts = text.Split(':');
        return parts.Length == 2 || (parts.Length == 4 && parts[0] == LargeMarker);
    }

    public static bool TryParse(string? text, out BgpCommunity community, [NotNullWhen(false)] out string? error)
    {
        community = default;
        var parts = (text ?? "").Split(':');
        if (parts.Length == 2)
        {
            if (!TryParsePart(text!, parts[0], ushort.MaxValue, out var asn, out error)
                || !TryParsePart(text!, parts[1], ushort.MaxValue, out var value, out error))
            {
                return false;
            }

            community = new BgpCommunity(BgpCommunityKind.Standard, asn, value, 0);
            return true;
        }

        if (parts.Length == 4 && parts[0] == LargeMarker)
        {
            if (!TryParsePart(text!, parts[1], uint.MaxValue, out var global, out error)
                || !TryParsePart(text!, parts[2], uint.MaxValue, out var local1, out error)
                || !TryParsePart(text!, parts[3], uint.MaxValue, out var local2, out error))
            {
                return false;
            }

            community = new BgpCommunity(BgpCommunityKind.Large, global, local1, local2);
            return true;
        }

        error = $"\"{text}\" is not a community: expected \"AS:value\" (two numbers 0-65535) or \"large:global:local1:local2\" (three numbers 0-4294967295)";
        return false;
    }

    private static bool TryParsePart(string text, string part, uint max, out uint value, [NotNullWhen(false)] out string? error)
    {
        if (part.Length == 0 || !part.All(char.IsAsciiDigit)
            || !ulong.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed > max)
        {
            value = 0;
            error = $"\"{part}\" in community \"{text}\" is not a number from 0 to {max}";
            return false;
        }

        value = (uint)parsed;
        error = null;
        return true;
    }

    public override string ToString() => Kind == BgpCommunityKind.Standard
        ? $"{First}:{Second}"
        : $"{LargeMarker}:{First}:{Second}:{Third}";
}

using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BareLb.ApiServer.Api;

// metav1.Time and metav1.MicroTime as the real server decodes and re-encodes them (apimachinery pkg/apis/meta/v1
// time.go, micro_time.go). Time is parsed with Go's time.RFC3339 layout (any fraction, 'Z' or ±hh:mm) and written
// back in UTC with whole seconds, so fractions are truncated. MicroTime is parsed with "2006-01-02T15:04:05.000000Z07:00",
// which needs exactly six fractional digits, and written back in UTC with six. The zero time is written as null.
internal static partial class KubeTime
{
    public const string Rfc3339Layout = "2006-01-02T15:04:05Z07:00";
    public const string Rfc3339MicroLayout = "2006-01-02T15:04:05.000000Z07:00";

    public static string Format(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static string FormatMicro(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>Re-encodes a decoded time value; null when the input is the zero time. Throws FormatException like Go's parser.</summary>
    public static JsonNode? Normalize(string text, bool micro)
    {
        var t = micro ? ParseMicro(text) : Parse(text);
        if (t.UtcTicks == DateTimeOffset.MinValue.UtcTicks)
        {
            return null;
        }

        return micro ? FormatMicro(t) : Format(t);
    }

    public static DateTimeOffset Parse(string text)
    {
        var m = Rfc3339().Match(text);
        if (!m.Success || !TryBuild(m, out var t))
        {
            throw new FormatException($"parsing time {JsonTree.Quote(text)} as {JsonTree.Quote(Rfc3339Layout)}: cannot parse {JsonTree.Quote(text)} as {JsonTree.Quote(Rfc3339Layout)}");
        }

        return t;
    }

    public static DateTimeOffset ParseMicro(string text)
    {
        var m = Rfc3339().Match(text);
        if (m.Success && m.Groups[7].Success && m.Groups[7].Length == 6 && TryBuild(m, out var t))
        {
            return t;
        }

        // The usual mistake is a whole-second RFC 3339 time; say what Go says about it.
        var detail = m.Success && !m.Groups[7].Success
            ? $"cannot parse {JsonTree.Quote(text[19..])} as \".000000\""
            : $"cannot parse {JsonTree.Quote(text)} as {JsonTree.Quote(Rfc3339MicroLayout)}";
        throw new FormatException($"parsing time {JsonTree.Quote(text)} as {JsonTree.Quote(Rfc3339MicroLayout)}: {detail}");
    }

    private static bool TryBuild(Match m, out DateTimeOffset t)
    {
        t = default;
        int G(int i) => int.Parse(m.Groups[i].Value, NumberStyles.None, CultureInfo.InvariantCulture);
        var (year, month, day, hour, minute, second) = (G(1), G(2), G(3), G(4), G(5), G(6));
        if (month is < 1 or > 12 || day < 1 || year < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        var offset = TimeSpan.Zero;
        var zone = m.Groups[8].Value;
        if (zone != "Z")
        {
            var oh = int.Parse(zone.AsSpan(1, 2), NumberStyles.None, CultureInfo.InvariantCulture);
            var om = int.Parse(zone.AsSpan(4, 2), NumberStyles.None, CultureInfo.InvariantCulture);
            if (oh > 23 || om > 59)
            {
                return false;
            }

            offset = new TimeSpan(oh, om, 0) * (zone[0] == '-' ? -1 : 1);
        }

        long ticks = 0;
        if (m.Groups[7].Success)
        {
            var digits = m.Groups[7].Value.Length > 7 ? m.Groups[7].Value[..7] : m.Groups[7].Value.PadRight(7, '0');
            ticks = long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        // .NET offsets stop at ±14h; Go's go to ±23:59, so work in UTC ticks (0 is Go's zero time).
        var utcTicks = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).Ticks + ticks - offset.Ticks;
        if (utcTicks < 0 || utcTicks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        t = utcTicks == 0 ? DateTimeOffset.MinValue : new DateTimeOffset(utcTicks, TimeSpan.Zero);
        return true;
    }

    [GeneratedRegex("^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(?:[.,]([0-9]+))?(Z|[+-][0-9]{2}:[0-9]{2})$", RegexOptions.CultureInvariant)]
    private static partial Regex Rfc3339();
}

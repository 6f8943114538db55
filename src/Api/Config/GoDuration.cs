using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace BareLb.Api.Config;

/// <summary>
/// Go's time.ParseDuration syntax, which metav1.Duration fields (BGPPeer holdTime, keepaliveTime, connectTime) use on
/// the wire: "90s", "1m30s", "1.5h", "300ms", "0". Units ns, us (µs, μs), ms, s, m, h; an optional sign.
/// </summary>
public static class GoDuration
{
    private const decimal MaxNanoseconds = long.MaxValue;

    public static bool TryParse(string? text, out TimeSpan value, [NotNullWhen(false)] out string? error)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            error = "empty duration; expected Go syntax such as \"90s\" or \"1m30s\"";
            return false;
        }

        var s = text.AsSpan();
        var negative = false;
        if (s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s is "0")
        {
            error = null;
            return true;
        }

        if (s.IsEmpty)
        {
            error = $"\"{text}\" is not a duration";
            return false;
        }

        decimal total = 0;
        while (!s.IsEmpty)
        {
            var digits = 0;
            while (digits < s.Length && (char.IsAsciiDigit(s[digits]) || s[digits] == '.'))
            {
                digits++;
            }

            var number = s[..digits];
            if (number.IsEmpty || number is "." || number.IndexOf('.') != number.LastIndexOf('.')
                || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                error = $"\"{text}\" is not a duration: expected a number at \"{s.ToString()}\"";
                return false;
            }

            s = s[digits..];
            var unitLength = 0;
            while (unitLength < s.Length && !char.IsAsciiDigit(s[unitLength]) && s[unitLength] != '.')
            {
                unitLength++;
            }

            decimal? nanoseconds = s[..unitLength] switch
            {
                "ns" => 1m,
                "us" or "µs" or "μs" => 1_000m,
                "ms" => 1_000_000m,
                "s" => 1_000_000_000m,
                "m" => 60_000_000_000m,
                "h" => 3_600_000_000_000m,
                _ => null,
            };
            if (nanoseconds is null)
            {
                error = unitLength == 0
                    ? $"\"{text}\" is not a duration: \"{number.ToString()}\" has no unit (ns, us, ms, s, m or h)"
                    : $"\"{text}\" is not a duration: unknown unit \"{s[..unitLength].ToString()}\" (ns, us, ms, s, m or h)";
                return false;
            }

            try
            {
                total += amount * nanoseconds.Value;
            }
            catch (OverflowException)
            {
                total = decimal.MaxValue;
            }

            if (total > MaxNanoseconds)
            {
                error = $"\"{text}\" is too long a duration";
                return false;
            }

            s = s[unitLength..];
        }

        // TimeSpan counts 100 ns ticks; finer parts are dropped, as nothing in BGP needs them.
        var ticks = (long)decimal.Truncate(total / 100m);
        value = TimeSpan.FromTicks(negative ? -ticks : ticks);
        error = null;
        return true;
    }
}

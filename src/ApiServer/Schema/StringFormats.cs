using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Schema;

// The `format` values a CRD schema validates on string values, as apiextensions-apiserver 1.32 does: the formats
// of kube-openapi's strfmt default registry that apiextensions keeps (pkg/apiserver/validation/formats.go strips the
// others), with the registry's checks (kube-openapi pkg/validation/strfmt, its govalidator copy). Format names are
// looked up with dashes removed ("date-time" is "datetime"); unknown formats, and every format on numbers
// (int32, int64, float, double), are informational only. k8s-short-name and k8s-long-name arrive with 1.34.
internal static partial class StringFormats
{
    private static readonly Dictionary<string, long> DurationUnits = new(StringComparer.Ordinal)
    {
        ["ns"] = 1, ["us"] = 1_000, ["\u00b5s"] = 1_000, ["\u03bcs"] = 1_000, ["ms"] = 1_000_000, ["s"] = 1_000_000_000,
        ["m"] = 60_000_000_000, ["h"] = 3_600_000_000_000,
    };

    // The scala-style units strfmt also accepts, each with the spellings that match by prefix (the last one) or exactly.
    private static readonly string[][] ScalaUnits =
    [
        ["ns", "nano"], ["us", "\u00b5s", "micro"], ["ms", "milli"], ["s", "sec"], ["m", "min"], ["h", "hr", "hour"], ["d", "day"],
        ["w", "wk", "week"],
    ];

    /// <summary>True when <paramref name="value"/> satisfies <paramref name="format"/>, or the format is not validated.</summary>
    public static bool IsValid(string format, string value) => format.Replace("-", "", StringComparison.Ordinal) switch
    {
        "bsonobjectid" => value.Length == 24 && value.All(char.IsAsciiHexDigit),
        "uri" => IsRequestUri(value),
        "email" => System.Net.Mail.MailAddress.TryCreate(value, out var mail) && mail.Address.Length > 0,
        "hostname" => IsHostname(value),
        "ipv4" => IpText.TryParse(value, sloppy: true, out _) && value.Contains('.', StringComparison.Ordinal),
        "ipv6" => IpText.TryParse(value, sloppy: false, out _) && value.Contains(':', StringComparison.Ordinal),
        "cidr" => IpText.TryParseCidr(value, out _, out _),
        "mac" => IsMac(value),
        "uuid" => Uuid().IsMatch(value),
        "uuid3" => Uuid3().IsMatch(value),
        "uuid4" => Uuid4().IsMatch(value),
        "uuid5" => Uuid5().IsMatch(value),
        "isbn" => IsIsbn10(value) || IsIsbn13(value),
        "isbn10" => IsIsbn10(value),
        "isbn13" => IsIsbn13(value),
        "creditcard" => IsCreditCard(value),
        "ssn" => Encoding.UTF8.GetByteCount(value) == 11 && Ssn().IsMatch(value),
        "hexcolor" => HexColor().IsMatch(value),
        "rgbcolor" => RgbColor().IsMatch(value),
        "byte" => Base64().IsMatch(value),
        "date" => IsDate(value),
        "duration" => IsGoDuration(value) || IsScalaDuration(value),
        "datetime" => IsDateTime(value),
        _ => true,
    };

    private static bool IsDate(string value) =>
        DateOnly.TryParseExact(value, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _);

    // strfmt.IsDateTime: lower-cased, split at 't'; a date, then hh:mm:ss[.frac](z|±hh:mm) with hh<=23, mm/ss<=59.
    private static bool IsDateTime(string value)
    {
        if (value.Length < 4)
        {
            return false;
        }

        var parts = value.ToLowerInvariant().Split('t');
        if (parts.Length < 2 || !IsDate(parts[0]))
        {
            return false;
        }

        var m = DateTimeTail().Match(parts[1]);
        return m.Success && string.CompareOrdinal(m.Groups[1].Value, "23") <= 0 &&
               string.CompareOrdinal(m.Groups[2].Value, "59") <= 0 && string.CompareOrdinal(m.Groups[3].Value, "59") <= 0;
    }

    private static bool IsHostname(string value)
    {
        if (!Hostname().IsMatch(value) || Encoding.UTF8.GetByteCount(value) > 255)
        {
            return false;
        }

        return value.Split('.').All(label => Encoding.UTF8.GetByteCount(label) <= 63);
    }

    // net.ParseMAC: 6, 8 or 20 octets as hex pairs separated by ':' or '-', or as groups of four separated by '.'.
    private static bool IsMac(string s)
    {
        if (s.Length < 14)
        {
            return false;
        }

        if (s[2] is ':' or '-')
        {
            if ((s.Length + 1) % 3 != 0 || (s.Length + 1) / 3 is not (6 or 8 or 20))
            {
                return false;
            }

            for (var x = 0; x < s.Length; x += 3)
            {
                if (!char.IsAsciiHexDigit(s[x]) || !char.IsAsciiHexDigit(s[x + 1]) || (x + 2 < s.Length && s[x + 2] != s[2]))
                {
                    return false;
                }
            }

            return true;
        }

        if (s[4] == '.')
        {
            if ((s.Length + 1) % 5 != 0 || 2 * (s.Length + 1) / 5 is not (6 or 8 or 20))
            {
                return false;
            }

            for (var x = 0; x < s.Length; x += 5)
            {
                for (var k = 0; k < 4; k++)
                {
                    if (!char.IsAsciiHexDigit(s[x + k]))
                    {
                        return false;
                    }
                }

                if (x + 4 < s.Length && s[x + 4] != '.')
                {
                    return false;
                }
            }

            return true;
        }

        return false;
    }

    private static bool IsIsbn10(string value)
    {
        var s = WhiteSpaceAndMinus().Replace(value, "");
        if (!Isbn10().IsMatch(s))
        {
            return false;
        }

        var checksum = 0;
        for (var i = 0; i < 9; i++)
        {
            checksum += (i + 1) * (s[i] - '0');
        }

        checksum += 10 * (s[9] == 'X' ? 10 : s[9] - '0');
        return checksum % 11 == 0;
    }

    private static bool IsIsbn13(string value)
    {
        var s = WhiteSpaceAndMinus().Replace(value, "");
        if (!Isbn13().IsMatch(s))
        {
            return false;
        }

        var checksum = 0;
        for (var i = 0; i < 12; i++)
        {
            checksum += (i % 2 == 0 ? 1 : 3) * (s[i] - '0');
        }

        return s[12] - '0' - ((10 - (checksum % 10)) % 10) == 0;
    }

    // Non-digits removed, one of the known issuer patterns, then the Luhn checksum.
    private static bool IsCreditCard(string value)
    {
        var s = NotNumber().Replace(value, "");
        if (!CreditCard().IsMatch(s))
        {
            return false;
        }

        var sum = 0;
        var doubleIt = false;
        for (var i = s.Length - 1; i >= 0; i--)
        {
            var d = s[i] - '0';
            if (doubleIt)
            {
                d *= 2;
                sum += d >= 10 ? (d % 10) + 1 : d;
            }
            else
            {
                sum += d;
            }

            doubleIt = !doubleIt;
        }

        return sum % 10 == 0;
    }

    // time.ParseDuration: [-+]?(digits[.digits]unit)+ or "0", units ns us µs μs ms s m h, within ±2^63 ns.
    private static bool IsGoDuration(string value)
    {
        var s = value.AsSpan();
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            s = s[1..];
        }

        if (s.SequenceEqual("0"))
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return false;
        }

        decimal total = 0;
        while (!s.IsEmpty)
        {
            if (!(s[0] == '.' || char.IsAsciiDigit(s[0])))
            {
                return false;
            }

            var i = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            var number = s[..i].ToString();
            var hasFraction = i < s.Length && s[i] == '.';
            var fraction = "";
            if (hasFraction)
            {
                var start = ++i;
                while (i < s.Length && char.IsAsciiDigit(s[i]))
                {
                    i++;
                }

                fraction = s[start..i].ToString();
            }

            if (number.Length == 0 && fraction.Length == 0)
            {
                return false;
            }

            var unitStart = i;
            while (i < s.Length && s[i] != '.' && !char.IsAsciiDigit(s[i]))
            {
                i++;
            }

            if (i == unitStart || !DurationUnits.TryGetValue(s[unitStart..i].ToString(), out var scale))
            {
                return false;
            }

            if (number.Length > 19 || !decimal.TryParse((number.Length == 0 ? "0" : number) + "." + (fraction.Length == 0 ? "0" : fraction[..Math.Min(fraction.Length, 20)]),
                    NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
            {
                return false;
            }

            total += amount * scale;
            if (total > 9_223_372_036_854_775_808m)
            {
                return false;
            }

            s = s[i..];
        }

        return true;
    }

    // strfmt's fallback: any "<digits> <unit>" run anywhere, the unit equal to a known spelling or starting with the long one.
    private static bool IsScalaDuration(string value)
    {
        var ok = false;
        foreach (Match m in ScalaDuration().Matches(value))
        {
            if (!int.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return false;
            }

            var unit = m.Groups[3].Value.Trim().ToLowerInvariant();
            foreach (var variants in ScalaUnits)
            {
                for (var i = 0; i < variants.Length; i++)
                {
                    if ((i == variants.Length - 1 && unit.StartsWith(variants[i], StringComparison.Ordinal)) ||
                        string.Equals(variants[i], unit, StringComparison.OrdinalIgnoreCase))
                    {
                        ok = true;
                    }
                }
            }
        }

        return ok;
    }

    // url.ParseRequestURI: an absolute URI or an absolute path, no control bytes, valid escapes, a valid authority.
    private static bool IsRequestUri(string s)
    {
        if (s.Length == 0 || s.Any(c => c < 0x20 || c == 0x7f))
        {
            return false;
        }

        if (s == "*")
        {
            return true;
        }

        var scheme = "";
        var rest = s;
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            if (char.IsAsciiLetter(c))
            {
                continue;
            }

            if (char.IsAsciiDigit(c) || c is '+' or '-' or '.')
            {
                if (i == 0)
                {
                    break;
                }

                continue;
            }

            if (c == ':')
            {
                if (i == 0)
                {
                    return false;
                }

                scheme = s[..i];
                rest = s[(i + 1)..];
            }

            break;
        }

        if (rest.EndsWith('?') && rest.Count(c => c == '?') == 1)
        {
            rest = rest[..^1];
        }
        else if (rest.IndexOf('?', StringComparison.Ordinal) is var q and >= 0)
        {
            rest = rest[..q];
        }

        if (!rest.StartsWith('/'))
        {
            return scheme.Length > 0;
        }

        if (scheme.Length > 0 && rest.StartsWith("//", StringComparison.Ordinal))
        {
            var authority = rest[2..];
            rest = "";
            if (authority.IndexOf('/', StringComparison.Ordinal) is var slash and >= 0)
            {
                rest = authority[slash..];
                authority = authority[..slash];
            }

            if (!IsValidAuthority(authority))
            {
                return false;
            }
        }

        return HasValidEscapes(rest);
    }

    private static bool IsValidAuthority(string authority)
    {
        var host = authority;
        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userinfo = authority[..at];
            if (userinfo.Any(c => !(char.IsAsciiLetterOrDigit(c) || "-._:~!$&'()*+,;=%@".Contains(c, StringComparison.Ordinal))) ||
                !HasValidEscapes(userinfo))
            {
                return false;
            }

            host = authority[(at + 1)..];
        }

        string port;
        if (host.StartsWith('['))
        {
            var close = host.LastIndexOf(']');
            if (close < 0)
            {
                return false;
            }

            port = host[(close + 1)..];
        }
        else
        {
            var colon = host.LastIndexOf(':');
            port = colon < 0 ? "" : host[colon..];
        }

        if (port.Length > 0 && (port[0] != ':' || !port[1..].All(char.IsAsciiDigit)))
        {
            return false;
        }

        return HasValidEscapes(host) &&
               host.All(c => c >= 0x80 || char.IsAsciiLetterOrDigit(c) || "-_.~!$&'()*+,;=:[]<>\"%".Contains(c, StringComparison.Ordinal));
    }

    private static bool HasValidEscapes(string s)
    {
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '%' && (i + 2 >= s.Length || !char.IsAsciiHexDigit(s[i + 1]) || !char.IsAsciiHexDigit(s[i + 2])))
            {
                return false;
            }
        }

        return true;
    }

    // Go's \s and \d are ASCII-only; the classes below spell them out.
    [GeneratedRegex(@"^([0-9]{2}):([0-9]{2}):([0-9]{2})(.[0-9]+)?(z|([+-][0-9]{2}:[0-9]{2}))$", RegexOptions.CultureInvariant)]
    private static partial Regex DateTimeTail();

    [GeneratedRegex(@"^([a-zA-Z0-9\p{S}\p{L}]((-?[a-zA-Z0-9\p{S}\p{L}]{0,62})?)|([a-zA-Z0-9\p{S}\p{L}](([a-zA-Z0-9\-\p{S}\p{L}]{0,61}[a-zA-Z0-9\p{S}\p{L}])?)(\.)){1,}([a-zA-Z\p{L}]){2,63})$", RegexOptions.CultureInvariant, 1000)]
    private static partial Regex Hostname();

    [GeneratedRegex("^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex Uuid();

    [GeneratedRegex("^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?3[0-9a-fA-F]{3}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex Uuid3();

    [GeneratedRegex("^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?4[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex Uuid4();

    [GeneratedRegex("^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?5[0-9a-fA-F]{3}-?[89abAB][0-9a-fA-F]{3}-?[0-9a-fA-F]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex Uuid5();

    [GeneratedRegex("^(?:[0-9]{9}X|[0-9]{10})$", RegexOptions.CultureInvariant)]
    private static partial Regex Isbn10();

    [GeneratedRegex("^(?:[0-9]{13})$", RegexOptions.CultureInvariant)]
    private static partial Regex Isbn13();

    [GeneratedRegex("[\t\n\f\r -]+", RegexOptions.CultureInvariant)]
    private static partial Regex WhiteSpaceAndMinus();

    [GeneratedRegex("[^0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NotNumber();

    [GeneratedRegex("^(?:4[0-9]{12}(?:[0-9]{3})?|5[1-5][0-9]{14}|6(?:011|5[0-9][0-9])[0-9]{12}|3[47][0-9]{13}|3(?:0[0-5]|[68][0-9])[0-9]{11}|(?:2131|1800|35[0-9]{3})[0-9]{11})$", RegexOptions.CultureInvariant)]
    private static partial Regex CreditCard();

    [GeneratedRegex("^[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}$", RegexOptions.CultureInvariant)]
    private static partial Regex Ssn();

    [GeneratedRegex("^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$", RegexOptions.CultureInvariant)]
    private static partial Regex HexColor();

    [GeneratedRegex(@"^rgb\([\t\n\f\r ]*(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])[\t\n\f\r ]*,[\t\n\f\r ]*(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])[\t\n\f\r ]*,[\t\n\f\r ]*(0|[1-9][0-9]?|1[0-9][0-9]?|2[0-4][0-9]|25[0-5])[\t\n\f\r ]*\)$", RegexOptions.CultureInvariant)]
    private static partial Regex RgbColor();

    [GeneratedRegex("^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$", RegexOptions.CultureInvariant)]
    private static partial Regex Base64();

    [GeneratedRegex("(([0-9]+)[\t\n\f\r ]*([A-Za-z\u00b5]+))", RegexOptions.CultureInvariant)]
    private static partial Regex ScalaDuration();
}

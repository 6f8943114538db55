using System.Globalization;
using System.Net;

namespace BareLb.Allocator;

// Strict parser for pool ranges. IPAddress.TryParse alone is too lenient for configuration: it accepts "10"
// (0.0.0.10), "1.2.3" and octal-looking octets, so a typo would silently become a different pool.
internal static class AddressRangeParser
{
    public static bool TryParse(string? text, out IpRange range, out string? error)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "address range is empty; expected a CIDR such as 198.51.100.0/24 or a range such as 198.51.100.10-198.51.100.20";
            return false;
        }

        var trimmed = text.Trim();
        var slash = trimmed.IndexOf('/');
        var dash = trimmed.IndexOf('-');
        if (slash >= 0 && dash < 0 && slash == trimmed.LastIndexOf('/'))
        {
            return TryParseCidr(trimmed, slash, out range, out error);
        }

        if (dash >= 0 && slash < 0 && dash == trimmed.LastIndexOf('-'))
        {
            return TryParseRange(trimmed, dash, out range, out error);
        }

        error = $"\"{trimmed}\" is not a CIDR (address/prefix) or a range (first-last)";
        return false;
    }

    private static bool TryParseCidr(string text, int slash, out IpRange range, out string? error)
    {
        range = default;
        var addressText = text[..slash].Trim();
        var prefixText = text[(slash + 1)..].Trim();
        if (!TryParseAddress(addressText, text, out var address, out error))
        {
            return false;
        }

        var family = IpAddressMath.FamilyOf(address);
        var bits = IpAddressMath.BitCount(family);
        if (prefixText.Length is 0 or > 3 || prefixText.AsSpan().ContainsAnyExceptInRange('0', '9'))
        {
            error = $"prefix length \"{prefixText}\" in \"{text}\" is not a number";
            return false;
        }

        var prefix = int.Parse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture);
        if (prefix > bits)
        {
            error = $"prefix length {prefix} in \"{text}\" is out of range for {family} (0-{bits})";
            return false;
        }

        // UInt128 shifts are taken mod 128, so the /0 mask cannot come from a shift.
        var hostMask = prefix == 0 ? IpAddressMath.MaxValue(family) : (UInt128.One << (bits - prefix)) - 1;

        var value = IpAddressMath.ToUInt128(address);
        if ((value & hostMask) != 0)
        {
            var network = IpAddressMath.ToAddress(family, value & ~hostMask);
            error = $"\"{text}\" has host bits set; the network is {network}/{prefix}";
            return false;
        }

        range = new IpRange(family, value, value | hostMask);
        error = null;
        return true;
    }

    private static bool TryParseRange(string text, int dash, out IpRange range, out string? error)
    {
        range = default;
        if (!TryParseAddress(text[..dash].Trim(), text, out var first, out error)
            || !TryParseAddress(text[(dash + 1)..].Trim(), text, out var last, out error))
        {
            return false;
        }

        var family = IpAddressMath.FamilyOf(first);
        if (family != IpAddressMath.FamilyOf(last))
        {
            error = $"range \"{text}\" mixes IPv4 and IPv6 addresses";
            return false;
        }

        var firstValue = IpAddressMath.ToUInt128(first);
        var lastValue = IpAddressMath.ToUInt128(last);
        if (firstValue > lastValue)
        {
            error = $"range \"{text}\" is reversed: {first} comes after {last}";
            return false;
        }

        range = new IpRange(family, firstValue, lastValue);
        error = null;
        return true;
    }

    private static bool TryParseAddress(string part, string text, out IPAddress address, out string? error)
    {
        address = IPAddress.None;
        var parsed = part.Contains(':') ? TryParseIPv6(part) : TryParseIPv4(part);
        if (parsed is null)
        {
            error = $"\"{part}\" in \"{text}\" is not an IP address";
            return false;
        }

        // Service addresses are plain IPv4 or IPv6; a mapped address would never equal one of them.
        if (parsed.IsIPv4MappedToIPv6)
        {
            error = $"\"{part}\" in \"{text}\" is an IPv4-mapped IPv6 address; write the IPv4 address {parsed.MapToIPv4()} instead";
            return false;
        }

        address = parsed;
        error = null;
        return true;
    }

    private static IPAddress? TryParseIPv4(string part)
    {
        Span<byte> octets = stackalloc byte[4];
        var index = 0;
        foreach (var range in part.AsSpan().Split('.'))
        {
            var octet = part.AsSpan()[range];
            // Leading zeros are rejected: some parsers read "010" as octal, so its meaning is ambiguous.
            if (index == 4 || octet.Length is 0 or > 3 || octet.ContainsAnyExceptInRange('0', '9')
                || (octet.Length > 1 && octet[0] == '0'))
            {
                return null;
            }

            var value = int.Parse(octet, NumberStyles.None, CultureInfo.InvariantCulture);
            if (value > 255)
            {
                return null;
            }

            octets[index++] = (byte)value;
        }

        return index == 4 ? new IPAddress(octets) : null;
    }

    private static IPAddress? TryParseIPv6(string part)
    {
        // Zones ("%eth0") and brackets have no meaning in a pool.
        foreach (var c in part)
        {
            if (!(char.IsAsciiHexDigit(c) || c == ':' || c == '.'))
            {
                return null;
            }
        }

        return IPAddress.TryParse(part, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? address
            : null;
    }
}

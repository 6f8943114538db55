using System.Net;
using System.Net.Sockets;

namespace BareLb.ApiServer.Api;

// Textual IP parsing with Go's two behaviours. Sloppy is k8s.io/utils/net ParseIPSloppy (Go's parser before 1.17):
// IPv4 octets may carry leading zeros and are read as decimal; the real server validates Service IPs and the
// ipv4/cidr schema formats with it. Strict is today's net.ParseIP (no leading zeros, at most 4 hex digits a group),
// used by the ipv6 schema format. Neither accepts zones, brackets, or the shorthand forms ("1", "0x1.2", "1.2.3")
// that IPAddress.TryParse does.
internal static class IpText
{
    public static bool TryParse(string? text, out IPAddress address) => TryParse(text, sloppy: true, out address);

    public static bool TryParse(string? text, bool sloppy, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        // Go decides by the first '.' or ':' it meets.
        foreach (var c in text)
        {
            if (c == '.')
            {
                return TryParseV4(text, sloppy, out address);
            }

            if (c == ':')
            {
                return TryParseV6(text, sloppy, out address);
            }
        }

        return false;
    }

    public static string Family(IPAddress ip) => ip.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    /// <summary>ParseCIDRSloppy: an IPv4 or IPv6 address, '/', and a decimal prefix no longer than the address.</summary>
    public static bool TryParseCidr(string? text, out IPAddress network, out int prefix)
    {
        network = IPAddress.None;
        prefix = 0;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash < 0)
        {
            return false;
        }

        var addr = text![..slash];
        var mask = text[(slash + 1)..];
        var bits = 32;
        if (!TryParseV4(addr, sloppy: true, out network))
        {
            bits = 128;
            if (!TryParseV6(addr, sloppy: true, out network))
            {
                return false;
            }
        }

        if (!TryDecimal(mask, 0, out var value, out var used) || used != mask.Length || value > bits)
        {
            return false;
        }

        prefix = value;
        return true;
    }

    private static bool TryParseV4(string s, bool sloppy, out IPAddress address)
    {
        address = IPAddress.None;
        Span<byte> bytes = stackalloc byte[4];
        if (!TryParseV4Bytes(s, sloppy, bytes))
        {
            return false;
        }

        address = new IPAddress(bytes);
        return true;
    }

    private static bool TryParseV4Bytes(ReadOnlySpan<char> s, bool sloppy, Span<byte> bytes)
    {
        var pos = 0;
        for (var i = 0; i < 4; i++)
        {
            if (i > 0)
            {
                if (pos >= s.Length || s[pos] != '.')
                {
                    return false;
                }

                pos++;
            }

            if (!TryDecimal(s, pos, out var n, out var used) || n > 255)
            {
                return false;
            }

            if (!sloppy && (used > 3 || (used > 1 && s[pos] == '0')))
            {
                return false;
            }

            bytes[i] = (byte)n;
            pos += used;
        }

        return pos == s.Length;
    }

    // Go's parseIPv6: hex groups separated by ':', one "::" standing for at least one zero group, an IPv4 tail.
    private static bool TryParseV6(string text, bool sloppy, out IPAddress address)
    {
        address = IPAddress.None;
        Span<byte> ip = stackalloc byte[16];
        ip.Clear();
        ReadOnlySpan<char> s = text;
        var ellipsis = -1;
        if (s.Length >= 2 && s[0] == ':' && s[1] == ':')
        {
            ellipsis = 0;
            s = s[2..];
            if (s.Length == 0)
            {
                address = new IPAddress(ip);
                return true;
            }
        }

        var i = 0;
        while (i < 16)
        {
            if (!TryHex(s, out var n, out var used) || n > 0xFFFF || (!sloppy && used > 4))
            {
                return false;
            }

            if (used < s.Length && s[used] == '.')
            {
                if ((ellipsis < 0 && i != 12) || i + 4 > 16 || !TryParseV4Bytes(s, sloppy, ip[i..(i + 4)]))
                {
                    return false;
                }

                s = [];
                i += 4;
                break;
            }

            ip[i] = (byte)(n >> 8);
            ip[i + 1] = (byte)n;
            i += 2;
            s = s[used..];
            if (s.Length == 0)
            {
                break;
            }

            if (s[0] != ':' || s.Length == 1)
            {
                return false;
            }

            s = s[1..];
            if (s[0] == ':')
            {
                if (ellipsis >= 0)
                {
                    return false;
                }

                ellipsis = i;
                s = s[1..];
                if (s.Length == 0)
                {
                    break;
                }
            }
        }

        if (s.Length != 0)
        {
            return false;
        }

        if (i < 16)
        {
            if (ellipsis < 0)
            {
                return false;
            }

            var shift = 16 - i;
            for (var j = i - 1; j >= ellipsis; j--)
            {
                ip[j + shift] = ip[j];
            }

            ip[ellipsis..(ellipsis + shift)].Clear();
        }
        else if (ellipsis >= 0)
        {
            return false;
        }

        address = new IPAddress(ip);
        return true;
    }

    // Go's dtoi: one or more decimal digits, failing once the value reaches 0xFFFFFF.
    private static bool TryDecimal(ReadOnlySpan<char> s, int start, out int value, out int used)
    {
        value = 0;
        used = 0;
        for (var i = start; i < s.Length && char.IsAsciiDigit(s[i]); i++)
        {
            value = (value * 10) + (s[i] - '0');
            used++;
            if (value >= 0xFFFFFF)
            {
                return false;
            }
        }

        return used > 0;
    }

    private static bool TryHex(ReadOnlySpan<char> s, out int value, out int used)
    {
        value = 0;
        used = 0;
        for (var i = 0; i < s.Length && char.IsAsciiHexDigit(s[i]); i++)
        {
            value = (value * 16) + (s[i] <= '9' ? s[i] - '0' : (s[i] | 0x20) - 'a' + 10);
            used++;
            if (value >= 0xFFFFFF)
            {
                return false;
            }
        }

        return used > 0;
    }
}

using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace BareLb.Api.Config;

// Strict single-address parsing for configuration fields. IPAddress.TryParse accepts "10" (as a 32-bit number), "1.2.3" and
// zone suffixes, which would turn a typo into a different peer; Go's net.ParseIP, which MetalLB uses, does not.
internal static class IpAddressText
{
    public static bool TryParse(string text, [NotNullWhen(true)] out IPAddress? address)
    {
        address = text.Contains(':') ? ParseIPv6(text) : ParseIPv4(text);
        return address is not null;
    }

    private static IPAddress? ParseIPv4(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return null;
        }

        var bytes = new byte[4];
        for (var i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || !part.All(char.IsAsciiDigit) || (part.Length > 1 && part[0] == '0'))
            {
                return null;
            }

            var value = int.Parse(part, NumberStyles.None, CultureInfo.InvariantCulture);
            if (value > 255)
            {
                return null;
            }

            bytes[i] = (byte)value;
        }

        return new IPAddress(bytes);
    }

    private static IPAddress? ParseIPv6(string text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiHexDigit(c) || c is ':' or '.'))
            {
                return null;
            }
        }

        return IPAddress.TryParse(text, out var address) && address.AddressFamily == AddressFamily.InterNetworkV6
            ? address
            : null;
    }
}

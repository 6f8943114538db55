using System.Net;
using System.Net.Sockets;

namespace BareLb.ApiServer.Services;

// Strict textual IP parsing: IPAddress.TryParse accepts "1", "0x1.2" or "1.2.3", which the real
// server's validation rejects.
internal static class IpText
{
    public static bool TryParse(string? text, out IPAddress address)
    {
        address = IPAddress.None;
        if (string.IsNullOrEmpty(text) || text.Contains('%', StringComparison.Ordinal))
        {
            return false;
        }

        if (text.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(text, out address!) && address.AddressFamily == AddressFamily.InterNetworkV6;
        }

        var parts = text.Split('.');
        if (parts.Length != 4)
        {
            return false;
        }

        foreach (var p in parts)
        {
            if (p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit) || int.Parse(p, System.Globalization.CultureInfo.InvariantCulture) > 255 ||
                (p.Length > 1 && p[0] == '0'))
            {
                return false;
            }
        }

        return IPAddress.TryParse(text, out address!);
    }

    public static string Family(IPAddress ip) => ip.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4";

    public static bool TryParseCidr(string? text, out IPAddress network, out int prefix)
    {
        network = IPAddress.None;
        prefix = 0;
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (slash < 0 || !TryParse(text![..slash], out network))
        {
            return false;
        }

        var max = network.AddressFamily == AddressFamily.InterNetworkV6 ? 128 : 32;
        return int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) && prefix <= max;
    }
}

using System.Net;
using System.Net.Sockets;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Services;

// ClusterIP ranges of the emulated dual-stack cluster. The emulator's own choice: 100.64.0.0/16 and
// 2001:db8:ffff::/112 — never routed or sent to, only written into Service objects.
internal sealed class ClusterIpRange
{
    private readonly UInt128 _base;
    private readonly int _size;
    private readonly HashSet<UInt128> _allocated = [];

    public ClusterIpRange(string cidr)
    {
        if (!IpText.TryParseCidr(cidr, out var network, out var prefix))
        {
            throw new ArgumentException($"bad CIDR {cidr}", nameof(cidr));
        }

        Cidr = cidr;
        Family = network.AddressFamily;
        _base = ToNumber(network);
        var bits = (Family == AddressFamily.InterNetworkV6 ? 128 : 32) - prefix;
        _size = bits >= 30 ? 1 << 30 : 1 << bits;
    }

    public string Cidr { get; }

    public AddressFamily Family { get; }

    public bool Contains(IPAddress ip)
    {
        if (ip.AddressFamily != Family)
        {
            return false;
        }

        var n = ToNumber(ip);
        return n >= _base && n - _base < (UInt128)_size;
    }

    public bool IsAllocated(IPAddress ip) => _allocated.Contains(ToNumber(ip));

    /// <summary>Reserves a specific address; false when out of range (network/broadcast excluded) or taken.</summary>
    public string? TryReserve(IPAddress ip)
    {
        if (!Contains(ip))
        {
            return $"provided IP is not in the valid range. The range of valid IPs is {Cidr}";
        }

        var off = ToNumber(ip) - _base;
        if (off == 0 || off == (UInt128)(_size - 1))
        {
            return $"provided IP is not in the valid range. The range of valid IPs is {Cidr}";
        }

        return _allocated.Add(ToNumber(ip)) ? null : "provided IP is already allocated";
    }

    /// <summary>Picks a free address at random (offset 1 is kept for the "kubernetes" Service, as on real clusters).</summary>
    public IPAddress? AllocateNext()
    {
        var usable = _size - 3;
        if (usable <= 0)
        {
            return null;
        }

        var start = Random.Shared.Next(usable);
        for (var i = 0; i < usable; i++)
        {
            var candidate = _base + (UInt128)(2 + ((start + i) % usable));
            if (_allocated.Add(candidate))
            {
                return FromNumber(candidate, Family);
            }
        }

        return null;
    }

    public void Release(IPAddress ip)
    {
        if (ip.AddressFamily == Family)
        {
            _allocated.Remove(ToNumber(ip));
        }
    }

    private static UInt128 ToNumber(IPAddress ip)
    {
        Span<byte> bytes = stackalloc byte[16];
        ip.TryWriteBytes(bytes, out var written);
        UInt128 n = 0;
        for (var i = 0; i < written; i++)
        {
            n = (n << 8) | bytes[i];
        }

        return n;
    }

    private static IPAddress FromNumber(UInt128 n, AddressFamily family)
    {
        var len = family == AddressFamily.InterNetworkV6 ? 16 : 4;
        var bytes = new byte[len];
        for (var i = len - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(n & 0xff);
            n >>= 8;
        }

        return new IPAddress(bytes);
    }
}

internal sealed class NodePortRange
{
    public const int Min = 30000;
    public const int Max = 32767;
    private readonly HashSet<int> _allocated = [];

    public string? TryReserve(int port)
    {
        if (port is < Min or > Max)
        {
            return $"provided port is not in the valid range. The range of valid ports is {Min}-{Max}";
        }

        return _allocated.Add(port) ? null : "provided port is already allocated";
    }

    public int? AllocateNext()
    {
        const int count = Max - Min + 1;
        var start = Random.Shared.Next(count);
        for (var i = 0; i < count; i++)
        {
            var p = Min + ((start + i) % count);
            if (_allocated.Add(p))
            {
                return p;
            }
        }

        return null;
    }

    public void Release(int port) => _allocated.Remove(port);
}

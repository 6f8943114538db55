using System.Net;
using System.Net.Sockets;

namespace BareLb.Bgp.Wire;

/// <summary>
/// The prefix encoding shared by the withdrawn routes, the NLRI and the MP attributes (RFC 4271 section 4.3):
/// <code>
/// +---------------------------+
/// |   Length (1 octet)        |
/// +---------------------------+
/// |   Prefix (variable)       |   ceil(length / 8) octets; trailing bits are irrelevant
/// +---------------------------+
/// </code>
/// </summary>
public static class BgpPrefix
{
    public static int EncodedSize(IPNetwork prefix) => 1 + ((prefix.PrefixLength + 7) >> 3);

    public static int Write(Span<byte> destination, IPNetwork prefix)
    {
        var octets = (prefix.PrefixLength + 7) >> 3;
        destination[0] = (byte)prefix.PrefixLength;
        Span<byte> address = stackalloc byte[16];
        prefix.BaseAddress.TryWriteBytes(address, out _);
        address[..octets].CopyTo(destination[1..]);
        return 1 + octets;
    }

    /// <summary>Counts the prefixes of a field, checking that each length is at most <paramref name="maxBits"/> and fits the field.</summary>
    public static bool TryCount(ReadOnlySpan<byte> field, int maxBits, out int count)
    {
        count = 0;
        while (!field.IsEmpty)
        {
            int bits = field[0];
            var octets = (bits + 7) >> 3;
            if (bits > maxBits || field.Length < 1 + octets)
            {
                return false;
            }
            field = field[(1 + octets)..];
            count++;
        }
        return true;
    }

    /// <summary>Reads every prefix of a field already checked by <see cref="TryCount"/>.</summary>
    public static List<IPNetwork> ReadAll(ReadOnlySpan<byte> field, AddressFamily family)
    {
        var list = new List<IPNetwork>();
        var size = family == AddressFamily.InterNetwork ? 4 : 16;
        Span<byte> address = stackalloc byte[16];
        while (!field.IsEmpty)
        {
            int bits = field[0];
            var octets = (bits + 7) >> 3;
            address.Clear();
            field.Slice(1, octets).CopyTo(address);
            // Trailing bits past the length may be anything on the wire; IPNetwork wants them zero.
            if ((bits & 7) != 0)
            {
                address[octets - 1] &= (byte)(0xFF << (8 - (bits & 7)));
            }
            list.Add(new IPNetwork(new IPAddress(address[..size]), bits));
            field = field[(1 + octets)..];
        }
        return list;
    }
}

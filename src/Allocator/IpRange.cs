using System.Diagnostics.CodeAnalysis;
using System.Net;
using System.Numerics;

namespace BareLb.Allocator;

// Inclusive range of one family; IPv4 values live in the low 32 bits.
public readonly record struct IpRange(IpFamily Family, UInt128 First, UInt128 Last)
{
    // Only ::/0 overflows (2^128 addresses); it saturates so that callers never see a wrapped zero.
    public UInt128 Count => First == UInt128.Zero && Last == UInt128.MaxValue ? UInt128.MaxValue : Last - First + 1;

    public bool Contains(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return IpAddressMath.FamilyOf(address) == Family && Contains(IpAddressMath.ToUInt128(address));
    }

    internal bool Contains(UInt128 value) => value >= First && value <= Last;

    public bool Overlaps(IpRange other) => other.Family == Family && other.First <= Last && First <= other.Last;

    internal IpRange? Intersect(IpRange other) =>
        Overlaps(other) ? new IpRange(Family, UInt128.Max(First, other.First), UInt128.Min(Last, other.Last)) : null;

    public static bool TryParse(string text, out IpRange range, [NotNullWhen(false)] out string? error) =>
        AddressRangeParser.TryParse(text, out range, out error);

    public override string ToString()
    {
        var first = IpAddressMath.ToAddress(Family, First);
        var span = Last - First;

        // A CIDR block: the size is a power of two and the first address is aligned to it.
        if ((span & (span + 1)) == 0 && (First & span) == 0)
        {
            var prefix = IpAddressMath.BitCount(Family) - (int)UInt128.PopCount(span);
            return $"{first}/{prefix}";
        }

        return $"{first}-{IpAddressMath.ToAddress(Family, Last)}";
    }

    internal BigInteger ExactCount => (BigInteger)(Last - First) + 1;
}

using System.Buffers.Binary;
using System.Globalization;

namespace BareLb.Layer2;

/// <summary>A 48-bit Ethernet address, held in the low 48 bits of a <see cref="ulong"/> so that it copies and compares without allocation.</summary>
public readonly record struct MacAddress
{
    public const int Length = 6;

    private readonly ulong _value;

    private MacAddress(ulong value) => _value = value & 0xFFFF_FFFF_FFFFUL;

    public static MacAddress Broadcast { get; } = new(0xFFFF_FFFF_FFFFUL);

    public static MacAddress Zero { get; } = default;

    /// <summary>The group bit (least significant bit of the first octet): broadcast and multicast addresses.</summary>
    public bool IsGroup => (_value >> 40 & 1) != 0;

    public static MacAddress Read(ReadOnlySpan<byte> source) =>
        new((ulong)BinaryPrimitives.ReadUInt16BigEndian(source) << 32 | BinaryPrimitives.ReadUInt32BigEndian(source[2..]));

    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)(_value >> 32));
        BinaryPrimitives.WriteUInt32BigEndian(destination[2..], (uint)_value);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        WriteTo(bytes);
        return bytes;
    }

    /// <summary>The Ethernet address an IPv6 multicast group maps to (RFC 2464 §7): 33:33 and the group's last 32 bits.</summary>
    public static MacAddress ForIPv6Multicast(UInt128 group) => new(0x3333_0000_0000UL | (uint)group);

    public static MacAddress Parse(string text)
    {
        if (!TryParse(text, out var mac))
        {
            throw new FormatException($"'{text}' is not a MAC address (expected six hex octets separated by ':' or '-')");
        }
        return mac;
    }

    public static bool TryParse(string? text, out MacAddress mac)
    {
        mac = default;
        if (text is null || text.Length != 17)
        {
            return false;
        }
        ulong value = 0;
        for (var i = 0; i < Length; i++)
        {
            if (i > 0 && text[i * 3 - 1] is not (':' or '-'))
            {
                return false;
            }
            if (!byte.TryParse(text.AsSpan(i * 3, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var octet))
            {
                return false;
            }
            value = value << 8 | octet;
        }
        mac = new MacAddress(value);
        return true;
    }

    public override string ToString()
    {
        Span<byte> b = stackalloc byte[Length];
        WriteTo(b);
        return string.Create(CultureInfo.InvariantCulture, $"{b[0]:x2}:{b[1]:x2}:{b[2]:x2}:{b[3]:x2}:{b[4]:x2}:{b[5]:x2}");
    }
}

using System.Buffers.Binary;
using BareLb.Bgp.Wire;

namespace BareLb.Bgp.Tests.Wire;

/// <summary>Hand-built messages for tests: bodies written byte by byte, framed with a correct header.</summary>
internal static class Messages
{
    public static byte[] Frame(BgpMessageType type, params byte[] body)
    {
        var message = new byte[BgpHeader.Length + body.Length];
        BgpHeader.Write(message, message.Length, type);
        body.CopyTo(message, BgpHeader.Length);
        return message;
    }

    public static byte[] Update(byte[] withdrawn, byte[] attributes, byte[] nlri)
    {
        var body = new byte[4 + withdrawn.Length + attributes.Length + nlri.Length];
        BinaryPrimitives.WriteUInt16BigEndian(body, (ushort)withdrawn.Length);
        withdrawn.CopyTo(body, 2);
        BinaryPrimitives.WriteUInt16BigEndian(body.AsSpan(2 + withdrawn.Length), (ushort)attributes.Length);
        attributes.CopyTo(body, 4 + withdrawn.Length);
        nlri.CopyTo(body, 4 + withdrawn.Length + attributes.Length);
        return Frame(BgpMessageType.Update, body);
    }

    public static byte[] Attr(byte flags, byte type, params byte[] value) =>
        (flags & PathAttributeFlags.ExtendedLength) != 0
            ? [flags, type, (byte)(value.Length >> 8), (byte)value.Length, .. value]
            : [flags, type, (byte)value.Length, .. value];

    public static byte[] Origin(byte value = 0) => Attr(0x40, 1, value);

    public static byte[] AsPath2(params ushort[] asns)
    {
        if (asns.Length == 0)
        {
            return Attr(0x40, 2);
        }
        var v = new byte[2 + 2 * asns.Length];
        v[0] = 2;
        v[1] = (byte)asns.Length;
        for (var i = 0; i < asns.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(v.AsSpan(2 + 2 * i), asns[i]);
        }
        return Attr(0x40, 2, v);
    }

    public static byte[] AsPath4(params uint[] asns)
    {
        var v = new byte[2 + 4 * asns.Length];
        v[0] = 2;
        v[1] = (byte)asns.Length;
        for (var i = 0; i < asns.Length; i++)
        {
            BinaryPrimitives.WriteUInt32BigEndian(v.AsSpan(2 + 4 * i), asns[i]);
        }
        return Attr(0x40, 2, v);
    }

    public static byte[] NextHop(byte a, byte b, byte c, byte d) => Attr(0x40, 3, a, b, c, d);

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static UpdateParseContext Ebgp4(uint peerAs = 64512) => new(FourOctetAs: true, External: true, PeerAsOnPath: peerAs);
}

using System.Buffers.Binary;

namespace BareLb.Bgp.Wire;

public enum BgpFrameStatus
{
    /// <summary>Fewer bytes than the header or than the length it announces: read more.</summary>
    Incomplete,
    Complete,
    Invalid,
}

/// <summary>
/// The fixed message header (RFC 4271 section 4.1):
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                                                               +
/// |                                                               |
/// +                                                               +
/// |                           Marker                              |
/// +                                                               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Length               |      Type     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// The marker is all ones; the length counts the header; the type-specific minimum and exact lengths are checked
/// here too, so a message body handed on is never shorter than its fixed part.
/// </summary>
public static class BgpHeader
{
    public const int Length = 19;
    public const int MarkerLength = 16;

    /// <summary>RFC 4271's maximum; we do not negotiate RFC 8654 extended messages.</summary>
    public const int MaxMessageLength = 4096;

    /// <summary>
    /// Inspects the start of <paramref name="buffer"/>. <see cref="BgpFrameStatus.Complete"/> means
    /// <paramref name="messageLength"/> bytes (header included) form one message of <paramref name="type"/>.
    /// </summary>
    public static BgpFrameStatus TryReadFrame(ReadOnlySpan<byte> buffer, out int messageLength, out BgpMessageType type, out BgpError error)
    {
        messageLength = 0;
        type = default;
        error = default;
        if (buffer.Length < Length)
        {
            return BgpFrameStatus.Incomplete;
        }
        if (buffer[..MarkerLength].IndexOfAnyExcept((byte)0xFF) >= 0)
        {
            error = BgpError.Header(MessageHeaderSubcode.ConnectionNotSynchronized);
            return BgpFrameStatus.Invalid;
        }
        int length = BinaryPrimitives.ReadUInt16BigEndian(buffer[16..]);
        var rawType = buffer[18];
        if (length < Length || length > MaxMessageLength)
        {
            error = BgpError.BadLength(length);
            return BgpFrameStatus.Invalid;
        }
        if (rawType is < 1 or > 5)
        {
            error = BgpError.Header(MessageHeaderSubcode.BadMessageType, [rawType]);
            return BgpFrameStatus.Invalid;
        }
        type = (BgpMessageType)rawType;
        var lengthFits = type switch
        {
            BgpMessageType.Open => length >= 29,
            BgpMessageType.Update => length >= 23,
            BgpMessageType.Notification => length >= 21,
            BgpMessageType.Keepalive => length == Length,
            BgpMessageType.RouteRefresh => length == 23,
            _ => false,
        };
        if (!lengthFits)
        {
            error = BgpError.BadLength(length);
            return BgpFrameStatus.Invalid;
        }
        if (buffer.Length < length)
        {
            return BgpFrameStatus.Incomplete;
        }
        messageLength = length;
        return BgpFrameStatus.Complete;
    }

    /// <summary>Writes marker, length and type; the body follows at offset <see cref="Length"/>.</summary>
    public static void Write(Span<byte> destination, int messageLength, BgpMessageType type)
    {
        destination[..MarkerLength].Fill(0xFF);
        BinaryPrimitives.WriteUInt16BigEndian(destination[16..], checked((ushort)messageLength));
        destination[18] = (byte)type;
    }
}

/// <summary>KEEPALIVE: the header alone (RFC 4271 section 4.4).</summary>
public static class BgpKeepalive
{
    public static bool TryWrite(Span<byte> destination, out int written)
    {
        written = 0;
        if (destination.Length < BgpHeader.Length)
        {
            return false;
        }
        BgpHeader.Write(destination, BgpHeader.Length, BgpMessageType.Keepalive);
        written = BgpHeader.Length;
        return true;
    }
}

/// <summary>
/// NOTIFICATION (RFC 4271 section 4.5):
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Error code    | Error subcode |   Data (variable)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// </code>
/// </summary>
public static class BgpNotification
{
    public static bool TryWrite(Span<byte> destination, in BgpError error, out int written)
    {
        written = 0;
        var data = error.Data ?? [];
        // A NOTIFICATION must fit one message; the data we echo (an attribute) is cut if it would not.
        var dataLength = Math.Min(data.Length, BgpHeader.MaxMessageLength - BgpHeader.Length - 2);
        var length = BgpHeader.Length + 2 + dataLength;
        if (destination.Length < length)
        {
            return false;
        }
        BgpHeader.Write(destination, length, BgpMessageType.Notification);
        destination[19] = (byte)error.Code;
        destination[20] = error.Subcode;
        data.AsSpan(0, dataLength).CopyTo(destination[21..]);
        written = length;
        return true;
    }

    /// <summary>Reads a whole NOTIFICATION message (header included; its length was checked by the framer).</summary>
    public static BgpError Read(ReadOnlySpan<byte> message)
    {
        var body = message[BgpHeader.Length..];
        return new BgpError((BgpErrorCode)body[0], body[1], body.Length > 2 ? body[2..].ToArray() : null);
    }

    /// <summary>RFC 8203/9003 shutdown communication: a length octet and UTF-8 text, for Cease subcodes 2 and 4.</summary>
    public static byte[] ShutdownCommunication(string text)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var length = Math.Min(bytes.Length, 255);
        var data = new byte[length + 1];
        data[0] = (byte)length;
        bytes.AsSpan(0, length).CopyTo(data.AsSpan(1));
        return data;
    }
}

/// <summary>
/// ROUTE-REFRESH (RFC 2918; the reserved octet is RFC 7313's message subtype):
/// <code>
///  0       7      15      23      31
/// +-------+-------+-------+-------+
/// |      AFI      | Res.  | SAFI  |
/// +-------+-------+-------+-------+
/// </code>
/// </summary>
public static class BgpRouteRefresh
{
    public const int MessageLength = BgpHeader.Length + 4;

    public static bool TryWrite(Span<byte> destination, AfiSafi family, out int written)
    {
        written = 0;
        if (destination.Length < MessageLength)
        {
            return false;
        }
        BgpHeader.Write(destination, MessageLength, BgpMessageType.RouteRefresh);
        BinaryPrimitives.WriteUInt16BigEndian(destination[19..], family.Afi);
        destination[21] = 0;
        destination[22] = family.Safi;
        written = MessageLength;
        return true;
    }

    /// <summary>Reads family and subtype (0 = plain refresh; 1 and 2 are RFC 7313 demarcations).</summary>
    public static (AfiSafi Family, byte Subtype) Read(ReadOnlySpan<byte> message) =>
        (new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(message[19..]), message[22]), message[21]);
}

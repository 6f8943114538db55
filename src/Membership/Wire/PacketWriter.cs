using System.Buffers.Binary;

namespace BareLb.Membership.Wire;

/// <summary>
/// Writes one packet (layout in <see cref="PacketFormat"/>) into a caller's buffer: the header, then messages for
/// as long as they fit, then the tag. Every <c>TryWrite…</c> either writes the whole message or nothing and returns
/// false, always keeping room for the tag, so the caller can fill a packet with rumors until one does not fit.
/// </summary>
internal ref struct PacketWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    private PacketWriter(Span<byte> buffer, int position)
    {
        _buffer = buffer;
        _position = position;
    }

    /// <summary>Bytes written so far (without the tag).</summary>
    public readonly int Position => _position;

    /// <summary>Room left for messages.</summary>
    public readonly int Remaining => _buffer.Length - PacketFormat.TagSize - _position;

    public static bool TryBegin(Span<byte> buffer, byte keyHint, ulong boot, ulong sequence, uint incarnation, ReadOnlySpan<byte> senderName, out PacketWriter writer)
    {
        writer = default;
        if (senderName.IsEmpty || senderName.Length > PacketFormat.MaxNameLength
            || buffer.Length < PacketFormat.FixedHeaderSize + senderName.Length + PacketFormat.TagSize)
        {
            return false;
        }
        buffer[0] = PacketFormat.Magic0;
        buffer[1] = PacketFormat.Magic1;
        buffer[2] = PacketFormat.Version;
        buffer[3] = keyHint;
        BinaryPrimitives.WriteUInt64BigEndian(buffer[4..], boot);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[12..], sequence);
        BinaryPrimitives.WriteUInt32BigEndian(buffer[20..], incarnation);
        buffer[24] = (byte)senderName.Length;
        senderName.CopyTo(buffer[PacketFormat.FixedHeaderSize..]);
        writer = new PacketWriter(buffer, PacketFormat.FixedHeaderSize + senderName.Length);
        return true;
    }

    public bool TryWritePing(ulong nonce) => TryWriteNonce(MessageType.Ping, nonce);

    public bool TryWriteAck(ulong nonce) => TryWriteNonce(MessageType.Ack, nonce);

    public bool TryWriteNack(ulong nonce) => TryWriteNonce(MessageType.Nack, nonce);

    public bool TryWritePingReq(ulong nonce, ReadOnlySpan<byte> target)
    {
        if (target.IsEmpty || target.Length > PacketFormat.MaxNameLength)
        {
            return false;
        }
        var length = PacketFormat.NonceBodySize + 1 + target.Length;
        if (!TryReserve(MessageType.PingReq, length, out var body))
        {
            return false;
        }
        BinaryPrimitives.WriteUInt64BigEndian(body, nonce);
        body[8] = (byte)target.Length;
        target.CopyTo(body[9..]);
        return true;
    }

    public bool TryWriteRumor(MemberState state, ulong boot, uint incarnation, ReadOnlySpan<byte> subject, ReadOnlySpan<byte> accuser)
    {
        if (state is not (MemberState.Alive or MemberState.Suspect or MemberState.Dead or MemberState.Left)
            || subject.IsEmpty || subject.Length > PacketFormat.MaxNameLength || accuser.Length > PacketFormat.MaxNameLength
            || (state == MemberState.Suspect) != !accuser.IsEmpty)
        {
            return false;
        }
        if (!TryReserve(MessageType.Rumor, PacketFormat.RumorFixedSize + subject.Length + accuser.Length, out var body))
        {
            return false;
        }
        body[0] = (byte)state;
        BinaryPrimitives.WriteUInt64BigEndian(body[1..], boot);
        BinaryPrimitives.WriteUInt32BigEndian(body[9..], incarnation);
        body[13] = (byte)subject.Length;
        subject.CopyTo(body[14..]);
        body[14 + subject.Length] = (byte)accuser.Length;
        accuser.CopyTo(body[(15 + subject.Length)..]);
        return true;
    }

    /// <summary>Size of a rumor message on the wire, header included.</summary>
    public static int RumorSize(int subjectLength, int accuserLength) =>
        PacketFormat.MessageHeaderSize + PacketFormat.RumorFixedSize + subjectLength + accuserLength;

    /// <summary>Appends the tag; <paramref name="written"/> is the datagram's length.</summary>
    public readonly bool TryFinish(PacketAuthenticator authenticator, ReadOnlySpan<byte> receiverName, out int written)
    {
        written = 0;
        if (_buffer.Length - _position < PacketFormat.TagSize)
        {
            return false;
        }
        authenticator.Sign(_buffer[.._position], receiverName, _buffer.Slice(_position, PacketFormat.TagSize));
        written = _position + PacketFormat.TagSize;
        return true;
    }

    /// <summary>Writes a message of an arbitrary type, for tests of readers facing a later version.</summary>
    internal bool TryWriteRaw(byte type, ReadOnlySpan<byte> body)
    {
        if (!TryReserve((MessageType)type, body.Length, out var target))
        {
            return false;
        }
        body.CopyTo(target);
        return true;
    }

    private bool TryWriteNonce(MessageType type, ulong nonce)
    {
        if (!TryReserve(type, PacketFormat.NonceBodySize, out var body))
        {
            return false;
        }
        BinaryPrimitives.WriteUInt64BigEndian(body, nonce);
        return true;
    }

    private bool TryReserve(MessageType type, int length, out Span<byte> body)
    {
        body = default;
        if (length > ushort.MaxValue || Remaining < PacketFormat.MessageHeaderSize + length)
        {
            return false;
        }
        _buffer[_position] = (byte)type;
        BinaryPrimitives.WriteUInt16BigEndian(_buffer[(_position + 1)..], (ushort)length);
        body = _buffer.Slice(_position + PacketFormat.MessageHeaderSize, length);
        _position += PacketFormat.MessageHeaderSize + length;
        return true;
    }
}

using System.Buffers.Binary;

namespace BareLb.Membership.Wire;

/// <summary>One message of a packet, as it lies in the datagram (names are UTF-8 slices of it).</summary>
internal readonly ref struct MessageView
{
    public MessageView(MessageType type, ulong nonce, ReadOnlySpan<byte> name)
    {
        Type = type;
        Nonce = nonce;
        Name = name;
    }

    public MessageView(MemberState state, ulong boot, uint incarnation, ReadOnlySpan<byte> subject, ReadOnlySpan<byte> accuser)
    {
        Type = MessageType.Rumor;
        State = state;
        Boot = boot;
        Incarnation = incarnation;
        Name = subject;
        Accuser = accuser;
    }

    public MessageType Type { get; }

    /// <summary>Ping, Ack, PingReq, Nack.</summary>
    public ulong Nonce { get; }

    /// <summary>PingReq: the target; Rumor: the subject.</summary>
    public ReadOnlySpan<byte> Name { get; }

    public MemberState State { get; }

    public ulong Boot { get; }

    public uint Incarnation { get; }

    /// <summary>Rumor with <see cref="MemberState.Suspect"/>: who suspects the subject; empty otherwise.</summary>
    public ReadOnlySpan<byte> Accuser { get; }
}

/// <summary>
/// Reads a packet (layout in <see cref="PacketFormat"/>). <see cref="TryOpen"/> validates the whole datagram
/// first, so a packet is either rejected as a whole or every message in it reads cleanly; nothing here throws on
/// any input. Authentication is separate (<see cref="PacketAuthenticator"/>): a reader only says what the bytes
/// claim.
/// </summary>
internal ref struct PacketReader
{
    private ReadOnlySpan<byte> _messages;

    private PacketReader(ReadOnlySpan<byte> datagram, ReadOnlySpan<byte> senderName, ReadOnlySpan<byte> messages)
    {
        KeyHint = datagram[3];
        Boot = BinaryPrimitives.ReadUInt64BigEndian(datagram[4..]);
        Sequence = BinaryPrimitives.ReadUInt64BigEndian(datagram[12..]);
        Incarnation = BinaryPrimitives.ReadUInt32BigEndian(datagram[20..]);
        SenderName = senderName;
        Signed = datagram[..^PacketFormat.TagSize];
        Tag = datagram[^PacketFormat.TagSize..];
        _messages = messages;
    }

    public byte KeyHint { get; }

    public ulong Boot { get; }

    public ulong Sequence { get; }

    public uint Incarnation { get; }

    public ReadOnlySpan<byte> SenderName { get; }

    /// <summary>Every byte the tag covers (the receiver's name is appended when computing it).</summary>
    public ReadOnlySpan<byte> Signed { get; }

    public ReadOnlySpan<byte> Tag { get; }

    public static PacketError TryOpen(ReadOnlySpan<byte> datagram, out PacketReader reader)
    {
        reader = default;
        if (datagram.Length < PacketFormat.MinPacketSize)
        {
            return PacketError.TooShort;
        }
        if (datagram[0] != PacketFormat.Magic0 || datagram[1] != PacketFormat.Magic1)
        {
            return PacketError.BadMagic;
        }
        if (datagram[2] != PacketFormat.Version)
        {
            return PacketError.UnsupportedVersion;
        }

        var body = datagram[..^PacketFormat.TagSize];
        int nameLength = body[PacketFormat.FixedHeaderSize - 1];
        if (nameLength == 0 || PacketFormat.FixedHeaderSize + nameLength > body.Length)
        {
            return PacketError.BadSenderName;
        }
        var senderName = body.Slice(PacketFormat.FixedHeaderSize, nameLength);
        var messages = body[(PacketFormat.FixedHeaderSize + nameLength)..];

        var walk = messages;
        while (!walk.IsEmpty)
        {
            var error = Next(ref walk, out _);
            if (error != PacketError.Ok)
            {
                return error;
            }
        }

        reader = new PacketReader(datagram, senderName, messages);
        return PacketError.Ok;
    }

    /// <summary>The next message of a known type; false at the end. Unknown types are skipped.</summary>
    public bool TryReadMessage(out MessageView message)
    {
        var rest = _messages;
        while (!rest.IsEmpty)
        {
            // TryOpen has walked the same bytes, so this cannot fail here.
            _ = Next(ref rest, out message);
            _messages = rest;
            if (message.Type != 0)
            {
                return true;
            }
        }
        message = default;
        return false;
    }

    private static PacketError Next(scoped ref ReadOnlySpan<byte> span, out MessageView message)
    {
        message = default;
        if (span.Length < PacketFormat.MessageHeaderSize)
        {
            return PacketError.TruncatedMessage;
        }
        var type = (MessageType)span[0];
        int length = BinaryPrimitives.ReadUInt16BigEndian(span[1..]);
        if (span.Length - PacketFormat.MessageHeaderSize < length)
        {
            return PacketError.TruncatedMessage;
        }
        var body = span.Slice(PacketFormat.MessageHeaderSize, length);
        span = span[(PacketFormat.MessageHeaderSize + length)..];

        switch (type)
        {
            case MessageType.Ping or MessageType.Ack or MessageType.Nack:
                if (body.Length != PacketFormat.NonceBodySize)
                {
                    return PacketError.BadMessageBody;
                }
                message = new MessageView(type, BinaryPrimitives.ReadUInt64BigEndian(body), default);
                return PacketError.Ok;

            case MessageType.PingReq:
                if (body.Length < PacketFormat.NonceBodySize + 2 || body[PacketFormat.NonceBodySize] != body.Length - PacketFormat.NonceBodySize - 1)
                {
                    return PacketError.BadMessageBody;
                }
                message = new MessageView(type, BinaryPrimitives.ReadUInt64BigEndian(body), body[(PacketFormat.NonceBodySize + 1)..]);
                return PacketError.Ok;

            case MessageType.Rumor:
                return TryReadRumor(body, out message);

            default:
                // A type from a later version: skipped, the packet stays valid.
                return PacketError.Ok;
        }
    }

    private static PacketError TryReadRumor(ReadOnlySpan<byte> body, out MessageView message)
    {
        message = default;
        if (body.Length < PacketFormat.RumorFixedSize)
        {
            return PacketError.BadMessageBody;
        }
        var state = (MemberState)body[0];
        if (state is not (MemberState.Alive or MemberState.Suspect or MemberState.Dead or MemberState.Left))
        {
            return PacketError.BadMessageBody;
        }
        var boot = BinaryPrimitives.ReadUInt64BigEndian(body[1..]);
        var incarnation = BinaryPrimitives.ReadUInt32BigEndian(body[9..]);
        int subjectLength = body[13];
        if (subjectLength == 0 || body.Length < 14 + subjectLength + 1)
        {
            return PacketError.BadMessageBody;
        }
        var subject = body.Slice(14, subjectLength);
        int accuserLength = body[14 + subjectLength];
        if (body.Length != 14 + subjectLength + 1 + accuserLength)
        {
            return PacketError.BadMessageBody;
        }
        if ((state == MemberState.Suspect) != (accuserLength > 0))
        {
            return PacketError.BadMessageBody;
        }
        var accuser = body.Slice(14 + subjectLength + 1, accuserLength);
        message = new MessageView(state, boot, incarnation, subject, accuser);
        return PacketError.Ok;
    }
}

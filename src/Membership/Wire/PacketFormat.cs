namespace BareLb.Membership.Wire;

// One UDP datagram carries one packet. All integers are big-endian.
//
//  0                   1                   2                   3
//  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Magic 0x42   |  Magic 0x4D   |  Version (1)  |   Key hint    |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +                     Sender boot (64 bits)                     +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +                   Sender sequence (64 bits)                   +
// |                                                               |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                   Sender incarnation (32 bits)                |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Name length  |   Sender name (UTF-8, 1..255 bytes)         ...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Messages, each: Type (8) | Length (16) | Body (Length bytes) ...
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |                                                               |
// +        HMAC-SHA256 tag (256 bits) over every byte above,      +
// |        followed by the receiver's name (not sent)             |
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// Message bodies:
//   Ping    (1): Nonce (64)                        "answer me with this nonce"
//   Ack     (2): Nonce (64)                        answer to a Ping, or relayed answer to a PingReq
//   PingReq (3): Nonce (64), Target length (8), Target name    "probe Target for me"
//   Nack    (4): Nonce (64)                        a helper could not reach the PingReq's target
//   Rumor   (5): State (8), Boot (64), Incarnation (32), Subject length (8), Subject name,
//                Accuser length (8), Accuser name (empty unless State is Suspect)
//
// The key hint is the first byte of SHA-256(key), so a receiver holding several keys (rotation) tries only the
// matching one. The tag also covers the receiver's name, so a packet captured on its way to one member is useless
// when replayed to another. Boot and sequence are the replay protection (see ReplayWindow). Unknown message types
// are skipped by their length, so a later version can add messages that this one ignores.
internal static class PacketFormat
{
    public const byte Magic0 = 0x42; // 'B'
    public const byte Magic1 = 0x4D; // 'M'
    public const byte Version = 1;

    /// <summary>Magic, version, key hint, boot, sequence, incarnation, name length.</summary>
    public const int FixedHeaderSize = 2 + 1 + 1 + 8 + 8 + 4 + 1;

    public const int TagSize = 32;
    public const int MessageHeaderSize = 3;
    public const int MaxNameLength = 255;

    public const int NonceBodySize = 8;

    /// <summary>State, boot, incarnation, subject length, accuser length (names excluded).</summary>
    public const int RumorFixedSize = 1 + 8 + 4 + 1 + 1;

    /// <summary>The smallest packet that can be valid: a one-byte name, no messages, the tag.</summary>
    public const int MinPacketSize = FixedHeaderSize + 1 + TagSize;
}

internal enum MessageType : byte
{
    Ping = 1,
    Ack = 2,
    PingReq = 3,
    Nack = 4,
    Rumor = 5,
}

/// <summary>Why a datagram was not a well-formed packet; <see cref="Ok"/> when it was.</summary>
internal enum PacketError
{
    Ok,
    TooShort,
    BadMagic,
    UnsupportedVersion,
    BadSenderName,
    TruncatedMessage,
    BadMessageBody,
}

using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace BareLb.Bgp.Wire;

public enum BgpMessageType : byte
{
    Open = 1,
    Update = 2,
    Notification = 3,
    Keepalive = 4,
    RouteRefresh = 5,
}

/// <summary>NOTIFICATION error codes (RFC 4271 section 4.5, RFC 7313 for ROUTE-REFRESH).</summary>
public enum BgpErrorCode : byte
{
    MessageHeader = 1,
    OpenMessage = 2,
    UpdateMessage = 3,
    HoldTimerExpired = 4,
    FiniteStateMachine = 5,
    Cease = 6,
    RouteRefreshMessage = 7,
}

public static class MessageHeaderSubcode
{
    public const byte ConnectionNotSynchronized = 1;
    public const byte BadMessageLength = 2;
    public const byte BadMessageType = 3;
}

public static class OpenMessageSubcode
{
    public const byte Unspecific = 0;
    public const byte UnsupportedVersionNumber = 1;
    public const byte BadPeerAs = 2;
    public const byte BadBgpIdentifier = 3;
    public const byte UnsupportedOptionalParameter = 4;
    public const byte UnacceptableHoldTime = 6;
    public const byte UnsupportedCapability = 7;
}

public static class UpdateMessageSubcode
{
    public const byte MalformedAttributeList = 1;
    public const byte UnrecognizedWellKnownAttribute = 2;
    public const byte MissingWellKnownAttribute = 3;
    public const byte AttributeFlagsError = 4;
    public const byte AttributeLengthError = 5;
    public const byte InvalidOriginAttribute = 6;
    public const byte InvalidNextHopAttribute = 8;
    public const byte OptionalAttributeError = 9;
    public const byte InvalidNetworkField = 10;
    public const byte MalformedAsPath = 11;
}

/// <summary>RFC 6608 subcodes: which state the unexpected message arrived in.</summary>
public static class FsmErrorSubcode
{
    public const byte Unspecified = 0;
    public const byte UnexpectedMessageInOpenSent = 1;
    public const byte UnexpectedMessageInOpenConfirm = 2;
    public const byte UnexpectedMessageInEstablished = 3;
}

/// <summary>RFC 4486 / RFC 8538 Cease subcodes.</summary>
public static class CeaseSubcode
{
    public const byte MaximumPrefixesReached = 1;
    public const byte AdministrativeShutdown = 2;
    public const byte PeerDeconfigured = 3;
    public const byte AdministrativeReset = 4;
    public const byte ConnectionRejected = 5;
    public const byte OtherConfigurationChange = 6;
    public const byte ConnectionCollisionResolution = 7;
    public const byte OutOfResources = 8;
    public const byte HardReset = 9;
}

/// <summary>
/// A protocol error as it travels in a NOTIFICATION: code, subcode and the data the RFC prescribes for that pair
/// (the offending attribute, the bad length, the unsupported version...). Decoders return it instead of throwing.
/// </summary>
public readonly record struct BgpError(BgpErrorCode Code, byte Subcode, byte[]? Data = null)
{
    public static BgpError Header(byte subcode, ReadOnlySpan<byte> data = default) => new(BgpErrorCode.MessageHeader, subcode, Copy(data));

    public static BgpError Open(byte subcode, ReadOnlySpan<byte> data = default) => new(BgpErrorCode.OpenMessage, subcode, Copy(data));

    public static BgpError Update(byte subcode, ReadOnlySpan<byte> data = default) => new(BgpErrorCode.UpdateMessage, subcode, Copy(data));

    public static BgpError BadLength(int length)
    {
        Span<byte> data = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(data, (ushort)Math.Clamp(length, 0, ushort.MaxValue));
        return Header(MessageHeaderSubcode.BadMessageLength, data);
    }

    public override string ToString() => Describe(Code, Subcode, Data);

    /// <summary>Human text for logs and <c>LastError</c>, including an RFC 8203 shutdown communication when present.</summary>
    public static string Describe(BgpErrorCode code, byte subcode, ReadOnlySpan<byte> data)
    {
        var text = $"{(byte)code}/{subcode} {Name(code, subcode)}";
        if (code == BgpErrorCode.Cease && subcode is CeaseSubcode.AdministrativeShutdown or CeaseSubcode.AdministrativeReset
            && data.Length >= 1 && data[0] > 0 && data[0] <= data.Length - 1)
        {
            var message = Encoding.UTF8.GetString(data.Slice(1, data[0]));
            text += $" \"{message}\"";
        }
        else if (data.Length > 0)
        {
            text += " data " + Convert.ToHexStringLower(data.Length > 32 ? data[..32] : data) + (data.Length > 32 ? "…" : "");
        }
        return text;
    }

    public static string Name(BgpErrorCode code, byte subcode) => (code, subcode) switch
    {
        (BgpErrorCode.MessageHeader, MessageHeaderSubcode.ConnectionNotSynchronized) => "message header: connection not synchronized",
        (BgpErrorCode.MessageHeader, MessageHeaderSubcode.BadMessageLength) => "message header: bad message length",
        (BgpErrorCode.MessageHeader, MessageHeaderSubcode.BadMessageType) => "message header: bad message type",
        (BgpErrorCode.MessageHeader, _) => "message header error",
        (BgpErrorCode.OpenMessage, OpenMessageSubcode.UnsupportedVersionNumber) => "OPEN: unsupported version number",
        (BgpErrorCode.OpenMessage, OpenMessageSubcode.BadPeerAs) => "OPEN: bad peer AS",
        (BgpErrorCode.OpenMessage, OpenMessageSubcode.BadBgpIdentifier) => "OPEN: bad BGP identifier",
        (BgpErrorCode.OpenMessage, OpenMessageSubcode.UnsupportedOptionalParameter) => "OPEN: unsupported optional parameter",
        (BgpErrorCode.OpenMessage, OpenMessageSubcode.UnacceptableHoldTime) => "OPEN: unacceptable hold time",
        (BgpErrorCode.OpenMessage, OpenMessageSubcode.UnsupportedCapability) => "OPEN: unsupported capability",
        (BgpErrorCode.OpenMessage, _) => "OPEN message error",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.MalformedAttributeList) => "UPDATE: malformed attribute list",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.UnrecognizedWellKnownAttribute) => "UPDATE: unrecognized well-known attribute",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.MissingWellKnownAttribute) => "UPDATE: missing well-known attribute",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.AttributeFlagsError) => "UPDATE: attribute flags error",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.AttributeLengthError) => "UPDATE: attribute length error",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.InvalidOriginAttribute) => "UPDATE: invalid ORIGIN",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.InvalidNextHopAttribute) => "UPDATE: invalid NEXT_HOP",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.OptionalAttributeError) => "UPDATE: optional attribute error",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.InvalidNetworkField) => "UPDATE: invalid network field",
        (BgpErrorCode.UpdateMessage, UpdateMessageSubcode.MalformedAsPath) => "UPDATE: malformed AS_PATH",
        (BgpErrorCode.UpdateMessage, _) => "UPDATE message error",
        (BgpErrorCode.HoldTimerExpired, _) => "hold timer expired",
        (BgpErrorCode.FiniteStateMachine, FsmErrorSubcode.UnexpectedMessageInOpenSent) => "FSM: unexpected message in OpenSent",
        (BgpErrorCode.FiniteStateMachine, FsmErrorSubcode.UnexpectedMessageInOpenConfirm) => "FSM: unexpected message in OpenConfirm",
        (BgpErrorCode.FiniteStateMachine, FsmErrorSubcode.UnexpectedMessageInEstablished) => "FSM: unexpected message in Established",
        (BgpErrorCode.FiniteStateMachine, _) => "finite state machine error",
        (BgpErrorCode.Cease, CeaseSubcode.MaximumPrefixesReached) => "cease: maximum number of prefixes reached",
        (BgpErrorCode.Cease, CeaseSubcode.AdministrativeShutdown) => "cease: administrative shutdown",
        (BgpErrorCode.Cease, CeaseSubcode.PeerDeconfigured) => "cease: peer de-configured",
        (BgpErrorCode.Cease, CeaseSubcode.AdministrativeReset) => "cease: administrative reset",
        (BgpErrorCode.Cease, CeaseSubcode.ConnectionRejected) => "cease: connection rejected",
        (BgpErrorCode.Cease, CeaseSubcode.OtherConfigurationChange) => "cease: other configuration change",
        (BgpErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution) => "cease: connection collision resolution",
        (BgpErrorCode.Cease, CeaseSubcode.OutOfResources) => "cease: out of resources",
        (BgpErrorCode.Cease, CeaseSubcode.HardReset) => "cease: hard reset",
        (BgpErrorCode.Cease, _) => "cease",
        (BgpErrorCode.RouteRefreshMessage, 1) => "ROUTE-REFRESH: invalid message length",
        (BgpErrorCode.RouteRefreshMessage, _) => "ROUTE-REFRESH message error",
        _ => "error code " + ((byte)code).ToString(CultureInfo.InvariantCulture),
    };

    private static byte[]? Copy(ReadOnlySpan<byte> data) => data.IsEmpty ? null : data.ToArray();
}

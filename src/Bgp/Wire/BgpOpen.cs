using System.Buffers.Binary;
using System.Globalization;

namespace BareLb.Bgp.Wire;

/// <summary>An address family and subsequent address family (RFC 4760). We carry routes for the unicast pairs.</summary>
public readonly record struct AfiSafi(ushort Afi, byte Safi)
{
    public static readonly AfiSafi IPv4Unicast = new(1, 1);
    public static readonly AfiSafi IPv6Unicast = new(2, 1);

    public override string ToString() => this == IPv4Unicast ? "ipv4-unicast"
        : this == IPv6Unicast ? "ipv6-unicast"
        : $"afi {Afi.ToString(CultureInfo.InvariantCulture)} safi {Safi.ToString(CultureInfo.InvariantCulture)}";
}

public readonly record struct GracefulRestartFamily(AfiSafi Family, bool ForwardingStatePreserved);

/// <summary>RFC 4724 capability: R bit, N bit (RFC 8538), restart time (12 bits) and per-family F bits.</summary>
public sealed record GracefulRestartCapability(bool Restarting, bool NotificationSupport, ushort RestartTimeSeconds, IReadOnlyList<GracefulRestartFamily> Families)
{
    public bool Equals(GracefulRestartCapability? other) =>
        other is not null && Restarting == other.Restarting && NotificationSupport == other.NotificationSupport
        && RestartTimeSeconds == other.RestartTimeSeconds && Families.SequenceEqual(other.Families);

    public override int GetHashCode() => HashCode.Combine(Restarting, RestartTimeSeconds, Families.Count);
}

public readonly record struct RawCapability(byte Code, byte[] Value);

/// <summary>The capabilities we understand (RFC 5492 framing), and the rest kept raw.</summary>
public sealed record BgpCapabilities
{
    public const byte MultiprotocolCode = 1;
    public const byte RouteRefreshCode = 2;
    public const byte ExtendedMessageCode = 6;
    public const byte GracefulRestartCode = 64;
    public const byte FourOctetAsCode = 65;
    public const byte EnhancedRouteRefreshCode = 70;
    public const byte CiscoRouteRefreshCode = 128;

    public IReadOnlyList<AfiSafi> Multiprotocol { get; init; } = [];
    public bool RouteRefresh { get; init; }
    public bool EnhancedRouteRefresh { get; init; }
    public bool ExtendedMessage { get; init; }
    public uint? FourOctetAs { get; init; }
    public GracefulRestartCapability? GracefulRestart { get; init; }
    public IReadOnlyList<RawCapability> Other { get; init; } = [];

    public bool Equals(BgpCapabilities? other) =>
        other is not null && Multiprotocol.SequenceEqual(other.Multiprotocol) && RouteRefresh == other.RouteRefresh
        && EnhancedRouteRefresh == other.EnhancedRouteRefresh && ExtendedMessage == other.ExtendedMessage
        && FourOctetAs == other.FourOctetAs && Equals(GracefulRestart, other.GracefulRestart)
        && Other.Select(c => (c.Code, Convert.ToHexString(c.Value))).SequenceEqual(other.Other.Select(c => (c.Code, Convert.ToHexString(c.Value))));

    public override int GetHashCode() => HashCode.Combine(Multiprotocol.Count, RouteRefresh, FourOctetAs);
}

/// <summary>
/// OPEN (RFC 4271 section 4.2), optional parameters per RFC 5492 (type 2 = capabilities) and the RFC 9072
/// extended parameter length:
/// <code>
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+
/// |    Version    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     My Autonomous System      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Hold Time           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         BGP Identifier                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Opt Parm Len  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |             Optional Parameters (variable)                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// capability: | code (1) | length (1) | value (length) |
/// </code>
/// </summary>
public sealed record BgpOpenMessage(byte Version, ushort MyAutonomousSystem, ushort HoldTimeSeconds, uint BgpIdentifier, BgpCapabilities Capabilities)
{
    public const ushort AsTrans = 23456;
    private const byte CapabilitiesParameter = 2;

    /// <summary>The peer's real AS: the 4-octet capability when present (RFC 6793), else the 2-octet field.</summary>
    public uint AutonomousSystem => Capabilities.FourOctetAs ?? MyAutonomousSystem;

    public bool TryWrite(Span<byte> destination, out int written)
    {
        written = 0;
        Span<byte> caps = stackalloc byte[255];
        if (!TryWriteCapabilities(caps, out var capsLength))
        {
            return false;
        }
        // One optional parameter (type 2) holding every capability, as most speakers do.
        var paramsLength = capsLength == 0 ? 0 : capsLength + 2;
        if (paramsLength > 255)
        {
            return false;
        }
        var length = BgpHeader.Length + 10 + paramsLength;
        if (destination.Length < length)
        {
            return false;
        }
        BgpHeader.Write(destination, length, BgpMessageType.Open);
        var body = destination[BgpHeader.Length..];
        body[0] = Version;
        BinaryPrimitives.WriteUInt16BigEndian(body[1..], MyAutonomousSystem);
        BinaryPrimitives.WriteUInt16BigEndian(body[3..], HoldTimeSeconds);
        BinaryPrimitives.WriteUInt32BigEndian(body[5..], BgpIdentifier);
        body[9] = (byte)paramsLength;
        if (paramsLength > 0)
        {
            body[10] = CapabilitiesParameter;
            body[11] = (byte)capsLength;
            caps[..capsLength].CopyTo(body[12..]);
        }
        written = length;
        return true;
    }

    private bool TryWriteCapabilities(Span<byte> d, out int written)
    {
        var w = new SpanWriter(d);
        foreach (var family in Capabilities.Multiprotocol)
        {
            w.Byte(BgpCapabilities.MultiprotocolCode);
            w.Byte(4);
            w.UInt16(family.Afi);
            w.Byte(0);
            w.Byte(family.Safi);
        }
        if (Capabilities.RouteRefresh)
        {
            w.Byte(BgpCapabilities.RouteRefreshCode);
            w.Byte(0);
        }
        if (Capabilities.EnhancedRouteRefresh)
        {
            w.Byte(BgpCapabilities.EnhancedRouteRefreshCode);
            w.Byte(0);
        }
        if (Capabilities.ExtendedMessage)
        {
            w.Byte(BgpCapabilities.ExtendedMessageCode);
            w.Byte(0);
        }
        if (Capabilities.GracefulRestart is { } gr)
        {
            w.Byte(BgpCapabilities.GracefulRestartCode);
            w.Byte((byte)(2 + 4 * gr.Families.Count));
            var flags = (gr.Restarting ? 0x8000 : 0) | (gr.NotificationSupport ? 0x4000 : 0);
            w.UInt16((ushort)(flags | (gr.RestartTimeSeconds & 0x0FFF)));
            foreach (var f in gr.Families)
            {
                w.UInt16(f.Family.Afi);
                w.Byte(f.Family.Safi);
                w.Byte(f.ForwardingStatePreserved ? (byte)0x80 : (byte)0);
            }
        }
        if (Capabilities.FourOctetAs is { } asn)
        {
            w.Byte(BgpCapabilities.FourOctetAsCode);
            w.Byte(4);
            w.UInt32(asn);
        }
        foreach (var raw in Capabilities.Other)
        {
            w.Byte(raw.Code);
            w.Byte((byte)raw.Value.Length);
            w.Bytes(raw.Value);
        }
        written = w.Position;
        return !w.Overflowed;
    }

    /// <summary>
    /// Decodes a whole OPEN message (header included, length already checked by <see cref="BgpHeader"/>). Only the
    /// syntax and the version are judged here; AS, hold time and identifier are judged against the configuration
    /// by the session.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> message, out BgpOpenMessage? open, out BgpError error)
    {
        open = null;
        error = default;
        var body = message[BgpHeader.Length..];
        if (body.Length < 10)
        {
            error = BgpError.BadLength(message.Length);
            return false;
        }
        var version = body[0];
        if (version != 4)
        {
            // Data: the largest version we support, as two octets.
            error = BgpError.Open(OpenMessageSubcode.UnsupportedVersionNumber, [0, 4]);
            return false;
        }
        var myAs = BinaryPrimitives.ReadUInt16BigEndian(body[1..]);
        var hold = BinaryPrimitives.ReadUInt16BigEndian(body[3..]);
        var id = BinaryPrimitives.ReadUInt32BigEndian(body[5..]);
        int paramsLength = body[9];
        var rest = body[10..];
        var extended = false;
        // RFC 9072: Opt Parm Len 255 followed by a 255 "type" announces a two-octet length and two-octet parameter lengths.
        if (paramsLength == 255 && rest.Length >= 3 && rest[0] == 255)
        {
            extended = true;
            paramsLength = BinaryPrimitives.ReadUInt16BigEndian(rest[1..]);
            rest = rest[3..];
        }
        if (paramsLength != rest.Length)
        {
            error = BgpError.Open(OpenMessageSubcode.Unspecific);
            return false;
        }

        var caps = new CapabilityBuilder();
        while (!rest.IsEmpty)
        {
            var headerSize = extended ? 3 : 2;
            if (rest.Length < headerSize)
            {
                error = BgpError.Open(OpenMessageSubcode.Unspecific);
                return false;
            }
            var type = rest[0];
            int length = extended ? BinaryPrimitives.ReadUInt16BigEndian(rest[1..]) : rest[1];
            if (rest.Length < headerSize + length)
            {
                error = BgpError.Open(OpenMessageSubcode.Unspecific);
                return false;
            }
            var value = rest.Slice(headerSize, length);
            rest = rest[(headerSize + length)..];
            if (type != CapabilitiesParameter)
            {
                error = BgpError.Open(OpenMessageSubcode.UnsupportedOptionalParameter);
                return false;
            }
            if (!caps.TryAdd(value, out error))
            {
                return false;
            }
        }
        open = new BgpOpenMessage(version, myAs, hold, id, caps.Build());
        return true;
    }

    public override string ToString() =>
        $"OPEN as {AutonomousSystem.ToString(CultureInfo.InvariantCulture)} hold {HoldTimeSeconds.ToString(CultureInfo.InvariantCulture)} id {Identifier(BgpIdentifier)}";

    internal static string Identifier(uint id) => $"{id >> 24}.{(id >> 16) & 255}.{(id >> 8) & 255}.{id & 255}";

    private sealed class CapabilityBuilder
    {
        private readonly List<AfiSafi> _mp = [];
        private readonly List<RawCapability> _other = [];
        private bool _routeRefresh;
        private bool _enhanced;
        private bool _extended;
        private uint? _as4;
        private GracefulRestartCapability? _gr;

        public bool TryAdd(ReadOnlySpan<byte> parameter, out BgpError error)
        {
            error = default;
            while (!parameter.IsEmpty)
            {
                if (parameter.Length < 2 || parameter.Length < 2 + parameter[1])
                {
                    error = BgpError.Open(OpenMessageSubcode.Unspecific);
                    return false;
                }
                var code = parameter[0];
                var value = parameter.Slice(2, parameter[1]);
                parameter = parameter[(2 + value.Length)..];
                bool ok;
                switch (code)
                {
                    case BgpCapabilities.MultiprotocolCode:
                        ok = value.Length == 4;
                        if (ok)
                        {
                            _mp.Add(new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(value), value[3]));
                        }
                        break;
                    case BgpCapabilities.RouteRefreshCode or BgpCapabilities.CiscoRouteRefreshCode:
                        ok = value.IsEmpty;
                        _routeRefresh |= ok;
                        break;
                    case BgpCapabilities.EnhancedRouteRefreshCode:
                        ok = value.IsEmpty;
                        _enhanced |= ok;
                        break;
                    case BgpCapabilities.ExtendedMessageCode:
                        ok = value.IsEmpty;
                        _extended |= ok;
                        break;
                    case BgpCapabilities.FourOctetAsCode:
                        ok = value.Length == 4;
                        if (ok)
                        {
                            _as4 = BinaryPrimitives.ReadUInt32BigEndian(value);
                        }
                        break;
                    case BgpCapabilities.GracefulRestartCode:
                        ok = TryReadGracefulRestart(value);
                        break;
                    default:
                        ok = true;
                        _other.Add(new RawCapability(code, value.ToArray()));
                        break;
                }
                if (!ok)
                {
                    error = BgpError.Open(OpenMessageSubcode.Unspecific);
                    return false;
                }
            }
            return true;
        }

        private bool TryReadGracefulRestart(ReadOnlySpan<byte> value)
        {
            if (value.Length < 2 || (value.Length - 2) % 4 != 0)
            {
                return false;
            }
            var head = BinaryPrimitives.ReadUInt16BigEndian(value);
            var families = new List<GracefulRestartFamily>();
            for (var i = 2; i < value.Length; i += 4)
            {
                families.Add(new GracefulRestartFamily(new AfiSafi(BinaryPrimitives.ReadUInt16BigEndian(value[i..]), value[i + 2]), (value[i + 3] & 0x80) != 0));
            }
            _gr = new GracefulRestartCapability((head & 0x8000) != 0, (head & 0x4000) != 0, (ushort)(head & 0x0FFF), families);
            return true;
        }

        public BgpCapabilities Build() => new()
        {
            Multiprotocol = _mp,
            RouteRefresh = _routeRefresh,
            EnhancedRouteRefresh = _enhanced,
            ExtendedMessage = _extended,
            FourOctetAs = _as4,
            GracefulRestart = _gr,
            Other = _other,
        };
    }
}

/// <summary>Big-endian writes into a span that remember overflow instead of throwing, for codecs that check once at the end.</summary>
internal ref struct SpanWriter(Span<byte> destination)
{
    private readonly Span<byte> _destination = destination;

    public int Position { get; private set; }

    public bool Overflowed { get; private set; }

    public void Byte(byte value)
    {
        if (Reserve(1) is var s && !s.IsEmpty)
        {
            s[0] = value;
        }
    }

    public void UInt16(ushort value)
    {
        if (Reserve(2) is var s && !s.IsEmpty)
        {
            BinaryPrimitives.WriteUInt16BigEndian(s, value);
        }
    }

    public void UInt32(uint value)
    {
        if (Reserve(4) is var s && !s.IsEmpty)
        {
            BinaryPrimitives.WriteUInt32BigEndian(s, value);
        }
    }

    public void Bytes(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return;
        }
        if (Reserve(value.Length) is var s && !s.IsEmpty)
        {
            value.CopyTo(s);
        }
    }

    private Span<byte> Reserve(int count)
    {
        if (Overflowed || Position + count > _destination.Length)
        {
            Overflowed = true;
            return default;
        }
        var s = _destination.Slice(Position, count);
        Position += count;
        return s;
    }
}

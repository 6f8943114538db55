using System.Runtime.InteropServices;
using System.Text;

namespace BareLb.Layer2.Linux;

/// <summary>
/// rtnetlink link messages (rtnetlink(7), linux/rtnetlink.h): the RTM_GETLINK dump request, and RTM_NEWLINK replies
/// parsed into <see cref="LinkInfo"/>. Netlink is in host byte order.
/// <code>
/// nlmsghdr:  | length (32) | type (16) | flags (16) | sequence (32) | port id (32) |
/// ifinfomsg: | family (8) | pad (8) | ARPHRD type (16) | index (32) | flags (32) | change mask (32) |
/// rtattr:    | length (16) | type (16) | value ... padded to 4 octets |
/// </code>
/// </summary>
internal static class RtnetlinkLinks
{
    public const ushort NlmsgError = 2;
    public const ushort NlmsgDone = 3;
    public const ushort RtmNewLink = 16;
    public const ushort RtmDelLink = 17;
    public const ushort RtmGetLink = 18;
    public const ushort FlagRequest = 0x1;
    public const ushort FlagDump = 0x300;
    public const uint GroupLink = 0x1;

    private const int HeaderLength = 16;
    private const int IfInfoLength = 16;
    private const ushort IflaAddress = 1;
    private const ushort IflaIfName = 3;
    private const ushort IflaMaster = 10;
    private const ushort IflaLinkInfo = 18;
    private const ushort IflaInfoKind = 1;
    private const ushort AttributeTypeMask = 0x3FFF;

    public enum Status
    {
        /// <summary>The buffer held only parts of the dump; read again.</summary>
        More,
        Done,
        /// <summary>The kernel answered with an error; see the error number.</summary>
        Error,
        Malformed,
    }

    /// <summary>An RTM_GETLINK dump request for every family.</summary>
    public static int WriteDumpRequest(Span<byte> destination, uint sequence)
    {
        const int length = HeaderLength + IfInfoLength;
        destination[..length].Clear();
        Write(destination, 0, (uint)length);
        Write(destination, 4, RtmGetLink);
        Write(destination, 6, (ushort)(FlagRequest | FlagDump));
        Write(destination, 8, sequence);
        return length;
    }

    /// <summary>
    /// Reads the messages in one datagram, adding RTM_NEWLINK links to <paramref name="links"/>. Messages of other
    /// sequence numbers (notifications that raced the dump) are skipped.
    /// </summary>
    public static Status Read(ReadOnlySpan<byte> datagram, uint sequence, List<LinkInfo> links, out int error)
    {
        error = 0;
        while (datagram.Length >= HeaderLength)
        {
            var length = Read<uint>(datagram, 0);
            if (length < HeaderLength || length > datagram.Length)
            {
                return Status.Malformed;
            }
            var type = Read<ushort>(datagram, 4);
            var seq = Read<uint>(datagram, 8);
            var body = datagram[HeaderLength..(int)length];
            if (seq == sequence)
            {
                switch (type)
                {
                    case NlmsgDone:
                        return Status.Done;
                    case NlmsgError:
                        error = body.Length >= 4 ? -Read<int>(body, 0) : 0;
                        if (error != 0)
                        {
                            return Status.Error;
                        }
                        break;
                    case RtmNewLink:
                        if (TryReadLink(body) is { } link)
                        {
                            links.Add(link);
                        }
                        break;
                }
            }
            datagram = datagram[Math.Min(Align(length), datagram.Length)..];
        }
        return Status.More;
    }

    /// <summary>One link from an ifinfomsg and its attributes; null when it lacks a name.</summary>
    public static LinkInfo? TryReadLink(ReadOnlySpan<byte> body)
    {
        if (body.Length < IfInfoLength)
        {
            return null;
        }
        var hardwareType = Read<ushort>(body, 2);
        var index = Read<int>(body, 4);
        var flags = (LinkFlags)Read<uint>(body, 8) & (LinkFlags.Up | LinkFlags.Loopback | LinkFlags.NoArp | LinkFlags.LowerUp);
        string? name = null;
        var mac = MacAddress.Zero;
        var master = 0;
        string? kind = null;
        var attributes = body[IfInfoLength..];
        while (attributes.Length >= 4)
        {
            var length = Read<ushort>(attributes, 0);
            if (length < 4 || length > attributes.Length)
            {
                break;
            }
            var value = attributes[4..length];
            switch (Read<ushort>(attributes, 2) & AttributeTypeMask)
            {
                case IflaIfName:
                    name = CString(value);
                    break;
                case IflaAddress when value.Length == MacAddress.Length:
                    mac = MacAddress.Read(value);
                    break;
                case IflaMaster when value.Length >= 4:
                    master = Read<int>(value, 0);
                    break;
                case IflaLinkInfo:
                    kind = ReadKind(value);
                    break;
            }
            attributes = attributes[Math.Min(Align(length), attributes.Length)..];
        }
        return name is null ? null : new LinkInfo(index, name, mac, flags, master, kind, hardwareType);
    }

    private static string? ReadKind(ReadOnlySpan<byte> nested)
    {
        while (nested.Length >= 4)
        {
            var length = Read<ushort>(nested, 0);
            if (length < 4 || length > nested.Length)
            {
                return null;
            }
            if ((Read<ushort>(nested, 2) & AttributeTypeMask) == IflaInfoKind)
            {
                return CString(nested[4..length]);
            }
            nested = nested[Math.Min(Align(length), nested.Length)..];
        }
        return null;
    }

    private static string CString(ReadOnlySpan<byte> value)
    {
        var end = value.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? value : value[..end]);
    }

    private static int Align(uint length) => (int)((length + 3) & ~3u);

    private static T Read<T>(ReadOnlySpan<byte> source, int offset) where T : unmanaged => MemoryMarshal.Read<T>(source[offset..]);

    private static void Write<T>(Span<byte> destination, int offset, T value) where T : unmanaged => MemoryMarshal.Write(destination[offset..], in value);
}

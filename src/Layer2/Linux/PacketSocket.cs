using System.Buffers.Binary;
using BareLb.Layer2.Bpf;

namespace BareLb.Layer2.Linux;

/// <summary>
/// An AF_PACKET SOCK_RAW socket on one interface for one EtherType, with a classic BPF filter. The socket is created
/// with protocol 0, which receives nothing; the filter is attached; only then does <c>bind</c> set the protocol and
/// the interface, so no frame is ever queued unfiltered.
/// </summary>
public sealed unsafe class PacketSocket : IDisposable
{
    private int _fd;

    private PacketSocket(int fd) => _fd = fd;

    public int Fd => _fd;

    /// <param name="interfaceIndex">The interface to receive on and send out of.</param>
    /// <param name="etherType">The EtherType received; 0 receives nothing (a send-only socket).</param>
    /// <param name="filter">Classic BPF program; null accepts every frame of <paramref name="etherType"/>.</param>
    public static PacketSocket Open(int interfaceIndex, ushort etherType, IReadOnlyList<BpfInstruction>? filter)
    {
        var fd = Libc.Socket(Libc.AF_PACKET, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new IOException($"socket(AF_PACKET): {Libc.Describe(Libc.LastError)}");
        }
        var socket = new PacketSocket(fd);
        try
        {
            if (filter is not null)
            {
                socket.AttachFilter(filter);
                socket.EnlargeReceiveBuffer();
            }
            var address = new Libc.SockaddrLl
            {
                Family = Libc.AF_PACKET,
                Protocol = BinaryPrimitives.ReverseEndianness(etherType),
                IfIndex = interfaceIndex,
            };
            if (Libc.Bind(fd, &address, (uint)sizeof(Libc.SockaddrLl)) != 0)
            {
                throw new IOException($"bind(AF_PACKET, 0x{etherType:x4}, ifindex {interfaceIndex}): {Libc.Describe(Libc.LastError)}");
            }
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The index of the interface named <paramref name="name"/> in this thread's network namespace.</summary>
    public static int InterfaceIndex(string name)
    {
        var index = Libc.IfNameToIndex(name);
        return index != 0 ? (int)index : throw new IOException($"no interface {name}: {Libc.Describe(Libc.LastError)}");
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a frame; false on timeout.</summary>
    public bool WaitReadable(TimeSpan timeout)
    {
        var fd = new Libc.PollFd { Fd = _fd, Events = Libc.POLLIN };
        return Libc.Poll(&fd, 1, (int)timeout.TotalMilliseconds) > 0;
    }

    /// <summary>One frame into <paramref name="buffer"/>; the frame's full length (may exceed the buffer), or -errno.</summary>
    public int Receive(Span<byte> buffer, bool wait)
    {
        fixed (byte* p = buffer)
        {
            var n = Libc.Recv(_fd, p, (nuint)buffer.Length, Libc.MSG_TRUNC | (wait ? 0 : Libc.MSG_DONTWAIT));
            return n < 0 ? -Libc.LastError : (int)n;
        }
    }

    /// <summary>Sends a whole Ethernet frame out of the bound interface; 0 on success, else errno.</summary>
    public int Send(ReadOnlySpan<byte> frame)
    {
        fixed (byte* p = frame)
        {
            var n = Libc.Send(_fd, p, (nuint)frame.Length, 0);
            return n < 0 ? Libc.LastError : 0;
        }
    }

    /// <summary>
    /// Room for about 5,000 small frames (the kernel charges each its buffer's true size, about 700 octets), so that
    /// a receive thread descheduled for a while on a busy node loses nothing: at 20,000 requests a second that is a
    /// quarter of a second. The default (net.core.rmem_default, 208 KiB) holds about 300. SO_RCVBUFFORCE passes
    /// net.core.rmem_max with CAP_NET_ADMIN; without it SO_RCVBUF gets what rmem_max allows.
    /// </summary>
    private void EnlargeReceiveBuffer()
    {
        var size = 4 << 20;
        if (Libc.SetSockOpt(_fd, Libc.SOL_SOCKET, Libc.SO_RCVBUFFORCE, &size, sizeof(int)) != 0)
        {
            Libc.SetSockOpt(_fd, Libc.SOL_SOCKET, Libc.SO_RCVBUF, &size, sizeof(int));
        }
    }

    private void AttachFilter(IReadOnlyList<BpfInstruction> filter)
    {
        var instructions = filter.ToArray();
        fixed (BpfInstruction* p = instructions)
        {
            var program = new Libc.SockFprog { Length = (ushort)instructions.Length, Filter = p };
            if (Libc.SetSockOpt(_fd, Libc.SOL_SOCKET, Libc.SO_ATTACH_FILTER, &program, (uint)sizeof(Libc.SockFprog)) != 0)
            {
                throw new IOException($"SO_ATTACH_FILTER: {Libc.Describe(Libc.LastError)}");
            }
        }
    }

    public void Dispose()
    {
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            Libc.Close(fd);
        }
    }
}

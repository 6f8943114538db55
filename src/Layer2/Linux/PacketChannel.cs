using Microsoft.Extensions.Logging;

namespace BareLb.Layer2.Linux;

/// <summary>
/// A <see cref="PacketSocket"/> with its own receive thread. The thread blocks in <c>poll</c> on the socket and an
/// eventfd (the stop signal), then drains the socket without blocking, handing each frame to the handler from one
/// reused buffer: no allocation per frame, no timeout polling, and a stop that never waits for traffic.
/// </summary>
internal sealed unsafe class PacketChannel : IFrameChannel
{
    /// <summary>Receive buffer; a frame longer than this (jumbo frames carry no ARP or NS we answer) is handed over truncated and fails decoding.</summary>
    private const int BufferLength = 9216;

    private readonly PacketSocket _socket;
    private readonly int _stopFd;
    private readonly FrameHandler _handler;
    private readonly Layer2Counters _counters;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private readonly string _name;
    private int _disposed;

    private PacketChannel(PacketSocket socket, int stopFd, string name, FrameHandler handler, Layer2Counters counters, ILogger logger)
    {
        _socket = socket;
        _stopFd = stopFd;
        _name = name;
        _handler = handler;
        _counters = counters;
        _logger = logger;
        _thread = new Thread(ReceiveLoop) { IsBackground = true, Name = name };
    }

    public static PacketChannel Open(LinkInfo link, FrameKind kind, FrameHandler handler, Layer2Counters counters, ILogger logger)
    {
        var socket = kind == FrameKind.Arp
            ? PacketSocket.Open(link.Index, EthernetFrame.EtherTypeArp, Bpf.SocketFilters.ArpRequests)
            : PacketSocket.Open(link.Index, EthernetFrame.EtherTypeIPv6, Bpf.SocketFilters.NeighborSolicitations);
        var stopFd = Libc.EventFd(0, Libc.EFD_CLOEXEC);
        if (stopFd < 0)
        {
            var error = Libc.LastError;
            socket.Dispose();
            throw new IOException($"eventfd: {Libc.Describe(error)}");
        }
        var channel = new PacketChannel(socket, stopFd, $"l2 {link.Name} {kind}", handler, counters, logger);
        channel._thread.Start();
        return channel;
    }

    public bool Send(ReadOnlySpan<byte> frame)
    {
        var error = _socket.Send(frame);
        if (error != 0)
        {
            _counters.SendFailed();
            return false;
        }
        return true;
    }

    private void ReceiveLoop()
    {
        var buffer = GC.AllocateUninitializedArray<byte>(BufferLength, pinned: true);
        var fds = stackalloc Libc.PollFd[2];
        while (true)
        {
            fds[0] = new Libc.PollFd { Fd = _socket.Fd, Events = Libc.POLLIN };
            fds[1] = new Libc.PollFd { Fd = _stopFd, Events = Libc.POLLIN };
            if (Libc.Poll(fds, 2, -1) < 0)
            {
                var error = Libc.LastError;
                if (error == Libc.EINTR)
                {
                    continue;
                }
                Log.ReceiveLoopStopped(_logger, _name, Libc.Describe(error));
                return;
            }
            if (fds[1].Revents != 0 || (fds[0].Revents & Libc.POLLNVAL) != 0)
            {
                return;
            }
            Drain(buffer);
        }
    }

    private void Drain(byte[] buffer)
    {
        while (true)
        {
            var n = _socket.Receive(buffer, wait: false);
            if (n < 0)
            {
                if (-n is Libc.EAGAIN or Libc.EINTR)
                {
                    return;
                }
                // A pending socket error (ENETDOWN when the link went down) is reported once by recv and cleared.
                _counters.ReceiveFailed();
                return;
            }
            try
            {
                _handler(buffer.AsSpan(0, Math.Min(n, buffer.Length)), this);
            }
            catch (Exception e)
            {
                // The responder is built not to throw on any frame (fuzzed); should a bug still make it, one bad frame
                // must not take the interface's answering down with it.
                // Logged on the 1st, 2nd, 4th, 8th... failure: visible at once, never a line per packet.
                var failures = _counters.HandlerFailed();
                if ((failures & (failures - 1)) == 0)
                {
                    Log.HandlerFailed(_logger, _name, failures, e);
                }
            }
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Libc.Signal(_stopFd);
        if (Thread.CurrentThread != _thread && !_thread.Join(TimeSpan.FromSeconds(5)))
        {
            Log.ReceiveLoopStuck(_logger, _name);
        }
        _socket.Dispose();
        Libc.Close(_stopFd);
    }
}

internal sealed class PacketChannelFactory(Layer2Counters counters, ILogger logger) : IFrameChannelFactory
{
    public IFrameChannel Open(LinkInfo link, FrameKind kind, FrameHandler handler) =>
        PacketChannel.Open(link, kind, handler, counters, logger);
}

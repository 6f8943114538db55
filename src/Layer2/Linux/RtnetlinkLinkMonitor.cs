using Microsoft.Extensions.Logging;

namespace BareLb.Layer2.Linux;

/// <summary>
/// Lists links with an rtnetlink dump and follows changes through RTMGRP_LINK notifications: a blocking read on the
/// notification socket (poll with an eventfd to stop), and on any notification a fresh dump, so that a lost
/// notification (ENOBUFS under a storm) can never leave the list stale. Subscribes before the first dump, so no
/// change between the two is missed.
/// </summary>
internal sealed unsafe class RtnetlinkLinkMonitor(ILogger logger) : ILinkMonitor
{
    private const int BufferLength = 64 * 1024;

    private readonly byte[] _buffer = new byte[BufferLength];
    private volatile IReadOnlyList<LinkInfo> _links = [];
    private int _notifyFd = -1;
    private int _stopFd = -1;
    private Thread? _thread;
    private uint _sequence;

    public IReadOnlyList<LinkInfo> Links => _links;

    public event Action? Changed;

    public void Start()
    {
        _notifyFd = OpenNetlink(RtnetlinkLinks.GroupLink);
        _stopFd = Libc.EventFd(0, Libc.EFD_CLOEXEC);
        if (_stopFd < 0)
        {
            throw new IOException($"eventfd: {Libc.Describe(Libc.LastError)}");
        }
        _links = Dump();
        _thread = new Thread(Watch) { IsBackground = true, Name = "l2 links" };
        _thread.Start();
    }

    /// <summary>Lists every link once, on a socket of its own.</summary>
    public IReadOnlyList<LinkInfo> Dump()
    {
        var fd = OpenNetlink(0);
        try
        {
            var sequence = ++_sequence;
            Span<byte> request = stackalloc byte[32];
            var length = RtnetlinkLinks.WriteDumpRequest(request, sequence);
            fixed (byte* p = request)
            {
                if (Libc.Send(fd, p, (nuint)length, 0) < 0)
                {
                    throw new IOException($"rtnetlink dump request: {Libc.Describe(Libc.LastError)}");
                }
            }
            var links = new List<LinkInfo>();
            while (true)
            {
                nint n;
                fixed (byte* p = _buffer)
                {
                    n = Libc.Recv(fd, p, BufferLength, 0);
                }
                if (n < 0)
                {
                    var error = Libc.LastError;
                    if (error == Libc.EINTR)
                    {
                        continue;
                    }
                    throw new IOException($"rtnetlink dump: {Libc.Describe(error)}");
                }
                switch (RtnetlinkLinks.Read(_buffer.AsSpan(0, (int)n), sequence, links, out var kernelError))
                {
                    case RtnetlinkLinks.Status.Done:
                        return links;
                    case RtnetlinkLinks.Status.Error:
                        throw new IOException($"rtnetlink dump: {Libc.Describe(kernelError)}");
                    case RtnetlinkLinks.Status.Malformed:
                        throw new IOException("rtnetlink dump: malformed message");
                }
            }
        }
        finally
        {
            Libc.Close(fd);
        }
    }

    /// <summary>
    /// The watch thread. A failure (a dump the kernel refuses, a handler that throws) is logged and retried a second
    /// later with a fresh dump, so the interface list can lag but never freeze.
    /// </summary>
    private void Watch()
    {
        var catchUp = false;
        while (true)
        {
            try
            {
                WatchUntilStopped(catchUp);
                return;
            }
            catch (Exception e)
            {
                Log.LinkMonitorFailed(logger, e);
                if (WaitForStop(TimeSpan.FromSeconds(1)))
                {
                    return;
                }
                catchUp = true;
            }
        }
    }

    private void WatchUntilStopped(bool catchUp)
    {
        if (catchUp)
        {
            Publish(Dump());
        }
        var fds = stackalloc Libc.PollFd[2];
        while (true)
        {
            fds[0] = new Libc.PollFd { Fd = _notifyFd, Events = Libc.POLLIN };
            fds[1] = new Libc.PollFd { Fd = _stopFd, Events = Libc.POLLIN };
            if (Libc.Poll(fds, 2, -1) < 0)
            {
                if (Libc.LastError == Libc.EINTR)
                {
                    continue;
                }
                throw new IOException($"poll: {Libc.Describe(Libc.LastError)}");
            }
            if (fds[1].Revents != 0)
            {
                return;
            }
            // Drain every queued notification (or the ENOBUFS overflow error); one dump covers them all.
            while (true)
            {
                nint n;
                fixed (byte* p = _buffer)
                {
                    n = Libc.Recv(_notifyFd, p, BufferLength, Libc.MSG_DONTWAIT);
                }
                // ENOBUFS (notifications were dropped) is reported once; the dump below makes up for them.
                if (n < 0 && Libc.LastError is not (Libc.EINTR or Libc.ENOBUFS))
                {
                    break;
                }
            }
            Publish(Dump());
        }
    }

    private void Publish(IReadOnlyList<LinkInfo> links)
    {
        if (!links.SequenceEqual(_links))
        {
            _links = links;
            Changed?.Invoke();
        }
    }

    private bool WaitForStop(TimeSpan timeout)
    {
        var fd = new Libc.PollFd { Fd = _stopFd, Events = Libc.POLLIN };
        return Libc.Poll(&fd, 1, (int)timeout.TotalMilliseconds) > 0;
    }

    private static int OpenNetlink(uint groups)
    {
        var fd = Libc.Socket(Libc.AF_NETLINK, Libc.SOCK_RAW | Libc.SOCK_CLOEXEC, Libc.NETLINK_ROUTE);
        if (fd < 0)
        {
            throw new IOException($"socket(AF_NETLINK): {Libc.Describe(Libc.LastError)}");
        }
        var address = new Libc.SockaddrNl { Family = Libc.AF_NETLINK, Groups = groups };
        if (Libc.Bind(fd, &address, (uint)sizeof(Libc.SockaddrNl)) != 0)
        {
            var error = Libc.LastError;
            Libc.Close(fd);
            throw new IOException($"bind(AF_NETLINK): {Libc.Describe(error)}");
        }
        return fd;
    }

    public void Dispose()
    {
        if (_stopFd >= 0)
        {
            Libc.Signal(_stopFd);
        }
        if (_thread is { } thread && thread != Thread.CurrentThread)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }
        if (_notifyFd >= 0)
        {
            Libc.Close(_notifyFd);
            _notifyFd = -1;
        }
        if (_stopFd >= 0)
        {
            Libc.Close(_stopFd);
            _stopFd = -1;
        }
    }
}

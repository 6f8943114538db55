using System.Collections.Concurrent;
using System.Net;
using System.Threading.Channels;
using BareLb.Membership.Transport;

namespace BareLb.Speaker.Tests;

/// <summary>
/// Membership transports joined in memory: no sockets. A datagram counts as in flight from its delivery to a port
/// until that port's receive loop asks for the next one (so it has been handled), which lets a test on a fake clock
/// wait for the network to go quiet before moving the clock again. Every destination is recorded.
/// </summary>
internal sealed class DatagramNetwork
{
    private readonly object _gate = new();
    private readonly Dictionary<IPEndPoint, Port> _ports = [];
    private TaskCompletionSource _quiet = NewSignal();
    private int _inFlight;

    /// <summary>Where datagrams were sent, in order, whether or not anything listened there.</summary>
    public ConcurrentQueue<IPEndPoint> Destinations { get; } = new();

    public IMembershipTransport Attach(IPEndPoint endPoint)
    {
        var port = new Port(this, endPoint);
        lock (_gate)
        {
            _ports.Add(endPoint, port);
        }
        return port;
    }

    /// <summary>Waits until every delivered datagram has been handled.</summary>
    public async Task WaitQuietAsync(TimeSpan limit)
    {
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            Task signal;
            lock (_gate)
            {
                if (_inFlight == 0)
                {
                    return;
                }
                signal = _quiet.Task;
            }
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"{_inFlight} datagrams still unhandled: a receive loop is stuck");
            }
            await Task.WhenAny(signal, Task.Delay(left));
        }
    }

    private void Send(ReadOnlySpan<byte> datagram, IPEndPoint to)
    {
        Destinations.Enqueue(to);
        lock (_gate)
        {
            if (_ports.TryGetValue(to, out var port) && !port.Closed)
            {
                _inFlight++;
                port.Inbox.Writer.TryWrite(datagram.ToArray());
            }
        }
    }

    private void Handled(int count)
    {
        if (count == 0)
        {
            return;
        }
        TaskCompletionSource? quiet = null;
        lock (_gate)
        {
            _inFlight -= count;
            if (_inFlight == 0)
            {
                quiet = _quiet;
                _quiet = NewSignal();
            }
        }
        quiet?.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed class Port(DatagramNetwork network, IPEndPoint endPoint) : IMembershipTransport
    {
        private int _holding;

        public Channel<byte[]> Inbox { get; } = Channel.CreateUnbounded<byte[]>();

        public bool Closed { get; private set; }

        public bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to)
        {
            network.Send(datagram, to);
            return true;
        }

        public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken ct)
        {
            // Asking for the next datagram means the previous one has been handled.
            network.Handled(Interlocked.Exchange(ref _holding, 0));
            var datagram = await Inbox.Reader.ReadAsync(ct).ConfigureAwait(false);
            Interlocked.Exchange(ref _holding, 1);
            datagram.CopyTo(buffer);
            return datagram.Length;
        }

        public ValueTask DisposeAsync()
        {
            int dropped;
            lock (network._gate)
            {
                Closed = true;
                network._ports.Remove(endPoint);
                Inbox.Writer.TryComplete();
                dropped = Inbox.Reader.Count;
                while (Inbox.Reader.TryRead(out _))
                {
                }
            }
            network.Handled(dropped + Interlocked.Exchange(ref _holding, 0));
            return ValueTask.CompletedTask;
        }
    }
}

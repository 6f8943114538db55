using System.Net;
using System.Threading.Channels;
using BareLb.Membership.Transport;

namespace BareLb.Membership.Tests.Support;

/// <summary>
/// Transports that hand datagrams to each other in memory, with seeded random loss. It knows when every delivered
/// datagram has been handled (a receive loop asks for the next one only after handling the last), which is the
/// barrier that makes tests on a fake clock deterministic in outcome.
/// </summary>
internal sealed class InMemoryNetwork
{
    private readonly object _gate = new();
    private readonly Dictionary<IPEndPoint, InMemoryTransport> _ports = [];
    private readonly Random _random;
    private int _inFlight;

    public InMemoryNetwork(int seed = 1) => _random = new Random(seed);

    public double Loss { get; set; }

    /// <summary>Datagrams delivered but not yet fully handled by their receiver.</summary>
    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    public InMemoryTransport Attach(IPEndPoint endPoint)
    {
        lock (_gate)
        {
            var transport = new InMemoryTransport(this, endPoint);
            _ports[endPoint] = transport;
            return transport;
        }
    }

    internal bool Route(ReadOnlySpan<byte> datagram, IPEndPoint to)
    {
        lock (_gate)
        {
            if (!_ports.TryGetValue(to, out var target) || target.Closed || _random.NextDouble() < Loss)
            {
                return true; // lost on the wire: the sender cannot tell
            }
            _inFlight++;
            target.Inbox.Writer.TryWrite(datagram.ToArray());
            return true;
        }
    }

    /// <summary>The receive loop asks for the next datagram: the one it held is handled.</summary>
    internal void FinishHandling(InMemoryTransport transport)
    {
        lock (_gate)
        {
            if (transport.Holding)
            {
                transport.Holding = false;
                _inFlight--;
            }
        }
    }

    internal void StartHandling(InMemoryTransport transport)
    {
        lock (_gate)
        {
            if (transport.Closed)
            {
                _inFlight--; // Detach no longer saw it in the queue
                return;
            }
            transport.Holding = true;
        }
    }

    internal void Detach(InMemoryTransport transport)
    {
        lock (_gate)
        {
            if (_ports.TryGetValue(transport.EndPoint, out var current) && current == transport)
            {
                _ports.Remove(transport.EndPoint);
            }
            transport.Closed = true;
            transport.Inbox.Writer.TryComplete();
            var pending = transport.Inbox.Reader.Count + (transport.Holding ? 1 : 0);
            transport.Holding = false;
            _inFlight -= pending;
        }
    }
}

internal sealed class InMemoryTransport(InMemoryNetwork network, IPEndPoint endPoint) : IMembershipTransport
{
    public IPEndPoint EndPoint { get; } = endPoint;

    internal Channel<byte[]> Inbox { get; } = Channel.CreateUnbounded<byte[]>();

    internal bool Closed { get; set; }

    /// <summary>A datagram was handed to the receive loop and is being handled.</summary>
    internal bool Holding { get; set; }

    public bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to) => network.Route(datagram, to);

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken ct)
    {
        network.FinishHandling(this);
        var datagram = await Inbox.Reader.ReadAsync(ct).ConfigureAwait(false);
        network.StartHandling(this);
        datagram.CopyTo(buffer);
        return datagram.Length;
    }

    public ValueTask DisposeAsync()
    {
        network.Detach(this);
        return ValueTask.CompletedTask;
    }
}

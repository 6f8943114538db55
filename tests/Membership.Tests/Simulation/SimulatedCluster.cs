using System.Net;
using BareLb.Membership.Protocol;

namespace BareLb.Membership.Tests.Simulation;

/// <summary>
/// A discrete-event simulation of a cluster of <see cref="MembershipProtocol"/> instances on one LAN: every node
/// ticks at the runner's tick interval (each with its own phase), datagrams take 50–500 µs and are lost with a
/// seeded probability per datagram, like the nftables `numgen random` rule of the namespace tests. Time is a plain
/// counter at an odd frequency; nothing waits for real. The same seed gives the same run.
/// </summary>
internal sealed class SimulatedCluster
{
    /// <summary>Timestamp units per second; deliberately not 10^7 or 10^9.</summary>
    public const long Frequency = 40_000_000;

    public static readonly byte[] Key = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];

    private readonly PriorityQueue<Action, (long Time, long Order)> _events = new();
    private readonly Random _network;
    private readonly MembershipOptions _options;
    private readonly Dictionary<IPEndPoint, SimulatedNode> _byEndPoint = [];
    private long _order;

    public SimulatedCluster(int size, int seed, MembershipOptions? options = null, double loss = 0)
    {
        _options = options ?? new MembershipOptions();
        _network = new Random(seed);
        Loss = loss;
        for (var i = 0; i < size; i++)
        {
            var node = new SimulatedNode(this, $"node-{i}", new IPEndPoint(IPAddress.Parse($"198.51.100.{i + 1}"), MembershipOptions.DefaultPort), i);
            Nodes.Add(node);
            _byEndPoint[node.EndPoint] = node;
        }
        foreach (var node in Nodes)
        {
            node.Start(seed);
        }
    }

    public List<SimulatedNode> Nodes { get; } = [];

    public long Now { get; private set; }

    /// <summary>Probability that any one datagram is lost.</summary>
    public double Loss { get; set; }

    /// <summary>Extra rule: drop the datagram from the first node to the second when this says so (partitions).</summary>
    public Func<SimulatedNode, SimulatedNode, bool>? Cut { get; set; }

    /// <summary>Every state change any node saw, in order.</summary>
    public List<Observation> Log { get; } = [];

    public MembershipOptions Options => _options;

    public static long Ticks(TimeSpan t) => (long)((Int128)t.Ticks * Frequency / TimeSpan.TicksPerSecond);

    public static TimeSpan ToTimeSpan(long ticks) => TimeSpan.FromTicks((long)((Int128)ticks * TimeSpan.TicksPerSecond / Frequency));

    public IEnumerable<Peer> Peers => Nodes.Select(n => new Peer(n.Name, n.EndPoint));

    public void RunFor(TimeSpan duration) => RunUntil(Now + Ticks(duration));

    public void RunUntil(long end)
    {
        while (_events.TryPeek(out _, out var at) && at.Time <= end)
        {
            var action = _events.Dequeue();
            Now = at.Time;
            action();
        }
        Now = end;
    }

    /// <summary>Runs until <paramref name="condition"/> holds (checked after every event) or the time is up.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan limit)
    {
        var end = Now + Ticks(limit);
        while (!condition())
        {
            if (!_events.TryPeek(out _, out var at) || at.Time > end)
            {
                Now = end;
                return false;
            }
            var action = _events.Dequeue();
            Now = at.Time;
            action();
        }
        return true;
    }

    public void Schedule(long at, Action action) => _events.Enqueue(action, (at, _order++));

    /// <summary>Every running node has every other running node Alive.</summary>
    public bool Converged() =>
        Nodes.Where(n => n.Running).All(n => Nodes.Where(o => o.Running && o != n).All(o => n.Protocol.StateOf(o.Name) == MemberState.Alive));

    internal void Transmit(SimulatedNode from, MembershipProtocol protocol)
    {
        var outbox = protocol.Outbox;
        for (var i = 0; i < outbox.Count; i++)
        {
            from.Sent++;
            var to = _byEndPoint[outbox.DestinationOf(i)];
            if (_network.NextDouble() < Loss || (Cut is { } cut && cut(from, to)))
            {
                continue;
            }
            var datagram = outbox.DatagramOf(i).ToArray();
            var latency = Ticks(TimeSpan.FromMicroseconds(50 + _network.Next(450)));
            Schedule(Now + latency, () => to.Deliver(datagram));
        }
        outbox.Clear();
    }

    internal void Observe(SimulatedNode observer, MembershipProtocol protocol)
    {
        foreach (var change in protocol.Changes)
        {
            Log.Add(new Observation(Now, observer.Name, change));
        }
        protocol.Changes.Clear();
    }
}

internal readonly record struct Observation(long Time, string Observer, MembershipChange Change);

internal sealed class SimulatedNode
{
    private readonly SimulatedCluster _cluster;
    private readonly int _index;
    private int _generation;
    private long _phase;

    public SimulatedNode(SimulatedCluster cluster, string name, IPEndPoint endPoint, int index)
    {
        _cluster = cluster;
        _index = index;
        Name = name;
        EndPoint = endPoint;
    }

    public string Name { get; }

    public IPEndPoint EndPoint { get; }

    public MembershipProtocol Protocol { get; private set; } = null!;

    public bool Running { get; private set; }

    /// <summary>Datagrams this node handed to the network (lost ones included).</summary>
    public long Sent { get; set; }

    public void Start(int seed)
    {
        _generation++;
        Running = true;
        // Not HashCode.Combine: it is seeded per process, and the same seed must give the same run.
        var random = new Random(unchecked((seed * 7919) + (_index * 104_729) + (_generation * 15_485_863)));
        // A restart is a newer boot, as the runner makes it from the wall clock.
        var boot = ((ulong)(1_000 + _cluster.Now / SimulatedCluster.Frequency) << 20) | ((ulong)_generation << 8) | (uint)_index;
        Protocol?.Dispose();
        Protocol = new MembershipProtocol(Name, boot, _cluster.Options, [SimulatedCluster.Key], SimulatedCluster.Frequency, random);
        Protocol.SetPeers(_cluster.Peers, _cluster.Now);
        var tick = SimulatedCluster.Ticks(_cluster.Options.TickInterval);
        _phase = random.NextInt64(tick);
        var generation = _generation;
        _cluster.Schedule(_cluster.Now + _phase, () => Tick(generation));
    }

    /// <summary>The process dies: no more ticks, datagrams to it vanish.</summary>
    public void Kill()
    {
        Running = false;
        _generation++;
    }

    /// <summary>The process stops being scheduled for <paramref name="pause"/> (its datagrams queue up meanwhile).</summary>
    public void Stall(TimeSpan pause) => StalledUntil = _cluster.Now + SimulatedCluster.Ticks(pause);

    public long StalledUntil { get; private set; }

    public void Leave()
    {
        Protocol.Leave(_cluster.Now);
        Flush();
    }

    internal void Deliver(byte[] datagram)
    {
        if (!Running)
        {
            return;
        }
        if (_cluster.Now < StalledUntil)
        {
            var generation = _generation;
            _cluster.Schedule(StalledUntil, () =>
            {
                if (generation == _generation)
                {
                    Deliver(datagram);
                }
            });
            return;
        }
        Protocol.Receive(datagram, _cluster.Now);
        Flush();
    }

    private void Tick(int generation)
    {
        if (generation != _generation || !Running)
        {
            return;
        }
        var tick = SimulatedCluster.Ticks(_cluster.Options.TickInterval);
        if (_cluster.Now < StalledUntil)
        {
            // A stalled process ticks once when it runs again (a periodic timer coalesces missed ticks).
            _cluster.Schedule(StalledUntil, () => Tick(generation));
            return;
        }
        Protocol.Tick(_cluster.Now);
        Flush();
        if (Protocol.LeaveComplete)
        {
            Kill();
            return;
        }
        _cluster.Schedule(_cluster.Now + tick, () => Tick(generation));
    }

    private void Flush()
    {
        _cluster.Transmit(this, Protocol);
        _cluster.Observe(this, Protocol);
    }
}

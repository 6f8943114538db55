using System.Net;
using BareLb.Membership.Tests.Support;
using BareLb.TestSupport;
using Microsoft.Extensions.Logging;

namespace BareLb.Membership.Tests.Node;

/// <summary>
/// Real <see cref="MembershipNode"/>s (timer loop, receive loop, locking) on one fake clock and an in-memory
/// network. <see cref="StepAsync"/> moves the clock one tick at a time and waits until every node has handled
/// that tick and every datagram it caused: an explicit barrier, so outcomes do not depend on thread timing.
/// </summary>
internal sealed class NodeCluster : IAsyncDisposable
{
    public static readonly byte[] Key = TestPackets.Key;

    private readonly Dictionary<string, long> _expectedTicks = [];
    private int _seed;

    public NodeCluster(int seed = 1, double loss = 0)
    {
        Network = new InMemoryNetwork(seed) { Loss = loss };
        _seed = seed * 100;
    }

    public FakeTimeProvider Time { get; } = new();

    public InMemoryNetwork Network { get; }

    public MembershipOptions Options { get; } = new();

    public Dictionary<string, MembershipNode> Nodes { get; } = [];

    public static IPEndPoint EndPointOf(string name) =>
        new(IPAddress.Parse($"198.51.100.{name[^1] - 'a' + 10}"), MembershipOptions.DefaultPort);

    public static IEnumerable<Peer> PeersOf(params string[] names) => names.Select(n => new Peer(n, EndPointOf(n)));

    public async Task<MembershipNode> StartAsync(string name, string[] peers, byte[][]? keys = null, ILogger<MembershipNode>? logger = null)
    {
        var node = new MembershipNode(name, keys ?? [Key], Options, Network.Attach(EndPointOf(name)), Time, logger, new Random(++_seed));
        node.SetPeers(PeersOf(peers));
        await node.StartAsync(CancellationToken.None);
        Nodes[name] = node;
        _expectedTicks[name] = 0;
        return node;
    }

    /// <summary>Stops a node without a goodbye, as if its process was killed.</summary>
    public async Task KillAsync(string name)
    {
        var node = Nodes[name];
        Nodes.Remove(name);
        _expectedTicks.Remove(name);
        await node.DisposeAsync();
    }

    public async Task StepAsync(int ticks = 1)
    {
        for (var i = 0; i < ticks; i++)
        {
            Time.Advance(Options.TickInterval);
            foreach (var name in Nodes.Keys)
            {
                _expectedTicks[name]++;
            }
            await SettleAsync();
        }
    }

    public async Task StepAsync(TimeSpan duration) => await StepAsync((int)(duration / Options.TickInterval));

    /// <summary>Steps until <paramref name="condition"/> holds; fails after <paramref name="limit"/> of fake time.</summary>
    public async Task StepUntilAsync(Func<bool> condition, TimeSpan limit, string what)
    {
        var steps = (int)(limit / Options.TickInterval);
        for (var i = 0; !condition(); i++)
        {
            Assert.True(i < steps, $"not within {limit} of fake time: {what}");
            await StepAsync();
        }
    }

    /// <summary>Waits (bounded, in real time) until every tick is handled and no datagram is in flight.</summary>
    public async Task SettleAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!(Nodes.All(n => n.Value.TicksProcessed >= _expectedTicks[n.Key]) && Network.InFlight == 0))
        {
            foreach (var node in Nodes.Values)
            {
                if (node.Completion.IsFaulted)
                {
                    await node.Completion; // surfaces the loop's exception
                }
            }
            Assert.True(DateTime.UtcNow < deadline, "cluster did not settle: a loop is stuck");
            await Task.Delay(1);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes.Values)
        {
            await node.DisposeAsync();
        }
    }
}

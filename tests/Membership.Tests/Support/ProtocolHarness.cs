using System.Net;
using System.Text;
using BareLb.Membership.Protocol;
using BareLb.Membership.Wire;

namespace BareLb.Membership.Tests.Support;

/// <summary>A packet node "a" sent, decoded and checked to authenticate for its receiver.</summary>
internal sealed record SentPacket(string To, uint Incarnation, List<TestMessage> Messages)
{
    public bool Has(MessageType type) => Messages.Any(m => m.Type == type);

    public TestMessage Single(MessageType type) => Messages.Single(m => m.Type == type);

    public IEnumerable<TestMessage> Rumors => Messages.Where(m => m.Type == MessageType.Rumor);
}

/// <summary>
/// One <see cref="MembershipProtocol"/> ("a") on a hand-driven clock, with the other members played by the test:
/// it crafts their packets and reads what "a" sends. Time moves only through <see cref="Run"/>/<see cref="TickAt"/>.
/// </summary>
internal sealed class ProtocolHarness : IDisposable
{
    public const long Frequency = 40_000_000;
    public const ulong SelfBoot = 5_000;

    private readonly Dictionary<string, ulong> _sequences = [];
    private readonly List<SentPacket> _sent = [];

    public ProtocolHarness(string[] peers, MembershipOptions? options = null, int seed = 1)
    {
        Options = options ?? new MembershipOptions();
        Protocol = new MembershipProtocol("a", SelfBoot, Options, [TestPackets.Key], Frequency, new Random(seed));
        Now = 1_000 * Frequency;
        Protocol.SetPeers(peers.Select((p, i) => new Peer(p, new IPEndPoint(IPAddress.Parse($"198.51.100.{i + 2}"), 7946))), Now);
        foreach (var p in peers)
        {
            Boots[p] = 100;
        }
    }

    public MembershipOptions Options { get; }

    public MembershipProtocol Protocol { get; }

    public long Now { get; private set; }

    /// <summary>The boot each played member uses in its packets (change it to play a restart).</summary>
    public Dictionary<string, ulong> Boots { get; } = [];

    public Dictionary<string, uint> Incarnations { get; } = [];

    public List<MembershipChange> Changes { get; } = [];

    /// <summary>Nonce of the last probe ping a test noted per member.</summary>
    public Dictionary<string, ulong> PendingPings { get; } = [];

    public static long Ticks(TimeSpan t) => (long)((Int128)t.Ticks * Frequency / TimeSpan.TicksPerSecond);

    public TimeSpan Elapsed(long since) => TimeSpan.FromTicks((long)((Int128)(Now - since) * TimeSpan.TicksPerSecond / Frequency));

    /// <summary>Starts "a" and answers its join pings from <paramref name="alive"/>, so those are Alive.</summary>
    public void Start(params string[] alive)
    {
        TickAt(Now);
        var joins = TakeSent();
        foreach (var name in alive)
        {
            var ping = joins.Single(p => p.To == name && p.Has(MessageType.Ping)).Single(MessageType.Ping);
            Deliver(name, TestMessage.Ack(ping.Nonce));
            Assert.Equal(MemberState.Alive, Protocol.StateOf(name));
        }
        TakeSent();
        Changes.Clear();
    }

    /// <summary>Ticks every tick interval for <paramref name="duration"/>.</summary>
    public void Run(TimeSpan duration, Action? afterEachTick = null)
    {
        var end = Now + Ticks(duration);
        var step = Ticks(Options.TickInterval);
        while (Now + step <= end)
        {
            TickAt(Now + step);
            afterEachTick?.Invoke();
        }
    }

    /// <summary>Runs tick by tick until <paramref name="condition"/> holds; fails after <paramref name="limit"/>.</summary>
    public void RunUntil(Func<bool> condition, TimeSpan limit, string what)
    {
        var end = Now + Ticks(limit);
        var step = Ticks(Options.TickInterval);
        while (!condition())
        {
            Assert.True(Now + step <= end, $"not within {limit}: {what}");
            TickAt(Now + step);
        }
    }

    public void TickAt(long now)
    {
        Now = now;
        Protocol.Tick(now);
        Collect();
    }

    public void Deliver(string from, params TestMessage[] messages) => Deliver(from, "a", TestPackets.Key, messages);

    public void Deliver(string from, string receiver, byte[] key, params TestMessage[] messages) =>
        DeliverRaw(Build(from, receiver, key, messages));

    public byte[] Build(string from, string receiver, byte[] key, params TestMessage[] messages)
    {
        var sequence = _sequences[from] = _sequences.GetValueOrDefault(from) + 1;
        return TestPackets.Build(from, Boots.GetValueOrDefault(from, 100UL), sequence, Incarnations.GetValueOrDefault(from), receiver, messages, key);
    }

    public void DeliverRaw(byte[] datagram)
    {
        Protocol.Receive(datagram, Now);
        Collect();
    }

    /// <summary>What "a" sent since the last call.</summary>
    public List<SentPacket> TakeSent()
    {
        var copy = _sent.ToList();
        _sent.Clear();
        return copy;
    }

    public void Dispose() => Protocol.Dispose();

    private void Collect()
    {
        var outbox = Protocol.Outbox;
        using var auth = new PacketAuthenticator([TestPackets.Key]);
        for (var i = 0; i < outbox.Count; i++)
        {
            var datagram = outbox.DatagramOf(i);
            var to = outbox.DestinationNameOf(i);
            Assert.Equal(PacketError.Ok, PacketReader.TryOpen(datagram, out var reader));
            Assert.True(auth.Verify(reader.KeyHint, reader.Signed, Encoding.UTF8.GetBytes(to), reader.Tag), "a sent a packet that does not authenticate");
            Assert.True(datagram.Length <= Options.MaxPacketSize);
            _sent.Add(new SentPacket(to, reader.Incarnation, TestPackets.ReadAll(datagram)));
        }
        outbox.Clear();
        Changes.AddRange(Protocol.Changes);
        Protocol.Changes.Clear();
    }
}

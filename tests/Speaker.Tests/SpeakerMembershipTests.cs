using System.Net;
using BareLb.Membership;
using BareLb.Speaker.Membership;
using BareLb.Speaker.Planning;
using BareLb.TestSupport;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker.Tests;

public sealed class SpeakerMembershipTests
{
    private static readonly byte[] Key1 = [.. Enumerable.Range(1, 32).Select(i => (byte)i)];
    private static readonly byte[] Key2 = [.. Enumerable.Range(101, 32).Select(i => (byte)i)];

    /// <summary>Speakers on one fake clock, joined by an in-memory network; node "x" lives at 198.51.100.(10 + x - 'a').</summary>
    private sealed class Cluster(MembershipOptions? options = null) : IAsyncDisposable
    {
        private static readonly TimeSpan RealTimeLimit = TimeSpan.FromSeconds(20);

        public FakeTimeProvider Time { get; } = new();
        public DatagramNetwork Network { get; } = new();
        public MembershipOptions Options { get; } = options ?? new MembershipOptions();
        public Dictionary<string, SpeakerMembership> Speakers { get; } = [];
        public ListLoggerFactory Logs { get; } = new();

        public static IPAddress AddressOf(string name) => IPAddress.Parse($"198.51.100.{10 + name[0] - 'a'}");

        public static NodeInfo Node(string name) => new(name, new Dictionary<string, string>(), InternalAddresses: [AddressOf(name)]);

        public SpeakerMembership Add(string name, TimeSpan? settleTime = null, TimeSpan? rotationStep = null)
        {
            var speaker = new SpeakerMembership(name, Options, Time, Logs, Network.Attach(new IPEndPoint(AddressOf(name), Options.Port)))
            {
                SettleTime = settleTime ?? TimeSpan.FromSeconds(1),
                KeyRotationStep = rotationStep ?? TimeSpan.FromSeconds(2),
            };
            Speakers[name] = speaker;
            return speaker;
        }

        /// <summary>Moves the clock one membership tick and waits until every datagram it caused has been handled.</summary>
        public async Task StepAsync()
        {
            Time.Advance(Options.TickInterval);
            await Task.Yield();
            await Network.WaitQuietAsync(RealTimeLimit);
            foreach (var speaker in Speakers.Values.Where(s => s.Started && s.Completion.IsFaulted))
            {
                await speaker.Completion;
            }
        }

        public async Task StepAsync(TimeSpan duration, Action? eachStep = null)
        {
            for (var elapsed = TimeSpan.Zero; elapsed < duration; elapsed += Options.TickInterval)
            {
                await StepAsync();
                eachStep?.Invoke();
            }
        }

        /// <summary>Steps until <paramref name="condition"/> holds, at most <paramref name="limit"/> of fake time.</summary>
        public async Task StepUntilAsync(Func<bool> condition, TimeSpan limit, string what)
        {
            for (var elapsed = TimeSpan.Zero; !condition(); elapsed += Options.TickInterval)
            {
                Assert.True(elapsed < limit, $"not within {limit} of fake time: {what}");
                await StepAsync();
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var speaker in Speakers.Values)
            {
                await speaker.DisposeAsync();
            }
        }
    }

    private static bool Sees(SpeakerMembership speaker, params string[] names) => speaker.Alive.SetEquals(names);

    [Fact]
    public async Task Alive_BeforeTheKey_NobodyAndNothingStarted()
    {
        await using var cluster = new Cluster();
        var a = cluster.Add("a");
        a.SetNodes([Cluster.Node("a"), Cluster.Node("b")]);

        await cluster.StepAsync(TimeSpan.FromSeconds(2));

        Assert.False(a.Started);
        Assert.Empty(a.Alive);
        Assert.Null(a.Counters);
        Assert.Empty(cluster.Network.Destinations);
        Assert.False(a.Completion.IsCompleted);
        await a.LeaveAsync(default); // nothing to leave
    }

    [Fact]
    public async Task Alive_PeersSilent_NobodyUntilSettleTimeThenOnlyItself()
    {
        await using var cluster = new Cluster();
        var a = cluster.Add("a", settleTime: TimeSpan.FromSeconds(1));
        var changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        a.Changed += () => changed.TrySetResult();
        a.SetNodes([Cluster.Node("a"), Cluster.Node("b")]);
        await a.SetKeyAsync(Key1, default);

        await cluster.StepAsync(TimeSpan.FromSeconds(1) - cluster.Options.TickInterval, () => Assert.Empty(a.Alive));
        Assert.False(changed.Task.IsCompleted);
        await cluster.StepAsync();

        Assert.True(Sees(a, "a"), string.Join(",", a.Alive));
        // The speaker is told to plan again once the settle time is over.
        await changed.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.True(a.Started);
        // It kept calling the silent peer at its InternalIP.
        Assert.Contains(new IPEndPoint(Cluster.AddressOf("b"), cluster.Options.Port), cluster.Network.Destinations);
    }

    [Fact]
    public async Task Alive_EveryPeerHeardBeforeSettleTime_AllReportedAtOnce()
    {
        await using var cluster = new Cluster();
        NodeInfo[] nodes = [Cluster.Node("a"), Cluster.Node("b"), Cluster.Node("c")];
        foreach (var name in new[] { "a", "b", "c" })
        {
            var speaker = cluster.Add(name, settleTime: TimeSpan.FromHours(1));
            speaker.SetNodes(nodes);
            await speaker.SetKeyAsync(Key1, default);
        }

        await cluster.StepUntilAsync(() => cluster.Speakers.Values.All(s => Sees(s, "a", "b", "c")), TimeSpan.FromSeconds(30), "all see all");

        Assert.True(cluster.Time.Elapsed < TimeSpan.FromHours(1));
    }

    [Fact]
    public async Task Alive_OnePeerNotYetHeard_NobodyBeforeSettleTime()
    {
        await using var cluster = new Cluster();
        NodeInfo[] nodes = [Cluster.Node("a"), Cluster.Node("b"), Cluster.Node("c")];
        var a = cluster.Add("a", settleTime: TimeSpan.FromSeconds(3));
        var b = cluster.Add("b", settleTime: TimeSpan.FromSeconds(3));
        foreach (var speaker in new[] { a, b })
        {
            speaker.SetNodes(nodes);
            await speaker.SetKeyAsync(Key1, default);
        }

        // c never starts: a and b hear each other, but must not act on a view that may lack c.
        await cluster.StepAsync(TimeSpan.FromSeconds(2), () =>
        {
            Assert.Empty(a.Alive);
            Assert.Empty(b.Alive);
        });
        await cluster.StepAsync(TimeSpan.FromSeconds(1));

        Assert.True(Sees(a, "a", "b"));
        Assert.True(Sees(b, "a", "b"));
    }

    [Fact]
    public async Task Alive_StartedBeforeAnyPeerWasKnown_NotTrustedUntilSettleTime()
    {
        await using var cluster = new Cluster();
        var a = cluster.Add("a", settleTime: TimeSpan.FromSeconds(1));
        var b = cluster.Add("b", settleTime: TimeSpan.FromSeconds(1));
        await a.SetKeyAsync(Key1, default);
        Assert.Empty(a.Alive);

        b.SetNodes([Cluster.Node("a"), Cluster.Node("b")]);
        await b.SetKeyAsync(Key1, default);
        a.SetNodes([Cluster.Node("a"), Cluster.Node("b")]);
        await cluster.StepUntilAsync(() => Sees(b, "a", "b"), TimeSpan.FromMilliseconds(900), "b hears a");
        Assert.True(Sees(a, "a", "b"));
    }

    [Fact]
    public async Task SetNodes_PeersAreTheOtherNodesInternalIpAtTheMembershipPort()
    {
        await using var cluster = new Cluster(new MembershipOptions { Port = 7000 });
        var a = cluster.Add("a");
        var noAddress = new NodeInfo("n", new Dictionary<string, string>());
        var dualStack = new NodeInfo("d", new Dictionary<string, string>(), InternalAddresses: [IPAddress.Parse("2001:db8::13"), IPAddress.Parse("198.51.100.13")]);
        a.SetNodes([Cluster.Node("a"), Cluster.Node("b"), noAddress, dualStack]);

        await a.SetKeyAsync(Key1, default);
        await cluster.StepAsync(TimeSpan.FromSeconds(1));

        Assert.Equal(
            [new IPEndPoint(IPAddress.Parse("198.51.100.11"), 7000), new IPEndPoint(IPAddress.Parse("2001:db8::13"), 7000)],
            cluster.Network.Destinations.Distinct().OrderBy(e => e.ToString(), StringComparer.Ordinal));
    }

    [Fact]
    public async Task SetNodes_NodeAddedAndRemovedWhileRunning_AliveFollows()
    {
        await using var cluster = new Cluster();
        var a = cluster.Add("a");
        var b = cluster.Add("b");
        var c = cluster.Add("c");
        foreach (var speaker in new[] { a, b })
        {
            speaker.SetNodes([Cluster.Node("a"), Cluster.Node("b")]);
            await speaker.SetKeyAsync(Key1, default);
        }
        c.SetNodes([Cluster.Node("a"), Cluster.Node("b"), Cluster.Node("c")]);
        await c.SetKeyAsync(Key1, default);
        await cluster.StepUntilAsync(() => Sees(a, "a", "b") && Sees(b, "a", "b"), TimeSpan.FromSeconds(30), "a and b see each other");

        a.SetNodes([Cluster.Node("a"), Cluster.Node("b"), Cluster.Node("c")]);
        await cluster.StepUntilAsync(() => Sees(a, "a", "b", "c"), TimeSpan.FromSeconds(30), "a sees c");

        a.SetNodes([Cluster.Node("a"), Cluster.Node("b")]);
        Assert.True(Sees(a, "a", "b"), string.Join(",", a.Alive));
    }

    [Fact]
    public async Task Alive_PeerLeavesWithinTheSettleTimeAfterAllWereHeard_ViewStillTrusted()
    {
        await using var cluster = new Cluster();
        NodeInfo[] nodes = [Cluster.Node("a"), Cluster.Node("b"), Cluster.Node("c")];
        foreach (var name in new[] { "a", "b", "c" })
        {
            var speaker = cluster.Add(name, settleTime: TimeSpan.FromHours(1));
            speaker.SetNodes(nodes);
            await speaker.SetKeyAsync(Key1, default);
        }
        await cluster.StepUntilAsync(() => cluster.Speakers.Values.All(s => Sees(s, "a", "b", "c")), TimeSpan.FromSeconds(30), "all see all");

        var leaving = cluster.Speakers["c"].LeaveAsync(default);
        await cluster.StepUntilAsync(() => leaving.IsCompleted, TimeSpan.FromSeconds(30), "c left");
        await cluster.StepAsync(TimeSpan.FromMilliseconds(100));

        Assert.True(Sees(cluster.Speakers["a"], "a", "b"), string.Join(",", cluster.Speakers["a"].Alive));
        Assert.True(Sees(cluster.Speakers["b"], "a", "b"), string.Join(",", cluster.Speakers["b"].Alive));
    }

    [Fact]
    public async Task LeaveAsync_OthersDropTheSpeakerAtOnce()
    {
        await using var cluster = new Cluster();
        NodeInfo[] nodes = [Cluster.Node("a"), Cluster.Node("b")];
        var a = cluster.Add("a", settleTime: TimeSpan.Zero);
        var b = cluster.Add("b", settleTime: TimeSpan.Zero);
        foreach (var speaker in new[] { a, b })
        {
            speaker.SetNodes(nodes);
            await speaker.SetKeyAsync(Key1, default);
        }
        await cluster.StepUntilAsync(() => Sees(a, "a", "b") && Sees(b, "a", "b"), TimeSpan.FromSeconds(30), "both see both");

        // The goodbye goes out within LeaveAsync itself; b handles it within one tick, long before any failure timeout.
        var leaving = a.LeaveAsync(default);
        await cluster.StepAsync();
        Assert.True(Sees(b, "b"), string.Join(",", b.Alive));

        await cluster.StepUntilAsync(() => leaving.IsCompleted, TimeSpan.FromSeconds(30), "a's goodbyes all sent");
        await leaving;
        Assert.Equal(0, b.Counters!.Value.DeathsDeclared);
        Assert.Equal(0, b.Counters!.Value.Suspicions);
    }

    [Fact]
    public async Task SetKeyAsync_SameKeyAgain_NoRotation()
    {
        await using var cluster = new Cluster();
        var a = cluster.Add("a");
        a.SetNodes([Cluster.Node("a")]);
        await a.SetKeyAsync(Key1, default);

        await a.SetKeyAsync([.. Key1], default);

        Assert.DoesNotContain(cluster.Logs.Lines, l => l.Message.Contains("Membership key", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SetKeyAsync_NewKeyReachesSpeakersOneAfterAnother_NoPacketRefusedNobodyLost()
    {
        // Wide failure-detector margins: this test is about authentication, not about timing on a loaded machine.
        await using var cluster = new Cluster(new MembershipOptions
        {
            SuspicionTimeoutMin = TimeSpan.FromSeconds(3),
            SuspicionTimeoutMax = TimeSpan.FromSeconds(6),
        });
        string[] all = ["a", "b", "c"];
        NodeInfo[] nodes = [.. all.Select(Cluster.Node)];
        foreach (var name in all)
        {
            var speaker = cluster.Add(name, rotationStep: TimeSpan.FromSeconds(3));
            speaker.SetNodes(nodes);
            await speaker.SetKeyAsync(Key1, default);
        }
        await cluster.StepUntilAsync(() => cluster.Speakers.Values.All(s => Sees(s, all)), TimeSpan.FromSeconds(30), "all see all");

        void NobodyLost()
        {
            foreach (var (name, speaker) in cluster.Speakers)
            {
                Assert.True(Sees(speaker, all), $"{name} sees only {string.Join(",", speaker.Alive)} at {cluster.Time.Elapsed}");
                Assert.Equal(0, speaker.Counters!.Value.AuthFailures);
            }
        }

        // The Secret reaches the speakers' informers at different times (here 1 s apart, 2 s from first to last: within
        // one rotation step).
        foreach (var name in new[] { "b", "a", "c" })
        {
            await cluster.Speakers[name].SetKeyAsync(Key2, default);
            await cluster.StepAsync(TimeSpan.FromSeconds(1), NobodyLost);
        }
        // Two rotation steps after the last speaker got the key, every speaker has only the new one.
        await cluster.StepAsync(TimeSpan.FromSeconds(5) + TimeSpan.FromMilliseconds(100), NobodyLost);
        Assert.Equal(3, cluster.Logs.Lines.Count(l => l.Message.StartsWith("Membership key rotated", StringComparison.Ordinal)));

        // The old key is gone everywhere: a speaker that still has only it is refused; one with the new key joins.
        var stale = cluster.Add("d");
        var fresh = cluster.Add("e");
        string[] grown = ["a", "b", "c", "d", "e"];
        foreach (var speaker in cluster.Speakers.Values)
        {
            speaker.SetNodes(grown.Select(Cluster.Node));
        }
        await stale.SetKeyAsync(Key1, default);
        await fresh.SetKeyAsync(Key2, default);
        await cluster.StepUntilAsync(() => Sees(cluster.Speakers["a"], "a", "b", "c", "e"), TimeSpan.FromSeconds(30), "e joined");
        await cluster.StepAsync(TimeSpan.FromSeconds(2));
        Assert.True(Sees(cluster.Speakers["a"], "a", "b", "c", "e"));
        Assert.True(cluster.Speakers["a"].Counters!.Value.AuthFailures > 0);
    }
}

/// <summary>One <see cref="ListLogger"/> for every category.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory
{
    private readonly ListLogger _logger = new();

    public IEnumerable<(LogLevel Level, string Message)> Lines => _logger.Lines;

    public ILogger CreateLogger(string categoryName) => _logger;

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }
}

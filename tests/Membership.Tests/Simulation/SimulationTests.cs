using Xunit.Abstractions;

namespace BareLb.Membership.Tests.Simulation;

/// <summary>
/// Whole clusters of protocol instances on a simulated LAN (<see cref="SimulatedCluster"/>) at default settings:
/// the product's targets as assertions, with the distributions printed (run with
/// <c>--logger "console;verbosity=detailed"</c>; bench/Membership/run.sh does). Deterministic: fixed seeds.
/// </summary>
public sealed class SimulationTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(3, 0.0)]
    [InlineData(5, 0.0)]
    [InlineData(3, 0.1)]
    [InlineData(5, 0.1)]
    public void Detection_NodeKilled_AllSurvivorsAgreeDeadWithinBudget(int size, double loss)
    {
        var times = ClusterScenarios.DetectionTimes(size, trials: 300, firstSeed: 1000, loss: loss);
        output.WriteLine($"{size} nodes, {loss:P0} loss, kill -> every survivor has it Dead: {ClusterScenarios.Describe(times)}");

        Assert.DoesNotContain(times, double.IsNaN);
        Assert.True(ClusterScenarios.Percentile(times, 99) <= 300, ClusterScenarios.Describe(times));
        // Never faster than one probe timeout plus the shortest suspicion: nothing is declared on a single miss.
        Assert.True(times.Min() >= (loss == 0 ? 175 : 0), ClusterScenarios.Describe(times));
    }

    [Theory]
    [InlineData(3, 30)]
    [InlineData(5, 30)]
    public void RandomLoss_TenPercentFor60Seconds_NoFalseDeath(int size, int seeds)
    {
        long suspicions = 0, refutations = 0;
        for (var seed = 0; seed < seeds; seed++)
        {
            var cluster = new SimulatedCluster(size, seed);
            Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)));
            cluster.Log.Clear();
            cluster.Loss = 0.10;

            cluster.RunFor(TimeSpan.FromSeconds(60));

            var falseDeaths = cluster.Log.Where(o => o.Change.AliveChanged).ToList();
            Assert.True(falseDeaths.Count == 0, $"seed {seed}: " + string.Join("; ", falseDeaths.Select(o => $"{SimulatedCluster.ToTimeSpan(o.Time)} {o.Observer} saw {o.Change.Member} {o.Change.Current}")));
            suspicions += cluster.Nodes.Sum(n => n.Protocol.Counters.Suspicions);
            refutations += cluster.Nodes.Sum(n => n.Protocol.Counters.Refutations);
        }
        output.WriteLine($"{size} nodes, {seeds} runs x 60 s at 10% loss: 0 false deaths; {suspicions} suspicions raised, {refutations} refuted");
        // The loss must actually bite, or this test proves nothing.
        Assert.True(suspicions > 0);
    }

    [Theory]
    [InlineData(3, 1.0, 0.0)] // the link between two nodes is cut, the rest is clean
    [InlineData(5, 1.0, 0.1)] // cut, and 10% loss everywhere else
    [InlineData(3, 0.5, 0.1)] // one very lossy link on top of 10% loss
    public void LossyLink_BetweenTwoNodes_IndirectProbesKeepEveryoneAlive(int size, double linkLoss, double loss)
    {
        for (var seed = 0; seed < 10; seed++)
        {
            var cluster = new SimulatedCluster(size, seed);
            Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)));
            cluster.Log.Clear();
            cluster.Loss = loss;
            var (a, c) = (cluster.Nodes[0], cluster.Nodes[2]);
            var link = new Random(seed);
            cluster.Cut = (x, y) => ((x == a && y == c) || (x == c && y == a)) && link.NextDouble() < linkLoss;

            cluster.RunFor(TimeSpan.FromSeconds(60));

            Assert.DoesNotContain(cluster.Log, o => o.Change.AliveChanged);
            Assert.True(a.Protocol.Counters.IndirectProbes > 0);
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(9)]
    [InlineData(17)]
    public void MessageRate_PerNode_BoundedWhateverTheClusterSize(int size)
    {
        var cluster = new SimulatedCluster(size, 1);
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)));
        var rates = new Dictionary<double, (double Mean, double Max)>();
        foreach (var loss in new[] { 0.0, 0.1 })
        {
            cluster.Loss = loss;
            cluster.RunFor(TimeSpan.FromSeconds(2));
            var before = cluster.Nodes.Select(n => n.Sent).ToArray();
            cluster.RunFor(TimeSpan.FromSeconds(30));
            var perNode = cluster.Nodes.Select((n, i) => (n.Sent - before[i]) / 30.0).ToArray();
            rates[loss] = (perNode.Average(), perNode.Max());
            output.WriteLine($"{size} nodes, {loss:P0} loss: datagrams sent per node per second: mean {perNode.Average():F1}, max {perNode.Max():F1}");
        }

        // One probe per 50 ms is 20 pings and, answering the others' probes, 20 acks a second.
        Assert.InRange(rates[0.0].Mean, 39, 42);
        Assert.True(rates[0.0].Max <= 45, $"max {rates[0.0].Max}");
        // At 10% loss a fifth of the direct probes go indirect (re-pings, PingReqs, relayed pings and acks).
        Assert.True(rates[0.1].Max <= 100, $"max {rates[0.1].Max}");
    }

    [Fact]
    public void Rejoin_KilledNodeRestarts_AliveEverywhereAgain()
    {
        var cluster = new SimulatedCluster(3, 7);
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)));
        var victim = cluster.Nodes[1];
        victim.Kill();
        Assert.True(cluster.RunUntil(() => cluster.Nodes.Where(n => n != victim).All(n => n.Protocol.StateOf(victim.Name) == MemberState.Dead), TimeSpan.FromSeconds(2)));

        victim.Start(seed: 8);

        var restartedAt = cluster.Now;
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(1)), "restarted node not alive everywhere within 1 s");
        output.WriteLine($"rejoined everywhere after {SimulatedCluster.ToTimeSpan(cluster.Now - restartedAt).TotalMilliseconds:F1} ms");
        Assert.All(cluster.Nodes.Where(n => n != victim), n => Assert.Equal(victim.Protocol.Boot, n.Protocol.Find(victim.Name)!.Boot));
    }

    [Fact]
    public void Partition_Healed_IsolatedNodeRefutesAndRejoins()
    {
        var cluster = new SimulatedCluster(3, 9);
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)));
        var island = cluster.Nodes[2];
        cluster.Cut = (x, y) => x == island || y == island;
        cluster.RunFor(TimeSpan.FromSeconds(3));
        Assert.All(cluster.Nodes.Where(n => n != island), n => Assert.Equal(MemberState.Dead, n.Protocol.StateOf(island.Name)));
        Assert.All(cluster.Nodes.Where(n => n != island), n => Assert.Equal(MemberState.Dead, island.Protocol.StateOf(n.Name)));

        cluster.Cut = null;

        // Both sides ping members they hold dead once per reconnect interval; the first exchange tells each side it
        // was declared dead, it refutes, and the refutation arrives as an Ack to a fresh nonce.
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(2)), "not converged 2 s after the partition healed");
        Assert.True(island.Protocol.Incarnation >= 1);
    }

    [Fact]
    public void Leave_OneNodeLeaves_OthersSeeLeftAtOnceAndNeverDead()
    {
        var cluster = new SimulatedCluster(5, 11);
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)));
        cluster.Loss = 0.10;
        cluster.Log.Clear();
        var leaver = cluster.Nodes[3];

        leaver.Leave();
        var leftAt = cluster.Now;
        var others = cluster.Nodes.Where(n => n != leaver).ToArray();
        Assert.True(cluster.RunUntil(() => others.All(n => n.Protocol.StateOf(leaver.Name) == MemberState.Left), TimeSpan.FromSeconds(1)));
        var took = SimulatedCluster.ToTimeSpan(cluster.Now - leftAt);
        output.WriteLine($"all others saw Left after {took.TotalMilliseconds:F1} ms (10% loss)");
        cluster.RunFor(TimeSpan.FromSeconds(2));

        // Three goodbyes 20 ms apart: with 10% loss all three are lost to a given node once in a thousand, so the
        // last arrives by 41 ms (the gossip of the others covers the rest).
        Assert.True(took <= TimeSpan.FromMilliseconds(100), $"{took}");
        Assert.DoesNotContain(cluster.Log, o => o.Change.Current == MemberState.Dead);
        Assert.All(others, n => Assert.Equal(MemberState.Left, n.Protocol.StateOf(leaver.Name)));
        Assert.False(leaver.Running);
    }

    [Theory]
    [InlineData(150, false)]
    [InlineData(1500, true)]
    public void Stall_ProcessNotScheduled_ShortStallHarmlessLongStallRecovers(int stallMs, bool declaredDead)
    {
        var cluster = new SimulatedCluster(3, 13);
        Assert.True(cluster.RunUntil(cluster.Converged, TimeSpan.FromSeconds(5)));
        cluster.Log.Clear();
        var sleeper = cluster.Nodes[0];

        sleeper.Stall(TimeSpan.FromMilliseconds(stallMs));
        cluster.RunFor(TimeSpan.FromMilliseconds(stallMs + 2000));

        // The sleeper never blames the others for its own stall.
        Assert.DoesNotContain(cluster.Log, o => o.Observer == sleeper.Name && o.Change.Current == MemberState.Dead);
        Assert.Equal(1, sleeper.Protocol.Counters.LateTicks);
        // The others may declare a long-stalled node dead (it was unresponsive); it refutes when it runs again.
        Assert.Equal(declaredDead, cluster.Log.Any(o => o.Change.Member == sleeper.Name && o.Change.Current == MemberState.Dead));
        Assert.True(cluster.Converged());
    }
}

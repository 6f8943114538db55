using System.Globalization;
using BareLb.Membership.Tests.Simulation;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.Membership.Tests.Netns;

/// <summary>
/// Three speakers' membership over real UDP between network namespaces (the test host in each). CI runs a few
/// trials and 20 s of loss; bench/Membership/run.sh sets BARELB_MEMBERSHIP_TRIALS and
/// BARELB_MEMBERSHIP_LOSS_SECONDS for the figures in docs/benchmarks.md.
/// </summary>
public sealed class MembershipNetnsTests(ITestOutputHelper output)
{
    private static int Trials => Setting("BARELB_MEMBERSHIP_TRIALS", 3);

    private static int LossSeconds => Setting("BARELB_MEMBERSHIP_LOSS_SECONDS", 20);

    [NetnsFact]
    public async Task Kill_SurvivorsAgreeDeadWithinBudget_RestartedNodeRejoins()
    {
        await using var lab = await MembershipLab.StartAsync(3);
        var random = new Random(1);
        var detections = new List<double>();
        for (var trial = 0; trial < Trials; trial++)
        {
            var victim = lab.Names[trial % lab.Names.Count];
            var survivors = lab.Names.Where(n => n != victim).ToArray();
            // Let the restarted node settle, and kill at a random point of the probe schedule.
            await Task.Delay(1000 + random.Next(500));

            var killedAt = await lab.KillAsync(victim);
            await lab.WaitAsync(() => survivors.All(s => lab.Report(s).StateOf(victim) == MemberState.Dead), TimeSpan.FromSeconds(10), $"{victim} dead everywhere");

            var agreedAt = survivors.Max(s => lab.Report(s).Changes.Last(c => c.Member == victim && c.Current == MemberState.Dead).At);
            detections.Add((agreedAt - killedAt) / 1e6);
            output.WriteLine(FormattableString.Invariant($"trial {trial}: {victim} killed, every survivor had it Dead after {detections[^1]:F1} ms"));
            foreach (var s in survivors)
            {
                Assert.DoesNotContain(lab.Report(s).Changes, c => c.At >= killedAt && c.Member != victim && !MembershipChange.IsAlive(c.Current));
            }

            await lab.RestartAsync(victim);
            await lab.WaitAllAliveAsync(TimeSpan.FromSeconds(60));
        }

        output.WriteLine($"{Trials} kills, SIGKILL + link down -> every survivor has it Dead: {ClusterScenarios.Describe(detections)}");
        // The product target is client traffic on the new owner within 0.5 s; announcing takes about a millisecond.
        Assert.All(detections, d => Assert.True(d < 500, $"detection took {d:F1} ms: {ClusterScenarios.Describe(detections)}"));
    }

    [NetnsFact]
    public async Task RandomLoss_TenPercentOnEveryNode_NoFalseDeath()
    {
        NetnsCapability.RequireTool("nft", "nftables");
        await using var lab = await MembershipLab.StartAsync(3);
        await Task.Delay(1500);

        var start = MembershipLab.Now();
        await lab.SetLossAsync(oneIn: 10);
        await Task.Delay(TimeSpan.FromSeconds(LossSeconds));
        await lab.SetLossAsync(null);
        var end = MembershipLab.Now();
        await Task.Delay(1500); // one more counter report after the end

        long sent = 0, received = 0;
        foreach (var name in lab.Names)
        {
            var report = lab.Report(name);
            var bad = report.Changes.Where(c => c.At >= start && c.At <= end && !MembershipChange.IsAlive(c.Current)).ToList();
            Assert.True(bad.Count == 0, $"{name} saw " + string.Join(", ", bad.Select(c => $"{c.Member} {c.Current}")));
            var last = report.Counters.Last(c => c.At <= end + 1_500_000_000L).Values;
            var first = report.Counters.Last(c => c.At <= start).Values;
            sent += last["sent"] - first["sent"];
            received += last["received"] - first["received"];
            output.WriteLine(FormattableString.Invariant(
                $"{name}: {report.RatePerSecond("sent", start, end):F1} datagrams/s sent, suspicions raised {last["suspicions"] - first["suspicions"]}, refutations {last["refutations"] - first["refutations"]}, late ticks {last["lateTicks"] - first["lateTicks"]}, local health now {last["health"]}"));
        }
        var delivered = (double)received / sent;
        output.WriteLine(FormattableString.Invariant($"{LossSeconds} s at 10% loss on 3 nodes: no false death; {delivered:P1} of datagrams delivered"));
        // The loss was really there (about 90% delivered), or this test proved nothing.
        Assert.InRange(delivered, 0.85, 0.95);
    }

    [NetnsFact]
    public async Task Sigterm_NodeLeaves_OthersSeeLeftAtOnce()
    {
        await using var lab = await MembershipLab.StartAsync(3);
        await Task.Delay(1000);
        var leaver = lab.Names[^1];
        var others = lab.Names.Where(n => n != leaver).ToArray();

        var signalledAt = MembershipLab.Now();
        Assert.True(await lab.Process(leaver).StopAsync(TimeSpan.FromSeconds(20)), "did not exit after SIGTERM");
        await lab.WaitAsync(() => others.All(o => lab.Report(o).StateOf(leaver) == MemberState.Left), TimeSpan.FromSeconds(5), $"{leaver} Left everywhere");

        var seenAt = others.Max(o => lab.Report(o).Changes.Last(c => c.Member == leaver).At);
        var report = lab.Report(leaver);
        Assert.NotNull(report.LeftAt);
        Assert.NotNull(report.SigtermAt);
        output.WriteLine(FormattableString.Invariant(
            $"SIGTERM -> every other node has it Left after {(seenAt - report.SigtermAt.Value) / 1e6:F1} ms from the signal's arrival ({(seenAt - signalledAt) / 1e6:F1} ms from the test's kill command)"));
        Assert.Equal(0, lab.Process(leaver).Process.ExitCode);
        // Leaving is one datagram away; a suspicion timeout (600 ms with one accuser) would be far slower.
        Assert.True(seenAt - signalledAt < 1_000_000_000L, $"Left seen {(seenAt - signalledAt) / 1e6} ms after SIGTERM");
        Assert.All(others, o => Assert.DoesNotContain(lab.Report(o).Changes, c => c.Member == leaver && c.Current == MemberState.Dead));
    }

    private static int Setting(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}

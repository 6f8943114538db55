using System.Diagnostics;
using System.Globalization;
using System.Net;
using BareLb.Lab;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.EndToEnd.Tests;

/// <summary>
/// Failover, measured from the client: the owner node dies (speaker SIGKILL, link down) and we time (a) the client's
/// neighbour entry moving to the new owner and (b) the client being served again (new TCP connections every 10 ms).
/// keepalived (VRRP) runs on the same topology in the same test, at its default advertisement interval and at 50 ms.
/// Figures are printed and written to artifacts/failover.txt; docs/benchmarks.md quotes them.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class FailoverTests(LabFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(15);
    private LabEnvironment Lab => fixture.Lab;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (NetnsCapability.MissingReason is null)
        {
            await fixture.ReviveAllAsync();
        }
    }

    /// <summary>BARELB_FAILOVER_TRIALS sets the count (20 by default); keepalived runs half as many unless BARELB_KEEPALIVED_TRIALS says otherwise.</summary>
    private static int Trials(string variable, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(variable), CultureInfo.InvariantCulture, out var n) && n > 0 ? n : fallback;

    [NetnsFact]
    public async Task OwnerDies_ClientServedAgainWithinASecond_SideBySideWithKeepalived()
    {
        NetnsCapability.RequireTool("keepalived", "keepalived");
        var trials = Trials("BARELB_FAILOVER_TRIALS", 20);
        var keepalivedTrials = Trials("BARELB_KEEPALIVED_TRIALS", Math.Max(5, trials / 2));
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("failover", "198.51.100.150/32");
        await fixture.AdvertisementAsync("failover", "failover");
        await fixture.ServiceAsync(ns, "web", "failover");
        var address = (await fixture.AddressesAsync(ns, "web")).Single();
        await fixture.AnswerAsync(address);

        var neighbour = new List<TimeSpan>();
        var served = new List<TimeSpan>();
        for (var trial = 0; trial < trials; trial++)
        {
            var owner = await fixture.AnswerAsync(address);
            var node = Lab.Nodes.Single(n => n.Name == owner);
            var offsets = Lab.Nodes.Where(n => n != node).ToDictionary(n => n, n => n.Speaker!.Log.Length);
            var (moved, back, to, killedAt) = await MeasureAsync(address, 80, owner, () => Lab.KillNodeAsync(node));
            output.WriteLine($"BareLb trial {trial + 1} (killed {killedAt:HH:mm:ss.fff}): {owner} -> {to}: neighbour entry {moved.TotalMilliseconds:0} ms, served {back.TotalMilliseconds:0} ms" +
                $" (agreed dead after {string.Join(", ", offsets.Select(o => $"{o.Key.Name} {DeadAfter(o.Key.Speaker!.Log[o.Value..], owner, killedAt)}"))};" +
                $" {to} announcing after {LoggedAfter(Lab.Nodes.Single(n => n.Name == to).Speaker!.Log[offsets.Single(o => o.Key.Name == to).Value..], $"Announcing {address}", killedAt)})");
            neighbour.Add(moved);
            served.Add(back);
            await Lab.ReviveNodeAsync(node);
        }

        var keepalived = new Dictionary<string, List<TimeSpan>>();
        foreach (var (label, interval) in new[] { ("keepalived, advert_int 1 s (default)", TimeSpan.FromSeconds(1)), ("keepalived, advert_int 50 ms", TimeSpan.FromMilliseconds(50)) })
        {
            var vrrp = new Keepalived(Lab, IPAddress.Parse("198.51.100.160"), interval);
            vrrp.StartAll();
            try
            {
                var times = keepalived[label] = [];
                for (var trial = 0; trial < keepalivedTrials; trial++)
                {
                    var node = await vrrp.MasterAsync(TimeSpan.FromSeconds(30));
                    var owner = await fixture.AnswerAsync(vrrp.Address, LabAddressing.BackendPort, TimeSpan.FromSeconds(30));
                    Assert.Equal(node.Name, owner);
                    var (_, back, to, _) = await MeasureAsync(vrrp.Address, LabAddressing.BackendPort, owner, () => vrrp.KillAsync(node));
                    output.WriteLine($"{label} trial {trial + 1}: {owner} -> {to}: served {back.TotalMilliseconds:0} ms");
                    times.Add(back);
                    await vrrp.ReviveAsync(node);
                }
            }
            finally
            {
                await vrrp.StopAllAsync();
            }
        }

        var report = new List<string>
        {
            $"failover on {Lab.Nodes.Count} nodes, measured {DateTime.UtcNow:yyyy-MM-dd}",
            Row($"BareLb: client's neighbour entry at the new owner ({trials} trials)", neighbour),
            Row($"BareLb: client served again ({trials} trials)", served),
        };
        report.AddRange(keepalived.Select(k => Row($"{k.Key}: client served again ({k.Value.Count} trials)", k.Value)));
        var p50Default = FailoverMeter.Percentile(keepalived.First().Value, 50);
        report.Add($"ratio keepalived default p50 / BareLb p50 = {p50Default / FailoverMeter.Percentile(served, 50):0.0}");
        foreach (var line in report)
        {
            output.WriteLine(line);
        }
        var artifacts = Path.Combine(LabFixture.RepositoryRoot, "artifacts");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllLinesAsync(Path.Combine(artifacts, "failover.txt"), report);

        Assert.True(FailoverMeter.Percentile(served, 99) < TimeSpan.FromSeconds(1),
            $"p99 of the client's outage is {FailoverMeter.Percentile(served, 99).TotalMilliseconds:0} ms; target under 1 s");
        await fixture.DeleteAsync(ns, "failover");
    }

    /// <summary>From a speaker's log since the kill: how long after it the survivor declared the owner dead.</summary>
    private static string DeadAfter(string log, string node, DateTime killedAt)
    {
        var dead = LoggedAfter(log, $"Speaker {node}: Suspect -> Dead", killedAt);
        return dead != "?" ? dead : LoggedAfter(log, $"Speaker {node}: Alive -> Dead", killedAt);
    }

    /// <summary>From a speaker's log since the kill: how long after it the first line containing <paramref name="text"/> was written.</summary>
    private static string LoggedAfter(string log, string text, DateTime killedAt)
    {
        var line = log.Split('\n').FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
        if (line is null || line.Length < 12 || !TimeSpan.TryParseExact(line[..12], @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture, out var at))
        {
            return "?";
        }
        return $"{(at - killedAt.TimeOfDay).TotalMilliseconds:0} ms";
    }

    private static string Row(string what, IReadOnlyList<TimeSpan> values) =>
        $"{what}: p50 {FailoverMeter.Percentile(values, 50).TotalMilliseconds:0} ms, p99 {FailoverMeter.Percentile(values, 99).TotalMilliseconds:0} ms, max {values.Max().TotalMilliseconds:0} ms";

    /// <summary>
    /// Kills the owner and watches, in parallel, the client's neighbour entry (as its kernel changes it) and HTTP
    /// answers (new connections every 10 ms).
    /// </summary>
    private async Task<(TimeSpan Neighbour, TimeSpan Served, string To, DateTime DiedAt)> MeasureAsync(IPAddress address, int port, string owner, Func<Task<long>> kill)
    {
        var ownerMac = Lab.Nodes.Single(n => n.Name == owner).Mac;
        await using var neighbours = Lab.MonitorClientNeighbours();
        // Time for the monitor to subscribe before anything changes.
        await Task.Delay(200);
        var died = await kill();
        var diedAt = DateTime.Now - Stopwatch.GetElapsedTime(died);
        var (served, to) = await FailoverMeter.WatchUntilServedByAnotherAsync(Lab, address, port, owner, died, Limit);
        Assert.True(to is not null, $"{address} not served by another node within {Limit.TotalSeconds} s of {owner}'s death\n{fixture.SpeakerTails()}");
        // The entry moved before the client was served through it; the monitor's line may take a moment to be read.
        var clock = Stopwatch.StartNew();
        DateTime? moved;
        while ((moved = neighbours.MovedAway(address, ownerMac, diedAt)) is null && clock.Elapsed < TimeSpan.FromSeconds(2))
        {
            await Task.Delay(20);
        }
        return (moved is { } at ? at - diedAt : Limit, served, to!, diedAt);
    }
}

using System.Diagnostics;
using System.Globalization;
using BareLb.Api;
using BareLb.Kubernetes;
using BareLb.Lab;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.EndToEnd.Tests;

/// <summary>
/// 10% random loss between the nodes (nftables <c>numgen random</c> on every node's input from the LAN) must not make
/// the speakers believe a live one died: no address changes owner, no speaker is declared dead.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class LossTests(LabFixture fixture, ITestOutputHelper output)
{
    private LabEnvironment Lab => fixture.Lab;

    /// <summary>BARELB_LOSS_SECONDS sets the duration (20 s in CI, 60 s for the figure in docs/benchmarks.md).</summary>
    private static TimeSpan Duration =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("BARELB_LOSS_SECONDS"), CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 20);

    [NetnsFact]
    public async Task TenPercentLossBetweenNodes_NoFalseFailover()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("loss", "198.51.100.176/29");
        await fixture.AdvertisementAsync("loss", "loss");
        for (var i = 0; i < 8; i++)
        {
            await fixture.ServiceAsync(ns, $"s{i}", "loss");
        }
        var owners = new Dictionary<string, string>();
        for (var i = 0; i < 8; i++)
        {
            var address = (await fixture.AddressesAsync(ns, $"s{i}")).Single();
            owners[$"s{i}"] = await fixture.AnswerAsync(address);
        }
        // From a steady cluster: right after the lab starts, three speakers, the controller and the API server JIT and
        // sync on two cores, and a speaker not scheduled for 200 ms is taken for dead, loss or not; that is not what
        // this test measures. Steady: no membership change logged for 3 s.
        var waited = await fixture.QuietAsync("SpeakerMembership", TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));
        output.WriteLine($"membership quiet for 3 s after {waited.TotalSeconds:0.0} s");
        var logOffsets = Lab.Nodes.ToDictionary(n => n.Name, n => n.Speaker!.Log.Length);

        foreach (var node in Lab.Nodes)
        {
            await node.Namespace.ExecCheckedAsync("nft", ["-f", "-"], stdin: $$"""
                table inet barelb-loss {
                  chain input {
                    type filter hook input priority filter; policy accept;
                    ip saddr {{LabAddressing.NodeV4(1)}}-{{LabAddressing.NodeV4(LabAddressing.MaxNodes)}} numgen random mod 10 0 drop
                  }
                }
                """);
        }
        var clock = Stopwatch.StartNew();
        var changes = new List<string>();
        try
        {
            while (clock.Elapsed < Duration)
            {
                await Task.Delay(1000);
                var plans = await Lab.Client.ListAsync(BareLbResources.ServiceL2Statuses, LabEnvironment.SystemNamespace, null, default);
                foreach (var status in plans.Items.Where(s => s.Status?.ServiceNamespace == ns))
                {
                    if (owners.TryGetValue(status.Status!.ServiceName!, out var owner) && status.Status.Node != owner)
                    {
                        changes.Add($"{clock.Elapsed.TotalSeconds:0}s: {status.Status.ServiceName} announced by {status.Status.Node}, owner was {owner}");
                    }
                }
            }
        }
        finally
        {
            foreach (var node in Lab.Nodes)
            {
                await node.Namespace.ExecAsync("nft", ["delete", "table", "inet", "barelb-loss"]);
            }
        }

        var deaths = Lab.Nodes
            .SelectMany(n => n.Speaker!.Log[logOffsets[n.Name]..].Split('\n').Select(l => (n.Name, Line: l)))
            .Where(x => x.Line.Contains("-> Dead", StringComparison.Ordinal))
            .Select(x => $"{x.Name}: {x.Line}")
            .ToList();
        var suspicions = Lab.Nodes.Sum(n => n.Speaker!.Log[logOffsets[n.Name]..].Split('\n').Count(l => l.Contains("-> Suspect", StringComparison.Ordinal)));
        output.WriteLine($"{Duration.TotalSeconds:0} s at 10% loss between {Lab.Nodes.Count} nodes: {suspicions} suspicions (all refuted unless listed), {deaths.Count} deaths, {changes.Count} owner changes");
        if (deaths.Count > 0 || changes.Count > 0)
        {
            foreach (var node in Lab.Nodes)
            {
                output.WriteLine($"--- speaker {node.Name} ---\n{LabProcess.Tail(node.Speaker!.Log, 80)}");
            }
        }
        Assert.Empty(deaths);
        Assert.Empty(changes);
        for (var i = 0; i < 8; i++)
        {
            Assert.Equal(owners[$"s{i}"], await fixture.AnswerAsync((await fixture.AddressesAsync(ns, $"s{i}")).Single()));
        }
        await fixture.DeleteAsync(ns, "loss");
    }
}

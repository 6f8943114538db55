using System.Diagnostics;
using System.Net;
using BareLb.Kubernetes;
using BareLb.Lab;
using BareLb.NetTestSupport;
using k8s.Models;
using Xunit.Abstractions;

namespace BareLb.EndToEnd.Tests;

/// <summary>
/// 500 Services created and partly deleted and recreated while speakers and the controller are killed at random;
/// afterwards: no address on two Services, at most one node answering for each address (seen on the wire), and every
/// Service reachable from the client.
/// </summary>
[Collection(LabCollection.Name)]
public sealed class ChurnTests(LabFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const int Services = 500;
    private LabEnvironment Lab => fixture.Lab;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (NetnsCapability.MissingReason is null)
        {
            if (!Lab.Controller.IsRunning)
            {
                Lab.RestartController();
            }
            await fixture.ReviveAllAsync();
        }
    }

    [NetnsFact]
    public async Task ChurnWithRandomKills_InvariantsHoldAfterwards()
    {
        var random = new Random(20261128);
        var ns = await fixture.NamespaceAsync();
        // 250 IPv4 addresses on-link for the client, and IPv6 for the rest.
        await fixture.PoolAsync("churn", "203.0.113.1-203.0.113.250", "2001:db8:200::1000-2001:db8:200::1fff");
        await fixture.AdvertisementAsync("churn", "churn");

        var clock = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        var chaos = Task.Run(() => ChaosAsync(random.Next(), stop.Token));
        var kills = 0;
        try
        {
            var names = Enumerable.Range(0, Services).Select(i => $"s{i:000}").ToList();
            await Parallel.ForEachAsync(names, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (name, ct) =>
                await CreateWithRetryAsync(ns, name, Family(name)));
            // Churn, in rounds: a random tenth deleted, a pause, then created again under the same names.
            for (var round = 0; round < 4; round++)
            {
                var churned = names.OrderBy(_ => random.Next()).Take(Services / 10).ToList();
                await Parallel.ForEachAsync(churned, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (name, ct) =>
                    await WithRetryAsync(() => Lab.Client.DeleteAsync(CoreResources.Services, ns, name, null, default)));
                await Task.Delay(TimeSpan.FromMilliseconds(1000 + random.Next(2000)));
                await Parallel.ForEachAsync(churned, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (name, ct) =>
                    await CreateWithRetryAsync(ns, name, Family(name)));
                await Task.Delay(TimeSpan.FromMilliseconds(1000 + random.Next(2000)));
            }
        }
        finally
        {
            await stop.CancelAsync();
            kills = await chaos;
        }
        output.WriteLine($"created and churned {Services} Services with {kills} kills in {clock.Elapsed.TotalSeconds:0} s");
        if (!Lab.Controller.IsRunning)
        {
            Lab.RestartController();
        }
        await fixture.ReviveAllAsync();

        // Converged: every Service has its address.
        var services = await WaitAllAssignedAsync(ns, TimeSpan.FromSeconds(120));
        var byAddress = services.GroupBy(s => s.Status!.LoadBalancer!.Ingress!.Single().Ip).ToList();
        Assert.All(byAddress, g => Assert.True(g.Count() == 1, $"{g.Key} is shown by {string.Join(", ", g.Select(s => s.Metadata.Name))}"));
        output.WriteLine($"converged {clock.Elapsed.TotalSeconds:0} s after the start");

        var addresses = byAddress.Select(g => IPAddress.Parse(g.Key)).ToList();
        var unreachable = new List<IPAddress>();
        foreach (var address in addresses)
        {
            if (await AnswerWithRetriesAsync(address) is null)
            {
                unreachable.Add(address);
            }
        }
        Assert.True(unreachable.Count == 0, $"{unreachable.Count} addresses do not answer: {string.Join(", ", unreachable.Take(10))}\n{fixture.SpeakerTails()}");

        // Once ownership has settled: a speaker revived at the end takes its addresses back a second after it starts.
        await fixture.QuietAsync("Layer2Speaker", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        var scan = await NeighbourScan.ScanAsync(Lab.ClientNamespace.Name, addresses, TimeSpan.FromSeconds(2));
        var doubled = scan.Where(kv => kv.Value.Count > 1)
            .Select(kv => $"{kv.Key}: {string.Join(", ", kv.Value.Select(m => Lab.NodeByMac(m)?.Name ?? m))}").ToList();
        var silent = scan.Where(kv => kv.Value.Count == 0).Select(kv => kv.Key).ToList();
        output.WriteLine($"neighbour scan: {scan.Count} addresses, {doubled.Count} answered by two nodes, {silent.Count} by none");
        Assert.True(doubled.Count == 0 && silent.Count == 0,
            $"answered by two nodes: {string.Join("; ", doubled.Take(20))}\nby none: {string.Join(", ", silent.Take(20))}\n{fixture.SpeakerTails()}");
        await fixture.DeleteAsync(ns, "churn");
    }

    /// <summary>Every 2–4 s: SIGKILL a random speaker (and revive it a little later), and now and then the controller.</summary>
    private async Task<int> ChaosAsync(int seed, CancellationToken ct)
    {
        var random = new Random(seed);
        var kills = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(2000 + random.Next(2000)), ct);
                if (random.Next(4) == 0)
                {
                    Lab.Controller.Kill();
                    kills++;
                    await Task.Delay(TimeSpan.FromMilliseconds(500 + random.Next(1500)), ct);
                    Lab.RestartController();
                }
                else
                {
                    var node = Lab.Nodes[random.Next(Lab.Nodes.Count)];
                    node.Speaker?.Kill();
                    kills++;
                    await Task.Delay(TimeSpan.FromMilliseconds(500 + random.Next(1500)), ct);
                    Lab.StartSpeaker(node);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        return kills;
    }

    /// <summary>Half IPv4 (the 250 addresses the pool has), half IPv6.</summary>
    private static string Family(string name) =>
        int.Parse(name[1..], System.Globalization.CultureInfo.InvariantCulture) % 2 == 0 ? "IPv4" : "IPv6";

    private async Task CreateWithRetryAsync(string ns, string name, string family) =>
        await WithRetryAsync(async () =>
        {
            try
            {
                await fixture.ServiceAsync(ns, name, "churn", family: family);
            }
            catch (AlreadyExistsException)
            {
            }
        });

    /// <summary>The API server is fine during the churn, but requests may time out while the machine is loaded.</summary>
    private static async Task WithRetryAsync(Func<Task> action)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await action();
                return;
            }
            catch (NotFoundException)
            {
                return;
            }
            catch (Exception) when (attempt < 5)
            {
                await Task.Delay(200);
            }
        }
    }

    private async Task<IReadOnlyList<V1Service>> WaitAllAssignedAsync(string ns, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var services = (await Lab.Client.ListAsync(CoreResources.Services, ns, null, default)).Items;
            var pending = services.Where(s => s.Status?.LoadBalancer?.Ingress is not { Count: 1 }).ToList();
            if (services.Count == Services && pending.Count == 0)
            {
                return services;
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{services.Count} Services, {pending.Count} without exactly one address after {timeout.TotalSeconds} s: " +
                    $"{string.Join(", ", pending.Take(10).Select(p => $"{p.Metadata.Name} [{string.Join(' ', p.Status?.LoadBalancer?.Ingress?.Select(i => i.Ip) ?? [])}]"))}\n{fixture.ControllerTail()}");
            }
            await Task.Delay(500);
        }
    }

    private async Task<string?> AnswerWithRetriesAsync(IPAddress address)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            if (await Lab.GetAsync(address, 80, TimeSpan.FromMilliseconds(500)) is { } answer)
            {
                return answer;
            }
            await Task.Delay(250);
        }
        return null;
    }
}

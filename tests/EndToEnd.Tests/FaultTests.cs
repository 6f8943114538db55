using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using BareLb.Kubernetes;
using BareLb.Lab;
using BareLb.NetTestSupport;
using k8s.Models;
using Xunit.Abstractions;

namespace BareLb.EndToEnd.Tests;

/// <summary>Faults around the speakers: the API server gone, the controller restarted, garbage on the wire.</summary>
[Collection(LabCollection.Name)]
public sealed class FaultTests(LabFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private LabEnvironment Lab => fixture.Lab;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (NetnsCapability.MissingReason is null)
        {
            Lab.ApiServer.Resume();
            await fixture.ReviveAllAsync();
        }
    }

    [NetnsFact]
    public async Task ApiServerFrozenFor30s_AddressesStayAnsweredAndFailoverStillWorks()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("outage", "198.51.100.151/32", "2001:db8:100::151/128");
        await fixture.AdvertisementAsync("outage", "outage");
        await fixture.ServiceAsync(ns, "web", "outage", family: "Dual");
        var addresses = await fixture.AddressesAsync(ns, "web", count: 2);
        foreach (var address in addresses)
        {
            await fixture.AnswerAsync(address);
        }

        // SIGSTOP: connections stay open but nothing answers, the worst kind of outage for a client.
        Lab.ApiServer.Pause();
        var frozen = Stopwatch.StartNew();
        try
        {
            var v4 = addresses.First(a => a.AddressFamily == AddressFamily.InterNetwork);
            var owner = await fixture.AnswerAsync(v4);
            var result = await FailoverMeter.KillOwnerAndMeasureAsync(Lab, v4, 80, TimeSpan.FromSeconds(10));
            output.WriteLine($"with the API server frozen: {v4} moved {result.From} -> {result.To} in {result.Outage.TotalMilliseconds:0} ms");
            Assert.NotEqual(owner, result.To);
            while (frozen.Elapsed < TimeSpan.FromSeconds(30))
            {
                foreach (var address in addresses)
                {
                    Assert.NotNull(await fixture.AnswerAsync(address, timeout: TimeSpan.FromSeconds(5)));
                }
                await Task.Delay(1000);
            }
        }
        finally
        {
            Lab.ApiServer.Resume();
        }

        // Back to normal afterwards: nothing moved, and a new Service gets an address that is answered.
        Assert.Equal(addresses, await fixture.AddressesAsync(ns, "web", count: 2));
        await fixture.PoolAsync("outage-after", "198.51.100.157/32");
        await fixture.AdvertisementAsync("outage-after", "outage-after");
        await fixture.ServiceAsync(ns, "after", "outage-after");
        Assert.NotNull(await fixture.AnswerAsync((await fixture.AddressesAsync(ns, "after")).Single()));
        await fixture.ReviveAllAsync();
        await fixture.DeleteAsync(ns, "outage", "outage-after");
    }

    [NetnsFact]
    public async Task ControllerRestarted_NoAddressChanges()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("restart", "198.51.100.152/30", "2001:db8:100::152/127");
        await fixture.AdvertisementAsync("restart", "restart");
        var names = new[] { "a", "b", "c" };
        foreach (var name in names)
        {
            await fixture.ServiceAsync(ns, name, "restart", family: name == "c" ? "IPv6" : "IPv4");
        }
        var before = new Dictionary<string, string>();
        foreach (var name in names)
        {
            before[name] = string.Join(",", await fixture.AddressesAsync(ns, name));
        }

        await Lab.Controller.StopAsync(TimeSpan.FromSeconds(10));
        Lab.RestartController();
        // A change after the restart proves the new controller is working before we compare.
        await fixture.ServiceAsync(ns, "d", "restart");
        await fixture.AddressesAsync(ns, "d");

        foreach (var name in names)
        {
            Assert.Equal(before[name], string.Join(",", await fixture.AddressesAsync(ns, name)));
        }
        await fixture.DeleteAsync(ns, "restart");
    }

    [NetnsFact]
    public async Task FloodOfMalformedFrames_SpeakerNeitherCrashesNorStalls()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("flood", "198.51.100.156/32", "2001:db8:100::156/128");
        await fixture.AdvertisementAsync("flood", "flood");
        await fixture.ServiceAsync(ns, "web", "flood", family: "Dual");
        var addresses = await fixture.AddressesAsync(ns, "web", count: 2);
        var owners = new List<string>();
        foreach (var address in addresses)
        {
            owners.Add(await fixture.AnswerAsync(address));
        }
        var pids = Lab.Nodes.ToDictionary(n => n.Name, n => n.Speaker!.Pid);

        var sent = await MalformedFrames.FloodAsync(Lab.ClientNamespace.Name, frames: 60_000, limit: TimeSpan.FromSeconds(20));
        output.WriteLine($"sent {sent} malformed frames");

        Assert.True(sent >= 10_000, $"only {sent} frames went out");
        foreach (var (address, owner) in addresses.Zip(owners))
        {
            Assert.Equal(owner, await fixture.AnswerAsync(address, timeout: TimeSpan.FromSeconds(5)));
        }
        Assert.All(Lab.Nodes, n => Assert.Equal(pids[n.Name], n.Speaker!.Pid));
        Assert.All(Lab.Nodes, n => Assert.True(n.Speaker!.IsRunning, $"speaker on {n.Name} died:\n{LabProcess.Tail(n.Speaker.Log)}"));
        await fixture.DeleteAsync(ns, "flood");
    }
}

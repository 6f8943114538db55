using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Lab;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.EndToEnd.Tests;

/// <summary>
/// The speaker doing its job in a three-node namespace network, seen from a client outside the cluster with the
/// standard tools (arping, ndisc6, the client kernel's neighbour table, HTTP).
/// </summary>
[Collection(LabCollection.Name)]
public sealed partial class Layer2Tests(LabFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private LabEnvironment Lab => fixture.Lab;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (NetnsCapability.MissingReason is null)
        {
            await fixture.ReviveAllAsync();
        }
    }

    [NetnsFact]
    public async Task ArpingAndNdisc6_FromClient_GetTheOwnersMac()
    {
        NetnsCapability.RequireTool("arping", "arping");
        NetnsCapability.RequireTool("ndisc6", "ndisc6");
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("mac", "198.51.100.130-198.51.100.131", "2001:db8:100::130-2001:db8:100::131");
        await fixture.AdvertisementAsync("mac", "mac");
        await fixture.ServiceAsync(ns, "web", "mac", family: "Dual");
        var addresses = await fixture.AddressesAsync(ns, "web", count: 2);
        var v4 = addresses.Single(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork);
        var v6 = addresses.Single(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6);
        var owner4 = await fixture.AnswerAsync(v4);
        var owner6 = await fixture.AnswerAsync(v6);

        // arping waits for every reply (-c 3 requests); ndisc6 without -1 reports every answer to its solicitation.
        var arping = await Lab.ClientNamespace.ExecAsync("arping", ["-c", "3", "-w", "3", "-I", "eth0", v4.ToString()]);
        var ndisc = await Lab.ClientNamespace.ExecAsync("ndisc6", ["-r", "3", "-w", "1000", v6.ToString(), "eth0"]);

        output.WriteLine(arping.StandardOutput + ndisc.StandardOutput);
        Assert.Equal(owner4, await fixture.AnswerAsync(v4));
        Assert.Equal(owner6, await fixture.AnswerAsync(v6));
        var arpMacs = Macs(arping.StandardOutput);
        Assert.NotEmpty(arpMacs);
        Assert.Equal([Lab.Nodes.Single(n => n.Name == owner4).Mac.ToUpperInvariant()], arpMacs);
        Assert.Equal([Lab.Nodes.Single(n => n.Name == owner6).Mac.ToUpperInvariant()], Macs(ndisc.StandardOutput));
        await fixture.DeleteAsync(ns, "mac");
    }

    [NetnsFact]
    public async Task AddressNotOwnedOrInterfaceNotAllowed_NobodyAnswers_AndAnnounceFailedIsRecorded()
    {
        NetnsCapability.RequireTool("arping", "arping");
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("nowhere", "198.51.100.132/32");
        await fixture.AdvertisementAsync("nowhere", "nowhere", interfaces: ["eth9"]);
        await fixture.ServiceAsync(ns, "hidden", "nowhere");
        var address = (await fixture.AddressesAsync(ns, "hidden")).Single();

        await EventuallyAsync(async () => (await Lab.Client.ListAsync(CoreResources.Events, ns, null, default)).Items
            .Any(e => e.Reason == "announceFailed" && e.InvolvedObject.Name == "hidden"), "announceFailed event");
        var onAllowedOnly = await Lab.ClientNamespace.ExecAsync("arping", ["-c", "2", "-w", "2", "-I", "eth0", address.ToString()]);
        // An address in no pool at all is owned by nobody.
        var unowned = await Lab.ClientNamespace.ExecAsync("arping", ["-c", "2", "-w", "2", "-I", "eth0", "198.51.100.199"]);

        Assert.Empty(Macs(onAllowedOnly.StandardOutput));
        Assert.Empty(Macs(unowned.StandardOutput));
        await fixture.DeleteAsync(ns, "nowhere");
    }

    [NetnsFact]
    public async Task OwnerKilled_ClientNeighbourEntryMovesToTheNewOwner_IPv4AndIPv6()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("move", "198.51.100.133/32", "2001:db8:100::133/128");
        await fixture.AdvertisementAsync("move", "move");
        await fixture.ServiceAsync(ns, "web", "move", family: "Dual");
        var addresses = await fixture.AddressesAsync(ns, "web", count: 2);

        foreach (var address in addresses)
        {
            var owner = await fixture.AnswerAsync(address);
            var before = await Lab.ClientNeighbourAsync(address);
            Assert.Equal(Lab.Nodes.Single(n => n.Name == owner).Mac, before, StringComparer.OrdinalIgnoreCase);

            var died = await Lab.KillNodeAsync(Lab.Nodes.Single(n => n.Name == owner));
            string? after = null;
            var moved = await EventuallyAsync(async () =>
            {
                after = await Lab.ClientNeighbourAsync(address);
                return after is not null && !string.Equals(after, before, StringComparison.OrdinalIgnoreCase);
            }, $"the client's neighbour entry for {address} to leave {owner}", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(10));

            var newOwner = Lab.NodeByMac(after);
            output.WriteLine($"{address}: {owner} -> {newOwner?.Name} in {System.Diagnostics.Stopwatch.GetElapsedTime(died).TotalMilliseconds:0} ms");
            Assert.NotNull(newOwner);
            Assert.NotEqual(owner, newOwner.Name);
            Assert.Equal(newOwner.Name, await fixture.AnswerAsync(address));

            // The owner comes back (a new speaker process) and wins its address back: the interim owner must stop
            // answering for it, on NDP as on ARP.
            var offset = newOwner.Speaker!.Log.Length;
            await fixture.ReviveAllAsync();
            await EventuallyAsync(() => Task.FromResult(newOwner.Speaker!.Log[offset..].Contains($"Stopped announcing {address}", StringComparison.Ordinal)),
                $"{newOwner.Name} giving {address} back", TimeSpan.FromSeconds(20));
            await fixture.QuietAsync("Layer2Speaker", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
            var scan = await NeighbourScan.ScanAsync(Lab.ClientNamespace.Name, [address], TimeSpan.FromSeconds(2));
            Assert.Equal([owner], scan[address].Select(m => Lab.NodeByMac(m)?.Name ?? m).Order());
        }
        await fixture.DeleteAsync(ns, "move");
    }

    [NetnsFact]
    public async Task ExternalTrafficPolicyLocal_OnlyANodeWithAnEndpointAnswers()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("local", "198.51.100.134-198.51.100.137");
        await fixture.AdvertisementAsync("local", "local");
        var answers = new List<string>();
        foreach (var (name, node) in new[] { ("on-2", "node2"), ("on-3", "node3") })
        {
            await fixture.ServiceAsync(ns, name, "local", policy: "Local",
                annotations: new Dictionary<string, string> { [EndpointSliceAgent.EndpointNodes] = node });
            var address = (await fixture.AddressesAsync(ns, name)).Single();
            answers.Add(await fixture.AnswerAsync(address));
        }

        Assert.Equal(["node2", "node3"], answers);
        await fixture.DeleteAsync(ns, "local");
    }

    [NetnsFact]
    public async Task TwoServicesSharingAnAddress_AnsweredByOneNodeOnBothPorts()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("shared", "198.51.100.138/32");
        await fixture.AdvertisementAsync("shared", "shared");
        var sharing = new Dictionary<string, string> { [Annotations.AllowSharedIP] = "web" };
        await fixture.ServiceAsync(ns, "http", "shared", annotations: sharing, port: 80);
        await fixture.ServiceAsync(ns, "https", "shared", annotations: sharing, port: 443);

        var http = (await fixture.AddressesAsync(ns, "http")).Single();
        var https = (await fixture.AddressesAsync(ns, "https")).Single();

        Assert.Equal(http, https);
        Assert.Equal(await fixture.AnswerAsync(http, 80), await fixture.AnswerAsync(https, 443));
        await fixture.DeleteAsync(ns, "shared");
    }

    [NetnsFact]
    public async Task PoolChanged_ServiceMovesToItsNewAddress_WhichIsAnswered()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("shrink", "198.51.100.140-198.51.100.141");
        await fixture.AdvertisementAsync("shrink", "shrink");
        await fixture.ServiceAsync(ns, "web", "shrink");
        var first = (await fixture.AddressesAsync(ns, "web")).Single();
        await fixture.AnswerAsync(first);
        var keep = first.Equals(IPAddress.Parse("198.51.100.140")) ? "198.51.100.141" : "198.51.100.140";

        await Lab.Client.PatchAsync(BareLbResources.IPAddressPools, LabEnvironment.SystemNamespace, "shrink",
            new JsonObject { ["spec"] = new JsonObject { ["addresses"] = new JsonArray(keep + "/32") } }, status: false, default);

        IPAddress? moved = null;
        await EventuallyAsync(async () =>
        {
            moved = (await fixture.AddressesAsync(ns, "web")).Single();
            return moved.ToString() == keep;
        }, $"the Service to move to {keep}", TimeSpan.FromSeconds(20));
        Assert.NotNull(await fixture.AnswerAsync(moved!));
        await fixture.DeleteAsync(ns, "shrink");
    }

    private static List<string> Macs(string text) =>
        [.. MacPattern().Matches(text).Select(m => m.Value.ToUpperInvariant()).Distinct()];

    [GeneratedRegex("([0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}")]
    private static partial Regex MacPattern();

    /// <summary>
    /// A node cut off from the LAN while its speaker runs (a partition, not a death): both sides take each other for
    /// dead and it claims every address for itself. Once it is back, the speakers must agree again, so that every
    /// address is answered by exactly one node, IPv4 (ARP) and IPv6 (NDP) alike.
    /// </summary>
    [NetnsFact]
    public async Task NodeCutOffWhileItsSpeakerRuns_Rejoins_EveryAddressAnsweredByExactlyOneNode()
    {
        var ns = await fixture.NamespaceAsync();
        await fixture.PoolAsync("cut", "198.51.100.200-198.51.100.211", "2001:db8:100::200-2001:db8:100::20b");
        await fixture.AdvertisementAsync("cut", "cut");
        for (var i = 0; i < 12; i++)
        {
            await fixture.ServiceAsync(ns, $"c{i}", "cut", family: "Dual");
        }
        var addresses = new List<IPAddress>();
        for (var i = 0; i < 12; i++)
        {
            addresses.AddRange(await fixture.AddressesAsync(ns, $"c{i}", count: 2));
        }
        var cut = Lab.Nodes[1];
        var others = Lab.Nodes.Where(n => n != cut).ToList();
        var offsets = others.ToDictionary(n => n, n => n.Speaker!.Log.Length);
        await cut.Namespace.IpAsync(default, "link", "set", "eth0", "down");
        cut.LinkUp = false;
        await EventuallyAsync(() => Task.FromResult(others.All(n => n.Speaker!.Log[offsets[n]..].Contains($"Speaker {cut.Name}: Suspect -> Dead", StringComparison.Ordinal))),
            $"the others taking {cut.Name} for dead");
        // While it is away the cluster moves on: Services go and come (its caches cannot follow), and it has time to
        // take the others for dead and announce everything it knows.
        for (var i = 0; i < 4; i++)
        {
            await Lab.Client.DeleteAsync(CoreResources.Services, ns, $"c{i}", null, default);
            await fixture.ServiceAsync(ns, $"d{i}", "cut", family: "Dual");
        }
        await Task.Delay(TimeSpan.FromSeconds(10));
        offsets = others.ToDictionary(n => n, n => n.Speaker!.Log.Length);
        await cut.Namespace.IpAsync(default, "link", "set", "eth0", "up");
        cut.LinkUp = true;
        await EventuallyAsync(() => Task.FromResult(others.All(n => n.Speaker!.Log[offsets[n]..].Contains($"Speaker {cut.Name}: Dead -> Alive", StringComparison.Ordinal))),
            $"the others seeing {cut.Name} alive again");
        await fixture.QuietAsync("Layer2Speaker", TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));

        addresses.Clear();
        foreach (var name in Enumerable.Range(4, 8).Select(i => $"c{i}").Concat(Enumerable.Range(0, 4).Select(i => $"d{i}")))
        {
            addresses.AddRange(await fixture.AddressesAsync(ns, name, count: 2));
        }
        var scan = await NeighbourScan.ScanAsync(Lab.ClientNamespace.Name, addresses, TimeSpan.FromSeconds(2));
        var wrong = scan.Where(kv => kv.Value.Count != 1)
            .Select(kv => $"{kv.Key}: {(kv.Value.Count == 0 ? "nobody" : string.Join(", ", kv.Value.Select(m => Lab.NodeByMac(m)?.Name ?? m)))}")
            .ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} of {scan.Count} addresses not answered by exactly one node:\n{string.Join("\n", wrong)}\n{fixture.SpeakerTails()}");
        await fixture.DeleteAsync(ns, "cut");
    }

    internal static async Task<bool> EventuallyAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }
        throw new TimeoutException($"timed out waiting for {what}");
    }
}

using System.Diagnostics;
using System.Net;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Lab;
using BareLb.NetTestSupport;
using k8s.Models;
using Xunit.Abstractions;

namespace BareLb.EndToEnd.Tests;

/// <summary>A lab in BGP mode: FRR on a router between the nodes and the client.</summary>
public sealed class BgpLabFixture : IAsyncLifetime
{
    public LabFixture Lab { get; } = new(LabMode.Bgp);

    public Task InitializeAsync() => Lab.InitializeAsync();

    public Task DisposeAsync() => Lab.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class BgpLabCollection : ICollectionFixture<BgpLabFixture>
{
    public const string Name = "bgp-lab";
}

/// <summary>
/// Every node peers with the router and advertises the Service's addresses; the router spreads the client's
/// connections over all of them (ECMP), and a withdrawal follows the Service at once.
/// </summary>
[Collection(BgpLabCollection.Name)]
public sealed class BgpTests(BgpLabFixture bgp, ITestOutputHelper output) : IAsyncLifetime
{
    private LabFixture Fixture => bgp.Lab;
    private LabEnvironment Lab => bgp.Lab.Lab;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (NetnsCapability.MissingReason is null)
        {
            await Fixture.ReviveAllAsync();
        }
    }

    [NetnsFact]
    public async Task ThreeNodesAdvertise_RouterHasThreeNextHops_ClientServedBySeveral_DeletionWithdrawsWithinASecond()
    {
        var ns = await Fixture.NamespaceAsync();
        await Fixture.PoolAsync("ecmp", "198.51.100.170/32", "2001:db8:100::170/128");
        await Lab.Client.CreateAsync(BareLbResources.BGPPeers, new BGPPeer
        {
            Kind = "BGPPeer",
            Metadata = new V1ObjectMeta { Name = "router", NamespaceProperty = LabEnvironment.SystemNamespace },
            Spec = new BGPPeerSpec
            {
                MyASN = LabAddressing.NodeAsn, PeerASN = LabAddressing.RouterAsn, PeerAddress = LabAddressing.RouterV4.ToString(),
                HoldTime = "3s", KeepaliveTime = "1s",
            },
        }, default);
        await Lab.Client.CreateAsync(BareLbResources.BGPAdvertisements, new BGPAdvertisement
        {
            Kind = "BGPAdvertisement",
            Metadata = new V1ObjectMeta { Name = "ecmp", NamespaceProperty = LabEnvironment.SystemNamespace },
            Spec = new BGPAdvertisementSpec { IPAddressPools = ["ecmp"], Communities = ["64512:7", "large:64512:1:2"] },
        }, default);
        await Fixture.ServiceAsync(ns, "web", "ecmp", family: "Dual");
        var addresses = await Fixture.AddressesAsync(ns, "web", count: 2);

        foreach (var address in addresses)
        {
            await Layer2Tests.EventuallyAsync(async () => await Lab.NextHopsAsync(address) == 3, $"three next hops for {address}", TimeSpan.FromSeconds(60));
            var served = new List<string>();
            for (var i = 0; i < 30; i++)
            {
                served.Add(await Fixture.AnswerAsync(address, timeout: TimeSpan.FromSeconds(5)));
            }
            output.WriteLine($"{address}: {string.Join(' ', served)}");
            Assert.True(served.Distinct().Count() >= 2, $"one node served every connection to {address}: {string.Join(' ', served)}");
        }
        var route = await Lab.VtyshAsync($"show bgp ipv4 unicast {addresses.First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)}/32");
        output.WriteLine(route);
        Assert.Contains("64512:7", route, StringComparison.Ordinal);
        Assert.Contains("64512:1:2", route, StringComparison.Ordinal);

        await Layer2Tests.EventuallyAsync(async () => (await Lab.Client.ListAsync(BareLbResources.ServiceBGPStatuses, LabEnvironment.SystemNamespace,
            new ListOptions { LabelSelector = $"{StatusLabels.ServiceName}=web" }, default)).Items.Count == 3, "a ServiceBGPStatus from each node");

        await Lab.Client.DeleteAsync(CoreResources.Services, ns, "web", null, default);
        var deleted = Stopwatch.StartNew();
        await Layer2Tests.EventuallyAsync(async () => (await Task.WhenAll(addresses.Select(a => Lab.NextHopsAsync(a)))).All(h => h == 0),
            "the routes to go", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(20));
        output.WriteLine($"withdrawn {deleted.ElapsedMilliseconds} ms after the Service was deleted");
        Assert.True(deleted.Elapsed < TimeSpan.FromSeconds(1), $"withdrawal took {deleted.ElapsedMilliseconds} ms");

        await Lab.Client.DeleteAsync(BareLbResources.BGPAdvertisements, LabEnvironment.SystemNamespace, "ecmp", null, default);
        await Lab.Client.DeleteAsync(BareLbResources.BGPPeers, LabEnvironment.SystemNamespace, "router", null, default);
        await Fixture.DeleteAsync(ns, "ecmp");
    }
}

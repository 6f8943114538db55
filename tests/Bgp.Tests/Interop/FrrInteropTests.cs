using System.Diagnostics;
using System.Net;
using System.Text.Json;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.Bgp.Tests.Interop;

/// <summary>Our speaker against FRR 8 (bgpd + zebra) in namespaces the test creates.</summary>
[Collection("interop")]
public sealed class FrrInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    internal static BgpSessionOptions Options(string peer = "198.51.100.1", string source = "198.51.100.10", uint peerAsn = 64513) => new()
    {
        LocalAsn = 64512,
        PeerAsn = peerAsn,
        PeerAddress = IPAddress.Parse(peer),
        SourceAddress = IPAddress.Parse(source),
        RouterId = IPAddress.Parse(source),
        HoldTime = TimeSpan.FromSeconds(3),
        ConnectRetryTime = TimeSpan.FromSeconds(2),
        InitialReconnectDelay = TimeSpan.FromMilliseconds(250),
        NextHopIPv6 = IPAddress.Parse("2001:db8::10"),
    };

    internal static readonly BgpRoute[] Routes =
    [
        new(IPNetwork.Parse("198.51.100.100/32"))
        {
            Communities = [BgpCommunity.Parse("65000:1"), BgpCommunity.NoExport],
            LargeCommunities = [BgpLargeCommunity.Parse("large:65000:1:2")],
        },
        new(IPNetwork.Parse("198.51.100.101/32")),
        new(IPNetwork.Parse("2001:db8:1::100/128"))
        {
            Communities = [BgpCommunity.Parse("65000:6")],
            LargeCommunities = [BgpLargeCommunity.Parse("65000:6:6")],
        },
    ];

    private static string Config(string neighbor = "198.51.100.10", string extra = "") => $"""
        router bgp 64513
         bgp router-id 198.51.100.1
         no bgp ebgp-requires-policy
         neighbor {neighbor} remote-as 64512
         neighbor {neighbor} timers 1 3
         neighbor {neighbor} timers connect 1
        {extra}
         address-family ipv6 unicast
          neighbor {neighbor} activate
         exit-address-family

        """;

    private static async Task<(Lan Lan, NetworkNamespace Router, NetworkNamespace Node)> TopologyAsync()
    {
        var lan = await Lan.CreateAsync("bgpfrr");
        var router = await lan.AddHostAsync("frr", ["198.51.100.1/24", "2001:db8::1/64"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24", "2001:db8::10/64"]);
        return (lan, router, node);
    }

    [NetnsFact]
    public async Task Frr_Lifecycle_RoutesAttributesWithdrawalPeerRestartAndDeadPeer()
    {
        var (lan, routerNs, node) = await TopologyAsync();
        await using var _ = lan;
        await using var frr = await FrrRouter.StartAsync(routerNs, Config());
        await using var session = InProcessSpeaker.Create(node, Options(), output);
        session.SetRoutes(Routes);
        var watch = Stopwatch.StartNew();
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        output.WriteLine($"established after {watch.ElapsedMilliseconds} ms");
        await Poll.UntilAsync(async () => await frr.NeighborStateAsync("198.51.100.10") == "Established", Long, "FRR sees the session");

        // Routes, next hops and communities as FRR has them.
        await Poll.UntilAsync(async () => (await frr.PathsAsync("2001:db8:1::100/128")).Length == 1, Long, () => frr.VtyshAsync("show bgp ipv6 unicast"));
        var v4 = (await frr.PathsAsync("198.51.100.100/32")).Single();
        Assert.Equal("198.51.100.10", v4.GetProperty("nexthops")[0].GetProperty("ip").GetString());
        Assert.Equal("65000:1 no-export", v4.GetProperty("community").GetProperty("string").GetString());
        Assert.Equal("65000:1:2", v4.GetProperty("largeCommunity").GetProperty("string").GetString());
        Assert.Equal("64512", v4.GetProperty("aspath").GetProperty("string").GetString());
        Assert.True(v4.GetProperty("valid").GetBoolean());
        var v6 = (await frr.PathsAsync("2001:db8:1::100/128")).Single();
        Assert.Equal("2001:db8::10", v6.GetProperty("nexthops")[0].GetProperty("ip").GetString());
        Assert.Equal("65000:6", v6.GetProperty("community").GetProperty("string").GetString());
        Assert.Equal("65000:6:6", v6.GetProperty("largeCommunity").GetProperty("string").GetString());
        Assert.Single(await frr.PathsAsync("198.51.100.101/32"));

        // FRR asks for our routes again (ROUTE-REFRESH): we resend them.
        var updatesBefore = session.Counters.UpdatesSent;
        await frr.VtyshAsync("clear bgp ipv4 unicast 198.51.100.10 soft in");
        await Poll.UntilAsync(() => Task.FromResult(session.Counters.RouteRefreshesReceived == 1 && session.Counters.UpdatesSent > updatesBefore), Long,
            () => Task.FromResult(session.Counters.ToString()));
        Assert.Equal(BgpSessionState.Established, session.State);

        // Withdrawal within a second.
        session.SetRoutes([Routes[0], Routes[2]]);
        var withdrawn = await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.101/32")).Length == 0, Long, "withdrawal");
        output.WriteLine($"withdrawal seen after {withdrawn.TotalMilliseconds:0} ms");
        Assert.True(withdrawn < TimeSpan.FromSeconds(1), $"withdrawal took {withdrawn}");
        Assert.Single(await frr.PathsAsync("198.51.100.100/32"));

        // bgpd crashes and comes back: the session recovers and the routes return.
        await frr.KillBgpdAsync();
        await Poll.UntilAsync(() => Task.FromResult(session.State != BgpSessionState.Established), Long, "session notices the crash");
        await frr.StartBgpdAsync();
        var recovered = await Poll.UntilAsync(() => Task.FromResult(session.State == BgpSessionState.Established), Long, () => Task.FromResult(session.LastError ?? ""));
        output.WriteLine($"recovered {recovered.TotalMilliseconds:0} ms after bgpd restarted");
        await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.100/32")).Length == 1 && (await frr.PathsAsync("2001:db8:1::100/128")).Length == 1, Long, "routes back");

        // The router goes silent (its link down, no FIN, no RST): our hold timer (3 s) notices.
        await lan.SetHostLinkAsync(routerNs, "eth0", up: false);
        var detected = await Poll.UntilAsync(() => Task.FromResult(session.State != BgpSessionState.Established), Long, "hold timer");
        output.WriteLine($"dead peer detected after {detected.TotalMilliseconds:0} ms");
        Assert.InRange(detected, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
        Assert.Contains("hold timer expired", session.LastError, StringComparison.Ordinal);
    }
}

[CollectionDefinition("interop", DisableParallelization = true)]
public sealed class InteropCollection;

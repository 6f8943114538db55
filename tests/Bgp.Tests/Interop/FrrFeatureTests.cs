using System.Net;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.Bgp.Tests.Interop;

/// <summary>FRR-specific features: iBGP attributes, TCP MD5, multi-hop, graceful restart, ECMP into the kernel.</summary>
[Collection("interop")]
public sealed class FrrFeatureTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    internal static string TestHostDll => Path.Combine(AppContext.BaseDirectory, "barelb-bgp-testhost.dll");

    [NetnsFact]
    public async Task Frr_Ibgp_LocalPreferenceAndEmptyAsPath()
    {
        var lan = await Lan.CreateAsync("bgpibgp");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24"]);
        await using var frr = await FrrRouter.StartAsync(routerNs, """
            router bgp 64512
             bgp router-id 198.51.100.1
             neighbor 198.51.100.10 remote-as 64512
             neighbor 198.51.100.10 timers 1 3

            """);
        await using var session = InProcessSpeaker.Create(node, FrrInteropTests.Options(peerAsn: 64512), output);
        session.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32")) { LocalPreference = 250 }, new BgpRoute(IPNetwork.Parse("198.51.100.101/32"))]);
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.101/32")).Length == 1, Long, () => frr.VtyshAsync("show bgp ipv4 unicast"));
        var preferred = (await frr.PathsAsync("198.51.100.100/32")).Single();
        var plain = (await frr.PathsAsync("198.51.100.101/32")).Single();
        Assert.Equal(250, preferred.GetProperty("locPrf").GetInt32());
        Assert.Equal(100, plain.GetProperty("locPrf").GetInt32());
        Assert.Equal(0, preferred.GetProperty("aspath").GetProperty("segments").GetArrayLength());
        Assert.Equal("198.51.100.10", preferred.GetProperty("nexthops")[0].GetProperty("ip").GetString());
    }

    [NetnsFact]
    public async Task Frr_Md5_WrongKeyNeverConnects_RightKeyEstablishes()
    {
        var lan = await Lan.CreateAsync("bgpmd5");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24"]);
        await using var frr = await FrrRouter.StartAsync(routerNs, """
            router bgp 64513
             bgp router-id 198.51.100.1
             no bgp ebgp-requires-policy
             neighbor 198.51.100.10 remote-as 64512
             neighbor 198.51.100.10 password s3cret-Key
             neighbor 198.51.100.10 timers 1 3

            """);
        await using (var wrong = InProcessSpeaker.Create(node, FrrInteropTests.Options() with { Password = "not-the-key" }, output))
        {
            await wrong.StartAsync();
            await Task.Delay(TimeSpan.FromSeconds(2.5));
            Assert.NotEqual(BgpSessionState.Established, wrong.State);
            Assert.Equal(0, wrong.Counters.EstablishedTransitions);
        }
        await using var right = InProcessSpeaker.Create(node, FrrInteropTests.Options() with { Password = "s3cret-Key" }, output);
        right.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32"))]);
        await right.StartAsync();
        await right.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.100/32")).Length == 1, Long, () => frr.VtyshAsync("show bgp ipv4 unicast"));
    }

    /// <summary>node —LAN A— mid (an IP router) —LAN B— FRR: the session crosses one router, so it needs a TTL above 1.</summary>
    [NetnsFact]
    public async Task Frr_MultiHop_ThroughRouterNamespace_OnlyWithMultiHopTtl()
    {
        var lanA = await Lan.CreateAsync("bgpmha");
        await using var _ = lanA;
        var lanB = await Lan.CreateAsync("bgpmhb");
        await using var __ = lanB;
        var node = await lanA.AddHostAsync("node", ["198.51.100.10/24"]);
        var mid = await lanA.AddHostAsync("mid", ["198.51.100.1/24"]);
        await lanB.ConnectAsync(mid, "eth1");
        await mid.IpAsync(CancellationToken.None, "addr", "add", "203.0.113.1/24", "dev", "eth1");
        await mid.ExecCheckedAsync("sysctl", ["-qw", "net.ipv4.ip_forward=1"]);
        var far = await lanB.AddHostAsync("frr", ["203.0.113.2/24"]);
        await node.IpAsync(CancellationToken.None, "route", "add", "203.0.113.0/24", "via", "198.51.100.1");
        await far.IpAsync(CancellationToken.None, "route", "add", "198.51.100.0/24", "via", "203.0.113.1");
        await using var frr = await FrrRouter.StartAsync(far, """
            router bgp 64513
             bgp router-id 203.0.113.2
             no bgp ebgp-requires-policy
             neighbor 198.51.100.10 remote-as 64512
             neighbor 198.51.100.10 ebgp-multihop 255
             neighbor 198.51.100.10 timers 1 3

            """);
        var options = FrrInteropTests.Options(peer: "203.0.113.2");
        await using (var singleHop = InProcessSpeaker.Create(node, options, output))
        {
            // TTL 1: the SYN dies at the mid router.
            await singleHop.StartAsync();
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(0, singleHop.Counters.EstablishedTransitions);
        }
        await using var session = InProcessSpeaker.Create(node, options with { EbgpMultiHop = true }, output);
        session.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32"))]);
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.100/32")).Length == 1, Long, () => frr.VtyshAsync("show bgp ipv4 unicast"));
        var path = (await frr.PathsAsync("198.51.100.100/32")).Single();
        Assert.Equal("198.51.100.10", path.GetProperty("nexthops")[0].GetProperty("ip").GetString());
    }

    /// <summary>
    /// Our speaker process is killed (no NOTIFICATION): FRR, as graceful-restart helper, keeps its routes marked
    /// stale; the restarted process (R bit) re-advertises a subset and End-of-RIB, which clears the stale mark and
    /// removes the route it did not re-advertise.
    /// </summary>
    [NetnsFact]
    public async Task Frr_GracefulRestart_RoutesKeptStaleWhileWeRestart()
    {
        var lan = await Lan.CreateAsync("bgpgr");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24", "2001:db8::1/64"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24", "2001:db8::10/64"]);
        await using var frr = await FrrRouter.StartAsync(routerNs, """
            router bgp 64513
             bgp router-id 198.51.100.1
             no bgp ebgp-requires-policy
             bgp graceful-restart
             neighbor 198.51.100.10 remote-as 64512
             neighbor 198.51.100.10 timers 1 3
             address-family ipv6 unicast
              neighbor 198.51.100.10 activate
             exit-address-family

            """);
        string[] common = ["exec", TestHostDll, "--local-asn", "64512", "--peer-asn", "64513", "--peer", "198.51.100.1", "--source", "198.51.100.10",
            "--router-id", "198.51.100.10", "--hold", "3", "--connect-retry", "2", "--graceful-restart", "--restart-time", "60", "--next-hop-v6", "2001:db8::10"];
        var first = node.Start("dotnet", [.. common, "--route", "198.51.100.100/32", "--route", "198.51.100.101/32", "--route", "2001:db8:1::100/128"], standardInput: true);
        await first.WaitForOutputAsync("STATE Established", Long);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("2001:db8:1::100/128")).Length == 1 && (await frr.PathsAsync("198.51.100.101/32")).Length == 1, Long, () => frr.VtyshAsync("show bgp ipv4 unicast"));

        first.KillHard();
        await Poll.UntilAsync(async () => await frr.NeighborStateAsync("198.51.100.10") != "Established", Long, "FRR notices the dead session");
        await Poll.UntilAsync(async () => IsStale(await frr.PathsAsync("198.51.100.100/32")), Long, () => frr.VtyshAsync("show bgp ipv4 unicast 198.51.100.100/32"));
        Assert.True(IsStale(await frr.PathsAsync("198.51.100.101/32")));
        Assert.True(IsStale(await frr.PathsAsync("2001:db8:1::100/128")));
        output.WriteLine(await frr.VtyshAsync("show bgp ipv4 unicast"));

        var second = node.Start("dotnet", [.. common, "--restarted", "--route", "198.51.100.100/32", "--route", "2001:db8:1::100/128"], standardInput: true);
        await second.WaitForOutputAsync("STATE Established", Long);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.101/32")).Length == 0, Long, () => frr.VtyshAsync("show bgp ipv4 unicast"));
        await Poll.UntilAsync(async () => !IsStale(await frr.PathsAsync("198.51.100.100/32")) && !IsStale(await frr.PathsAsync("2001:db8:1::100/128")), Long, () => frr.VtyshAsync("show bgp ipv4 unicast 198.51.100.100/32"));
        Assert.Single(await frr.PathsAsync("198.51.100.100/32"));
        // FRR saw our capability on the new session: R bit (we restarted), restart time 60 s, F bit and End-of-RIB per family.
        var gr = (await frr.JsonAsync("show bgp neighbors 198.51.100.10")).GetProperty("198.51.100.10").GetProperty("gracefulRestartInfo");
        Assert.Equal("Restart", gr.GetProperty("remoteGrMode").GetString());
        Assert.True(gr.GetProperty("rBit").GetBoolean());
        Assert.Equal(60, gr.GetProperty("timers").GetProperty("receivedRestartTimer").GetInt32());
        foreach (var family in new[] { "ipv4Unicast", "ipv6Unicast" })
        {
            Assert.True(gr.GetProperty(family).GetProperty("fBit").GetBoolean());
            Assert.True(gr.GetProperty("endOfRibRecv").GetProperty(family).GetBoolean());
        }
        // A planned restart: the process closes the session without a NOTIFICATION, so FRR keeps the routes again.
        await second.SendLineAsync("stop-restart");
        await second.Process.WaitForExitAsync().WaitAsync(Long);
        Assert.Contains("STOPPED", second.Output, StringComparison.Ordinal);
        await Poll.UntilAsync(async () => IsStale(await frr.PathsAsync("198.51.100.100/32")), Long, () => frr.VtyshAsync("show bgp ipv4 unicast 198.51.100.100/32"));
        Assert.True(IsStale(await frr.PathsAsync("2001:db8:1::100/128")));

        static bool IsStale(System.Text.Json.JsonElement[] paths) =>
            paths.Length == 1 && paths[0].TryGetProperty("stale", out var s) && s.GetBoolean();
    }

    /// <summary>
    /// Three nodes advertise one address; FRR (maximum-paths) installs one kernel route with three next hops, and a
    /// client behind the router reaches an HTTP responder on more than one node through it.
    /// </summary>
    [NetnsFact]
    public async Task Frr_ThreeSpeakers_KernelRouteHasThreeNextHopsAndClientReachesSeveralNodes()
    {
        const string vip = "203.0.113.200";
        var lan = await Lan.CreateAsync("bgpecmp");
        await using var _ = lan;
        var clients = await Lan.CreateAsync("bgpecmpc");
        await using var __ = clients;
        var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24"]);
        await clients.ConnectAsync(routerNs, "eth1");
        await routerNs.IpAsync(CancellationToken.None, "addr", "add", "203.0.113.1/25", "dev", "eth1");
        // Forward, and spread flows by ports too (the default hashes addresses only: one client, one node).
        await routerNs.ExecCheckedAsync("sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv4.fib_multipath_hash_policy=1"]);
        var client = await clients.AddHostAsync("client", ["203.0.113.2/25"]);
        await client.IpAsync(CancellationToken.None, "route", "add", "default", "via", "203.0.113.1");
        var nodes = new List<NetworkNamespace>();
        for (var i = 1; i <= 3; i++)
        {
            var node = await lan.AddHostAsync($"node{i}", [$"198.51.100.1{i}/24"]);
            await node.IpAsync(CancellationToken.None, "addr", "add", $"{vip}/32", "dev", "lo");
            await node.IpAsync(CancellationToken.None, "route", "add", "203.0.113.0/25", "via", "198.51.100.1");
            nodes.Add(node);
        }
        await using var frr = await FrrRouter.StartAsync(routerNs, """
            router bgp 64513
             bgp router-id 198.51.100.1
             no bgp ebgp-requires-policy
             neighbor nodes peer-group
             neighbor nodes remote-as 64512
             neighbor nodes timers 1 3
             neighbor 198.51.100.11 peer-group nodes
             neighbor 198.51.100.12 peer-group nodes
             neighbor 198.51.100.13 peer-group nodes
             address-family ipv4 unicast
              maximum-paths 8
             exit-address-family

            """);
        var sessions = new List<BgpSession>();
        var responders = new List<NodeHttpResponder>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                responders.Add(new NodeHttpResponder(nodes[i], new IPEndPoint(IPAddress.Parse(vip), 8080), $"node{i + 1}"));
                var s = InProcessSpeaker.Create(nodes[i], FrrInteropTests.Options(source: $"198.51.100.1{i + 1}"), output);
                sessions.Add(s);
                s.SetRoutes([new BgpRoute(IPNetwork.Parse($"{vip}/32"))]);
                await s.StartAsync();
            }
            foreach (var s in sessions)
            {
                await s.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
            }
            var text = "";
            await Poll.UntilAsync(async () =>
            {
                text = await routerNs.IpAsync(CancellationToken.None, "route", "show", vip);
                return text.Split('\n').Count(l => l.Contains("nexthop via", StringComparison.Ordinal)) == 3;
            }, Long, () => Task.FromResult(text));
            output.WriteLine(text);
            foreach (var hop in new[] { "198.51.100.11", "198.51.100.12", "198.51.100.13" })
            {
                Assert.Contains($"nexthop via {hop} dev eth0", text, StringComparison.Ordinal);
            }

            // Twenty requests from one client, each from a new source port: more than one node answers.
            var served = new List<string>();
            for (var i = 0; i < 20; i++)
            {
                served.Add(await client.ExecCheckedAsync("curl", ["-s", "--max-time", "5", $"http://{vip}:8080/"]));
            }
            output.WriteLine(string.Join(' ', served));
            Assert.All(served, s => Assert.Matches("^node[123]$", s));
            Assert.True(served.Distinct().Count() >= 2, string.Join(' ', served));

            // One node withdraws: two next hops remain.
            sessions[0].SetRoutes([]);
            await Poll.UntilAsync(async () =>
            {
                text = await routerNs.IpAsync(CancellationToken.None, "route", "show", vip);
                return text.Split('\n').Count(l => l.Contains("nexthop via", StringComparison.Ordinal)) == 2;
            }, Long, () => Task.FromResult(text));
            Assert.DoesNotContain("198.51.100.11", text, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var s in sessions)
            {
                await s.DisposeAsync();
            }
            foreach (var r in responders)
            {
                await r.DisposeAsync();
            }
        }
    }

    private static string ActiveFrr(string extra = "") => $"""
        router bgp 64513
         bgp router-id 198.51.100.1
         no bgp ebgp-requires-policy
         neighbor 198.51.100.10 remote-as 64512
         neighbor 198.51.100.10 timers 1 3
         neighbor 198.51.100.10 timers connect 1
        {extra}

        """;

    /// <summary>Our speaker listens on 179 with the peer's MD5 key on the listening socket; the passive session takes FRR's connection.</summary>
    [NetnsFact]
    public async Task Frr_ListeningSpeaker_PassiveSessionWithMd5TakesFrrsConnection()
    {
        var lan = await Lan.CreateAsync("bgplisten");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24"]);
        await using var frr = await FrrRouter.StartAsync(routerNs, ActiveFrr(" neighbor 198.51.100.10 password listen-Key"));
        await using var speaker = new BgpSpeaker(new BgpSpeakerOptions { ListenPort = 179 }, null, TimeProvider.System, family => node.CreateSocket(family));
        await speaker.StartAsync();
        var sessions = await speaker.SetPeersAsync([FrrInteropTests.Options() with { Passive = true, Password = "listen-Key" }]);
        var session = sessions.Single();
        session.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32"))]);
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        Assert.Equal(0, session.Counters.ConnectAttempts);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.100/32")).Length == 1, Long, () => frr.VtyshAsync("show bgp ipv4 unicast"));

        // Changed options replace the session (Cease "other configuration change"); the routes carry over.
        var replaced = (await speaker.SetPeersAsync([FrrInteropTests.Options() with { Passive = true, Password = "listen-Key", HoldTime = TimeSpan.FromSeconds(6) }])).Single();
        Assert.NotSame(session, replaced);
        await replaced.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        Assert.Contains("Other Configuration Change", await frr.VtyshAsync("show bgp neighbor 198.51.100.10"), StringComparison.OrdinalIgnoreCase);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.100/32")).Length == 1, Long, () => frr.VtyshAsync("show bgp ipv4 unicast"));

        // Removing the peer ends the session with Cease "peer de-configured".
        await speaker.SetPeersAsync([]);
        await Poll.UntilAsync(async () => (await frr.VtyshAsync("show bgp neighbor 198.51.100.10")).Contains("Peer De-configured", StringComparison.OrdinalIgnoreCase), Long,
            () => frr.VtyshAsync("show bgp neighbor 198.51.100.10"));
    }

    /// <summary>Both sides connect at once (we listen and connect, FRR connects too): one session survives and stays up.</summary>
    [NetnsFact]
    public async Task Frr_BothSidesConnect_OneSessionSurvivesAndStaysUp()
    {
        var lan = await Lan.CreateAsync("bgpcoll");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24"]);
        await using var frr = await FrrRouter.StartAsync(routerNs, ActiveFrr());
        await using var speaker = new BgpSpeaker(new BgpSpeakerOptions { ListenPort = 179 }, null, TimeProvider.System, family => node.CreateSocket(family));
        await speaker.StartAsync();
        var session = (await speaker.SetPeersAsync([FrrInteropTests.Options()])).Single();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Equal(BgpSessionState.Established, session.State);
        Assert.Equal(1, session.Counters.EstablishedTransitions);
        Assert.Equal("Established", await frr.NeighborStateAsync("198.51.100.10"));
        output.WriteLine($"connect attempts {session.Counters.ConnectAttempts}, notifications sent {session.Counters.NotificationsSent} (collisions resolved), received {session.Counters.NotificationsReceived}");
    }

    /// <summary>
    /// FRR told not to negotiate capabilities sends an OPEN without any: no 4-octet AS, no multiprotocol. We fall back to
    /// IPv4 unicast and 2-octet AS_PATH, so our AS 4200000001 travels as AS_TRANS (with AS4_PATH beside it). FRR reads
    /// our 4-octet capability all the same (that is how it accepts AS 4200000001) and so ignores AS4_PATH, as RFC 6793
    /// tells a 4-octet speaker to: it shows AS_TRANS. The AS4_PATH content itself is checked by the state machine tests.
    /// </summary>
    [NetnsFact]
    public async Task Frr_PeerWithoutCapabilities_TwoOctetSessionWithAsTrans()
    {
        var lan = await Lan.CreateAsync("bgpas4");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24"]);
        await using var frr = await FrrRouter.StartAsync(routerNs, """
            router bgp 64513
             bgp router-id 198.51.100.1
             no bgp ebgp-requires-policy
             neighbor 198.51.100.10 remote-as 4200000001
             neighbor 198.51.100.10 dont-capability-negotiate
             neighbor 198.51.100.10 timers 1 3

            """);
        await using var session = InProcessSpeaker.Create(node, FrrInteropTests.Options() with { LocalAsn = 4_200_000_001 }, output);
        session.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32"))]);
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        Assert.False(session.Negotiated!.FourOctetAs);
        Assert.Equal([BareLb.Bgp.Wire.AfiSafi.IPv4Unicast], session.Negotiated.Families);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("198.51.100.100/32")).Length == 1, Long, () => frr.VtyshAsync("show bgp ipv4 unicast"));
        var path = (await frr.PathsAsync("198.51.100.100/32")).Single();
        output.WriteLine(path.ToString());
        Assert.Equal("23456", path.GetProperty("aspath").GetProperty("string").GetString());
        Assert.Equal("198.51.100.10", path.GetProperty("nexthops")[0].GetProperty("ip").GetString());
    }

    /// <summary>
    /// The session itself over IPv6 (hop limit 1 for single-hop eBGP): IPv6 routes take the session's own address as
    /// next hop, IPv4 routes the configured IPv4 next hop.
    /// </summary>
    [NetnsFact]
    public async Task Frr_SessionOverIpv6_NextHopsFromSessionAndConfiguration()
    {
        var lan = await Lan.CreateAsync("bgpv6");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24", "2001:db8::1/64"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24", "2001:db8::10/64"]);
        await using var frr = await FrrRouter.StartAsync(routerNs, """
            router bgp 64513
             bgp router-id 198.51.100.1
             no bgp ebgp-requires-policy
             neighbor 2001:db8::10 remote-as 64512
             neighbor 2001:db8::10 timers 1 3
             address-family ipv4 unicast
              neighbor 2001:db8::10 activate
             exit-address-family
             address-family ipv6 unicast
              neighbor 2001:db8::10 activate
             exit-address-family

            """);
        var options = FrrInteropTests.Options(peer: "2001:db8::1", source: "2001:db8::10") with
        {
            RouterId = IPAddress.Parse("198.51.100.10"),
            NextHopIPv6 = null,
            NextHopIPv4 = IPAddress.Parse("198.51.100.10"),
        };
        await using var session = InProcessSpeaker.Create(node, options, output);
        session.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32")), new BgpRoute(IPNetwork.Parse("2001:db8:1::100/128"))]);
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        await Poll.UntilAsync(async () => (await frr.PathsAsync("2001:db8:1::100/128")).Length == 1 && (await frr.PathsAsync("198.51.100.100/32")).Length == 1, Long,
            () => frr.VtyshAsync("show bgp ipv6 unicast"));
        Assert.Equal("2001:db8::10", (await frr.PathsAsync("2001:db8:1::100/128")).Single().GetProperty("nexthops")[0].GetProperty("ip").GetString());
        Assert.Equal("198.51.100.10", (await frr.PathsAsync("198.51.100.100/32")).Single().GetProperty("nexthops")[0].GetProperty("ip").GetString());
    }
}

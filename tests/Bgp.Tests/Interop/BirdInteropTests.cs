using System.Net;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.Bgp.Tests.Interop;

/// <summary>Our speaker against BIRD 2 in namespaces the test creates.</summary>
[Collection("interop")]
public sealed class BirdInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    private static string Config(string peerAs = "64512", string extra = "") => $$"""
        router id 198.51.100.1;
        protocol device { }
        protocol bgp speaker {
          local 198.51.100.1 as 64513;
          neighbor 198.51.100.10 as {{peerAs}};
          hold time 3; keepalive time 1; connect retry time 1; error wait time 1, 2;
          {{extra}}
          ipv4 { import all; export none; };
          ipv6 { import all; export none; };
        }

        """;

    private static async Task<(Lan Lan, NetworkNamespace Router, NetworkNamespace Node)> TopologyAsync()
    {
        var lan = await Lan.CreateAsync("bgpbird");
        var router = await lan.AddHostAsync("bird", ["198.51.100.1/24", "2001:db8::1/64"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24", "2001:db8::10/64"]);
        return (lan, router, node);
    }

    /// <summary>The block of <c>birdc show route all</c> for one prefix (empty when BIRD does not have it).</summary>
    private static async Task<string> RouteAsync(BirdRouter bird, string prefix)
    {
        // birdc exits 1 with "Network not found" when BIRD has no route for the prefix.
        var text = await bird.BirdcUncheckedAsync($"show route for {prefix} all");
        return text.Contains(prefix, StringComparison.Ordinal) ? text : "";
    }

    private static async Task<bool> EstablishedAsync(BirdRouter bird) =>
        (await bird.BirdcAsync("show protocols speaker")).Contains("Established", StringComparison.Ordinal);

    [NetnsFact]
    public async Task Bird_Lifecycle_RoutesAttributesWithdrawalPeerRestartAndDeadPeer()
    {
        var (lan, routerNs, node) = await TopologyAsync();
        await using var _ = lan;
        await using var bird = await BirdRouter.StartAsync(routerNs, Config());
        await using var session = InProcessSpeaker.Create(node, FrrInteropTests.Options(), output);
        session.SetRoutes(FrrInteropTests.Routes);
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        await Poll.UntilAsync(() => EstablishedAsync(bird), Long, () => bird.BirdcAsync("show protocols all speaker"));

        await Poll.UntilAsync(async () => (await RouteAsync(bird, "2001:db8:1::100/128")).Length > 0, Long, () => bird.BirdcAsync("show route all"));
        var v4 = await RouteAsync(bird, "198.51.100.100/32");
        output.WriteLine(v4);
        Assert.Contains("BGP.next_hop: 198.51.100.10", v4, StringComparison.Ordinal);
        Assert.Contains("BGP.as_path: 64512", v4, StringComparison.Ordinal);
        Assert.Contains("BGP.community: (65000,1) (65535,65281)", v4, StringComparison.Ordinal);
        Assert.Contains("BGP.large_community: (65000, 1, 2)", v4, StringComparison.Ordinal);
        var v6 = await RouteAsync(bird, "2001:db8:1::100/128");
        output.WriteLine(v6);
        Assert.Contains("BGP.next_hop: 2001:db8::10", v6, StringComparison.Ordinal);
        Assert.Contains("BGP.community: (65000,6)", v6, StringComparison.Ordinal);
        Assert.Contains("BGP.large_community: (65000, 6, 6)", v6, StringComparison.Ordinal);
        Assert.NotEmpty(await RouteAsync(bird, "198.51.100.101/32"));

        session.SetRoutes([FrrInteropTests.Routes[0], FrrInteropTests.Routes[2]]);
        var withdrawn = await Poll.UntilAsync(async () => (await RouteAsync(bird, "198.51.100.101/32")).Length == 0, Long, "withdrawal");
        output.WriteLine($"withdrawal seen after {withdrawn.TotalMilliseconds:0} ms");
        Assert.True(withdrawn < TimeSpan.FromSeconds(1), $"withdrawal took {withdrawn}");

        await bird.KillAsync();
        await Poll.UntilAsync(() => Task.FromResult(session.State != BgpSessionState.Established), Long, "session notices the crash");
        await bird.StartProcessAsync();
        await Poll.UntilAsync(() => Task.FromResult(session.State == BgpSessionState.Established), Long, () => Task.FromResult(session.LastError ?? ""));
        await Poll.UntilAsync(async () => (await RouteAsync(bird, "198.51.100.100/32")).Length > 0, Long, "routes back");

        await lan.SetHostLinkAsync(routerNs, "eth0", up: false);
        var detected = await Poll.UntilAsync(() => Task.FromResult(session.State != BgpSessionState.Established), Long, "hold timer");
        output.WriteLine($"dead peer detected after {detected.TotalMilliseconds:0} ms");
        Assert.InRange(detected, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
        Assert.Contains("hold timer expired", session.LastError, StringComparison.Ordinal);
    }

    [NetnsFact]
    public async Task Bird_Ibgp_LocalPreferenceAndEmptyAsPath()
    {
        var (lan, routerNs, node) = await TopologyAsync();
        await using var _ = lan;
        await using var bird = await BirdRouter.StartAsync(routerNs, """
            router id 198.51.100.1;
            protocol device { }
            protocol bgp speaker {
              local 198.51.100.1 as 64512;
              neighbor 198.51.100.10 as 64512;
              direct; hold time 3; keepalive time 1;
              ipv4 { import all; export none; };
            }

            """);
        await using var session = InProcessSpeaker.Create(node, FrrInteropTests.Options(peerAsn: 64512), output);
        session.SetRoutes([new BgpRoute(IPNetwork.Parse("198.51.100.100/32")) { LocalPreference = 250 }, new BgpRoute(IPNetwork.Parse("198.51.100.101/32"))]);
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        await Poll.UntilAsync(async () => (await RouteAsync(bird, "198.51.100.101/32")).Length > 0, Long, () => bird.BirdcAsync("show route all"));
        var preferred = await RouteAsync(bird, "198.51.100.100/32");
        output.WriteLine(preferred);
        Assert.Contains("BGP.local_pref: 250", preferred, StringComparison.Ordinal);
        Assert.Contains("BGP.as_path: \n", preferred.Replace("\r", "", StringComparison.Ordinal) + "\n", StringComparison.Ordinal);
        Assert.Contains("BGP.next_hop: 198.51.100.10", preferred, StringComparison.Ordinal);
        Assert.Contains("BGP.local_pref: 100", await RouteAsync(bird, "198.51.100.101/32"), StringComparison.Ordinal);
    }
}

using System.Text.Json;
using BareLb.Bgp.Wire;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.Bgp.Tests.Interop;

/// <summary>Our speaker against GoBGP 3 in namespaces the test creates.</summary>
[Collection("interop")]
public sealed class GoBgpInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    internal const string Config = """
        [global.config]
          as = 64513
          router-id = "198.51.100.1"

        [[neighbors]]
          [neighbors.config]
            neighbor-address = "198.51.100.10"
            peer-as = 64512
          [neighbors.timers.config]
            hold-time = 3
            keepalive-interval = 1
            connect-retry = 1
          [[neighbors.afi-safis]]
            [neighbors.afi-safis.config]
              afi-safi-name = "ipv4-unicast"
          [[neighbors.afi-safis]]
            [neighbors.afi-safis.config]
              afi-safi-name = "ipv6-unicast"

        """;

    private static async Task<JsonElement?> RouteAsync(GoBgpRouter gobgp, string prefix)
    {
        var family = prefix.Contains(':', StringComparison.Ordinal) ? "ipv6" : "ipv4";
        var rib = await gobgp.JsonAsync("global", "rib", "-a", family);
        return rib.ValueKind == JsonValueKind.Object && rib.TryGetProperty(prefix, out var paths) && paths.GetArrayLength() > 0 ? paths[0] : null;
    }

    private static JsonElement Attribute(JsonElement path, int type) =>
        path.GetProperty("attrs").EnumerateArray().Single(a => a.GetProperty("type").GetInt32() == type);

    [NetnsFact]
    public async Task GoBgp_Lifecycle_RoutesAttributesWithdrawalPeerRestartAndDeadPeer()
    {
        var lan = await Lan.CreateAsync("bgpgo");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("gobgp", ["198.51.100.1/24", "2001:db8::1/64"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24", "2001:db8::10/64"]);
        await using var gobgp = await GoBgpRouter.StartAsync(routerNs, Config);
        await using var session = InProcessSpeaker.Create(node, FrrInteropTests.Options(), output);
        session.SetRoutes(FrrInteropTests.Routes);
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);

        await Poll.UntilAsync(async () => await RouteAsync(gobgp, "2001:db8:1::100/128") is not null, Long, async () => (await gobgp.JsonAsync("global", "rib", "-a", "ipv6")).ToString());
        var v4 = (await RouteAsync(gobgp, "198.51.100.100/32"))!.Value;
        output.WriteLine(v4.ToString());
        Assert.Equal("198.51.100.10", Attribute(v4, 3).GetProperty("nexthop").GetString());
        Assert.Equal([64512u], Attribute(v4, 2).GetProperty("as_paths")[0].GetProperty("asns").EnumerateArray().Select(a => a.GetUInt32()));
        Assert.Equal([(65000u << 16) | 1, 0xFFFFFF01u], Attribute(v4, 8).GetProperty("communities").EnumerateArray().Select(c => c.GetUInt32()));
        var large = Attribute(v4, 32).GetProperty("value")[0];
        Assert.Equal((65000u, 1u, 2u), (large.GetProperty("ASN").GetUInt32(), large.GetProperty("LocalData1").GetUInt32(), large.GetProperty("LocalData2").GetUInt32()));
        var v6 = (await RouteAsync(gobgp, "2001:db8:1::100/128"))!.Value;
        output.WriteLine(v6.ToString());
        Assert.Equal("2001:db8::10", Attribute(v6, 14).GetProperty("nexthop").GetString());
        Assert.Equal([(65000u << 16) | 6], Attribute(v6, 8).GetProperty("communities").EnumerateArray().Select(c => c.GetUInt32()));
        Assert.NotNull(await RouteAsync(gobgp, "198.51.100.101/32"));

        session.SetRoutes([FrrInteropTests.Routes[0], FrrInteropTests.Routes[2]]);
        var withdrawn = await Poll.UntilAsync(async () => await RouteAsync(gobgp, "198.51.100.101/32") is null, Long, "withdrawal");
        output.WriteLine($"withdrawal seen after {withdrawn.TotalMilliseconds:0} ms");
        Assert.True(withdrawn < TimeSpan.FromSeconds(1), $"withdrawal took {withdrawn}");

        await gobgp.KillAsync();
        await Poll.UntilAsync(() => Task.FromResult(session.State != BgpSessionState.Established), Long, "session notices the crash");
        await gobgp.StartProcessAsync();
        await Poll.UntilAsync(() => Task.FromResult(session.State == BgpSessionState.Established), Long, () => Task.FromResult(session.LastError ?? ""));
        await Poll.UntilAsync(async () => await RouteAsync(gobgp, "198.51.100.100/32") is not null, Long, "routes back");

        await lan.SetHostLinkAsync(routerNs, "eth0", up: false);
        var detected = await Poll.UntilAsync(() => Task.FromResult(session.State != BgpSessionState.Established), Long, "hold timer");
        output.WriteLine($"dead peer detected after {detected.TotalMilliseconds:0} ms");
        Assert.InRange(detected, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(6));
        Assert.Contains("hold timer expired", session.LastError, StringComparison.Ordinal);
    }

    [NetnsFact]
    public async Task GoBgp_Ibgp_LocalPreferenceAndEmptyAsPath()
    {
        var lan = await Lan.CreateAsync("bgpgoi");
        await using var _ = lan;
        var routerNs = await lan.AddHostAsync("gobgp", ["198.51.100.1/24"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24"]);
        await using var gobgp = await GoBgpRouter.StartAsync(routerNs, Config.Replace("as = 64513", "as = 64512", StringComparison.Ordinal));
        await using var session = InProcessSpeaker.Create(node, FrrInteropTests.Options(peerAsn: 64512), output);
        session.SetRoutes([new BgpRoute(System.Net.IPNetwork.Parse("198.51.100.100/32")) { LocalPreference = 250 }, new BgpRoute(System.Net.IPNetwork.Parse("198.51.100.101/32"))]);
        await session.StartAsync();
        await session.WaitForStateAsync(BgpSessionState.Established).WaitAsync(Long);
        await Poll.UntilAsync(async () => await RouteAsync(gobgp, "198.51.100.101/32") is not null, Long, "routes");
        var preferred = (await RouteAsync(gobgp, "198.51.100.100/32"))!.Value;
        output.WriteLine(preferred.ToString());
        Assert.Equal(250u, Attribute(preferred, 5).GetProperty("value").GetUInt32());
        Assert.Equal(100u, Attribute((await RouteAsync(gobgp, "198.51.100.101/32"))!.Value, 5).GetProperty("value").GetUInt32());
        var asPath = Attribute(preferred, 2);
        Assert.True(!asPath.TryGetProperty("as_paths", out var segments) || segments.ValueKind != JsonValueKind.Array || segments.GetArrayLength() == 0, asPath.ToString());
    }
}

/// <summary>A "router" that answers every connection with random bytes, over real TCP in namespaces.</summary>
[Collection("interop")]
public sealed class GarbagePeerTests(ITestOutputHelper output)
{
    [NetnsFact]
    public async Task GarbagePeer_NotificationEachTime_ReconnectsWithBackoff_NeverCrashes()
    {
        await using var lan = await Lan.CreateAsync("bgpjunk");
        var routerNs = await lan.AddHostAsync("junk", ["198.51.100.1/24"]);
        var node = await lan.AddHostAsync("node", ["198.51.100.10/24"]);
        using var listener = routerNs.CreateSocket(System.Net.Sockets.AddressFamily.InterNetwork);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("198.51.100.1"), 179));
        listener.Listen(4);
        var received = new List<byte[]>();
        var acceptTimes = new List<TimeSpan>();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var server = Task.Run(async () =>
        {
            var random = new Random(99);
            for (var i = 0; i < 4; i++)
            {
                using var peer = await listener.AcceptAsync(stop.Token);
                acceptTimes.Add(watch.Elapsed);
                var junk = new byte[64];
                random.NextBytes(junk);
                await peer.SendAsync(junk, stop.Token);
                var all = new MemoryStream();
                var buffer = new byte[4096];
                int n;
                while ((n = await peer.ReceiveAsync(buffer, stop.Token)) > 0)
                {
                    all.Write(buffer, 0, n);
                }
                received.Add(all.ToArray());
            }
        });
        await using var session = InProcessSpeaker.Create(node, FrrInteropTests.Options() with { InitialReconnectDelay = TimeSpan.FromMilliseconds(200) }, output);
        await session.StartAsync();
        await server.WaitAsync(TimeSpan.FromSeconds(30));
        foreach (var bytes in received)
        {
            // Our OPEN, then NOTIFICATION 1/1: random bytes have no all-ones marker.
            Assert.Equal(BgpFrameStatus.Complete, BgpHeader.TryReadFrame(bytes, out var openLength, out var first, out _));
            Assert.Equal(BgpMessageType.Open, first);
            var notification = BgpNotification.Read(bytes.AsSpan(openLength));
            Assert.Equal((BgpErrorCode.MessageHeader, MessageHeaderSubcode.ConnectionNotSynchronized), (notification.Code, notification.Subcode));
        }
        var gaps = acceptTimes.Zip(acceptTimes.Skip(1), (a, b) => b - a).ToArray();
        output.WriteLine("reconnect gaps: " + string.Join(", ", gaps.Select(g => $"{g.TotalMilliseconds:0} ms")));
        // 200 ms doubling, jittered down by at most a quarter: 150-200, 300-400, 600-800 ms, plus scheduling delay on a
        // loaded machine (generous upper bounds; the lower bounds are what shows the backoff).
        Assert.InRange(gaps[0].TotalMilliseconds, 140, 1500);
        Assert.InRange(gaps[1].TotalMilliseconds, 290, 2000);
        Assert.InRange(gaps[2].TotalMilliseconds, 590, 2500);
        Assert.Equal(4, session.Counters.NotificationsSent);
    }
}

using System.Diagnostics;
using System.Globalization;
using BareLb.NetTestSupport;
using Xunit.Abstractions;

namespace BareLb.Layer2.Tests;

/// <summary>
/// The responder on real sockets: a client and layer-2 nodes in namespaces on a bridge, the nodes running
/// <see cref="Layer2Announcer"/> in the test host. The client uses the real tools (arping, ndisc6, the kernel's
/// neighbour table) and a SharpPcap capture.
/// </summary>
public sealed class Layer2NetnsTests(ITestOutputHelper output)
{
    private const string V4 = Layer2Lab.ServiceV4;
    private const string V6 = Layer2Lab.ServiceV6;

    [NetnsFact]
    public async Task Owner_ArpingNdisc6AndUnicastProbe_AnsweredWithOwnerMacOnly()
    {
        NetnsCapability.RequireTool("arping", "arping");
        NetnsCapability.RequireTool("ndisc6", "ndisc6");
        await using var lab = await Layer2Lab.CreateAsync("l2own", nodes: 2);
        var (owner, other) = (lab.Nodes[0], lab.Nodes[1]);
        await Task.WhenAll(lab.StartResponderAsync(owner), lab.StartResponderAsync(other));
        var ownerMac = await Layer2Lab.MacAsync(owner);
        var otherMac = await Layer2Lab.MacAsync(other);
        var clientMac = await Layer2Lab.MacAsync(lab.Client);
        await lab.OwnAsync(owner, V4, V6);
        // The other node owns other addresses, so its sockets are open and see every request: it must stay silent.
        await lab.OwnAsync(other, "198.51.100.20", "2001:db8::20");
        var capture = lab.Client.Start(Layer2Lab.Dotnet, [Layer2Lab.TestHost, "capture", "--interface", "eth0", "--seconds", "60"], standardInput: true);
        await capture.WaitForOutputAsync("capturing", TimeSpan.FromSeconds(60));

        var arping = await lab.Client.ExecAsync("arping", ["-i", "eth0", "-c", "3", "-w", "5", V4]);
        var ndisc = await lab.Client.ExecAsync("ndisc6", ["-m", "-w", "1000", V6, "eth0"]);
        var probe = await lab.Client.ExecAsync(Layer2Lab.Dotnet, [Layer2Lab.TestHost, "solicit", "--interface", "eth0", "--target", V6, "--source", "2001:db8::c1", "--node-mac", ownerMac]);
        var dad = await lab.Client.ExecAsync(Layer2Lab.Dotnet, [Layer2Lab.TestHost, "solicit", "--interface", "eth0", "--target", V6, "--dad", "true"]);
        // libpcap hands packets over in batches; wait for the probe's answer, then stop.
        await capture.WaitForOutputAsync("na target=2001:db8::10 tlla=" + ownerMac + " solicited=True override=True dst=2001:db8::c1 hoplimit=255 checksum=valid", TimeSpan.FromSeconds(30));
        await capture.SendLineAsync("stop");
        using (var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await capture.Process.WaitForExitAsync(exit.Token);
        }

        output.WriteLine(arping.StandardOutput + ndisc.StandardOutput + probe.StandardOutput + dad.StandardOutput + capture.Output);
        Assert.True(arping.ExitCode == 0, arping.StandardOutput + arping.StandardError);
        Assert.Equal(3, CountLines(arping.StandardOutput, $"from {ownerMac} ({V4})"));
        Assert.DoesNotContain(otherMac, arping.StandardOutput);
        Assert.Contains($"Target link-layer address: {ownerMac.ToUpperInvariant()}", ndisc.StandardOutput);
        Assert.DoesNotContain(otherMac.ToUpperInvariant(), ndisc.StandardOutput);
        Assert.Contains($"na-from {ownerMac} to {clientMac} dst=2001:db8::c1 solicited=True checksum=valid", probe.StandardOutput);
        Assert.Contains("answers 1", probe.StandardOutput);
        // A DAD probe for the owned address: the answer goes to all-nodes, Solicited clear (RFC 4861 §7.2.4).
        Assert.Contains($"na-from {ownerMac} to 33:33:00:00:00:01 dst=ff02::1 solicited=False checksum=valid", dad.StandardOutput);
        // SharpPcap on the client, PacketDotNet decoding: the replies as the client sees them on the wire.
        Assert.Contains($"arp-reply sha={ownerMac} spa={V4} tha={clientMac} tpa=198.51.100.200", capture.Output);
        Assert.Contains($"na target={V6} tlla={ownerMac} solicited=True override=True dst=2001:db8::c1 hoplimit=255 checksum=valid", capture.Output);
        Assert.DoesNotContain($"sha={otherMac} spa={V4}", capture.Output);
        Assert.DoesNotContain($"na target={V6} tlla={otherMac}", capture.Output);

        var ownerCounters = await lab.CountersAsync(owner);
        var otherCounters = await lab.CountersAsync(other);
        Assert.Equal(3, ownerCounters["Arp.Answered"]);
        Assert.True(ownerCounters["Ndp.Answered"] >= 2, string.Join(' ', ownerCounters));
        Assert.Equal(0, otherCounters["answered"]);
        Assert.True(otherCounters["Arp.NotOwned"] >= 3, string.Join(' ', otherCounters));
        Assert.True(otherCounters["Ndp.NotOwned"] >= 1, string.Join(' ', otherCounters));
    }

    [NetnsFact]
    public async Task Owner_InterfaceNotAllowed_SilentThereAndReportedPerInterface()
    {
        NetnsCapability.RequireTool("arping", "arping");
        NetnsCapability.RequireTool("ndisc6", "ndisc6");
        await using var lab = await Layer2Lab.CreateAsync("l2ifs", nodes: 1);
        var node = lab.Nodes[0];
        await lab.Lan.ConnectAsync(node, "eth1");
        await lab.StartResponderAsync(node);
        var eth0 = await Layer2Lab.MacAsync(node, "eth0");
        var eth1 = await Layer2Lab.MacAsync(node, "eth1");

        await lab.OwnAsync(node, $"{V4}@eth1", $"{V6}@eth1", "198.51.100.11@eth9");
        var arping = await lab.Client.ExecAsync("arping", ["-i", "eth0", "-c", "2", "-w", "4", V4]);
        var ndisc = await lab.Client.ExecAsync("ndisc6", ["-m", "-w", "1000", V6, "eth0"]);
        var silent = await lab.Client.ExecAsync("arping", ["-i", "eth0", "-c", "1", "-w", "1", "198.51.100.11"]);

        output.WriteLine(arping.StandardOutput + ndisc.StandardOutput + lab.Responder(node).Output);
        Assert.Equal(2, CountLines(arping.StandardOutput, $"from {eth1} ({V4})"));
        Assert.DoesNotContain(eth0, arping.StandardOutput);
        Assert.Contains($"Target link-layer address: {eth1.ToUpperInvariant()}", ndisc.StandardOutput);
        Assert.DoesNotContain(eth0.ToUpperInvariant(), ndisc.StandardOutput);
        Assert.NotEqual(0, silent.ExitCode);
        var log = lab.Responder(node).Output;
        Assert.Contains($"status {V4} eth1", log);
        Assert.Contains($"status {V6} eth1", log);
        Assert.Contains("status 198.51.100.11 none", log);
    }

    [NetnsFact]
    public async Task Links_InterfaceAddedDownAndNoArp_FollowedThroughRtnetlink()
    {
        NetnsCapability.RequireTool("arping", "arping");
        await using var lab = await Layer2Lab.CreateAsync("l2links", nodes: 1);
        var node = lab.Nodes[0];
        await lab.StartResponderAsync(node);
        await lab.OwnAsync(node, V4);
        var responder = lab.Responder(node);
        await responder.WaitForOutputAsync($"status {V4} eth0", TimeSpan.FromSeconds(10));

        var clock = Stopwatch.StartNew();
        await lab.Lan.ConnectAsync(node, "eth1");
        await responder.WaitForOutputAsync($"status {V4} eth0,eth1", TimeSpan.FromSeconds(10));
        var added = clock.Elapsed;
        var eth1 = await Layer2Lab.MacAsync(node, "eth1");
        var arping = await lab.Client.ExecAsync("arping", ["-i", "eth0", "-c", "1", "-w", "3", "-t", eth1, V4]);

        var mark = responder.Output.Length;
        clock.Restart();
        await node.IpAsync(default, "link", "set", "eth1", "down");
        await WaitForLineAsync(responder, mark, $"status {V4} eth0{Environment.NewLine}", clock);
        var down = clock.Elapsed;

        await node.IpAsync(default, "link", "set", "eth1", "up");
        await responder.WaitForOutputAsync($"status {V4} eth0,eth1", TimeSpan.FromSeconds(10));
        mark = responder.Output.Length;
        clock.Restart();
        await node.IpAsync(default, "link", "set", "eth1", "arp", "off");
        await WaitForLineAsync(responder, mark, $"status {V4} eth0{Environment.NewLine}", clock);
        var noArp = clock.Elapsed;

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"followed: added {added.TotalMilliseconds:F0} ms (including creating the link), down {down.TotalMilliseconds:F0} ms, NOARP {noArp.TotalMilliseconds:F0} ms"));
        Assert.Contains($"from {eth1} ({V4})", arping.StandardOutput);
        Assert.True(down < TimeSpan.FromSeconds(2), $"link down seen after {down}");
        Assert.True(noArp < TimeSpan.FromSeconds(2), $"NOARP seen after {noArp}");
    }

    [NetnsFact]
    public async Task Takeover_OwnerKilledAndCutOff_ClientNeighbourEntriesMoveToNewOwner()
    {
        NetnsCapability.RequireTool("ping", "iputils-ping");
        await using var lab = await Layer2Lab.CreateAsync("l2take", nodes: 3);
        await Task.WhenAll(lab.Nodes.Select(lab.StartResponderAsync));
        var macs = new List<string>();
        foreach (var node in lab.Nodes)
        {
            macs.Add(await Layer2Lab.MacAsync(node));
        }
        await lab.OwnAsync(lab.Nodes[0], V4, V6);
        // The client resolves both addresses through the first owner (the pings themselves go unanswered).
        await lab.Client.ExecAsync("ping", ["-c", "1", "-W", "1", V4]);
        await lab.Client.ExecAsync("ping", ["-6", "-c", "1", "-W", "1", V6]);
        Assert.Contains($"lladdr {macs[0]}", await lab.Client.IpAsync(default, "neigh", "show", V4));
        Assert.Contains($"lladdr {macs[0]}", await lab.Client.IpAsync(default, "neigh", "show", V6));
        var monitor = lab.Client.Start("ip", ["monitor", "neigh"]);
        await Task.Delay(200);

        var samples = new List<string>();
        for (var round = 1; round < lab.Nodes.Count; round++)
        {
            var (dead, next) = (lab.Nodes[round - 1], lab.Nodes[round]);
            lab.Responder(dead).KillHard();
            await lab.Lan.SetHostLinkAsync(dead, "eth0", up: false);
            var seen = monitor.Output.Length;

            var clock = Stopwatch.StartNew();
            var setOwned = await lab.OwnAsync(next, V4, V6);
            var v4 = await WaitForLineAsync(monitor, seen, $"{V4} dev eth0 lladdr {macs[round]}", clock);
            var v6 = await WaitForLineAsync(monitor, seen, $"{V6} dev eth0 lladdr {macs[round]}", clock);

            samples.Add(string.Create(CultureInfo.InvariantCulture,
                $"round {round}: SetOwned {setOwned.TotalMilliseconds:F1} ms in the node; client entry moved after {v4.TotalMilliseconds:F1} ms (IPv4), {v6.TotalMilliseconds:F1} ms (IPv6)"));
            Assert.Contains($"lladdr {macs[round]}", await lab.Client.IpAsync(default, "neigh", "show", V4));
            Assert.Contains($"lladdr {macs[round]}", await lab.Client.IpAsync(default, "neigh", "show", V6));
        }
        foreach (var s in samples)
        {
            output.WriteLine(s);
        }
    }

    [NetnsFact]
    public async Task Flood_MalformedFrames_CountedPerReasonAndStillAnswering()
    {
        NetnsCapability.RequireTool("arping", "arping");
        NetnsCapability.RequireTool("ndisc6", "ndisc6");
        await using var lab = await Layer2Lab.CreateAsync("l2flood", nodes: 1);
        var node = lab.Nodes[0];
        await lab.StartResponderAsync(node);
        var nodeMac = await Layer2Lab.MacAsync(node);
        await lab.OwnAsync(node, V4, V6);

        var flood = await lab.Client.ExecAsync(Layer2Lab.Dotnet,
            [Layer2Lab.TestHost, "flood", "--interface", "eth0", "--count", "50000", "--node-mac", nodeMac, "--v4", V4, "--v6", V6],
            TimeSpan.FromSeconds(60));
        var clock = Stopwatch.StartNew();
        var arping = await lab.Client.ExecAsync("arping", ["-i", "eth0", "-c", "1", "-w", "3", V4]);
        var ndisc = await lab.Client.ExecAsync("ndisc6", ["-1", "-w", "1000", V6, "eth0"]);
        var answeredAfter = clock.Elapsed;
        var counters = await lab.CountersAsync(node);

        output.WriteLine(flood.StandardOutput + arping.StandardOutput + ndisc.StandardOutput + string.Join(' ', counters));
        Assert.Contains("sent 50000 failed 0", flood.StandardOutput);
        Assert.True(arping.ExitCode == 0, arping.StandardOutput);
        Assert.Contains($"from {nodeMac} ({V4})", arping.StandardOutput);
        Assert.Contains($"Target link-layer address: {nodeMac.ToUpperInvariant()}", ndisc.StandardOutput);
        Assert.False(lab.Responder(node).HasExited);
        foreach (var reason in (string[])["Ndp.NdpOptionLengthZero", "Ndp.NdpChecksum", "Ndp.NdpHopLimit", "Arp.ArpTruncated", "Arp.ArpHardwareType"])
        {
            Assert.True(counters.GetValueOrDefault(reason) > 0, $"{reason} not counted: {string.Join(' ', counters)}");
        }
        Assert.Equal(0, counters["handlerfailures"]);
        Assert.True(answeredAfter < TimeSpan.FromSeconds(3), $"answers took {answeredAfter} after the flood");
    }

    private static int CountLines(string text, string needle) =>
        text.Split('\n').Count(l => l.Contains(needle, StringComparison.Ordinal));

    private static async Task<TimeSpan> WaitForLineAsync(BackgroundProcess monitor, int from, string needle, Stopwatch clock)
    {
        while (true)
        {
            var text = monitor.Output;
            if (text.IndexOf(needle, Math.Min(from, text.Length), StringComparison.Ordinal) >= 0)
            {
                return clock.Elapsed;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new TimeoutException($"'{needle}' not seen in 10 s:\n{text}");
            }
            await Task.Delay(1);
        }
    }
}

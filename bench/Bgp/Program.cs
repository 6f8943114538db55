using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using BareLb.NetTestSupport;

// Side by side, in network namespaces: how long FRR takes to hold 10,000 IPv6 prefixes advertised by our speaker
// (the test host process) and by gobgpd, from the moment each session is enabled; our session-establishment and
// single-withdrawal latency against FRR; our process's memory while it advertises the 10,000 prefixes.
//   dotnet run -c Release --project bench/Bgp -- [runs=3] [prefixes=10000]
// The codec and RIB-out costs in-process (BenchmarkDotNet):
//   dotnet run -c Release --project bench/Bgp -- codec
if (args.Length > 0 && args[0] == "codec")
{
    BenchmarkDotNet.Running.BenchmarkRunner.Run<BareLb.Bgp.Bench.CodecBenchmarks>();
    return 0;
}
var runs = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 3;
var prefixes = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 10_000;
var testHost = Path.Combine(AppContext.BaseDirectory, "barelb-bgp-testhost.dll");

await using var lan = await Lan.CreateAsync("bgpbench");
var routerNs = await lan.AddHostAsync("frr", ["198.51.100.1/24", "2001:db8::1/64"]);
var oursNs = await lan.AddHostAsync("ours", ["198.51.100.10/24", "2001:db8::10/64"]);
var goNs = await lan.AddHostAsync("gobgp", ["198.51.100.20/24", "2001:db8::20/64"]);
var frrDir = Path.Combine(Path.GetTempPath(), $"barelb-bench-frr-{Environment.ProcessId}");
Directory.CreateDirectory(frrDir);
await File.WriteAllTextAsync(Path.Combine(frrDir, "zebra.conf"), "hostname zebra\n");
await File.WriteAllTextAsync(Path.Combine(frrDir, "bgpd.conf"), """
    frr defaults traditional
    router bgp 64513
     bgp router-id 198.51.100.1
     no bgp ebgp-requires-policy
     neighbor 198.51.100.10 remote-as 64512
     neighbor 198.51.100.20 remote-as 64514
     neighbor 198.51.100.20 timers connect 1
     address-family ipv6 unicast
      neighbor 198.51.100.10 activate
      neighbor 198.51.100.20 activate
     exit-address-family

    """);
await Shell.RunCheckedAsync("chown", ["-R", "frr:frr", frrDir], CancellationToken.None);
var zebra = routerNs.Start("/usr/lib/frr/zebra", ["-f", Path.Combine(frrDir, "zebra.conf"), "-i", Path.Combine(frrDir, "zebra.pid"), "-z", Path.Combine(frrDir, "zs"), "--vty_socket", frrDir, "-P", "0", "-u", "frr", "-g", "frr"]);
await WaitForFile(Path.Combine(frrDir, "zs"));
var bgpd = routerNs.Start("/usr/lib/frr/bgpd", ["-f", Path.Combine(frrDir, "bgpd.conf"), "-i", Path.Combine(frrDir, "bgpd.pid"), "-z", Path.Combine(frrDir, "zs"), "--vty_socket", frrDir, "-P", "0", "-u", "frr", "-g", "frr"]);
await WaitForFile(Path.Combine(frrDir, "bgpd.vty"));

var mrt = Path.Combine(Path.GetTempPath(), $"barelb-bench-{Environment.ProcessId}.mrt");
var mrtReversed = mrt + ".reversed";
WriteMrt(mrt, prefixes, reverse: false);
WriteMrt(mrtReversed, prefixes, reverse: true);
var results = new List<(string Who, double Hold, double? Establish, double? Withdraw, long? Managed, long? Rss)>();
try
{
    for (var run = 0; run < runs; run++)
    {
        results.Add(await OursAsync());
        results.Add(await GoBgpAsync());
    }
}
finally
{
    bgpd.KillHard();
    zebra.KillHard();
    File.Delete(mrt);
    File.Delete(mrtReversed);
    Directory.Delete(frrDir, recursive: true);
}

static double Median(IEnumerable<double> values)
{
    var v = values.Order().ToArray();
    return v.Length % 2 == 1 ? v[v.Length / 2] : (v[v.Length / 2 - 1] + v[v.Length / 2]) / 2;
}

Console.WriteLine();
Console.WriteLine($"| run | speaker | session enabled → FRR holds {prefixes:N0} prefixes | enabled → Established (speaker's clock) | one withdrawal seen by FRR | managed heap | RSS |");
Console.WriteLine("|---|---|---:|---:|---:|---:|---:|");
for (var i = 0; i < results.Count; i++)
{
    var r = results[i];
    Console.WriteLine($"| {i / 2 + 1} | {r.Who} | {r.Hold:0} ms | {(r.Establish is { } e ? $"{e:0} ms" : "")} | {(r.Withdraw is { } w ? $"{w:0} ms" : "")} | {(r.Managed is { } m ? $"{m / 1048576.0:0.0} MiB" : "")} | {(r.Rss is { } s ? $"{s / 1048576.0:0.0} MiB" : "")} |");
}
var ours = Median(results.Where(r => r.Who == "BareLb").Select(r => r.Hold));
var go = Median(results.Where(r => r.Who == "gobgpd").Select(r => r.Hold));
Console.WriteLine($"median: BareLb {ours:0} ms, gobgpd {go:0} ms, ratio BareLb/gobgpd {ours / go:0.00}");
Console.WriteLine($"median establishment {Median(results.Where(r => r.Establish is not null).Select(r => r.Establish!.Value)):0} ms, median withdrawal {Median(results.Where(r => r.Withdraw is not null).Select(r => r.Withdraw!.Value)):0} ms");
return 0;

async Task<(string, double, double?, double?, long?, long?)> OursAsync()
{
    var host = oursNs.Start("dotnet", ["exec", testHost, "--local-asn", "64512", "--peer-asn", "64513", "--peer", "198.51.100.1", "--source", "198.51.100.10",
        "--router-id", "198.51.100.10", "--next-hop-v6", "2001:db8::10", "--wait-start"], standardInput: true);
    await host.WaitForOutputAsync("READY", TimeSpan.FromSeconds(30));
    await host.SendLineAsync($"generate {prefixes}");
    await host.WaitForOutputAsync($"OK generate {prefixes}", TimeSpan.FromSeconds(30));
    var watch = Stopwatch.StartNew();
    await host.SendLineAsync("start");
    var (_, hold) = await WatchTransfer("198.51.100.10", watch, host);
    // The host's own clock from "start" to Established (FRR's vty answers late while it digests the UPDATEs).
    var stateLine = host.Output.Split('\n').First(l => l.StartsWith("STATE Established", StringComparison.Ordinal));
    double? established = double.Parse(stateLine.Split(' ')[2].TrimEnd('\r').Replace("ms", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
    await host.SendLineAsync("mem");
    var at = await host.WaitForOutputAfterAsync(0, "MEM managed=", TimeSpan.FromSeconds(30));
    var line = host.Output[at..].Split('\n')[0];
    var managed = long.Parse(line.Split(' ')[0], CultureInfo.InvariantCulture);
    var rss = long.Parse(line.Split("rss=")[1].Trim(), CultureInfo.InvariantCulture);

    // Withdraw the last prefix of the set (the speaker diffs 10,000 routes to find it) and time until FRR drops it,
    // after FRR has had time to finish installing the 10,000 routes through zebra.
    await Task.Delay(TimeSpan.FromSeconds(3));
    var last = Generated(prefixes - 1);
    watch.Restart();
    await host.SendLineAsync($"generate {prefixes - 1}");
    while (HasPrefix(last))
    {
        await Task.Delay(2);
        Timeout(watch, host.Output);
    }
    var withdraw = watch.Elapsed.TotalMilliseconds;
    await host.SendLineAsync("stop");
    await host.Process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    await WaitDown("198.51.100.10");
    return ("BareLb", hold, established, withdraw, managed, rss);
}

async Task<(string, double, double?, double?, long?, long?)> GoBgpAsync()
{
    var dir = Path.Combine(Path.GetTempPath(), $"barelb-bench-gobgp-{Environment.ProcessId}");
    Directory.CreateDirectory(dir);
    await File.WriteAllTextAsync(Path.Combine(dir, "gobgpd.toml"), """
        [global.config]
          as = 64514
          router-id = "198.51.100.20"
        [[neighbors]]
          [neighbors.config]
            neighbor-address = "198.51.100.1"
            peer-as = 64513
            admin-down = true
          [neighbors.timers.config]
            connect-retry = 1
          [[neighbors.afi-safis]]
            [neighbors.afi-safis.config]
              afi-safi-name = "ipv6-unicast"

        """);
    var gobgpd = goNs.Start("gobgpd", ["-f", Path.Combine(dir, "gobgpd.toml"), "--api-hosts", "127.0.0.1:50051", "-l", "warn"]);
    try
    {
        var watch = Stopwatch.StartNew();
        while ((await goNs.ExecAsync("gobgp", ["global"], TimeSpan.FromSeconds(5))).ExitCode != 0)
        {
            await Task.Delay(20);
            Timeout(watch, gobgpd.Output);
        }
        // gobgp 3.10's "mrt inject" drops its last batch; a second pass in reverse order fills that tail in.
        foreach (var file in new[] { mrt, mrtReversed })
        {
            (await goNs.ExecAsync("gobgp", ["mrt", "inject", "global", "--no-ipv4", "--nexthop", "2001:db8::20", file], TimeSpan.FromMinutes(2))).EnsureSuccess();
        }
        while (!(await goNs.ExecCheckedAsync("gobgp", ["global", "rib", "-a", "ipv6", "summary"])).Contains($"Destination: {prefixes},", StringComparison.Ordinal))
        {
            await Task.Delay(100);
            Timeout(watch, gobgpd.Output);
        }
        watch.Restart();
        (await goNs.ExecAsync("gobgp", ["neighbor", "198.51.100.1", "enable"], TimeSpan.FromSeconds(10))).EnsureSuccess();
        var (_, full) = await WatchTransfer("198.51.100.20", watch, gobgpd);
        return ("gobgpd", full, null, null, null, null);
    }
    finally
    {
        gobgpd.KillHard();
        await gobgpd.Process.WaitForExitAsync();
        await WaitDown("198.51.100.20");
        Directory.Delete(dir, recursive: true);
    }
}

// Polls FRR's summary until the neighbor is Established and then until it holds every prefix; both times from the watch's start.
async Task<(double Established, double Full)> WatchTransfer(string neighbor, Stopwatch watch, BackgroundProcess speaker)
{
    double? established = null;
    while (true)
    {
        var text = Vtysh("show bgp ipv6 unicast summary json");
        using var json = JsonDocument.Parse(text);
        if (json.RootElement.TryGetProperty("peers", out var peers) && peers.TryGetProperty(neighbor, out var p))
        {
            if (established is null && p.GetProperty("state").GetString() == "Established")
            {
                established = watch.Elapsed.TotalMilliseconds;
            }
            if (p.TryGetProperty("pfxRcd", out var n) && n.GetInt32() >= prefixes)
            {
                return (established ?? watch.Elapsed.TotalMilliseconds, watch.Elapsed.TotalMilliseconds);
            }
        }
        Timeout(watch, speaker.Output);
    }
}

int PrefixesReceived(string neighbor)
{
    var text = Vtysh("show bgp ipv6 unicast summary json");
    using var json = JsonDocument.Parse(text);
    return json.RootElement.TryGetProperty("peers", out var peers) && peers.TryGetProperty(neighbor, out var p) && p.TryGetProperty("pfxRcd", out var n) ? n.GetInt32() : 0;
}

bool HasPrefix(string prefix) => Vtysh($"show bgp ipv6 unicast {prefix} json").Contains("\"paths\"", StringComparison.Ordinal);

async Task WaitDown(string neighbor)
{
    var watch = Stopwatch.StartNew();
    while (PrefixesReceived(neighbor) != 0 || Vtysh($"show bgp neighbor {neighbor} json").Contains("\"bgpState\":\"Established\"", StringComparison.Ordinal))
    {
        await Task.Delay(50);
        Timeout(watch, "");
    }
}

string Vtysh(string command)
{
    using var p = Process.Start(new ProcessStartInfo("vtysh", ["--vty_socket", frrDir, "-c", command]) { RedirectStandardOutput = true })!;
    var text = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    return text;
}

static void Timeout(Stopwatch watch, string output)
{
    if (watch.Elapsed > TimeSpan.FromMinutes(2))
    {
        throw new TimeoutException("benchmark step did not finish in 2 minutes\n" + output);
    }
}

async Task WaitForFile(string path)
{
    var watch = Stopwatch.StartNew();
    while (!File.Exists(path))
    {
        await Task.Delay(20);
        Timeout(watch, "");
    }
}

// The same set the test host's "generate N" makes: 2001:db8:a:i::/64.
static string Generated(int i) => $"2001:db8:a:{i:x}::/64";

// RFC 6396 TABLE_DUMP_V2: a PEER_INDEX_TABLE and one RIB_IPV6_UNICAST record per prefix, origin IGP and
// AS_PATH 64514 (gobgp overrides the next hop on injection).
static void WriteMrt(string path, int count, bool reverse)
{
    using var file = File.Create(path);
    var peerTable = new byte[4 + 2 + 2 + 1 + 4 + 16 + 4];
    BinaryPrimitives.WriteUInt32BigEndian(peerTable, 0xC6336414);
    BinaryPrimitives.WriteUInt16BigEndian(peerTable.AsSpan(6), 1);
    peerTable[8] = 0b11;                                            // IPv6 peer address, 4-octet AS
    BinaryPrimitives.WriteUInt32BigEndian(peerTable.AsSpan(9), 0xC6336414);
    IPAddress.Parse("2001:db8::20").TryWriteBytes(peerTable.AsSpan(13), out _);
    BinaryPrimitives.WriteUInt32BigEndian(peerTable.AsSpan(29), 64514);
    Record(file, 1, peerTable);
    // MP_REACH_NLRI in full (AFI, SAFI, next hop, reserved, no NLRI): gobgp reads it so, not abbreviated as RFC 6396 4.3.4 has it.
    byte[] attributes =
    [
        0x40, 1, 1, 0,                                            // ORIGIN IGP
        0x40, 2, 6, 2, 1, 0, 0, 0xFC, 0x02,                       // AS_PATH 64514
        0x80, 14, 21, 0, 2, 1, 16, .. IPAddress.Parse("2001:db8::20").GetAddressBytes(), 0,
    ];
    for (var n = 0; n < count; n++)
    {
        var i = reverse ? count - 1 - n : n;
        var entry = new byte[4 + 1 + 8 + 2 + 2 + 4 + 2 + attributes.Length];
        BinaryPrimitives.WriteUInt32BigEndian(entry, (uint)i);
        entry[4] = 64;
        IPAddress.Parse(Generated(i)[..^3]).GetAddressBytes().AsSpan(0, 8).CopyTo(entry.AsSpan(5));
        BinaryPrimitives.WriteUInt16BigEndian(entry.AsSpan(13), 1);
        BinaryPrimitives.WriteUInt16BigEndian(entry.AsSpan(15), 0);
        BinaryPrimitives.WriteUInt32BigEndian(entry.AsSpan(17), 0);
        BinaryPrimitives.WriteUInt16BigEndian(entry.AsSpan(21), (ushort)attributes.Length);
        attributes.CopyTo(entry.AsSpan(23));
        Record(file, 4, entry);
    }

    static void Record(Stream s, ushort subtype, byte[] body)
    {
        var header = new byte[12];
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(4), 13);
        BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(6), subtype);
        BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(8), (uint)body.Length);
        s.Write(header);
        s.Write(body);
    }
}

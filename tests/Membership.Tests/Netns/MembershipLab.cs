using System.Diagnostics;
using System.Globalization;
using BareLb.NetTestSupport;

namespace BareLb.Membership.Tests.Netns;

/// <summary>
/// Speakers' membership over real UDP: node namespaces on a <see cref="Lan"/> (198.51.100.0/24), each running the
/// test host, which prints what its node sees stamped with the monotonic clock. Disposing removes the namespaces
/// and every process in them.
/// </summary>
internal sealed class MembershipLab : IAsyncDisposable
{
    public const string KeyHex = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    private const int Port = MembershipOptions.DefaultPort;

    private readonly Lan _lan;
    private readonly Dictionary<string, NetworkNamespace> _hosts = [];
    private readonly Dictionary<string, BackgroundProcess> _processes = [];

    private MembershipLab(Lan lan) => _lan = lan;

    public IReadOnlyList<string> Names => [.. _hosts.Keys];

    public static async Task<MembershipLab> StartAsync(int size)
    {
        var lan = await Lan.CreateAsync("mship");
        var lab = new MembershipLab(lan);
        try
        {
            for (var i = 1; i <= size; i++)
            {
                lab._hosts[$"node-{i}"] = await lan.AddHostAsync($"n{i}", [$"198.51.100.{i}/24"]);
            }
            foreach (var name in lab._hosts.Keys)
            {
                lab.Start(name);
            }
            await lab.WaitAllAliveAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            await lab.DisposeAsync();
            throw;
        }
        return lab;
    }

    public static long Now() => (long)(Stopwatch.GetTimestamp() * (1e9 / Stopwatch.Frequency));

    public BackgroundProcess Process(string name) => _processes[name];

    public void Start(string name)
    {
        var args = new List<string> { HostDll, "--name", name, "--port", Port.ToString(CultureInfo.InvariantCulture), "--key", KeyHex };
        var index = 1;
        foreach (var peer in _hosts.Keys)
        {
            args.AddRange(["--peer", $"{peer}=198.51.100.{index++}:{Port}"]);
        }
        _processes[name] = _hosts[name].Start(DotnetHost, args, new Dictionary<string, string> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" });
    }

    /// <summary>SIGKILL, then the node's link down: a node that dies with its network.</summary>
    public async Task<long> KillAsync(string name)
    {
        var at = Now();
        _processes[name].KillHard();
        await _lan.SetHostLinkAsync(_hosts[name], "eth0", up: false);
        await _processes[name].Process.WaitForExitAsync();
        return at;
    }

    public async Task RestartAsync(string name)
    {
        await _lan.SetHostLinkAsync(_hosts[name], "eth0", up: true);
        Start(name);
    }

    /// <summary>Drops 1 in <paramref name="oneIn"/> membership datagrams arriving at each node (nftables, random).</summary>
    public async Task SetLossAsync(int? oneIn)
    {
        foreach (var host in _hosts.Values)
        {
            await host.ExecAsync("nft", ["delete", "table", "inet", "blt_loss"]);
            if (oneIn is { } n)
            {
                await host.ExecCheckedAsync("nft", ["add", "table", "inet", "blt_loss"]);
                await host.ExecCheckedAsync("nft", ["add", "chain", "inet", "blt_loss", "input", "{", "type", "filter", "hook", "input", "priority", "0", ";", "policy", "accept", ";", "}"]);
                await host.ExecCheckedAsync("nft", ["add", "rule", "inet", "blt_loss", "input", "udp", "dport", Port.ToString(CultureInfo.InvariantCulture), "numgen", "random", "mod", n.ToString(CultureInfo.InvariantCulture), "0", "drop"]);
            }
        }
    }

    /// <summary>What one node's process printed: its state changes and counter reports.</summary>
    public NodeReport Report(string name) => NodeReport.Parse(_processes[name].Output);

    public async Task WaitAllAliveAsync(TimeSpan timeout) =>
        await WaitAsync(() => _processes.Keys.All(n => _processes.Keys.All(m => m == n || Report(n).StateOf(m) == MemberState.Alive)), timeout, "every node sees every other Alive");

    public async Task WaitAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            foreach (var (name, p) in _processes)
            {
                if (p.HasExited && p.Process.ExitCode != 0 && p.Process.ExitCode != 137 && p.Process.ExitCode != -1)
                {
                    throw new InvalidOperationException($"{name} exited with {p.Process.ExitCode}:\n{p.Output}");
                }
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"not within {timeout}: {what}\n" + string.Join("\n", _processes.Select(p => $"--- {p.Key}\n{Tail(p.Value.Output)}")));
            }
            await Task.Delay(10);
        }
    }

    public async ValueTask DisposeAsync() => await _lan.DisposeAsync();

    private static string Tail(string output) => string.Join("\n", output.Split('\n').TakeLast(30));

    private static string HostDll => Path.Combine(AppContext.BaseDirectory, "BareLb.Membership.TestHost.dll");

    private static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path ? path : "dotnet";
}

internal sealed record StateLine(long At, string Member, MemberState Previous, MemberState Current, uint Incarnation);

internal sealed class NodeReport
{
    public List<StateLine> Changes { get; } = [];

    public List<(long At, Dictionary<string, long> Values)> Counters { get; } = [];

    public long? LeftAt { get; private set; }

    public long? SigtermAt { get; private set; }

    public MemberState StateOf(string member) => Changes.LastOrDefault(c => c.Member == member)?.Current ?? MemberState.Unknown;

    public static NodeReport Parse(string output)
    {
        var report = new NodeReport();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split(' ');
            switch (parts[0])
            {
                case "change" when parts.Length == 6:
                    report.Changes.Add(new StateLine(long.Parse(parts[1], CultureInfo.InvariantCulture), parts[2],
                        Enum.Parse<MemberState>(parts[3]), Enum.Parse<MemberState>(parts[4]), uint.Parse(parts[5], CultureInfo.InvariantCulture)));
                    break;
                case "counters":
                    report.Counters.Add((long.Parse(parts[1], CultureInfo.InvariantCulture),
                        parts.Skip(2).Select(p => p.Split('=')).ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture))));
                    break;
                case "left":
                    report.LeftAt = long.Parse(parts[1], CultureInfo.InvariantCulture);
                    break;
                case "sigterm":
                    report.SigtermAt = long.Parse(parts[1], CultureInfo.InvariantCulture);
                    break;
            }
        }
        return report;
    }

    /// <summary>Counter increase per second between the last report at or before <paramref name="from"/> and the last at or before <paramref name="to"/>.</summary>
    public double RatePerSecond(string counter, long from, long to)
    {
        var start = Counters.Last(c => c.At <= from);
        var end = Counters.Last(c => c.At <= to);
        return (end.Values[counter] - start.Values[counter]) / ((end.At - start.At) / 1e9);
    }
}

using System.Diagnostics;
using System.Text.RegularExpressions;
using BareLb.NetTestSupport;

namespace BareLb.Layer2.Tests;

/// <summary>
/// A client and layer-2 nodes on one bridge, each node running the test host's responder (a real
/// <see cref="Layer2Announcer"/> on AF_PACKET sockets) inside its own namespace. Addresses: client 198.51.100.200 and
/// 2001:db8::c1; node N 198.51.100.N and 2001:db8::N; the service addresses the tests own are on no interface.
/// </summary>
internal sealed partial class Layer2Lab : IAsyncDisposable
{
    public const string ServiceV4 = "198.51.100.10";
    public const string ServiceV6 = "2001:db8::10";

    private readonly Dictionary<NetworkNamespace, (BackgroundProcess Process, int Applied)> _responders = [];

    private Layer2Lab(Lan lan, NetworkNamespace client)
    {
        Lan = lan;
        Client = client;
    }

    public Lan Lan { get; }

    public NetworkNamespace Client { get; }

    public List<NetworkNamespace> Nodes { get; } = [];

    public static string TestHost { get; } = Path.Combine(
        AppContext.BaseDirectory.Replace($"{Path.DirectorySeparatorChar}Layer2.Tests{Path.DirectorySeparatorChar}", $"{Path.DirectorySeparatorChar}Layer2.TestHost{Path.DirectorySeparatorChar}", StringComparison.Ordinal),
        "BareLb.Layer2.TestHost.dll");

    /// <summary>The dotnet host running these tests, so that namespaces run the test host with the same runtime whatever PATH says.</summary>
    public static string Dotnet { get; } =
        Environment.ProcessPath is { } path && Path.GetFileNameWithoutExtension(path) == "dotnet" ? path : "dotnet";

    public static async Task<Layer2Lab> CreateAsync(string tag, int nodes)
    {
        if (!File.Exists(TestHost))
        {
            throw new FileNotFoundException($"the test host is built with the tests; not found at {TestHost}");
        }
        var lan = await Lan.CreateAsync(tag);
        try
        {
            var client = await lan.AddHostAsync("client", ["198.51.100.200/24", "2001:db8::c1/64"]);
            var lab = new Layer2Lab(lan, client);
            for (var n = 1; n <= nodes; n++)
            {
                lab.Nodes.Add(await lan.AddHostAsync($"node{n}", [$"198.51.100.{n}/24", $"2001:db8::{n}/64"]));
            }
            return lab;
        }
        catch
        {
            await lan.DisposeAsync();
            throw;
        }
    }

    public async Task StartResponderAsync(NetworkNamespace node)
    {
        var process = node.Start(Dotnet, [TestHost, "respond", "--exclude", "lo"], standardInput: true);
        _responders[node] = (process, 0);
        await process.WaitForOutputAsync("ready", TimeSpan.FromSeconds(60));
    }

    public BackgroundProcess Responder(NetworkNamespace node) => _responders[node].Process;

    /// <summary>Sends "own ..." and waits until the announcer has applied it; returns how long SetOwned took inside the process.</summary>
    public async Task<TimeSpan> OwnAsync(NetworkNamespace node, params string[] owned)
    {
        var (process, applied) = _responders[node];
        _responders[node] = (process, ++applied);
        await process.SendLineAsync("own " + string.Join(' ', owned));
        var marker = $"applied {applied} in ";
        await process.WaitForOutputAsync(marker, TimeSpan.FromSeconds(30));
        var match = AppliedRegex().Match(process.Output, process.Output.LastIndexOf(marker, StringComparison.Ordinal));
        return TimeSpan.FromMicroseconds(double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The responder's counters: every "Kind.Outcome=N" plus the totals, by name.</summary>
    public async Task<IReadOnlyDictionary<string, long>> CountersAsync(NetworkNamespace node)
    {
        var process = _responders[node].Process;
        var before = CountersRegex().Count(process.Output);
        await process.SendLineAsync("counters");
        var clock = Stopwatch.StartNew();
        while (CountersRegex().Count(process.Output) == before)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30) || process.HasExited)
            {
                throw new TimeoutException("no counters line:\n" + process.Output);
            }
            await Task.Delay(10);
        }
        var line = CountersRegex().Matches(process.Output)[^1].Value;
        return line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(p => p.Split('='))
            .ToDictionary(p => p[0], p => long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    }

    public static async Task<string> MacAsync(NetworkNamespace host, string interfaceName = "eth0") =>
        (await host.ExecCheckedAsync("cat", [$"/sys/class/net/{interfaceName}/address"])).Trim();

    public async ValueTask DisposeAsync() => await Lan.DisposeAsync();

    [GeneratedRegex(@"applied \d+ in (\d+) us")]
    private static partial Regex AppliedRegex();

    [GeneratedRegex(@"^counters .*$", RegexOptions.Multiline)]
    private static partial Regex CountersRegex();
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using BareLb.NetTestSupport;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace BareLb.Bgp.Tests.Interop;

/// <summary>FRR (zebra + bgpd) inside one namespace, with its own config, pid files and vty socket directory.</summary>
internal sealed class FrrRouter : IAsyncDisposable
{
    private readonly NetworkNamespace _ns;
    private BackgroundProcess? _bgpd;

    private FrrRouter(NetworkNamespace ns, string directory)
    {
        _ns = ns;
        Directory = directory;
    }

    public string Directory { get; }

    public BackgroundProcess? Zebra { get; private set; }

    public string BgpdOutput => _bgpd?.Output ?? "";

    public static async Task<FrrRouter> StartAsync(NetworkNamespace ns, string bgpdConfig)
    {
        NetnsCapability.RequireTool("vtysh", "frr");
        var dir = Path.Combine(Path.GetTempPath(), $"barelb-frr-{ns.Name}");
        System.IO.Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "zebra.conf"), "hostname zebra\n");
        await File.WriteAllTextAsync(Path.Combine(dir, "bgpd.conf"), "frr defaults traditional\nhostname bgpd\n" + bgpdConfig);
        // The daemons drop to the frr user (vty sockets belong to its frrvty group); it must own the directory.
        await Shell.RunCheckedAsync("chown", ["-R", "frr:frr", dir], CancellationToken.None);
        var router = new FrrRouter(ns, dir);
        router.Zebra = ns.Start("/usr/lib/frr/zebra", ["-f", Path.Combine(dir, "zebra.conf"), "-i", Path.Combine(dir, "zebra.pid"),
            "-z", Path.Combine(dir, "zserv.api"), "--vty_socket", dir, "-P", "0", "-u", "frr", "-g", "frr", "--log", "stdout"]);
        await WaitForFileAsync(Path.Combine(dir, "zserv.api"), router.Zebra);
        await router.StartBgpdAsync();
        return router;
    }

    public async Task StartBgpdAsync()
    {
        _bgpd = _ns.Start("/usr/lib/frr/bgpd", ["-f", Path.Combine(Directory, "bgpd.conf"), "-i", Path.Combine(Directory, "bgpd.pid"),
            "-z", Path.Combine(Directory, "zserv.api"), "--vty_socket", Directory, "-P", "0", "-u", "frr", "-g", "frr", "--log", "stdout"]);
        await WaitForFileAsync(Path.Combine(Directory, "bgpd.vty"), _bgpd);
    }

    /// <summary>SIGKILL bgpd, as a crash would.</summary>
    public async Task KillBgpdAsync()
    {
        _bgpd!.KillHard();
        await _bgpd.Process.WaitForExitAsync();
        File.Delete(Path.Combine(Directory, "bgpd.vty"));
    }

    public async Task<string> VtyshAsync(string command)
    {
        var result = await Shell.RunAsync("vtysh", ["--vty_socket", Directory, "-c", command], TimeSpan.FromSeconds(20), CancellationToken.None);
        result.EnsureSuccess();
        return result.StandardOutput;
    }

    public async Task<JsonElement> JsonAsync(string command)
    {
        var text = await VtyshAsync(command + " json");
        return JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "{}" : text).RootElement.Clone();
    }

    public async Task<string> NeighborStateAsync(string neighbor)
    {
        var json = await JsonAsync($"show bgp neighbor {neighbor}");
        return json.TryGetProperty(neighbor, out var n) && n.TryGetProperty("bgpState", out var s) ? s.GetString() ?? "" : "";
    }

    /// <summary>The paths FRR holds for <paramref name="prefix"/> (empty when it has none).</summary>
    public async Task<JsonElement[]> PathsAsync(string prefix)
    {
        var afi = prefix.Contains(':', StringComparison.Ordinal) ? "ipv6" : "ipv4";
        var json = await JsonAsync($"show bgp {afi} unicast {prefix}");
        return json.TryGetProperty("paths", out var paths) ? [.. paths.EnumerateArray()] : [];
    }

    public async ValueTask DisposeAsync()
    {
        _bgpd?.KillHard();
        Zebra?.KillHard();
        await Task.Yield();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal static async Task WaitForFileAsync(string path, BackgroundProcess process)
    {
        var watch = Stopwatch.StartNew();
        while (!File.Exists(path))
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"daemon exited before creating {path}:\n{process.Output}");
            }
            if (watch.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new TimeoutException($"{path} not created:\n{process.Output}");
            }
            await Task.Delay(20);
        }
    }
}

/// <summary>BIRD 2 in one namespace: its own config, control socket and pid file, in the foreground.</summary>
internal sealed class BirdRouter : IAsyncDisposable
{
    private readonly NetworkNamespace _ns;
    private readonly string _dir;
    private BackgroundProcess? _bird;

    private BirdRouter(NetworkNamespace ns, string dir)
    {
        _ns = ns;
        _dir = dir;
    }

    public string Output => _bird?.Output ?? "";

    private string Socket => Path.Combine(_dir, "bird.ctl");

    public static async Task<BirdRouter> StartAsync(NetworkNamespace ns, string config)
    {
        NetnsCapability.RequireTool("bird", "bird2");
        var dir = Path.Combine(Path.GetTempPath(), $"barelb-bird-{ns.Name}");
        System.IO.Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "bird.conf"), config);
        var router = new BirdRouter(ns, dir);
        await router.StartProcessAsync();
        return router;
    }

    public async Task StartProcessAsync()
    {
        _bird = _ns.Start("bird", ["-f", "-c", Path.Combine(_dir, "bird.conf"), "-s", Socket, "-P", Path.Combine(_dir, "bird.pid")]);
        await FrrRouter.WaitForFileAsync(Socket, _bird);
        // The socket can appear before a configuration error ends the process: make sure it answers.
        var status = await Shell.RunAsync("birdc", ["-s", Socket, "show status"], TimeSpan.FromSeconds(20), CancellationToken.None);
        if (status.ExitCode != 0 || _bird.HasExited)
        {
            throw new InvalidOperationException($"bird did not start:\n{_bird.Output}\n{status.StandardOutput}{status.StandardError}");
        }
    }

    public async Task KillAsync()
    {
        _bird!.KillHard();
        await _bird.Process.WaitForExitAsync();
        File.Delete(Socket);
    }

    public async Task<string> BirdcAsync(string command)
    {
        var result = await Shell.RunAsync("birdc", ["-s", Socket, command], TimeSpan.FromSeconds(20), CancellationToken.None);
        result.EnsureSuccess();
        return result.StandardOutput;
    }

    public async Task<string> BirdcUncheckedAsync(string command) =>
        (await Shell.RunAsync("birdc", ["-s", Socket, command], TimeSpan.FromSeconds(20), CancellationToken.None)).StandardOutput;

    public async ValueTask DisposeAsync()
    {
        _bird?.KillHard();
        await Task.Yield();
        try
        {
            System.IO.Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>gobgpd in one namespace, its API on the namespace's own loopback.</summary>
internal sealed class GoBgpRouter : IAsyncDisposable
{
    public const string Api = "127.0.0.1:50051";
    private readonly NetworkNamespace _ns;
    private readonly string _dir;
    private BackgroundProcess? _gobgpd;

    private GoBgpRouter(NetworkNamespace ns, string dir)
    {
        _ns = ns;
        _dir = dir;
    }

    public string Output => _gobgpd?.Output ?? "";

    public static async Task<GoBgpRouter> StartAsync(NetworkNamespace ns, string toml)
    {
        NetnsCapability.RequireTool("gobgpd", "gobgpd");
        var dir = Path.Combine(Path.GetTempPath(), $"barelb-gobgp-{ns.Name}");
        System.IO.Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(Path.Combine(dir, "gobgpd.toml"), toml);
        var router = new GoBgpRouter(ns, dir);
        await router.StartProcessAsync();
        return router;
    }

    public async Task StartProcessAsync()
    {
        _gobgpd = _ns.Start("gobgpd", ["-f", Path.Combine(_dir, "gobgpd.toml"), "--api-hosts", Api, "-l", "info"]);
        var watch = Stopwatch.StartNew();
        while (true)
        {
            var r = await _ns.ExecAsync("gobgp", ["-u", "127.0.0.1", "-p", "50051", "global", "-j"], TimeSpan.FromSeconds(5));
            if (r.ExitCode == 0)
            {
                return;
            }
            if (_gobgpd.HasExited || watch.Elapsed > TimeSpan.FromSeconds(20))
            {
                throw new InvalidOperationException($"gobgpd did not come up:\n{_gobgpd.Output}\n{r.StandardError}");
            }
            await Task.Delay(50);
        }
    }

    public async Task KillAsync()
    {
        _gobgpd!.KillHard();
        await _gobgpd.Process.WaitForExitAsync();
    }

    public async Task<JsonElement> JsonAsync(params string[] args)
    {
        var text = await _ns.ExecCheckedAsync("gobgp", ["-u", "127.0.0.1", "-p", "50051", .. args, "-j"], TimeSpan.FromSeconds(20));
        return JsonDocument.Parse(string.IsNullOrWhiteSpace(text) ? "null" : text).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        _gobgpd?.KillHard();
        await Task.Yield();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Our speaker, in this test process, with its sockets created inside the node's namespace.</summary>
internal static class InProcessSpeaker
{
    public static BgpSession Create(NetworkNamespace node, BgpSessionOptions options, ITestOutputHelper? output = null) =>
        new(options, output is null ? null : new TestLogger<BgpSession>(output), TimeProvider.System, family => node.CreateSocket(family));
}

internal sealed class TestLogger<T>(ITestOutputHelper output) : ILogger<T>
{
    private readonly Stopwatch _watch = Stopwatch.StartNew();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{_watch.Elapsed.TotalSeconds,7:0.000} {logLevel} {formatter(state, exception)}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; late log lines have nowhere to go.
        }
    }
}

internal static class Poll
{
    /// <summary>Polls an async condition every 50 ms until it holds; fails after <paramref name="timeout"/> with <paramref name="what"/>.</summary>
    public static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<Task<string>> what)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (watch.Elapsed > timeout)
            {
                throw new TimeoutException($"not within {timeout}: {await what()}");
            }
            await Task.Delay(50);
        }
        return watch.Elapsed;
    }

    public static Task<TimeSpan> UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what) =>
        UntilAsync(condition, timeout, () => Task.FromResult(what));
}

internal static class Addresses
{
    public static IPAddress Ip(string text) => IPAddress.Parse(text);

    public static AddressFamily Family(string text) => IPAddress.Parse(text).AddressFamily;
}

/// <summary>
/// A minimal HTTP/1.0 responder on a socket inside a namespace: answers every request with its name, so a client can
/// tell which node served it. Stops when disposed.
/// </summary>
internal sealed class NodeHttpResponder : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public NodeHttpResponder(NetworkNamespace ns, IPEndPoint endPoint, string name)
    {
        _listener = ns.CreateSocket(endPoint.AddressFamily);
        _listener.Bind(endPoint);
        _listener.Listen(16);
        _loop = Task.Run(async () =>
        {
            var body = System.Text.Encoding.ASCII.GetBytes($"HTTP/1.0 200 OK\r\nContent-Length: {name.Length}\r\nConnection: close\r\n\r\n{name}");
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var client = await _listener.AcceptAsync(_stop.Token);
                    var buffer = new byte[2048];
                    var read = 0;
                    using var bound = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                    bound.CancelAfter(TimeSpan.FromSeconds(5));
                    while (read < buffer.Length && !System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var n = await client.ReceiveAsync(buffer.AsMemory(read), bound.Token);
                        if (n == 0)
                        {
                            break;
                        }
                        read += n;
                    }
                    await client.SendAsync(body, bound.Token);
                    client.Shutdown(SocketShutdown.Both);
                }
                catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
                {
                }
            }
        });
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        await _loop;
        _stop.Dispose();
    }
}

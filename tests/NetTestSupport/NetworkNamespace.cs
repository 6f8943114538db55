using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace BareLb.NetTestSupport;

/// <summary>
/// A Linux network namespace that a test creates for itself and removes when disposed, together with every process
/// it started inside it. Names are unique per run (<c>blt-{role}-{pid}-{random}</c>), so parallel and repeated runs never
/// collide, and a leftover from a killed run is recognisable. Nothing here touches the machine's own namespace: links
/// are created directly inside namespaces with <c>ip -n</c>.
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    /// <summary>Every name starts with this; <see cref="RemoveLeftovers"/> removes stale ones from killed runs.</summary>
    public const string Prefix = "blt-";

    private readonly List<Process> _processes = [];
    private int _disposed;

    private NetworkNamespace(string name) => Name = name;

    public string Name { get; }

    /// <summary>Creates the namespace with loopback up. <paramref name="role"/> is a short tag for humans (node1, client).</summary>
    public static Task<NetworkNamespace> CreateAsync(string role, CancellationToken ct = default) =>
        CreateNamedAsync($"{Prefix}{role}-{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3))}", ct);

    /// <summary>Creates a namespace with exactly this name (loopback up); the caller keeps names unique.</summary>
    public static async Task<NetworkNamespace> CreateNamedAsync(string name, CancellationToken ct = default)
    {
        await Shell.RunCheckedAsync("ip", ["netns", "add", name], ct).ConfigureAwait(false);
        var ns = new NetworkNamespace(name);
        try
        {
            await ns.IpAsync(ct, "link", "set", "lo", "up").ConfigureAwait(false);
        }
        catch
        {
            await ns.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return ns;
    }

    /// <summary>Kills every process in the named namespace and deletes it; no error if it does not exist.</summary>
    public static async Task DeleteAsync(string name)
    {
        await KillAllInsideAsync(name).ConfigureAwait(false);
        await Shell.RunAsync("ip", ["netns", "del", name], TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Runs <c>ip -n NAME args…</c> and throws with its stderr when it fails.</summary>
    public Task<string> IpAsync(CancellationToken ct, params string[] args) =>
        Shell.RunCheckedAsync("ip", ["-n", Name, .. args], ct);

    /// <summary>Runs a command inside the namespace to completion (bounded by <paramref name="timeout"/>).</summary>
    public Task<CommandResult> ExecAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null, CancellationToken ct = default, string? stdin = null) =>
        Shell.RunAsync("ip", ["netns", "exec", Name, file, .. args], timeout ?? TimeSpan.FromSeconds(30), ct, stdin);

    /// <summary>Like <see cref="ExecAsync"/> but throws when the exit code is not zero.</summary>
    public async Task<string> ExecCheckedAsync(string file, IEnumerable<string> args, TimeSpan? timeout = null, CancellationToken ct = default, string? stdin = null)
    {
        var result = await ExecAsync(file, args, timeout, ct, stdin).ConfigureAwait(false);
        result.EnsureSuccess();
        return result.StandardOutput;
    }

    /// <summary>
    /// Starts a long-running process inside the namespace. Its output is collected in the returned handle; it is
    /// killed (SIGKILL) when the namespace is disposed, if it has not exited before. With <paramref name="standardInput"/>
    /// the test writes commands to it with <see cref="BackgroundProcess.SendLineAsync"/>.
    /// </summary>
    public BackgroundProcess Start(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null, bool standardInput = false)
    {
        var info = new ProcessStartInfo("ip")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["netns", "exec", Name, file, .. args])
        {
            info.ArgumentList.Add(a);
        }
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }
        var process = new BackgroundProcess(info);
        lock (_processes)
        {
            _processes.Add(process.Process);
        }
        return process;
    }

    /// <summary>
    /// Creates a socket that lives in this namespace, so that in-process code can talk on the test network. The
    /// socket is made on a short-lived thread that first joins the namespace (<c>setns</c>) and then ends; a socket
    /// keeps the namespace it was created in, and no pool thread ever changes namespace.
    /// </summary>
    public Socket CreateSocket(AddressFamily family, SocketType type = SocketType.Stream, ProtocolType protocol = ProtocolType.Tcp)
    {
        Socket? socket = null;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            try
            {
                using var handle = File.OpenHandle($"/var/run/netns/{Name}", FileMode.Open, FileAccess.Read);
                if (SetNamespace(handle.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
                {
                    throw new InvalidOperationException($"setns into {Name} failed: errno {Marshal.GetLastPInvokeError()}");
                }
                socket = new Socket(family, type, protocol);
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.Start();
        thread.Join();
        return socket ?? throw new InvalidOperationException($"cannot create a socket in {Name}", error);
    }

    private const int CloneNewNet = 0x40000000;

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNamespace(int fd, int nstype);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        lock (_processes)
        {
            foreach (var p in _processes)
            {
                try
                {
                    if (!p.HasExited)
                    {
                        p.Kill(entireProcessTree: true);
                    }
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
            }
        }
        await KillAllInsideAsync(Name).ConfigureAwait(false);
        await Shell.RunAsync("ip", ["netns", "del", Name], TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes namespaces (and their processes) left by runs whose process no longer exists. Safe to call at the
    /// start of every test class: a namespace of a live run is never touched.
    /// </summary>
    public static async Task RemoveLeftovers()
    {
        var list = await Shell.RunAsync("ip", ["netns", "list"], TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
        foreach (var line in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                continue;
            }
            var parts = name.Split('-');
            if (parts.Length >= 4 && int.TryParse(parts[^2], out var pid) && !ProcessExists(pid))
            {
                await KillAllInsideAsync(name).ConfigureAwait(false);
                await Shell.RunAsync("ip", ["netns", "del", name], TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private static async Task KillAllInsideAsync(string name)
    {
        // Children started by daemons (bgpd forks, keepalived's VRRP child) are not in our process list.
        var pids = await Shell.RunAsync("ip", ["netns", "pids", name], TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
        foreach (var text in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(text.Trim(), out var pid))
            {
                try
                {
                    Process.GetProcessById(pid).Kill(entireProcessTree: true);
                }
                catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
                {
                    // Exited meanwhile.
                }
            }
        }
    }

    private static bool ProcessExists(int pid)
    {
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    public override string ToString() => Name;
}

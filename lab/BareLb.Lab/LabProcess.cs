using System.Diagnostics;
using System.Globalization;
using BareLb.NetTestSupport;

namespace BareLb.Lab;

/// <summary>
/// A program of the lab running inside one of its namespaces, in a session of its own and with its output in a log
/// file, so that it can outlive the lab command (<c>--keep</c>) and is stopped only by the lab itself. The PID is the
/// program's own (sh, setsid and ip netns exec each exec the next).
/// </summary>
public sealed class LabProcess
{
    private LabProcess(string name, int pid, string logPath)
    {
        Name = name;
        Pid = pid;
        LogPath = logPath;
    }

    public string Name { get; }
    public int Pid { get; }
    public string LogPath { get; }

    public bool IsRunning => IsAlive(Pid);

    public static LabProcess Start(string name, string netns, string program, IEnumerable<string> args, string logPath)
    {
        var command = string.Join(' ', new[] { "exec", "setsid", "ip", "netns", "exec", netns, program }.Concat(args).Select(Quote))
            + $" >>{Quote(logPath)} 2>&1 </dev/null";
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {name}");
        return new LabProcess(name, process.Id, logPath);
    }

    /// <summary>Re-attaches to a process of a kept lab.</summary>
    public static LabProcess Attach(string name, int pid, string logPath) => new(name, pid, logPath);

    public string Log => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "";

    public async Task WaitForLogAsync(string text, TimeSpan timeout, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        while (!Log.Contains(text, StringComparison.Ordinal))
        {
            if (!IsRunning)
            {
                throw new InvalidOperationException($"{Name} exited before printing \"{text}\":\n{Tail(Log)}");
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"{Name} did not print \"{text}\" within {timeout.TotalSeconds:0} s:\n{Tail(Log)}");
            }
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL: no chance to say goodbye, as when a node dies.</summary>
    public void Kill() => Signal("KILL");

    /// <summary>SIGTERM, then SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Signal("TERM");
        var clock = Stopwatch.StartNew();
        while (IsRunning && clock.Elapsed < grace)
        {
            await Task.Delay(20).ConfigureAwait(false);
        }
        Kill();
    }

    /// <summary>SIGSTOP / SIGCONT: frozen, its connections open but silent (an API server that hangs).</summary>
    public void Pause() => Signal("STOP");

    public void Resume() => Signal("CONT");

    public static bool IsAlive(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        if (!File.Exists(stat))
        {
            return false;
        }
        try
        {
            // A zombie (state Z) has exited; its parent just has not reaped it yet.
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Signals the whole process group (the program runs in a session of its own), so daemons' children go too.</summary>
    private void Signal(string signal)
    {
        if (!IsAlive(Pid))
        {
            return;
        }
        var target = IsGroupLeader(Pid) ? $"-{Pid.ToString(CultureInfo.InvariantCulture)}" : Pid.ToString(CultureInfo.InvariantCulture);
        var info = new ProcessStartInfo("kill") { UseShellExecute = false };
        foreach (var arg in new[] { $"-{signal}", "--", target })
        {
            info.ArgumentList.Add(arg);
        }
        using var kill = Process.Start(info);
        kill?.WaitForExit();
    }

    private static bool IsGroupLeader(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
            return fields.Length > 2 && fields[2] == pid.ToString(CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return false;
        }
    }

    public static string Tail(string text, int lines = 40)
    {
        var all = text.Split('\n');
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }

    private static string Quote(string s) => s.Length > 0 && s.All(c => char.IsAsciiLetterOrDigit(c) || "-_./=:,@+".Contains(c))
        ? s
        : "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}

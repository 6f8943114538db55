using System.Diagnostics;
using System.Text;

namespace BareLb.NetTestSupport;

public sealed record CommandResult(string Command, int ExitCode, string StandardOutput, string StandardError, bool TimedOut)
{
    public void EnsureSuccess()
    {
        if (ExitCode != 0 || TimedOut)
        {
            throw new InvalidOperationException(
                $"`{Command}` {(TimedOut ? "timed out" : $"exited with {ExitCode}")}: {StandardError.Trim()} {StandardOutput.Trim()}");
        }
    }
}

/// <summary>Runs external commands (ip, nft, arping, vtysh, ...) with a time bound, capturing their output.</summary>
public static class Shell
{
    public static async Task<CommandResult> RunAsync(string file, IEnumerable<string> args, TimeSpan timeout, CancellationToken ct, string? stdin = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }
        var command = file + " " + string.Join(' ', info.ArgumentList);
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {command}");
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin).ConfigureAwait(false);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bound.CancelAfter(timeout);
        var timedOut = false;
        try
        {
            await process.WaitForExitAsync(bound.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            timedOut = true;
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        }
        return new CommandResult(command, timedOut ? -1 : process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), timedOut);
    }

    public static async Task<string> RunCheckedAsync(string file, IEnumerable<string> args, CancellationToken ct)
    {
        var result = await RunAsync(file, args, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        result.EnsureSuccess();
        return result.StandardOutput;
    }
}

/// <summary>A process started in a namespace; output is captured line by line for assertions and failure messages.</summary>
public sealed class BackgroundProcess
{
    private readonly StringBuilder _output = new();
    private readonly object _gate = new();

    internal BackgroundProcess(ProcessStartInfo info)
    {
        Process = new Process { StartInfo = info, EnableRaisingEvents = true };
        Process.OutputDataReceived += (_, e) => Append(e.Data);
        Process.ErrorDataReceived += (_, e) => Append(e.Data);
        Process.Start();
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public Process Process { get; }

    public int Id => Process.Id;

    public bool HasExited => Process.HasExited;

    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Waits until a line containing <paramref name="text"/> was printed; fails with the output so far.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = Stopwatch.StartNew();
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (Process.HasExited)
            {
                // The last lines may still be on their way from the pipe: wait for end of output, then look again.
                Process.WaitForExit();
                if (Output.Contains(text, StringComparison.Ordinal))
                {
                    return;
                }
                throw new InvalidOperationException($"process exited ({Process.ExitCode}) before printing '{text}':\n{Output}");
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"'{text}' not printed within {timeout}:\n{Output}");
            }
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Writes one line to the process's standard input (started with <c>standardInput: true</c>).</summary>
    public async Task SendLineAsync(string line)
    {
        await Process.StandardInput.WriteLineAsync(line).ConfigureAwait(false);
        await Process.StandardInput.FlushAsync().ConfigureAwait(false);
    }

    /// <summary>Waits until <paramref name="text"/> appears in the output after position <paramref name="from"/>; returns the position after it.</summary>
    public async Task<int> WaitForOutputAfterAsync(int from, string text, TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var output = Output;
            var at = from <= output.Length ? output.IndexOf(text, from, StringComparison.Ordinal) : -1;
            if (at >= 0)
            {
                return at + text.Length;
            }
            if (Process.HasExited)
            {
                Process.WaitForExit();
                output = Output;
                at = from <= output.Length ? output.IndexOf(text, from, StringComparison.Ordinal) : -1;
                if (at >= 0)
                {
                    return at + text.Length;
                }
                throw new InvalidOperationException($"process exited ({Process.ExitCode}) before printing '{text}':\n{output}");
            }
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"'{text}' not printed within {timeout}:\n{output}");
            }
            await Task.Delay(20, ct).ConfigureAwait(false);
        }
    }

    /// <summary>SIGKILL: the process gets no chance to clean up, as when a node dies.</summary>
    public void KillHard()
    {
        try
        {
            Process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
        }
    }

    /// <summary>SIGTERM, then waits for a graceful exit.</summary>
    public async Task<bool> StopAsync(TimeSpan timeout)
    {
        if (Process.HasExited)
        {
            return true;
        }
        _ = await Shell.RunAsync("kill", ["-TERM", Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await Process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            KillHard();
            return false;
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_gate)
        {
            _output.AppendLine(line);
        }
    }
}

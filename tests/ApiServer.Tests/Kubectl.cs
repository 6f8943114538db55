using System.Diagnostics;
using System.Text;

namespace BareLb.ApiServer.Tests;

// Runs the machine's kubectl against a server with a private HOME, kubeconfig and discovery cache.
internal sealed class Kubectl : IDisposable
{
    public const string Binary = "/usr/bin/kubectl";
    private readonly DirectoryInfo _home;
    private readonly string _kubeconfig;

    public Kubectl(InMemoryApiServer server, string? token)
    {
        if (!File.Exists(Binary))
        {
            Assert.Fail($"kubectl is not installed at {Binary}; it is part of the machine image and the kubectl compatibility tests need it");
        }

        _home = Directory.CreateTempSubdirectory("barelb-kubectl-");
        _kubeconfig = server.WriteKubeconfig(Path.Combine(_home.FullName, ".kube", "config"), token);
    }

    public string WriteFile(string name, string content)
    {
        var path = Path.Combine(_home.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    public ProcessStartInfo StartInfo(params string[] args)
    {
        var psi = new ProcessStartInfo(Binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = _home.FullName;
        psi.Environment["KUBECONFIG"] = _kubeconfig;
        psi.Environment["KUBECACHEDIR"] = Path.Combine(_home.FullName, "cache");
        return psi;
    }

    public async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        using var process = Process.Start(StartInfo(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"kubectl {string.Join(' ', args)} did not finish in 30 s");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    public async Task<string> OkAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunAsync(args);
        Assert.True(code == 0, $"kubectl {string.Join(' ', args)} exited {code}\nstdout: {stdout}\nstderr: {stderr}");
        return stdout;
    }

    public static string[] Lines(string output) =>
        output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    public static string[] Cells(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    public void Dispose() => _home.Delete(true);
}

internal static class ProcessOutput
{
    // Collects a long-running process's stdout so a test can wait for a line.
    public static (StringBuilder Buffer, Func<string, TimeSpan, Task<bool>> WaitFor) Capture(Process process)
    {
        var buffer = new StringBuilder();
        var gate = new object();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (gate)
                {
                    buffer.AppendLine(e.Data);
                }
            }
        };
        process.BeginOutputReadLine();

        async Task<bool> WaitFor(string text, TimeSpan timeout)
        {
            var deadline = DateTime.UtcNow + timeout;
            while (DateTime.UtcNow < deadline)
            {
                lock (gate)
                {
                    if (buffer.ToString().Contains(text, StringComparison.Ordinal))
                    {
                        return true;
                    }
                }

                await Task.Delay(50);
            }

            return false;
        }

        return (buffer, WaitFor);
    }
}

using System.Diagnostics;
using System.Text.Json.Nodes;

namespace BareLb.ApiServer.Tests;

public sealed class ExecutableTests
{
    [Fact]
    public async Task Executable_Start_PrintsListeningLineServesAndStopsOnSigterm()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "barelb-apiserver.dll");
        Assert.True(File.Exists(dll), dll);
        var dir = Directory.CreateTempSubdirectory("barelb-exe-");
        var kubeconfig = Path.Combine(dir.FullName, "kubeconfig");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { dll, "--bind", "127.0.0.1", "--port", "0", "--https", "--token", "t0k", "--kubeconfig", kubeconfig })
        {
            psi.ArgumentList.Add(a);
        }

        using var process = Process.Start(psi)!;
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            var line = await process.StandardOutput.ReadLineAsync(cts.Token);
            Assert.NotNull(line);
            Assert.Matches(@"^listening on https://127\.0\.0\.1:\d+$", line);
            var url = line!["listening on ".Length..];
            Assert.Contains("server: " + url, File.ReadAllText(kubeconfig), StringComparison.Ordinal);

            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
            using var http = new HttpClient(handler) { BaseAddress = new Uri(url) };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "t0k");
            var body = JsonNode.Parse(await http.GetStringAsync("/api/v1/namespaces/default"))!;
            Assert.Equal("default", body["metadata"]!["name"]!.GetValue<string>());

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill!.WaitForExitAsync(cts.Token);
            }

            await process.WaitForExitAsync(cts.Token);
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }

            dir.Delete(true);
        }
    }

    [Fact]
    public async Task Executable_UnknownArgument_ExitsWithUsage()
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "barelb-apiserver.dll"));
        psi.ArgumentList.Add("--nope");
        using var process = Process.Start(psi)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("usage: barelb-apiserver", stderr, StringComparison.Ordinal);
    }
}

using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.Config;
using BareLb.Lab;
using BareLb.NetTestSupport;

var nodes = new Option<int>("--nodes") { Description = "Number of node namespaces.", DefaultValueFactory = _ => 3 };
var failover = new Option<bool>("--failover") { Description = "Kill the owning node (speaker SIGKILL, link down) and print the outage." };
var ipv6 = new Option<bool>("--ipv6") { Description = "Show (and fail over) an IPv6 address." };
var dual = new Option<bool>("--dual-stack") { Description = "Show (and fail over) a dual-stack Service's IPv4 and IPv6 addresses." };
var mode = new Option<string>("--mode") { Description = "l2 (ARP/NDP) or bgp.", DefaultValueFactory = _ => "l2" };
var keep = new Option<bool>("--keep") { Description = "Leave the lab running; print how to reach it with kubectl." };
var down = new Option<bool>("--down") { Description = "Remove labs left running with --keep, then exit." };
var stateRoot = new Option<string>("--state") { Description = "Folder for logs, kubeconfig and kept labs.", DefaultValueFactory = _ => "/tmp/barelb-lab" };

var root = new RootCommand("barelb-lab: a bare-metal cluster network in network namespaces, with BareLb running in it")
{
    nodes, failover, ipv6, dual, mode, keep, down, stateRoot,
};
root.SetAction(async (parse, ct) =>
{
    if (parse.GetValue(down))
    {
        var removed = await LabEnvironment.DownAsync(parse.GetValue(stateRoot)!);
        Console.WriteLine(removed == 0 ? "no kept lab to remove" : $"removed {removed} lab(s)");
        return 0;
    }
    var labMode = parse.GetValue(mode) switch
    {
        "l2" => (LabMode?)LabMode.Layer2,
        "bgp" => LabMode.Bgp,
        _ => null,
    };
    if (labMode is null)
    {
        Console.Error.WriteLine($"barelb-lab: --mode: \"{parse.GetValue(mode)}\" is not l2 or bgp");
        return 2;
    }
    if (NetnsCapability.MissingReason is { } why)
    {
        Console.Error.WriteLine($"barelb-lab: {why}");
        return 2;
    }
    return await RunAsync(parse.GetValue(nodes), labMode.Value, parse.GetValue(failover), parse.GetValue(ipv6), parse.GetValue(dual), parse.GetValue(keep),
        parse.GetValue(stateRoot)!, ct);
});

var backend = new Command("backend", "The HTTP stand-in for a Service's pods on one node (run by the lab).")
{
    new Option<string>("--name") { Required = true },
    new Option<int>("--port") { DefaultValueFactory = _ => LabAddressing.BackendPort },
};
backend.SetAction((parse, ct) => HttpBackend.RunAsync(parse.GetValue<string>("--name")!, parse.GetValue<int>("--port"), ct));
root.Subcommands.Add(backend);

var agent = new Command("agent", "Keeps EndpointSlices for the lab's LoadBalancer Services (run by the lab).")
{
    new Option<string>("--kubeconfig") { Required = true },
};
agent.SetAction(async (parse, ct) =>
{
    using var client = new KubernetesClient(ApiConnection.FromKubeconfig(parse.GetValue<string>("--kubeconfig")!));
    await new EndpointSliceAgent(client).RunAsync(ct);
});
root.Subcommands.Add(agent);

return await root.Parse(args).InvokeAsync();

static async Task<int> RunAsync(int nodeCount, LabMode mode, bool failover, bool ipv6, bool dual, bool keep, string stateRoot, CancellationToken ct)
{
    var clock = Stopwatch.StartNew();
    void Say(string text) => Console.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0.0}s] {text}");

    // Ctrl-C and SIGTERM cancel; the finally below removes everything on every path.
    using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
    using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
    var repo = RepositoryRoot();
    LabEnvironment? lab = null;
    try
    {
        lab = await LabEnvironment.StartAsync(new LabOptions { Nodes = nodeCount, Mode = mode, RepositoryRoot = repo, StateRoot = stateRoot }, Say, stop.Token);
        Say("waiting for every LoadBalancer Service to get its addresses");
        var services = await lab.WaitForAddressesAsync(TimeSpan.FromSeconds(60), stop.Token);

        if (mode == LabMode.Bgp)
        {
            Say($"waiting for the router to have a route with all {nodeCount} nodes as next hops for every address");
            var addresses = services.SelectMany(s => s.Status?.LoadBalancer?.Ingress ?? []).Select(i => IPAddress.Parse(i.Ip)).Distinct().ToList();
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(60))
            {
                var hops = await Task.WhenAll(addresses.Select(a => lab.NextHopsAsync(a, stop.Token)));
                if (hops.All(h => h == nodeCount))
                {
                    break;
                }
                await Task.Delay(250, stop.Token);
            }
        }
        Say("asking every address from the client namespace (HTTP, as curl)");
        var rows = new List<string[]>();
        foreach (var service in services.OrderBy(s => s.Metadata.NamespaceProperty).ThenBy(s => s.Metadata.Name))
        {
            var port = service.Spec.Ports?.FirstOrDefault(p => (p.Protocol ?? "TCP") == "TCP")?.Port ?? 80;
            foreach (var ingress in service.Status?.LoadBalancer?.Ingress ?? [])
            {
                var address = IPAddress.Parse(ingress.Ip);
                var answer = await AnswerAsync(lab, address, port, stop.Token);
                // Layer 2: the node whose MAC the client resolved. BGP: the router spreads flows over every node (ECMP).
                var owner = mode == LabMode.Bgp
                    ? $"ECMP ({await lab.NextHopsAsync(address, stop.Token)} next hops)"
                    : lab.NodeByMac(await lab.ClientNeighbourAsync(address, stop.Token))?.Name ?? "-";
                rows.Add([$"{service.Metadata.NamespaceProperty}/{service.Metadata.Name}", $"{Host(address)}:{port}", owner, answer ?? "(no answer)", "-"]);
            }
            if (service.Status?.LoadBalancer?.Ingress is not { Count: > 0 })
            {
                rows.Add([$"{service.Metadata.NamespaceProperty}/{service.Metadata.Name}", "(pending)", "-", "-", "-"]);
            }
        }

        if (failover)
        {
            var target = services.Single(s => s.Metadata.Name == (ipv6 || dual ? "web-dual" : "web-ipv4"));
            var port = target.Spec.Ports![0].Port;
            var addresses = target.Status!.LoadBalancer!.Ingress!.Select(i => IPAddress.Parse(i.Ip))
                .Where(a => dual || (ipv6 ? a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 : a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
                .ToList();
            foreach (var address in addresses)
            {
                Say($"failover: killing the node that answers {Host(address)} (speaker SIGKILL, link down)");
                var result = await FailoverMeter.KillOwnerAndMeasureAsync(lab, address, port, TimeSpan.FromSeconds(30), stop.Token);
                Say($"failover: {Host(address)} moved from {result.From} to {result.To}; the client was without an answer for {result.Outage.TotalMilliseconds:0} ms");
                rows.Add([$"{target.Metadata.NamespaceProperty}/{target.Metadata.Name}", $"{Host(address)}:{port}", result.To, result.To,
                    $"{result.Outage.TotalMilliseconds:0} ms (was {result.From})"]);
                await lab.ReviveNodeAsync(lab.Nodes.Single(n => n.Name == result.From), stop.Token);
            }
        }

        Console.WriteLine();
        Print(["SERVICE", "ADDRESS", "OWNER NODE", "CURL ANSWER", "OUTAGE"], rows);
        Console.WriteLine();
        if (keep)
        {
            lab.Keep();
            Console.WriteLine($"The lab keeps running (id {lab.Id}). Its API server lives in namespace {lab.ApiNamespace.Name}; kubeconfig: {lab.KubeconfigPath}");
            Console.WriteLine($"  ip netns exec {lab.ApiNamespace.Name} kubectl --kubeconfig {lab.KubeconfigPath} get svc,ipaddresspools -A");
            Console.WriteLine($"Logs are in {lab.WorkDirectory}. Remove it with: bash lab/run.sh --down");
        }
        var failed = rows.Count(r => r[3] == "(no answer)" || r[1] == "(pending)");
        Say(failed == 0 ? "lab: every address answered" : $"lab: {failed} address(es) did not answer; logs in {lab.WorkDirectory}");
        if (failed > 0)
        {
            foreach (var process in lab.Processes)
            {
                Console.WriteLine($"--- {process.Name} ---\n{LabProcess.Tail(process.Log, 15)}");
            }
        }
        return failed == 0 ? 0 : 1;
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
        Say("interrupted: removing the lab");
        return 130;
    }
    catch (Exception e)
    {
        Console.Error.WriteLine($"barelb-lab: {e.Message}");
        if (lab is not null)
        {
            foreach (var process in lab.Processes)
            {
                Console.Error.WriteLine($"--- {process.Name} ({process.LogPath}) ---\n{LabProcess.Tail(process.Log, 15)}");
            }
        }
        return 1;
    }
    finally
    {
        if (lab is not null)
        {
            await lab.DisposeAsync();
        }
    }
}

static async Task<string?> AnswerAsync(LabEnvironment lab, IPAddress address, int port, CancellationToken ct)
{
    // The first request also resolves the address (ARP/NDP); give the speakers' plan a moment to settle.
    for (var attempt = 0; attempt < 20; attempt++)
    {
        if (await lab.GetAsync(address, port, TimeSpan.FromSeconds(1), ct) is { } answer)
        {
            return answer;
        }
        await Task.Delay(250, ct);
    }
    return null;
}

static string Host(IPAddress address) => address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString();

static void Print(string[] header, List<string[]> rows)
{
    var widths = header.Select((h, i) => Math.Max(h.Length, rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
    Console.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))));
    foreach (var row in rows)
    {
        Console.WriteLine(string.Join("  ", row.Select((c, i) => c.PadRight(widths[i]))));
    }
}

static string RepositoryRoot()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
    {
        if (File.Exists(Path.Combine(dir.FullName, "BareLb.sln")))
        {
            return dir.FullName;
        }
    }
    throw new InvalidOperationException($"BareLb.sln not found above {AppContext.BaseDirectory}");
}

using System.Globalization;
using System.Net;

namespace BareLb.Lab;

/// <summary>
/// keepalived (VRRP) on the lab's nodes, for a side-by-side failover comparison on the same topology: one virtual
/// address held by the master, equal priorities with <c>nopreempt</c> so that a node coming back does not take it
/// back. The backend answers on the address directly at <see cref="LabAddressing.BackendPort"/>.
/// </summary>
public sealed class Keepalived(LabEnvironment lab, IPAddress address, TimeSpan advertInterval)
{
    private readonly Dictionary<LabNode, LabProcess> _processes = [];

    public IPAddress Address { get; } = address;

    public void Start(LabNode node)
    {
        var dir = Path.Combine(lab.WorkDirectory, $"keepalived-{node.Name}");
        Directory.CreateDirectory(dir);
        // A SIGKILLed instance leaves its pid files; once the pid is reused by another process, keepalived takes
        // itself for running and exits, and the comparison runs with one instance fewer than it shows.
        foreach (var pidFile in Directory.GetFiles(dir, "*.pid"))
        {
            File.Delete(pidFile);
        }
        var config = Path.Combine(dir, "keepalived.conf");
        var interval = advertInterval.TotalSeconds.ToString("0.##", CultureInfo.InvariantCulture);
        File.WriteAllText(config, $$"""
            global_defs {
              router_id {{node.Name}}
              vrrp_version 3
              vrrp_garp_master_delay 0
            }
            vrrp_instance lab {
              state BACKUP
              nopreempt
              interface eth0
              virtual_router_id 51
              priority 100
              advert_int {{interval}}
              virtual_ipaddress {
                {{Address}}/24
              }
            }
            """);
        _processes[node] = lab.StartProcess($"keepalived-{node.Name}", node,
            "keepalived", ["--dont-fork", "--log-console", "--vrrp", "-f", config,
                "-p", Path.Combine(dir, "keepalived.pid"), "-r", Path.Combine(dir, "vrrp.pid"), "-c", Path.Combine(dir, "checkers.pid")]);
    }

    public void StartAll()
    {
        foreach (var node in lab.Nodes)
        {
            Start(node);
        }
    }

    /// <summary>
    /// The node holding the virtual address, once exactly one does, and the client made to resolve it afresh. Right
    /// after a start, or with 50 ms adverts, several instances can become master at once and step down again; the
    /// client's neighbour entry may then point at one that has stepped down (its node still serves the address through
    /// the lab's redirect), and killing that node would measure nothing. The client's entry is dropped so its next
    /// packet is resolved by the master's kernel, the only one holding the address.
    /// </summary>
    public async Task<LabNode> MasterAsync(TimeSpan timeout)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (_processes.FirstOrDefault(p => p.Key.LinkUp && !p.Value.IsRunning) is { Key: { } stopped, Value: { } process })
            {
                throw new InvalidOperationException($"keepalived on {stopped.Name} is not running:\n{LabProcess.Tail(process.Log)}");
            }
            var holders = new List<LabNode>();
            foreach (var node in lab.Nodes.Where(n => n.LinkUp))
            {
                var text = await node.Namespace.IpAsync(default, "-o", "addr", "show", "dev", "eth0").ConfigureAwait(false);
                if (text.Contains($" {Address}/", StringComparison.Ordinal))
                {
                    holders.Add(node);
                }
            }
            if (holders.Count == 1)
            {
                // Held by one for a few adverts: the election is over.
                await Task.Delay(advertInterval * 4).ConfigureAwait(false);
                var again = await holders[0].Namespace.IpAsync(default, "-o", "addr", "show", "dev", "eth0").ConfigureAwait(false);
                if (again.Contains($" {Address}/", StringComparison.Ordinal))
                {
                    await lab.ClientNamespace.ExecAsync("ip", ["neigh", "del", Address.ToString(), "dev", "eth0"]).ConfigureAwait(false);
                    return holders[0];
                }
            }
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"keepalived: {holders.Count} nodes hold {Address} after {timeout.TotalSeconds:0} s ({string.Join(", ", holders.Select(h => h.Name))})");
            }
            await Task.Delay(100).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the master's keepalived (SIGKILL) and takes its link down; returns the Stopwatch timestamp of its death.</summary>
    public async Task<long> KillAsync(LabNode node)
    {
        _processes[node].Kill();
        await KillVrrpChildrenAsync(node).ConfigureAwait(false);
        var died = System.Diagnostics.Stopwatch.GetTimestamp();
        await node.Namespace.IpAsync(default, "link", "set", "eth0", "down").ConfigureAwait(false);
        node.LinkUp = false;
        return died;
    }

    public async Task ReviveAsync(LabNode node)
    {
        await node.Namespace.IpAsync(default, "link", "set", "eth0", "up").ConfigureAwait(false);
        node.LinkUp = true;
        // keepalived removes the address when it stops; a SIGKILLed one leaves it behind on the dead node.
        await node.Namespace.ExecAsync("ip", ["addr", "del", $"{Address}/24", "dev", "eth0"]).ConfigureAwait(false);
        Start(node);
    }

    /// <summary>keepalived's VRRP child may outlive its parent; every keepalived process in the node's namespace goes.</summary>
    private static async Task KillVrrpChildrenAsync(LabNode node)
    {
        var pids = await BareLb.NetTestSupport.Shell.RunAsync("ip", ["netns", "pids", node.Namespace.Name], TimeSpan.FromSeconds(5), default).ConfigureAwait(false);
        foreach (var text in pids.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (int.TryParse(text.Trim(), out var pid) && File.Exists($"/proc/{pid}/comm") &&
                File.ReadAllText($"/proc/{pid}/comm").Trim() == "keepalived")
            {
                LabProcess.Attach("keepalived", pid, "").Kill();
            }
        }
    }

    /// <summary>
    /// Stops every instance and removes the virtual address wherever a SIGKILLed master left it: left behind, the
    /// node's kernel goes on answering ARP for it, and the next comparison (or test) sees two holders.
    /// </summary>
    public async Task StopAllAsync()
    {
        foreach (var (node, process) in _processes)
        {
            process.Kill();
            await KillVrrpChildrenAsync(node).ConfigureAwait(false);
            await node.Namespace.ExecAsync("ip", ["addr", "del", $"{Address}/24", "dev", "eth0"]).ConfigureAwait(false);
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.Config;
using BareLb.NetTestSupport;
using k8s.Models;

namespace BareLb.Lab;

public enum LabMode { Layer2, Bgp }

public sealed record LabOptions
{
    public int Nodes { get; init; } = 3;

    /// <summary>Layer 2: the client on the nodes' LAN. BGP: the client behind a router (FRR) that peers with the nodes.</summary>
    public LabMode Mode { get; init; } = LabMode.Layer2;

    /// <summary>The repository (crds/, examples/, the built programs).</summary>
    public required string RepositoryRoot { get; init; }

    /// <summary>Where logs, the kubeconfig and the state of a kept lab go; a fresh folder per lab under it.</summary>
    public string StateRoot { get; init; } = "/tmp/barelb-lab";

    /// <summary>Apply examples/ once the control plane runs (the lab command); tests bring their own objects.</summary>
    public bool ApplyExamples { get; init; } = true;

    /// <summary>Build configuration of the programs to run.</summary>
    public string Configuration { get; init; } = "Release";

    /// <summary>Extra arguments for every speaker (tests shorten timings).</summary>
    public IReadOnlyList<string> SpeakerArguments { get; init; } = [];
}

/// <summary>One node of the lab: its namespace, addresses, MAC, and the programs on it.</summary>
public sealed class LabNode
{
    public required string Name { get; init; }
    public required int Index { get; init; }
    public required NetworkNamespace Namespace { get; init; }
    public required IPAddress V4 { get; init; }
    public required IPAddress V6 { get; init; }
    public required string Mac { get; init; }
    public LabProcess? Speaker { get; set; }
    public LabProcess? Backend { get; set; }
    public bool LinkUp { get; set; } = true;
}

/// <summary>
/// A bare-metal cluster network on one machine, built from network namespaces: N nodes, an API server and a client on
/// one bridge. Runs the in-memory API server and the real controller in the API server's namespace, one real speaker
/// and a small HTTP backend per node (the stand-in for the pods; kube-proxy's part is an nftables redirect of every TCP
/// connection for a non-local address to the backend, as kube-proxy's iptables mode DNATs a LoadBalancer address
/// without configuring it, so the node's kernel never answers ARP/NDP for it — only the speaker does). The Nodes and
/// EndpointSlices are real objects in the API server. Everything is removed on dispose (unless kept).
/// </summary>
public sealed class LabEnvironment : IAsyncDisposable
{
    public const string Prefix = "bll-";
    public const string SystemNamespace = "barelb-system";

    private readonly List<NetworkNamespace> _namespaces = [];
    private readonly List<LabProcess> _processes = [];
    private readonly Action<string> _progress;
    private NamespaceSockets? _apiSockets;
    private NamespaceSockets? _clientSockets;
    private KubernetesClient? _client;
    private bool _kept;

    private LabEnvironment(LabOptions options, string id, Action<string> progress)
    {
        Options = options;
        Id = id;
        WorkDirectory = Path.Combine(options.StateRoot, id);
        _progress = progress;
        Directory.CreateDirectory(WorkDirectory);
    }

    public LabOptions Options { get; }
    public string Id { get; }
    public string WorkDirectory { get; }
    public string KubeconfigPath => Path.Combine(WorkDirectory, "kubeconfig");
    public NetworkNamespace Switch { get; private set; } = null!;
    public NetworkNamespace ApiNamespace { get; private set; } = null!;
    public NetworkNamespace ClientNamespace { get; private set; } = null!;

    /// <summary>BGP mode only: the router namespace (FRR), between the LAN and the client.</summary>
    public NetworkNamespace? RouterNamespace { get; private set; }
    public IReadOnlyList<LabNode> Nodes { get; private set; } = [];
    public LabProcess ApiServer { get; private set; } = null!;
    public LabProcess Controller { get; private set; } = null!;
    public LabProcess Agent { get; private set; } = null!;

    /// <summary>A client of the lab's API server, connecting from inside the API server's namespace.</summary>
    public KubernetesClient Client => _client ?? throw new InvalidOperationException("the lab is not started");

    public IEnumerable<LabProcess> Processes => _processes;

    public static async Task<LabEnvironment> StartAsync(LabOptions options, Action<string>? progress = null, CancellationToken ct = default)
    {
        if (options.Nodes is < 1 or > LabAddressing.MaxNodes)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.Nodes, $"--nodes must be 1 to {LabAddressing.MaxNodes}");
        }
        await RemoveLeftoversAsync(options.StateRoot).ConfigureAwait(false);
        var lab = new LabEnvironment(options, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3)), progress ?? (_ => { }));
        try
        {
            await lab.BuildNetworkAsync(ct).ConfigureAwait(false);
            await lab.StartControlPlaneAsync(ct).ConfigureAwait(false);
            await lab.StartNodesAsync(ct).ConfigureAwait(false);
            lab.SaveState();
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private string Program(string project, string assembly) =>
        Path.Combine(Options.RepositoryRoot, "src", project, "bin", Options.Configuration, "net10.0", assembly);

    private string LabProgram => Path.Combine(Options.RepositoryRoot, "lab", "BareLb.Lab", "bin", Options.Configuration, "net10.0", "barelb-lab");

    private string Log(string name) => Path.Combine(WorkDirectory, name + ".log");

    private async Task<NetworkNamespace> NamespaceAsync(string role, CancellationToken ct)
    {
        var ns = await NetworkNamespace.CreateNamedAsync($"{Prefix}{Id}-{role}", ct).ConfigureAwait(false);
        _namespaces.Add(ns);
        return ns;
    }

    private async Task BuildNetworkAsync(CancellationToken ct)
    {
        _progress($"network: switch, API server, client and {Options.Nodes} nodes (namespaces {Prefix}{Id}-*)");
        Switch = await NamespaceAsync("sw", ct).ConfigureAwait(false);
        await Switch.IpAsync(ct, "link", "add", "br0", "type", "bridge", "forward_delay", "0").ConfigureAwait(false);
        await Switch.IpAsync(ct, "link", "set", "br0", "up").ConfigureAwait(false);

        ApiNamespace = await NamespaceAsync("api", ct).ConfigureAwait(false);
        await AttachAsync(ApiNamespace, 0, LabAddressing.ApiV4, LabAddressing.ApiV6, ct).ConfigureAwait(false);

        ClientNamespace = await NamespaceAsync("client", ct).ConfigureAwait(false);
        if (Options.Mode == LabMode.Bgp)
        {
            await BuildRouterAsync(ct).ConfigureAwait(false);
        }
        else
        {
            await AttachAsync(ClientNamespace, 99, LabAddressing.ClientV4, LabAddressing.ClientV6, ct).ConfigureAwait(false);
            foreach (var route in LabAddressing.OnLinkRoutes)
            {
                await ClientNamespace.IpAsync(ct, route.Contains(':') ? "-6" : "-4", "route", "add", route, "dev", "eth0").ConfigureAwait(false);
            }
        }

        var nodes = new List<LabNode>();
        for (var n = 1; n <= Options.Nodes; n++)
        {
            var ns = await NamespaceAsync($"node{n}", ct).ConfigureAwait(false);
            var mac = await AttachAsync(ns, n, LabAddressing.NodeV4(n), LabAddressing.NodeV6(n), ct).ConfigureAwait(false);
            // kube-proxy's stand-in: a connection to any address this node does not own is taken by the local backend.
            await ns.ExecCheckedAsync("nft", ["-f", "-"], stdin: $$"""
                table inet barelb-lab {
                  chain prerouting {
                    type nat hook prerouting priority dstnat; policy accept;
                    fib daddr type != local meta l4proto tcp redirect to :{{LabAddressing.BackendPort}}
                  }
                }
                """, ct: ct).ConfigureAwait(false);
            if (Options.Mode == LabMode.Bgp)
            {
                // Replies to the client behind the router go back through it.
                await ns.IpAsync(ct, "-4", "route", "add", "default", "via", LabAddressing.RouterV4.ToString()).ConfigureAwait(false);
                await ns.IpAsync(ct, "-6", "route", "add", "default", "via", LabAddressing.RouterV6.ToString()).ConfigureAwait(false);
            }
            nodes.Add(new LabNode { Name = $"node{n}", Index = n, Namespace = ns, V4 = LabAddressing.NodeV4(n), V6 = LabAddressing.NodeV6(n), Mac = mac });
        }
        Nodes = nodes;
    }

    /// <summary>
    /// The router: on the LAN as .1, and on a second link to the client (a veth pair: the client's only way in). It
    /// forwards, and hashes flows by ports too, so one client's connections spread over every next hop (ECMP).
    /// </summary>
    private async Task BuildRouterAsync(CancellationToken ct)
    {
        RouterNamespace = await NamespaceAsync("router", ct).ConfigureAwait(false);
        await AttachAsync(RouterNamespace, 98, LabAddressing.RouterV4, LabAddressing.RouterV6, ct).ConfigureAwait(false);
        await RouterNamespace.IpAsync(ct, "link", "add", "eth1", "type", "veth", "peer", "name", "eth0", "netns", ClientNamespace.Name).ConfigureAwait(false);
        await RouterNamespace.IpAsync(ct, "addr", "add", $"{LabAddressing.RouterOutsideV4}/{LabAddressing.OutsidePrefixV4}", "dev", "eth1").ConfigureAwait(false);
        await RouterNamespace.IpAsync(ct, "addr", "add", $"{LabAddressing.RouterOutsideV6}/64", "dev", "eth1", "nodad").ConfigureAwait(false);
        await RouterNamespace.IpAsync(ct, "link", "set", "eth1", "up").ConfigureAwait(false);
        await RouterNamespace.ExecCheckedAsync("sysctl", ["-qw", "net.ipv4.ip_forward=1", "net.ipv6.conf.all.forwarding=1",
            "net.ipv4.fib_multipath_hash_policy=1", "net.ipv6.fib_multipath_hash_policy=1"], ct: ct).ConfigureAwait(false);
        await ClientNamespace.IpAsync(ct, "addr", "add", $"{LabAddressing.OutsideClientV4}/{LabAddressing.OutsidePrefixV4}", "dev", "eth0").ConfigureAwait(false);
        await ClientNamespace.IpAsync(ct, "addr", "add", $"{LabAddressing.OutsideClientV6}/64", "dev", "eth0", "nodad").ConfigureAwait(false);
        await ClientNamespace.IpAsync(ct, "link", "set", "eth0", "up").ConfigureAwait(false);
        await ClientNamespace.IpAsync(ct, "-4", "route", "add", "default", "via", LabAddressing.RouterOutsideV4.ToString()).ConfigureAwait(false);
        await ClientNamespace.IpAsync(ct, "-6", "route", "add", "default", "via", LabAddressing.RouterOutsideV6.ToString()).ConfigureAwait(false);
    }

    /// <summary>FRR (zebra + bgpd) on the router, peering with every node; routes reach the kernel with all their next hops.</summary>
    private async Task StartRouterAsync(CancellationToken ct)
    {
        var dir = Path.Combine(WorkDirectory, "frr");
        Directory.CreateDirectory(dir);
        var neighbours = string.Join('\n', Nodes.Select(n => $" neighbor {n.V4} peer-group nodes"));
        await File.WriteAllTextAsync(Path.Combine(dir, "zebra.conf"), "hostname zebra\n", ct).ConfigureAwait(false);
        await File.WriteAllTextAsync(Path.Combine(dir, "bgpd.conf"), $$"""
            frr defaults traditional
            hostname router
            router bgp {{LabAddressing.RouterAsn}}
             bgp router-id {{LabAddressing.RouterV4}}
             no bgp ebgp-requires-policy
             bgp bestpath as-path multipath-relax
             neighbor nodes peer-group
             neighbor nodes remote-as {{LabAddressing.NodeAsn}}
             neighbor nodes timers 1 3
            {{neighbours}}
             address-family ipv4 unicast
              maximum-paths 16
             exit-address-family
             address-family ipv6 unicast
              neighbor nodes activate
              maximum-paths 16
             exit-address-family

            """, ct).ConfigureAwait(false);
        // The daemons drop to the frr user (vty sockets belong to its frrvty group); it must own the directory.
        await Shell.RunCheckedAsync("chown", ["-R", "frr:frr", dir], ct).ConfigureAwait(false);
        string[] common = ["--vty_socket", dir, "-P", "0", "-u", "frr", "-g", "frr", "--log", "stdout"];
        Start("zebra", RouterNamespace!, "/usr/lib/frr/zebra", ["-f", Path.Combine(dir, "zebra.conf"), "-i", Path.Combine(dir, "zebra.pid"),
            "-z", Path.Combine(dir, "zserv.api"), .. common]);
        var zebraApi = Path.Combine(dir, "zserv.api");
        for (var wait = 0; wait < 100 && !File.Exists(zebraApi); wait++)
        {
            await Task.Delay(50, ct).ConfigureAwait(false);
        }
        Start("bgpd", RouterNamespace!, "/usr/lib/frr/bgpd", ["-f", Path.Combine(dir, "bgpd.conf"), "-i", Path.Combine(dir, "bgpd.pid"),
            "-z", zebraApi, .. common]);
    }

    /// <summary>BGP mode: how many next hops the router's kernel has for the address (its ECMP route).</summary>
    public async Task<int> NextHopsAsync(IPAddress address, CancellationToken ct = default)
    {
        var text = await RouterNamespace!.IpAsync(ct, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "-6" : "-4",
            "route", "show", address.ToString()).ConfigureAwait(false);
        var hops = text.Split('\n').Count(l => l.Contains("nexthop via", StringComparison.Ordinal));
        return hops > 0 ? hops : text.Contains(" via ", StringComparison.Ordinal) ? 1 : 0;
    }

    /// <summary>Runs vtysh against the lab's FRR (BGP mode).</summary>
    public async Task<string> VtyshAsync(string command, CancellationToken ct = default)
    {
        var result = await RouterNamespace!.ExecAsync("vtysh", ["--vty_socket", Path.Combine(WorkDirectory, "frr"), "-c", command], TimeSpan.FromSeconds(15), ct).ConfigureAwait(false);
        result.EnsureSuccess();
        return result.StandardOutput;
    }

    /// <summary>Plugs a namespace into the bridge as eth0 with its addresses; returns eth0's MAC.</summary>
    private async Task<string> AttachAsync(NetworkNamespace ns, int port, IPAddress v4, IPAddress v6, CancellationToken ct)
    {
        var bridgePort = $"p{port}";
        await Switch.IpAsync(ct, "link", "add", bridgePort, "type", "veth", "peer", "name", "eth0", "netns", ns.Name).ConfigureAwait(false);
        await Switch.IpAsync(ct, "link", "set", bridgePort, "master", "br0").ConfigureAwait(false);
        await Switch.IpAsync(ct, "link", "set", bridgePort, "up").ConfigureAwait(false);
        // A node whose link goes down and up (a killed node coming back) keeps its IPv6 addresses, as a rebooted
        // node comes back with its configuration; Linux's default drops them on link down.
        await ns.ExecCheckedAsync("sysctl", ["-q", "-w", "net.ipv6.conf.eth0.keep_addr_on_down=1"], ct: ct).ConfigureAwait(false);
        await ns.IpAsync(ct, "addr", "add", $"{v4}/{LabAddressing.PrefixV4}", "dev", "eth0").ConfigureAwait(false);
        await ns.IpAsync(ct, "addr", "add", $"{v6}/{LabAddressing.PrefixV6}", "dev", "eth0", "nodad").ConfigureAwait(false);
        await ns.IpAsync(ct, "link", "set", "eth0", "up").ConfigureAwait(false);
        var link = await ns.IpAsync(ct, "-j", "link", "show", "eth0").ConfigureAwait(false);
        return JsonNode.Parse(link)![0]!["address"]!.GetValue<string>();
    }

    private async Task StartControlPlaneAsync(CancellationToken ct)
    {
        _progress("starting barelb-apiserver");
        var token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        ApiServer = Start("apiserver", ApiNamespace, Program("ApiServer", "barelb-apiserver"),
            ["--bind", LabAddressing.ApiV4.ToString(), "--port", "6443", "--https", "--crds", Path.Combine(Options.RepositoryRoot, "crds"),
             "--kubeconfig", KubeconfigPath, "--token", token]);
        await ApiServer.WaitForLogAsync("listening on", TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);

        _apiSockets = new NamespaceSockets(ApiNamespace.Name);
        _client = new KubernetesClient(ApiConnection.FromKubeconfig(KubeconfigPath) with { ConnectCallback = _apiSockets.ConnectCallback });

        if (Options.Mode == LabMode.Bgp)
        {
            _progress("starting FRR on the router (zebra, bgpd)");
            await StartRouterAsync(ct).ConfigureAwait(false);
        }
        if (Options.ApplyExamples)
        {
            _progress("kubectl apply -f examples/");
            await KubectlAsync(ct, "apply", "-f", Path.Combine(Options.RepositoryRoot, "examples")).ConfigureAwait(false);
            if (Options.Mode == LabMode.Bgp)
            {
                _progress("kubectl apply -f lab/bgp.yaml (a BGPPeer for the router, a BGPAdvertisement for every pool)");
                await KubectlAsync(ct, "apply", "-f", Path.Combine(Options.RepositoryRoot, "lab", "bgp.yaml")).ConfigureAwait(false);
            }
        }
        else
        {
            await EnsureNamespaceAsync(SystemNamespace, ct).ConfigureAwait(false);
        }

        _progress("registering the nodes");
        for (var n = 1; n <= Options.Nodes; n++)
        {
            await RegisterNodeAsync($"node{n}", LabAddressing.NodeV4(n), LabAddressing.NodeV6(n), ct).ConfigureAwait(false);
        }

        _progress("starting barelb-controller");
        Controller = Start("controller", ApiNamespace, Program("Controller", "barelb-controller"),
            ["--kubeconfig", KubeconfigPath, "--namespace", SystemNamespace, "--identity", "lab-controller"]);
        Agent = Start("agent", ApiNamespace, LabProgram, ["agent", "--kubeconfig", KubeconfigPath]);
    }

    /// <summary>Starts a new controller (after the old one was stopped or killed).</summary>
    public LabProcess RestartController() =>
        Controller = Start("controller", ApiNamespace, Program("Controller", "barelb-controller"),
            ["--kubeconfig", KubeconfigPath, "--namespace", SystemNamespace, "--identity", "lab-controller"]);

    private async Task StartNodesAsync(CancellationToken ct)
    {
        _progress("starting a backend and barelb-speaker on every node");
        foreach (var node in Nodes)
        {
            node.Backend = Start($"backend-{node.Name}", node.Namespace, LabProgram, ["backend", "--name", node.Name, "--port", LabAddressing.BackendPort.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            StartSpeaker(node);
        }
        foreach (var node in Nodes)
        {
            await node.Backend!.WaitForLogAsync("listening", TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
            await node.Speaker!.WaitForLogAsync("caches synced", TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
        }
    }

    public void StartSpeaker(LabNode node) =>
        node.Speaker = Start($"speaker-{node.Name}", node.Namespace, Program("Speaker", "barelb-speaker"),
            ["--kubeconfig", KubeconfigPath, "--node-name", node.Name, "--namespace", SystemNamespace, .. Options.SpeakerArguments]);

    /// <summary>Runs another program on a node (keepalived for comparisons), stopped with the lab.</summary>
    public LabProcess StartProcess(string name, LabNode node, string program, IEnumerable<string> args) => Start(name, node.Namespace, program, args);

    private LabProcess Start(string name, NetworkNamespace ns, string program, IEnumerable<string> args)
    {
        var process = LabProcess.Start(name, ns.Name, program, args, Log(name));
        _processes.Add(process);
        return process;
    }

    public async Task<string> KubectlAsync(CancellationToken ct, params string[] args)
    {
        var result = await ApiNamespace.ExecAsync("kubectl", ["--kubeconfig", KubeconfigPath, .. args], TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
        result.EnsureSuccess();
        return result.StandardOutput;
    }

    private async Task EnsureNamespaceAsync(string name, CancellationToken ct)
    {
        try
        {
            await Client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, ct).ConfigureAwait(false);
        }
        catch (AlreadyExistsException)
        {
        }
    }

    /// <summary>A Node object as a kubelet would keep it: Ready, with its InternalIPs, written through the status subresource.</summary>
    private async Task RegisterNodeAsync(string name, IPAddress v4, IPAddress v6, CancellationToken ct)
    {
        await Client.CreateAsync(CoreResources.Nodes, new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name } },
        }, ct).ConfigureAwait(false);
        var now = DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);
        await Client.PatchAsync(CoreResources.Nodes, null, name, new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["addresses"] = new JsonArray(
                    new JsonObject { ["type"] = "InternalIP", ["address"] = v4.ToString() },
                    new JsonObject { ["type"] = "InternalIP", ["address"] = v6.ToString() },
                    new JsonObject { ["type"] = "Hostname", ["address"] = name }),
                ["conditions"] = new JsonArray(new JsonObject
                {
                    ["type"] = "Ready", ["status"] = "True", ["reason"] = "KubeletReady", ["message"] = "lab node",
                    ["lastHeartbeatTime"] = now, ["lastTransitionTime"] = now,
                }),
            },
        }, status: true, ct).ConfigureAwait(false);
    }

    /// <summary>An HTTP GET from the client namespace on a new connection; the backend answers with its node's name.</summary>
    public async Task<string?> GetAsync(IPAddress address, int port, TimeSpan timeout, CancellationToken ct = default)
    {
        return await HttpProbe.GetAsync(ClientSockets, address, port, timeout, ct).ConfigureAwait(false);
    }

    /// <summary>The blocking form of <see cref="GetAsync"/>, for a measuring thread of its own.</summary>
    public string? Get(IPAddress address, int port, TimeSpan timeout) => HttpProbe.Get(ClientSockets, address, port, timeout);

    private NamespaceSockets ClientSockets => LazyInitializer.EnsureInitialized(ref _clientSockets, () => new NamespaceSockets(ClientNamespace.Name));

    /// <summary>Follows the client's neighbour table as its kernel changes it: each change is timed when it happens, nothing is polled.</summary>
    public NeighbourMonitor MonitorClientNeighbours() => new(ClientNamespace.Start("ip", ["-ts", "monitor", "neigh", "dev", "eth0"]));

    /// <summary>The node a LAN neighbour's MAC belongs to.</summary>
    public LabNode? NodeByMac(string? mac) => Nodes.FirstOrDefault(n => string.Equals(n.Mac, mac, StringComparison.OrdinalIgnoreCase));

    /// <summary>The MAC the client's kernel has for <paramref name="address"/> (its neighbour entry), or null.</summary>
    public async Task<string?> ClientNeighbourAsync(IPAddress address, CancellationToken ct = default)
    {
        var text = await ClientNamespace.IpAsync(ct, "-j", address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "-6" : "-4",
            "neigh", "show", address.ToString(), "dev", "eth0").ConfigureAwait(false);
        var entries = JsonNode.Parse(text) as JsonArray;
        return entries?.Select(e => e?["lladdr"]?.GetValue<string>()).FirstOrDefault(m => m is not null);
    }

    /// <summary>
    /// A node dies: its speaker is killed (SIGKILL) and its link goes down. Returns the <see cref="Stopwatch"/>
    /// timestamp of the death (the moment the speaker was gone), from which an outage is measured.
    /// </summary>
    public async Task<long> KillNodeAsync(LabNode node, CancellationToken ct = default)
    {
        node.Speaker?.Kill();
        var died = Stopwatch.GetTimestamp();
        await node.Namespace.IpAsync(ct, "link", "set", "eth0", "down").ConfigureAwait(false);
        node.LinkUp = false;
        return died;
    }

    /// <summary>The node comes back: link up, a fresh speaker.</summary>
    public async Task ReviveNodeAsync(LabNode node, CancellationToken ct = default)
    {
        await node.Namespace.IpAsync(ct, "link", "set", "eth0", "up").ConfigureAwait(false);
        node.LinkUp = true;
        if (node.Speaker?.IsRunning != true)
        {
            var seen = Nodes.Where(n => n != node && n.Speaker?.IsRunning == true).ToDictionary(n => n, n => n.Speaker!.Log.Length);
            StartSpeaker(node);
            await node.Speaker!.WaitForLogAsync("caches synced", TimeSpan.FromSeconds(60), ct).ConfigureAwait(false);
            // Back only once the others have seen it alive again: until then the addresses it wins back have not moved.
            foreach (var (other, offset) in seen)
            {
                var clock = Stopwatch.StartNew();
                while (!other.Speaker!.Log[Math.Min(offset, other.Speaker.Log.Length)..].Contains($"Speaker {node.Name}: ", StringComparison.Ordinal) ||
                       !other.Speaker.Log[Math.Min(offset, other.Speaker.Log.Length)..].Contains("-> Alive", StringComparison.Ordinal))
                {
                    if (clock.Elapsed > TimeSpan.FromSeconds(15))
                    {
                        throw new TimeoutException($"{other.Name} did not see {node.Name} alive again within 15 s:\n{LabProcess.Tail(other.Speaker.Log)}");
                    }
                    await Task.Delay(50, ct).ConfigureAwait(false);
                }
            }
            // The alive set settles on the revived node itself after its settle time; give the plans that moment.
            await Task.Delay(TimeSpan.FromSeconds(1.5), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Every LoadBalancer Service's addresses, once every one has at least one (or the timeout passes).</summary>
    public async Task<IReadOnlyList<V1Service>> WaitForAddressesAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var services = (await Client.ListAsync(CoreResources.Services, null, null, ct).ConfigureAwait(false)).Items
                .Where(s => s.Spec.Type == "LoadBalancer").ToList();
            if (services.All(s => s.Status?.LoadBalancer?.Ingress?.Count > 0) || clock.Elapsed > timeout)
            {
                return services;
            }
            await Task.Delay(100, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Leaves everything running for <c>kubectl</c>; <see cref="DownAsync"/> removes it later.</summary>
    public void Keep()
    {
        _kept = true;
        SaveState();
    }

    public async ValueTask DisposeAsync()
    {
        _client?.Dispose();
        _apiSockets?.Dispose();
        _clientSockets?.Dispose();
        if (_kept)
        {
            return;
        }
        foreach (var process in _processes)
        {
            process.Kill();
        }
        foreach (var ns in _namespaces.AsEnumerable().Reverse())
        {
            await ns.DisposeAsync().ConfigureAwait(false);
        }
        try
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private sealed record LabState(string Id, int OwnerPid, bool Kept, string[] Namespaces, int[] Pids);

    private void SaveState() => File.WriteAllText(Path.Combine(WorkDirectory, "state.json"), JsonSerializer.Serialize(
        new LabState(Id, Environment.ProcessId, _kept, [.. _namespaces.Select(n => n.Name)], [.. _processes.Select(p => p.Pid)])));

    /// <summary>Removes kept labs (all of them, or one by id): processes, namespaces, files.</summary>
    public static async Task<int> DownAsync(string stateRoot, string? id = null)
    {
        var removed = 0;
        foreach (var dir in Directory.Exists(stateRoot) ? Directory.GetDirectories(stateRoot) : [])
        {
            if (id is not null && Path.GetFileName(dir) != id)
            {
                continue;
            }
            await RemoveAsync(dir).ConfigureAwait(false);
            removed++;
        }
        return removed;
    }

    /// <summary>Labs whose command died without cleaning up (killed, crashed) and that were not kept.</summary>
    private static async Task RemoveLeftoversAsync(string stateRoot)
    {
        foreach (var dir in Directory.Exists(stateRoot) ? Directory.GetDirectories(stateRoot) : [])
        {
            var file = Path.Combine(dir, "state.json");
            var state = File.Exists(file) ? JsonSerializer.Deserialize<LabState>(File.ReadAllText(file)) : null;
            if (state is null || (!state.Kept && !LabProcess.IsAlive(state.OwnerPid)))
            {
                await RemoveAsync(dir).ConfigureAwait(false);
            }
        }
        // Namespaces of a lab whose folder is gone.
        var list = await Shell.RunAsync("ip", ["netns", "list"], TimeSpan.FromSeconds(10), CancellationToken.None).ConfigureAwait(false);
        foreach (var name in list.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[0]))
        {
            if (name.StartsWith(Prefix, StringComparison.Ordinal) && name.Split('-') is { Length: >= 3 } parts && !Directory.Exists(Path.Combine(stateRoot, parts[1])))
            {
                await NetworkNamespace.DeleteAsync(name).ConfigureAwait(false);
            }
        }
    }

    private static async Task RemoveAsync(string dir)
    {
        var file = Path.Combine(dir, "state.json");
        if (File.Exists(file) && JsonSerializer.Deserialize<LabState>(File.ReadAllText(file)) is { } state)
        {
            // Deleting a namespace kills what runs in it first; recorded PIDs are not trusted (they may be reused).
            foreach (var ns in state.Namespaces.Reverse())
            {
                await NetworkNamespace.DeleteAsync(ns).ConfigureAwait(false);
            }
        }
        Directory.Delete(dir, recursive: true);
    }
}

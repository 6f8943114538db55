namespace BareLb.NetTestSupport;

/// <summary>
/// A switched LAN built from namespaces: one "switch" namespace holding a Linux bridge, and hosts attached to it by
/// veth pairs (host side <c>eth0</c> unless named otherwise). Disposing removes every namespace, so every link and
/// process goes with it. Only documentation ranges are used by callers (198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32).
/// </summary>
public sealed class Lan : IAsyncDisposable
{
    private readonly List<NetworkNamespace> _hosts = [];
    private int _ports;

    private Lan(NetworkNamespace switchNamespace) => Switch = switchNamespace;

    public NetworkNamespace Switch { get; }

    public IReadOnlyList<NetworkNamespace> Hosts => _hosts;

    public static async Task<Lan> CreateAsync(string tag = "lan", CancellationToken ct = default)
    {
        await NetworkNamespace.RemoveLeftovers().ConfigureAwait(false);
        var sw = await NetworkNamespace.CreateAsync(tag, ct).ConfigureAwait(false);
        try
        {
            await sw.IpAsync(ct, "link", "add", "br0", "type", "bridge").ConfigureAwait(false);
            // No STP listening delay and no multicast snooping surprises: ports forward as soon as they are up.
            await sw.IpAsync(ct, "link", "set", "br0", "type", "bridge", "forward_delay", "0", "stp_state", "0").ConfigureAwait(false);
            await sw.IpAsync(ct, "link", "set", "br0", "up").ConfigureAwait(false);
        }
        catch
        {
            await sw.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        return new Lan(sw);
    }

    /// <summary>Creates a host namespace wired to the bridge, with the given addresses (CIDR) on its interface.</summary>
    public async Task<NetworkNamespace> AddHostAsync(string role, IEnumerable<string> addresses, string interfaceName = "eth0", CancellationToken ct = default)
    {
        var host = await NetworkNamespace.CreateAsync(role, ct).ConfigureAwait(false);
        _hosts.Add(host);
        await ConnectAsync(host, interfaceName, ct).ConfigureAwait(false);
        foreach (var address in addresses)
        {
            // nodad: tests must not wait a second for IPv6 duplicate address detection.
            string[] extra = address.Contains(':', StringComparison.Ordinal) ? ["nodad"] : [];
            await host.IpAsync(ct, ["addr", "add", address, "dev", interfaceName, .. extra]).ConfigureAwait(false);
        }
        return host;
    }

    /// <summary>Adds one more port on the bridge for an existing namespace.</summary>
    public async Task ConnectAsync(NetworkNamespace host, string interfaceName, CancellationToken ct = default)
    {
        var port = $"p{Interlocked.Increment(ref _ports)}";
        await Switch.IpAsync(ct, "link", "add", port, "type", "veth", "peer", "name", interfaceName, "netns", host.Name).ConfigureAwait(false);
        await Switch.IpAsync(ct, "link", "set", port, "master", "br0").ConfigureAwait(false);
        await Switch.IpAsync(ct, "link", "set", port, "up").ConfigureAwait(false);
        await host.IpAsync(ct, "link", "set", interfaceName, "up").ConfigureAwait(false);
    }

    /// <summary>The bridge port (in the switch namespace) that leads to <paramref name="host"/>'s interface; take it down to cut the host off.</summary>
    public async Task SetHostLinkAsync(NetworkNamespace host, string interfaceName, bool up, CancellationToken ct = default) =>
        await host.IpAsync(ct, "link", "set", interfaceName, up ? "up" : "down").ConfigureAwait(false);

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync().ConfigureAwait(false);
        }
        await Switch.DisposeAsync().ConfigureAwait(false);
    }
}

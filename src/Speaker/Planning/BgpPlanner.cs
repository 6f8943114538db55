using System.Net;
using System.Net.Sockets;
using BareLb.Api.Config;
using BareLb.Bgp;
using k8s.Models;
using ApiCommunity = BareLb.Api.Config.BgpCommunity;

namespace BareLb.Speaker.Planning;

/// <summary>A BGP session this node should have, and the routes it should advertise on it.</summary>
public sealed record BgpPeerPlan(string Name, BgpSessionOptions Options, IReadOnlyList<BgpRoute> Routes);

/// <summary>What this node advertises over BGP: the sessions with their routes, and which peers carry each Service.</summary>
public sealed record BgpPlan(IReadOnlyList<BgpPeerPlan> Peers, IReadOnlyDictionary<string, IReadOnlyList<string>> PeersByService)
{
    public static BgpPlan Empty { get; } = new([], new Dictionary<string, IReadOnlyList<string>>());
}

public sealed record BgpPlanInput(
    NodeInfo ThisNode,
    BareLbConfig Config,
    IReadOnlyCollection<V1Service> Services,
    IReadOnlyDictionary<string, ServiceEndpoints> Endpoints,
    string? LoadBalancerClass,
    Func<SecretKeyReference, string?> Password,
    bool Restarted);

/// <summary>
/// Decides, without I/O, this node's BGP sessions and routes. A node peers with every BGPPeer whose nodeSelectors
/// select it. It advertises a Service's address when a BGPAdvertisement of the address's pool selects the node, and
/// the Service can be served from here: externalTrafficPolicy Local needs a ready endpoint on this node, Cluster a
/// ready endpoint anywhere. The route is the address aggregated to the advertisement's aggregationLength, next hop
/// this node, with the advertisement's communities, large communities and (iBGP only) local preference. Unlike
/// layer 2, every selected node advertises: the routers spread traffic over them (ECMP).
/// </summary>
public static class BgpPlanner
{
    public static readonly TimeSpan DefaultHoldTime = TimeSpan.FromSeconds(90);
    public static readonly TimeSpan DefaultConnectTime = TimeSpan.FromSeconds(10);

    public static BgpPlan Plan(BgpPlanInput input, List<string>? problems = null)
    {
        var node = input.ThisNode;
        var selected = input.Config.Peers.Where(p => p.SelectsNode(node.Labels)).OrderBy(p => p.Name, StringComparer.Ordinal).ToList();
        if (selected.Count == 0 || node.NetworkUnavailable || node.ExcludedFromLoadBalancers)
        {
            return BgpPlan.Empty;
        }

        // Only peers this node can have a session with carry routes: a Service's status must not name a peer that
        // never hears of it.
        var sessions = new List<(BgpPeerConfig Peer, BgpSessionOptions Options)>();
        foreach (var peer in selected)
        {
            if (SessionOptions(peer, node, input, out var problem) is { } options)
            {
                sessions.Add((peer, options));
            }
            else
            {
                problems?.Add($"BGPPeer {peer.Name}: {problem}");
            }
        }
        var peers = sessions.Select(s => s.Peer).ToList();

        var routes = peers.ToDictionary(p => p.Name, _ => new Dictionary<IPNetwork, BgpRoute>(), StringComparer.Ordinal);
        var peersByService = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var service in input.Services)
        {
            if (!ServiceAddresses.IsOurs(service, input.LoadBalancerClass) || !ServiceAddresses.CanServe(node.Name, service, input.Endpoints))
            {
                continue;
            }
            var key = ServiceAddresses.Key(service);
            foreach (var address in ServiceAddresses.Addresses(service))
            {
                if (ServiceAddresses.PoolOf(input.Config, service, address) is not { } pool)
                {
                    continue;
                }
                foreach (var advertisement in input.Config.BgpAdvertisementsFor(pool).Where(a => a.SelectsNode(node.Labels)))
                {
                    var v6 = address.AddressFamily == AddressFamily.InterNetworkV6;
                    var prefix = new IPNetwork(Mask(address, v6 ? advertisement.AggregationLengthV6 : advertisement.AggregationLength),
                        v6 ? advertisement.AggregationLengthV6 : advertisement.AggregationLength);
                    foreach (var peer in peers.Where(p => advertisement.SelectsPeer(p.Name)))
                    {
                        // Communities are a set (RFC 1997, RFC 8092): a literal and an alias of one value count once, and the
                        // order they are listed in does not make a different route.
                        var route = new BgpRoute(prefix)
                        {
                            Communities = [.. advertisement.Communities.Where(c => c.Kind == BgpCommunityKind.Standard).Select(c => new BareLb.Bgp.BgpCommunity(c.StandardValue)).Distinct().Order()],
                            LargeCommunities = [.. advertisement.Communities.Where(c => c.Kind == BgpCommunityKind.Large).Select(c => new BgpLargeCommunity(c.First, c.Second, c.Third)).Distinct().Order()],
                            LocalPreference = peer.IsInternal && advertisement.LocalPref > 0 ? advertisement.LocalPref : null,
                        };
                        // Several advertisements for one prefix: one route carrying all their communities.
                        routes[peer.Name][prefix] = routes[peer.Name].TryGetValue(prefix, out var existing) ? Merge(existing, route) : route;
                        if (!peersByService.TryGetValue(key, out var names))
                        {
                            peersByService[key] = names = new SortedSet<string>(StringComparer.Ordinal);
                        }
                        names.Add(peer.Name);
                    }
                }
            }
        }

        var plans = sessions
            .Select(s => new BgpPeerPlan(s.Peer.Name, s.Options, [.. routes[s.Peer.Name].Values.OrderBy(r => r.Prefix.ToString(), StringComparer.Ordinal)]))
            .ToList();
        return new BgpPlan(plans, peersByService.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)[.. kv.Value], StringComparer.Ordinal));
    }

    /// <summary>The session for a peer, or null with the reason when this node cannot have it.</summary>
    private static BgpSessionOptions? SessionOptions(BgpPeerConfig peer, NodeInfo node, BgpPlanInput input, out string? problem)
    {
        problem = Unsupported(peer, node);
        if (problem is not null)
        {
            return null;
        }
        var password = peer.Password;
        if (peer.PasswordSecret is { } secret && (password = input.Password(secret)) is null)
        {
            // As MetalLB: no session rather than one without the authentication the peer asked for.
            problem = $"no \"password\" in Secret {secret.Namespace}/{secret.Name} (spec.passwordSecret); the session waits for it";
            return null;
        }
        var nextHop4 = peer.SourceAddress is { AddressFamily: AddressFamily.InterNetwork } s4 ? s4 : node.Addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork);
        var nextHop6 = peer.SourceAddress is { AddressFamily: AddressFamily.InterNetworkV6 } s6 ? s6 : node.Addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetworkV6);
        return new BgpSessionOptions
        {
            LocalAsn = peer.MyAsn,
            PeerAsn = peer.PeerAsn!.Value,
            PeerAddress = peer.Address!,
            PeerPort = peer.Port,
            SourceAddress = peer.SourceAddress,
            HoldTime = peer.HoldTime ?? DefaultHoldTime,
            KeepaliveTime = peer.KeepaliveTime,
            ConnectRetryTime = peer.ConnectTime ?? DefaultConnectTime,
            RouterId = peer.RouterId ?? nextHop4,
            Password = password,
            EbgpMultiHop = peer.EbgpMultiHop,
            GracefulRestart = peer.EnableGracefulRestart,
            Restarted = input.Restarted && peer.EnableGracefulRestart,
            NextHopIPv4 = nextHop4,
            NextHopIPv6 = nextHop6,
        };
    }

    /// <summary>Why this node cannot run the session (MetalLB features BareLb's speaker does not implement), or null.</summary>
    public static string? Unsupported(BgpPeerConfig peer, NodeInfo node) =>
        peer.Address is null ? "unnumbered peers (spec.interface) are not supported; set spec.peerAddress"
        : peer.PeerAsn is null ? "spec.dynamicASN is not supported; set spec.peerASN"
        : peer.Vrf is { Length: > 0 } ? "spec.vrf is not supported"
        : peer.RouterId is null && peer.SourceAddress?.AddressFamily != AddressFamily.InterNetwork
            && !node.Addresses.Any(a => a.AddressFamily == AddressFamily.InterNetwork)
            ? "the node has no IPv4 address to use as BGP identifier; set spec.routerID"
        : null;

    private static BgpRoute Merge(BgpRoute a, BgpRoute b) => a with
    {
        Communities = [.. a.Communities.Union(b.Communities).Order()],
        LargeCommunities = [.. a.LargeCommunities.Union(b.LargeCommunities).Order()],
        LocalPreference = a.LocalPreference is null ? b.LocalPreference : b.LocalPreference is null ? a.LocalPreference : Math.Max(a.LocalPreference.Value, b.LocalPreference.Value),
    };


    private static IPAddress Mask(IPAddress address, int length)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(length - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xff << (8 - keep));
        }
        return new IPAddress(bytes);
    }

}

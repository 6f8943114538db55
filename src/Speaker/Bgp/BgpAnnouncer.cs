using System.Text.Json.Nodes;
using BareLb.Api.Models;
using BareLb.Bgp;
using BareLb.Speaker.Planning;
using BareLb.Speaker.Status;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker.Bgp;

/// <summary>
/// Carries out the BGP plan on this node: one session per selected BGPPeer (BareLb's own speaker, src/Bgp), each told
/// the routes it should carry as desired state (the session sends only the difference), and one ServiceBGPStatus per
/// advertised Service naming the peers that carry it.
/// </summary>
public sealed partial class BgpAnnouncer(
    string node,
    BgpSpeaker speaker,
    AnnouncementStatusWriter<ServiceBGPStatus> status,
    ILogger logger) : IAsyncDisposable
{
    private readonly SemaphoreSlim _applying = new(1, 1);
    private IReadOnlyList<BgpPeerPlan> _peers = [];

    /// <summary>The sessions and the routes last given to them.</summary>
    public IReadOnlyList<BgpPeerPlan> Peers => Volatile.Read(ref _peers);

    public async Task ApplyAsync(BgpPlan plan, IReadOnlySet<string> deadNodes, CancellationToken ct)
    {
        await _applying.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await speaker.SetPeersAsync(plan.Peers.Select(p => p.Options), ct).ConfigureAwait(false);
            foreach (var peer in plan.Peers)
            {
                speaker.Session(peer.Options.PeerAddress, peer.Options.PeerPort)?.SetRoutes(peer.Routes);
            }
            var before = _peers.ToDictionary(p => p.Name, p => p.Routes.Count, StringComparer.Ordinal);
            foreach (var peer in plan.Peers.Where(p => before.GetValueOrDefault(p.Name, -1) != p.Routes.Count))
            {
                LogRoutes(peer.Name, peer.Options.PeerAddress.ToString(), peer.Routes.Count);
            }
            Volatile.Write(ref _peers, plan.Peers);
            status.SetDesired(plan.PeersByService.Select(kv =>
            {
                var slash = kv.Key.IndexOf('/', StringComparison.Ordinal);
                var (ns, name) = (kv.Key[..slash], kv.Key[(slash + 1)..]);
                return new StatusEntry(ns, name, new JsonObject
                {
                    ["node"] = node,
                    ["serviceName"] = name,
                    ["serviceNamespace"] = ns,
                    ["peers"] = new JsonArray([.. kv.Value.Select(p => (JsonNode)JsonValue.Create(p)!)]),
                });
            }), deadNodes);
        }
        finally
        {
            _applying.Release();
        }
    }

    /// <summary>
    /// Ends every session: a peer with graceful restart keeps our routes while we are gone (we may be restarting);
    /// the others are told Cease and withdraw them at once.
    /// </summary>
    public async Task StopAsync(CancellationToken ct)
    {
        foreach (var plan in Peers)
        {
            if (speaker.Session(plan.Options.PeerAddress, plan.Options.PeerPort) is { } session)
            {
                await session.StopAsync(plan.Options.GracefulRestart ? BgpStopMode.Restart : BgpStopMode.Shutdown, ct).ConfigureAwait(false);
            }
        }
    }

    public ValueTask DisposeAsync() => speaker.DisposeAsync();

    [LoggerMessage(1, LogLevel.Information, "BGP peer {Peer} ({Address}): advertising {Routes} routes")]
    private partial void LogRoutes(string peer, string address, int routes);
}

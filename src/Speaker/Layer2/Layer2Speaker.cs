using System.Net;
using System.Text.Json.Nodes;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Layer2;
using BareLb.Speaker.Planning;
using BareLb.Speaker.Status;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker.Layer2;

/// <summary>
/// Carries out the layer-2 plan on this node: the addresses it owns go to the <see cref="Layer2Announcer"/> (which
/// announces a takeover at once and answers ARP/NDP), and what is announced becomes ServiceL2Status objects and
/// events: <c>nodeAssigned</c> from the new owner, <c>announceFailed</c> when no allowed interface exists.
/// </summary>
public sealed partial class Layer2Speaker : IDisposable
{
    private readonly string _node;
    private readonly Layer2Announcer _announcer;
    private readonly EventRecorder _events;
    private readonly AnnouncementStatusWriter<ServiceL2Status> _status;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private Dictionary<IPAddress, Layer2Address> _owned = [];
    private IReadOnlyDictionary<string, V1Service> _services = new Dictionary<string, V1Service>();
    private IReadOnlySet<string> _deadNodes = new HashSet<string>();
    private HashSet<IPAddress> _reportedFailures = [];

    public Layer2Speaker(string node, Layer2Announcer announcer, EventRecorder events, AnnouncementStatusWriter<ServiceL2Status> status, ILogger logger)
    {
        _node = node;
        _announcer = announcer;
        _events = events;
        _status = status;
        _logger = logger;
        _announcer.AnnouncementsChanged += OnAnnouncementsChanged;
    }

    /// <summary>The addresses this node owns now.</summary>
    public IReadOnlyCollection<IPAddress> Owned
    {
        get
        {
            lock (_gate)
            {
                return [.. _owned.Keys];
            }
        }
    }

    /// <summary>
    /// Applies a plan. <paramref name="services"/> maps "namespace/name" to the cached Service (for events);
    /// <paramref name="deadNodes"/> are nodes whose speakers are gone, whose statuses this node may clean up.
    /// </summary>
    public void Apply(IReadOnlyList<Layer2Address> plan, IReadOnlyDictionary<string, V1Service> services, IReadOnlySet<string> deadNodes)
    {
        var mine = plan.Where(a => a.Owner == _node).ToDictionary(a => a.Address);
        Dictionary<IPAddress, Layer2Address> before;
        lock (_gate)
        {
            before = _owned;
            _owned = mine;
            _services = services;
            _deadNodes = deadNodes;
        }

        // The announcer takes effect before returning: a takeover is announced here, a release stops answering here.
        _announcer.SetOwned([.. mine.Values.Select(a => new OwnedAddress(a.Address, a.Interfaces))]);

        foreach (var (address, now) in mine)
        {
            var had = before.GetValueOrDefault(address);
            foreach (var key in now.Services.Except(had?.Services ?? []))
            {
                LogOwned(address.ToString(), key, _node);
                if (services.TryGetValue(key, out var service))
                {
                    _events.Record(service, CoreResources.Services, EventType.Normal, "nodeAssigned",
                        $"announcing {address} from node \"{_node}\" with protocol \"layer2\"");
                }
            }
        }
        foreach (var address in before.Keys.Where(a => !mine.ContainsKey(a)))
        {
            LogReleased(address.ToString(), _node);
        }
        PublishStatus();
    }

    public void Dispose() => _announcer.AnnouncementsChanged -= OnAnnouncementsChanged;

    private void OnAnnouncementsChanged(IReadOnlyList<AddressAnnouncement> announcements)
    {
        List<(IPAddress Address, List<V1Service> Services)> failed = [];
        lock (_gate)
        {
            var failing = announcements.Where(a => a.NoAllowedInterface).Select(a => a.Address).ToHashSet();
            foreach (var address in failing.Where(a => !_reportedFailures.Contains(a) && _owned.ContainsKey(a)))
            {
                failed.Add((address, [.. _owned[address].Services.Select(k => _services.GetValueOrDefault(k)).OfType<V1Service>()]));
            }
            _reportedFailures = failing;
        }
        foreach (var (address, services) in failed)
        {
            LogNoInterface(address.ToString(), _node);
            foreach (var service in services)
            {
                _events.Record(service, CoreResources.Services, EventType.Warning, "announceFailed",
                    $"node \"{_node}\" owns {address} but has no interface it may announce it on (down, NOARP, enslaved, excluded, or not in the L2Advertisement's list)");
            }
        }
        PublishStatus();
    }

    /// <summary>One status per announced Service: the union of the interfaces its addresses are announced on.</summary>
    private void PublishStatus()
    {
        var announced = _announcer.Announcements.Where(a => !a.NoAllowedInterface).ToDictionary(a => a.Address);
        List<StatusEntry> entries;
        IReadOnlySet<string> dead;
        lock (_gate)
        {
            var byService = new SortedDictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (var (address, plan) in _owned)
            {
                if (!announced.TryGetValue(address, out var announcement))
                {
                    continue;
                }
                foreach (var key in plan.Services)
                {
                    if (!byService.TryGetValue(key, out var interfaces))
                    {
                        byService[key] = interfaces = new SortedSet<string>(StringComparer.Ordinal);
                    }
                    interfaces.UnionWith(announcement.Interfaces);
                }
            }
            entries = [.. byService.Select(kv =>
            {
                var slash = kv.Key.IndexOf('/', StringComparison.Ordinal);
                var (ns, name) = (kv.Key[..slash], kv.Key[(slash + 1)..]);
                return new StatusEntry(ns, name, new JsonObject
                {
                    ["node"] = _node,
                    ["serviceName"] = name,
                    ["serviceNamespace"] = ns,
                    ["interfaces"] = new JsonArray([.. kv.Value.Select(i => (JsonNode)new JsonObject { ["name"] = i })]),
                });
            })];
            dead = _deadNodes;
        }
        _status.SetDesired(entries, dead);
    }

    [LoggerMessage(1, LogLevel.Information, "{Address} for {Service}: announced from {Node}")]
    private partial void LogOwned(string address, string service, string node);

    [LoggerMessage(2, LogLevel.Information, "{Address}: no longer announced from {Node}")]
    private partial void LogReleased(string address, string node);

    [LoggerMessage(3, LogLevel.Warning, "{Address}: owned by {Node} but no interface may announce it")]
    private partial void LogNoInterface(string address, string node);
}

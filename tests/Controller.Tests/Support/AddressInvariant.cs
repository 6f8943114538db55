using BareLb.Api;
using BareLb.Kubernetes;
using k8s;
using k8s.Models;

namespace BareLb.Controller.Tests.Support;

/// <summary>
/// Watches every Service as the API server shows it and checks, on every event that gives a Service an address,
/// that no other Service shows that address unless sharing allows it (same sharing key, no common port, same
/// externalTrafficPolicy, and the same selector under Local). The watch sees every state the API went through, in
/// order: a window in which two Services showed one address cannot slip between two polls.
/// </summary>
/// <remarks>
/// A user's edit can itself make two Services that share an address incompatible (one drops its sharing key while
/// still showing the address), also while a write the controller decided before that edit is on its way: the
/// address is then "disturbed" on the edited Service until it no longer shows it, and a Service that gains it and
/// could share it with the edited Service as it was before the edit clashes by the user's doing: counted in
/// <see cref="Excused"/>, not a violation. A Service that could not have shared it even before the edit is a
/// violation (the controller gave away an address still shown). The controller must resolve it, so
/// <see cref="AssertHeld"/> also checks the whole current state, which a caller does once the controller settled.
/// </remarks>
public sealed class AddressInvariant : IAsyncDisposable
{
    private readonly Dictionary<string, V1Service> _current = [];
    private readonly List<string> _violations = [];
    private readonly Dictionary<string, List<string>> _history = [];
    private readonly Dictionary<string, List<string>> _log = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _watching;
    private readonly Lock _lock = new();
    private string _lastResourceVersion;
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _events;
    private int _excused;
    private readonly Dictionary<(string Service, string Address), V1Service> _disturbed = [];
    private int _ticks;

    private AddressInvariant(IKubernetesClient client, ResourceList<V1Service> initial)
    {
        foreach (var service in initial.Items)
        {
            Apply(service, deleted: false);
        }
        _lastResourceVersion = initial.ResourceVersion!;
        _watching = WatchAsync(client, initial.ResourceVersion!, _stop.Token);
    }

    private const string SentinelNamespace = "default";
    private const string SentinelName = "invariant-sentinel";

    public static async Task<AddressInvariant> StartAsync(IKubernetesClient client)
    {
        try
        {
            await client.CreateAsync(CoreResources.Services, new V1Service
            {
                Metadata = new V1ObjectMeta { Name = SentinelName, NamespaceProperty = SentinelNamespace },
                Spec = new V1ServiceSpec { Type = "ClusterIP", Ports = [new V1ServicePort { Port = 1 }] },
            }, default);
        }
        catch (AlreadyExistsException)
        {
        }
        var initial = await client.ListAsync(CoreResources.Services, null, null, default);
        return new AddressInvariant(client, initial);
    }

    public int Events
    {
        get { lock (_lock) { return _events; } }
    }

    /// <summary>Clashes on an address whose holder's sharing terms a user had just edited.</summary>
    public int Excused
    {
        get { lock (_lock) { return _excused; } }
    }

    /// <summary>Every ingress a Service showed, in order ("" for none), for checks such as "never lost its address".</summary>
    public IReadOnlyList<string> HistoryOf(string ns, string name)
    {
        lock (_lock)
        {
            return _history.TryGetValue($"{ns}/{name}", out var h) ? [.. h] : [];
        }
    }

    /// <summary>Waits until the watch has delivered everything the API server had accepted when this was called.</summary>
    public async Task CatchUpAsync(IKubernetesClient client)
    {
        // A write of our own on the watched kind marks "now"; once the watch shows it, it showed everything before.
        var tick = Interlocked.Increment(ref _ticks);
        var marked = await client.PatchAsync(CoreResources.Services, SentinelNamespace, SentinelName,
            new System.Text.Json.Nodes.JsonObject
            {
                ["metadata"] = new System.Text.Json.Nodes.JsonObject { ["labels"] = new System.Text.Json.Nodes.JsonObject { ["tick"] = tick.ToString(System.Globalization.CultureInfo.InvariantCulture) } },
            }, status: false, default);
        var target = long.Parse(marked.Metadata.ResourceVersion!);
        using var timeout = new CancellationTokenSource(ControllerFixture.Timeout);
        while (true)
        {
            Task progress;
            lock (_lock)
            {
                if (long.Parse(_lastResourceVersion) >= target)
                {
                    return;
                }
                progress = _progress.Task;
            }
            if (_watching.IsCompleted)
            {
                await _watching;
            }
            await progress.WaitAsync(timeout.Token);
        }
    }

    /// <summary>Waits, on the watch's own progress, until the Service shows some address.</summary>
    public async Task WaitForAddressAsync(string ns, string name)
    {
        using var timeout = new CancellationTokenSource(ControllerFixture.Timeout);
        while (true)
        {
            Task progress;
            lock (_lock)
            {
                if (_current.TryGetValue($"{ns}/{name}", out var service) && Ingress(service).Any())
                {
                    return;
                }
                progress = _progress.Task;
            }
            if (_watching.IsCompleted)
            {
                await _watching;
            }
            await progress.WaitAsync(timeout.Token);
        }
    }

    /// <summary>No write ever gave a Service an address another Service showed incompatibly, and none does now.</summary>
    public void AssertHeld()
    {
        lock (_lock)
        {
            var now = CurrentConflicts();
            Assert.True(_violations.Count == 0 && now.Count == 0,
                string.Join("\n", _violations.Take(10).Concat(now.Select(c => "now: " + c))));
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _watching;
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WatchAsync(IKubernetesClient client, string resourceVersion, CancellationToken ct)
    {
        var rv = resourceVersion;
        while (!ct.IsCancellationRequested)
        {
            await foreach (var e in client.WatchAsync(CoreResources.Services, null, new WatchOptions { ResourceVersion = rv, AllowWatchBookmarks = true, TimeoutSeconds = 600 }, ct))
            {
                lock (_lock)
                {
                    if (e.ResourceVersion is { } seen)
                    {
                        rv = seen;
                        _lastResourceVersion = seen;
                    }
                    if (e.Object is { } service && e.Type is WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted)
                    {
                        _events++;
                        var before = _current.TryGetValue(service.Metadata.Key(), out var old) ? Ingress(old).ToHashSet() : [];
                        if (old is not null && e.Type == WatchEventType.Modified && SharingTerms(old) != SharingTerms(service))
                        {
                            foreach (var address in Ingress(service))
                            {
                                _disturbed.TryAdd((service.Metadata.Key(), address), old);
                            }
                        }
                        foreach (var gone in _disturbed.Keys.Where(d => d.Service == service.Metadata.Key() &&
                            (e.Type == WatchEventType.Deleted || !Ingress(service).Contains(d.Address))).ToList())
                        {
                            _disturbed.Remove(gone);
                        }
                        Apply(service, e.Type == WatchEventType.Deleted);
                        if (e.Type != WatchEventType.Deleted)
                        {
                            CheckGained(service, before);
                        }
                    }
                    var progressed = _progress;
                    _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    progressed.TrySetResult();
                }
            }
        }
    }

    private void Apply(V1Service service, bool deleted)
    {
        var key = service.Metadata.Key();
        if (deleted)
        {
            _current.Remove(key);
        }
        else
        {
            _current[key] = service;
        }
        var shown = deleted ? "(deleted)" : string.Join(",", Ingress(service));
        if (!_history.TryGetValue(key, out var list))
        {
            _history[key] = list = [];
        }
        if (list.Count == 0 || list[^1] != shown)
        {
            list.Add(shown);
        }
        if (!_log.TryGetValue(key, out var log))
        {
            _log[key] = log = [];
        }
        log.Add(deleted ? $"{service.Metadata.ResourceVersion} deleted" : $"{Describe(service)} {service.Spec.Type}");
    }

    private void CheckGained(V1Service service, HashSet<string> before)
    {
        foreach (var address in Ingress(service).Where(a => !before.Contains(a)))
        {
            foreach (var other in _current.Values)
            {
                if (other.Metadata.Key() != service.Metadata.Key() && Ingress(other).Contains(address) && Conflict(service, other) is { } why)
                {
                    if (_disturbed.TryGetValue((other.Metadata.Key(), address), out var otherBefore) && Conflict(service, otherBefore) is null)
                    {
                        _excused++;
                        continue;
                    }
                    _violations.Add($"at resourceVersion {service.Metadata.ResourceVersion}: {address} given to {Describe(service)} while {Describe(other)} shows it: {why}" +
                        $"\n  {service.Metadata.Key()}: {string.Join(" | ", _log.GetValueOrDefault(service.Metadata.Key()) ?? [])}" +
                        $"\n  {other.Metadata.Key()}: {string.Join(" | ", _log.GetValueOrDefault(other.Metadata.Key()) ?? [])}");
                }
            }
        }
    }

    private List<string> CurrentConflicts()
    {
        var conflicts = new List<string>();
        foreach (var group in _current.Values.SelectMany(s => Ingress(s).Select(ip => (ip, s))).GroupBy(x => x.ip))
        {
            var holders = group.Select(x => x.s).ToList();
            for (var i = 0; i < holders.Count; i++)
            {
                for (var j = i + 1; j < holders.Count; j++)
                {
                    if (Conflict(holders[i], holders[j]) is { } why)
                    {
                        conflicts.Add($"{group.Key} shown by {holders[i].Metadata.Key()} and {holders[j].Metadata.Key()}: {why}");
                    }
                }
            }
        }
        return conflicts;
    }

    private static string SharingTerms(V1Service s) =>
        $"{s.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.AllowSharedIP)}|{Json(s.Spec.Ports)}|" +
        $"{s.Spec.ExternalTrafficPolicy}|{Json(s.Spec.Selector)}|{s.Spec.Type}";

    private static string Json(object? value) => value is null ? "" : KubernetesJson.Serialize(value);

    private static string Describe(V1Service s) =>
        $"{s.Metadata.Key()} (uid {s.Metadata.Uid?[..8]}, rv {s.Metadata.ResourceVersion}, key {s.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.AllowSharedIP) ?? "-"}, " +
        $"ports {string.Join("/", (s.Spec.Ports ?? []).Select(p => p.Port))}, ingress {string.Join(",", Ingress(s))})";

    private static string? Conflict(V1Service a, V1Service b)
    {
        var ka = a.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.AllowSharedIP);
        var kb = b.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.AllowSharedIP);
        if (ka is null || ka != kb)
        {
            return "no common sharing key";
        }
        var pa = (a.Spec.Ports ?? []).Select(p => (p.Protocol ?? "TCP", p.Port)).ToHashSet();
        if ((b.Spec.Ports ?? []).Any(p => pa.Contains((p.Protocol ?? "TCP", p.Port))))
        {
            return "a common port";
        }
        var ea = a.Spec.ExternalTrafficPolicy ?? "Cluster";
        var eb = b.Spec.ExternalTrafficPolicy ?? "Cluster";
        if (ea != eb)
        {
            return "different externalTrafficPolicy";
        }
        if (ea == "Local" && Json(a.Spec.Selector) != Json(b.Spec.Selector))
        {
            return "Local with different selectors";
        }
        return null;
    }

    private static IEnumerable<string> Ingress(V1Service s) => (s.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip ?? "").Where(ip => ip.Length > 0);
}

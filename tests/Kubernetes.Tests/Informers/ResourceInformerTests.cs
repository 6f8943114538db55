using BareLb.Kubernetes.Informers;
using BareLb.Kubernetes.Models;
using BareLb.Kubernetes.Tests.Fakes;
using BareLb.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using static BareLb.Kubernetes.Tests.Informers.InformerTestKit;

namespace BareLb.Kubernetes.Tests.Informers;

public sealed class ResourceInformerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeKubernetesClient _client;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];

    public ResourceInformerTests()
    {
        _client = new FakeKubernetesClient(_time);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _stop.Cancel();
        _client.OnRequest = null;
        await Task.WhenAll(_running).Within();
        _stop.Dispose();
    }

    [Fact]
    public async Task RunAsync_InitialPagedList_HandlersGetEveryObjectBeforeHasSynced()
    {
        var expected = new List<string>();
        for (var i = 0; i < 1203; i++)
        {
            var created = await _client.CreateAsync(CoreResources.Services, Service($"ns{i % 3}", $"svc-{i:D4}"), default);
            expected.Add($"add ns{i % 3}/svc-{i:D4}@{created.Metadata.ResourceVersion}");
        }
        var hold = new TaskCompletionSource();
        var (informer, handler) = Create(handler: h => h.HoldFirstDelivery = hold.Task);
        Assert.False(informer.HasSynced);

        Start(informer);
        await _client.WaitForOpenWatchesAsync(1, default).Within();

        // The cache is full and the watch open, but handlers have not been given the list yet: not synced.
        Assert.Equal(1203, informer.List().Count);
        Assert.False(informer.HasSynced);
        var sync = informer.WaitForSyncAsync(default);
        Assert.False(sync.IsCompleted);

        hold.SetResult();
        await sync.Within();
        Assert.True(informer.HasSynced);
        Assert.Equal(expected.Order(), handler.Changes.Order());
        Assert.All(handler.HasSyncedDuringDelivery, Assert.False);

        var lists = _client.Requests.Where(r => r.Verb == "list").Select(r => (ListOptions)r.Options!).ToList();
        Assert.Equal(3, lists.Count);
        Assert.All(lists, l => Assert.Equal(500, l.Limit));
        Assert.Null(lists[0].Continue);
        Assert.NotNull(lists[1].Continue);
        Assert.NotNull(lists[2].Continue);
    }

    [Fact]
    public async Task RunAsync_WatchStreamEnds_ResumesFromLastResourceVersionWithoutLossOrDuplicate()
    {
        var one = await _client.CreateAsync(CoreResources.Services, Service("a", "one"), default);
        var (informer, handler) = Create();
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();
        var two = await _client.CreateAsync(CoreResources.Services, Service("a", "two"), default);
        await handler.WaitForCountAsync(2);

        // Hold the reconnect until the test has changed things behind the informer's back.
        var gate = new TaskCompletionSource();
        _client.OnRequest = (r, ct) => r.Verb == "watch" ? new ValueTask(gate.Task.WaitAsync(ct)) : default;
        _client.CloseWatches();
        await _client.WaitForRequestsAsync(r => r.Verb == "watch", 2, default).Within();
        var three = await _client.CreateAsync(CoreResources.Services, Service("a", "three"), default);
        one.Spec.LoadBalancerIP = "198.51.100.1";
        var oneUpdated = await _client.UpdateAsync(CoreResources.Services, one, default);
        await _client.DeleteAsync(CoreResources.Services, "a", "two", null, default);
        var deletedAt = _client.CurrentResourceVersion;
        gate.SetResult();

        await handler.WaitForCountAsync(5);
        var sentinel = await _client.CreateAsync(CoreResources.Services, Service("a", "sentinel"), default);
        await handler.WaitForCountAsync(6);

        Assert.Equal(
        [
            $"add a/one@{one.Metadata.ResourceVersion}",
            $"add a/two@{two.Metadata.ResourceVersion}",
            $"add a/three@{three.Metadata.ResourceVersion}",
            $"update a/one@{one.Metadata.ResourceVersion}->{oneUpdated.Metadata.ResourceVersion}",
            $"delete a/two@{deletedAt}",
            $"add a/sentinel@{sentinel.Metadata.ResourceVersion}",
        ], handler.Changes);
        var watches = WatchOptionsSent();
        Assert.Equal(two.Metadata.ResourceVersion, watches[1].ResourceVersion);
        Assert.Single(_client.Requests, r => r.Verb == "list");
        await AssertCacheMatchesServerAsync(informer);
    }

    [Fact]
    public async Task RunAsync_WatchExpiredWhileDisconnected_RelistDeliversExactDifference()
    {
        var keep = await _client.CreateAsync(CoreResources.Services, Service("a", "keep"), default);
        var modify = await _client.CreateAsync(CoreResources.Services, Service("a", "modify"), default);
        var delete = await _client.CreateAsync(CoreResources.Services, Service("a", "delete"), default);
        var recreate = await _client.CreateAsync(CoreResources.Services, Service("a", "recreate"), default);
        var logger = new RecordingLogger();
        var (informer, handler) = Create(logger: logger);
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();
        Assert.Equal(4, handler.Changes.Count);

        // The watch ends before delivering anything, so the informer backs off before reconnecting; meanwhile
        // the objects change and the server forgets the history the informer would need.
        _client.CloseWatches();
        var reconnectDelay = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(1), default).Within();
        modify.Spec.LoadBalancerIP = "198.51.100.7";
        var modified = await _client.UpdateAsync(CoreResources.Services, modify, default);
        await _client.DeleteAsync(CoreResources.Services, "a", "delete", null, default);
        await _client.DeleteAsync(CoreResources.Services, "a", "recreate", null, default);
        var recreated = await _client.CreateAsync(CoreResources.Services, Service("a", "recreate"), default);
        var added = await _client.CreateAsync(CoreResources.Services, Service("a", "added"), default);
        _client.Compact();

        _time.Advance(reconnectDelay);
        var relistDelay = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(2), default).Within();
        Assert.Single(logger.WithEventId(2103));
        _time.Advance(relistDelay);
        await handler.WaitForCountAsync(9);
        var sentinel = await _client.CreateAsync(CoreResources.Services, Service("a", "sentinel"), default);
        await handler.WaitForCountAsync(10);

        var relisted = handler.Changes.Skip(4).Take(5).ToList();
        Assert.Equal(
            new[]
            {
                $"delete a/delete@{delete.Metadata.ResourceVersion}",
                $"update a/modify@{modify.Metadata.ResourceVersion}->{modified.Metadata.ResourceVersion}",
                $"delete a/recreate@{recreate.Metadata.ResourceVersion}",
                $"add a/recreate@{recreated.Metadata.ResourceVersion}",
                $"add a/added@{added.Metadata.ResourceVersion}",
            }.Order(),
            relisted.Order());
        Assert.True(relisted.IndexOf($"delete a/recreate@{recreate.Metadata.ResourceVersion}") < relisted.IndexOf($"add a/recreate@{recreated.Metadata.ResourceVersion}"));
        Assert.DoesNotContain(handler.Changes.Skip(4), c => c.Contains("a/keep", StringComparison.Ordinal));
        Assert.Equal($"add a/sentinel@{sentinel.Metadata.ResourceVersion}", handler.Changes[^1]);
        Assert.Equal(keep.Metadata.ResourceVersion, informer.TryGet("a", "keep", out var cachedKeep) ? cachedKeep.Metadata.ResourceVersion : null);
        Assert.Equal(2, _client.Requests.Count(r => r.Verb == "list"));
        await AssertCacheMatchesServerAsync(informer);
    }

    [Fact]
    public async Task RunAsync_ErrorEventGoneWithNothingMissed_RelistDeliversNothing()
    {
        await _client.CreateAsync(CoreResources.Services, Service("a", "one"), default);
        await _client.CreateAsync(CoreResources.Services, Service("b", "two"), default);
        var (informer, handler) = Create();
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        _client.Compact();
        _client.ExpireWatches();
        var relistDelay = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(1), default).Within();
        _time.Advance(relistDelay);
        await _client.WaitForRequestsAsync(r => r.Verb == "list", 2, default).Within();
        await _client.WaitForOpenWatchesAsync(1, default).Within();
        var sentinel = await _client.CreateAsync(CoreResources.Services, Service("a", "sentinel"), default);
        await handler.WaitForCountAsync(3);

        Assert.Equal(3, handler.Changes.Count);
        Assert.Equal($"add a/sentinel@{sentinel.Metadata.ResourceVersion}", handler.Changes[2]);
        await AssertCacheMatchesServerAsync(informer);
    }

    [Fact]
    public async Task RunAsync_BookmarkReceived_ResumesFromBookmarkResourceVersion()
    {
        await _client.CreateAsync(CoreResources.Services, Service("a", "one"), default);
        var (informer, handler) = Create(new ResourceInformerOptions { Namespace = "a" });
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();
        var listedAt = WatchOptionsSent()[0].ResourceVersion;

        // Writes the informer does not see move the resourceVersion on; only a bookmark tells it.
        await _client.CreateAsync(CoreResources.Services, Service("b", "x"), default);
        await _client.CreateAsync(CoreResources.Services, Service("b", "y"), default);
        _time.Advance(TimeSpan.FromMinutes(1));
        _client.SendBookmarks();
        await _time.WaitForTimerAsync(d => d == new ResourceInformerOptions().WatchdogTimeout, default).Within();
        var bookmark = _client.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);

        // Without the bookmark the informer would resume from listedAt, which is now compacted: a 410 and a relist.
        _client.Compact();
        _client.CloseWatches();
        await _client.WaitForRequestsAsync(r => r.Verb == "watch", 2, default).Within();
        await _client.WaitForOpenWatchesAsync(1, default).Within();

        var watches = WatchOptionsSent();
        Assert.NotEqual(listedAt, bookmark);
        Assert.Equal(bookmark, watches[1].ResourceVersion);
        Assert.All(watches, w => Assert.True(w.AllowWatchBookmarks));
        Assert.Single(_client.Requests, r => r.Verb == "list");
        var two = await _client.CreateAsync(CoreResources.Services, Service("a", "two"), default);
        await handler.WaitForCountAsync(2);
        Assert.Equal($"add a/two@{two.Metadata.ResourceVersion}", handler.Changes[1]);
    }

    [Fact]
    public async Task RunAsync_WatchKeepsFailing_BackoffIsJitteredExponentialCappedAndResetByHealthyWatch()
    {
        var failing = true;
        _client.OnRequest = (r, ct) => r.Verb == "watch" && Volatile.Read(ref failing)
            ? ValueTask.FromException(new HttpRequestException("connection refused"))
            : default;
        var (informer, handler) = Create(new ResourceInformerOptions { InitialBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(8) });
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        var bases = new[] { 1, 2, 4, 8, 8, 8, 8, 8 }.Select(s => TimeSpan.FromSeconds(s)).ToArray();
        var delays = new List<TimeSpan>();
        foreach (var _ in bases)
        {
            var delay = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(8), default).Within();
            delays.Add(delay);
            _time.Advance(delay);
        }

        for (var i = 0; i < bases.Length; i++)
        {
            Assert.InRange(delays[i], bases[i] / 2, bases[i]);
        }
        Assert.True(delays.Select((d, i) => d / bases[i]).Distinct().Count() > 1, "delays are not jittered");
        Assert.Equal(bases.Length + 1, _client.Requests.Count(r => r.Verb == "watch"));

        // A watch that delivers an event is healthy: the next failure starts again from the initial backoff.
        Volatile.Write(ref failing, false);
        _time.Advance(await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(8), default).Within());
        await _client.WaitForOpenWatchesAsync(1, default).Within();
        await _client.CreateAsync(CoreResources.Services, Service("a", "one"), default);
        await handler.WaitForCountAsync(1);
        Volatile.Write(ref failing, true);
        _client.CloseWatches();
        var afterReset = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(8), default).Within();
        Assert.InRange(afterReset, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
        Assert.Single(_client.Requests, r => r.Verb == "list");
    }

    [Fact]
    public async Task RunAsync_WatchSilentBeyondWatchdogTimeout_RestartsWatchFromLastResourceVersion()
    {
        await _client.CreateAsync(CoreResources.Services, Service("a", "one"), default);
        var (informer, _) = Create(new ResourceInformerOptions { WatchdogTimeout = TimeSpan.FromMinutes(5) });
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        // A bookmark at 4 minutes is activity: the watchdog starts counting again from there.
        _time.Advance(TimeSpan.FromMinutes(4));
        await _client.CreateAsync(CoreResources.Nodes, new Node { Metadata = new ObjectMeta { Name = "n1" } }, default);
        _client.SendBookmarks();
        await _time.WaitForTimerAsync(d => d == TimeSpan.FromMinutes(5), default).Within();
        var bookmark = _client.CurrentResourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _time.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(59));
        Assert.Contains(TimeSpan.FromSeconds(1), _time.PendingTimers);
        Assert.Single(_client.Requests, r => r.Verb == "watch");
        Assert.Equal(1, _client.OpenWatches);

        _time.Advance(TimeSpan.FromSeconds(1));
        await _client.WaitForRequestsAsync(r => r.Verb == "watch", 2, default).Within();

        Assert.Equal(bookmark, WatchOptionsSent()[1].ResourceVersion);
        Assert.Single(_client.Requests, r => r.Verb == "list");
        await _client.WaitForOpenWatchesAsync(1, default).Within();
        Assert.Equal(1, _client.OpenWatches);
    }

    [Fact]
    public async Task RunAsync_SlowAndFailingHandlers_DeliveredInOrderAndFailuresLogged()
    {
        var logger = new RecordingLogger();
        var hold = new TaskCompletionSource();
        var failingSeen = new List<string>();
        // Registered first, so by the time the recording handler has seen a change, this one has too.
        var failing = new ResourceEventHandler<Service>(
            onAdd: s => throw new InvalidOperationException("handler bug"),
            onUpdate: (_, s) =>
            {
                failingSeen.Add(s.Metadata.ResourceVersion!);
                throw new InvalidOperationException("handler bug");
            });
        var (informer, ordered) = Create(handler: h => h.HoldFirstDelivery = hold.Task, logger: logger, before: failing);
        Start(informer);
        await _client.WaitForOpenWatchesAsync(1, default).Within();

        // The first delivery is stuck in the slow handler while 50 updates arrive.
        var svc = await _client.CreateAsync(CoreResources.Services, Service("a", "one"), default);
        var versions = new List<string> { svc.Metadata.ResourceVersion! };
        for (var i = 0; i < 50; i++)
        {
            svc.Spec.LoadBalancerIP = $"198.51.100.{i}";
            svc = await _client.UpdateAsync(CoreResources.Services, svc, default);
            versions.Add(svc.Metadata.ResourceVersion!);
        }
        hold.SetResult();
        await ordered.WaitForCountAsync(51);

        Assert.Equal($"add a/one@{versions[0]}", ordered.Changes[0]);
        for (var i = 1; i <= 50; i++)
        {
            Assert.Equal($"update a/one@{versions[i - 1]}->{versions[i]}", ordered.Changes[i]);
        }
        Assert.Equal(versions.Skip(1), failingSeen);
        Assert.Equal(51, logger.WithEventId(2108).Count());
        Assert.True(informer.HasSynced);
    }

    [Theory]
    [InlineData(1, "500 500 500 500")]
    [InlineData(2, "500 500 500 500 unpaged")]
    public async Task RunAsync_ContinueTokenExpires_ListRestartsAndFallsBackToUnpaged(int expiries, string limits)
    {
        var expectedLimits = limits.Split(' ').Select(l => l == "unpaged" ? (int?)null : int.Parse(l, System.Globalization.CultureInfo.InvariantCulture));
        for (var i = 0; i < 700; i++)
        {
            await _client.CreateAsync(CoreResources.Services, Service("a", $"svc-{i:D3}"), default);
        }
        var remaining = expiries;
        _client.OnRequest = async (r, ct) =>
        {
            if (r.Verb == "list" && r.Options is ListOptions { Continue: not null } && remaining-- > 0)
            {
                // The collection moves on and the server compacts while we page: our snapshot is gone.
                await _client.CreateAsync(CoreResources.Services, Service("b", $"late-{remaining}"), ct);
                _client.Compact();
            }
        };
        var (informer, handler) = Create();
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        var lists = _client.Requests.Where(r => r.Verb == "list").Select(r => (ListOptions)r.Options!).ToList();
        Assert.Equal(expectedLimits, lists.Select(l => l.Limit));
        Assert.Equal(700 + expiries, informer.List().Count);
        Assert.Equal(700 + expiries, handler.Changes.Count);
        Assert.Equal(handler.Changes.Count, handler.Changes.Distinct().Count());
        await AssertCacheMatchesServerAsync(informer);
    }

    [Fact]
    public async Task WaitAllAsync_TwoInformers_CompletesOnlyWhenBoth()
    {
        await _client.CreateAsync(CoreResources.Services, Service("a", "one"), default);
        await _client.CreateAsync(CoreResources.Nodes, new Node { Metadata = new ObjectMeta { Name = "node-1" } }, default);
        var nodesGate = new TaskCompletionSource();
        _client.OnRequest = (r, ct) => r.Verb == "list" && r.Resource == "nodes" ? new ValueTask(nodesGate.Task.WaitAsync(ct)) : default;
        var (services, _) = Create();
        var nodes = new ResourceInformer<Node>(_client, CoreResources.Nodes, null, NullLogger.Instance, _time);

        Start(services);
        Start(nodes);
        var all = InformerSync.WaitAllAsync([services, nodes], default);
        await services.WaitForSyncAsync(default).Within();
        Assert.False(all.IsCompleted);
        Assert.False(nodes.HasSynced);

        nodesGate.SetResult();
        await all.Within();
        Assert.True(nodes.TryGet(null, "node-1", out _));
    }

    [Fact]
    public void Constructor_NamespaceForClusterScopedKind_ThrowsNamingIt()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            new ResourceInformer<Node>(_client, CoreResources.Nodes, new ResourceInformerOptions { Namespace = "a" }, NullLogger.Instance, _time));
        Assert.Contains("cluster-scoped", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddEventHandler_AfterRunAsync_Throws()
    {
        var (informer, _) = Create();
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();
        Assert.Throws<InvalidOperationException>(() => informer.AddEventHandler(new RecordingHandler()));
    }

    private (ResourceInformer<Service> Informer, RecordingHandler Handler) Create(
        ResourceInformerOptions? options = null, Action<RecordingHandler>? handler = null, RecordingLogger? logger = null,
        IResourceEventHandler<Service>? before = null)
    {
        ResourceInformer<Service>? informer = null;
        var recording = new RecordingHandler(() => informer!.HasSynced);
        handler?.Invoke(recording);
        informer = new ResourceInformer<Service>(_client, CoreResources.Services, options, (Microsoft.Extensions.Logging.ILogger?)logger ?? NullLogger.Instance, _time, new Random(7));
        if (before is not null)
        {
            informer.AddEventHandler(before);
        }
        informer.AddEventHandler(recording);
        return (informer, recording);
    }

    private void Start(IResourceInformer informer)
    {
        _running.Add(informer switch
        {
            ResourceInformer<Service> s => s.RunAsync(_stop.Token),
            ResourceInformer<Node> n => n.RunAsync(_stop.Token),
            _ => throw new ArgumentException("unexpected informer", nameof(informer)),
        });
    }

    private List<WatchOptions> WatchOptionsSent() =>
        _client.Requests.Where(r => r.Verb == "watch").Select(r => (WatchOptions)r.Options!).ToList();

    private async Task AssertCacheMatchesServerAsync(ResourceInformer<Service> informer)
    {
        var server = await _client.ListAsync(CoreResources.Services, informer.Name.Contains(" in ", StringComparison.Ordinal) ? "a" : null, null, default);
        Assert.Equal(
            server.Items.Select(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}@{s.Metadata.ResourceVersion}").Order(),
            informer.List().Select(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}@{s.Metadata.ResourceVersion}").Order());
    }
}

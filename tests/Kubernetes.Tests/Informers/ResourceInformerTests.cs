using k8s;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using BareLb.ApiServer;
using BareLb.Kubernetes.Informers;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Kubernetes.Tests.Informers;

/// <summary>
/// The informer over the real client against the in-memory API server, on a fake clock: backoff, watchdog and
/// reconnect delays run only when the test advances the clock, and only after the informer has armed them.
/// Faults the server does not produce on demand (a closed stream, an ERROR event, a failed request) come from
/// <see cref="FaultInjectingClient"/>.
/// </summary>
public sealed class ResourceInformerTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private TestCluster _cluster = null!;
    private FaultInjectingClient _client = null!;

    public Task InitializeAsync() => StartClusterAsync(new ApiServerOptions());

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.BeforeCall = null;
        await Task.WhenAll(_running).Within();
        await _cluster.DisposeAsync();
        _stop.Dispose();
    }

    private async Task StartClusterAsync(ApiServerOptions options)
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
        _cluster = await TestCluster.StartAsync(options);
        _client = new FaultInjectingClient(_cluster.Client);
        foreach (var ns in (string[])["a", "b", "c"])
        {
            await _cluster.Client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = ns } }, default);
        }
    }

    private IKubernetesClient Server => _cluster.Client;

    private static V1Service Service(string ns, string name) => new()
    {
        Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Protocol = "TCP", Port = 80 }] },
    };

    private Task<V1Service> CreateAsync(string ns, string name) => Server.CreateAsync(CoreResources.Services, Service(ns, name), default);

    private Task<V1Service> TouchAsync(string ns, string name, string value) =>
        Server.PatchAsync(CoreResources.Services, ns, name, new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["touched"] = value } },
        }, status: false, default);

    /// <summary>Deletes and returns the resourceVersion of the deletion (the DELETED event's).</summary>
    private async Task<string> DeleteAsync(string ns, string name)
    {
        await Server.DeleteAsync(CoreResources.Services, ns, name, null, default);
        return _cluster.Server.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task RunAsync_InitialPagedList_HandlersGetEveryObjectBeforeHasSynced()
    {
        var expected = new List<string>();
        for (var i = 0; i < 23; i++)
        {
            var created = await CreateAsync(((string[])["a", "b", "c"])[i % 3], $"svc-{i:D2}");
            expected.Add($"add {created.Metadata.NamespaceProperty}/{created.Metadata.Name}@{created.Metadata.ResourceVersion}");
        }
        var hold = new TaskCompletionSource();
        var (informer, handler) = Create(new ResourceInformerOptions { PageSize = 10 }, h => h.HoldFirstDelivery = hold.Task);
        Assert.False(informer.HasSynced);

        Start(informer);
        await _client.WaitForCallsAsync(c => c.Verb == "watch", 1);

        // The cache is full and the watch started, but the handlers have not been given the list yet: not synced.
        Assert.Equal(23, informer.List().Count);
        Assert.False(informer.HasSynced);
        var sync = informer.WaitForSyncAsync(default);
        Assert.False(sync.IsCompleted);

        hold.SetResult();
        await sync.Within();
        Assert.True(informer.HasSynced);
        Assert.Equal(expected.Order(), handler.Changes.Order());
        Assert.All(handler.HasSyncedDuringDelivery, Assert.False);
        Assert.Equal([10, 10, 10], _client.Lists.Select(l => l.Limit));
        Assert.Equal([false, true, true], _client.Lists.Select(l => l.Continue is not null));
        Assert.Equal(_client.WatchesOpened[0].ResourceVersion, (await Server.ListAsync(CoreResources.Services, null, null, default)).ResourceVersion);
    }

    [Fact]
    public async Task RunAsync_WatchStreamEnds_ResumesFromLastResourceVersionWithoutLossOrDuplicate()
    {
        var one = await CreateAsync("a", "one");
        var (informer, handler) = Create();
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();
        var two = await CreateAsync("a", "two");
        await handler.WaitForCountAsync(2);

        // Hold the reconnect until the test has changed things behind the informer's back.
        var gate = new TaskCompletionSource();
        _client.BeforeCall = (c, ct) => c.Verb == "watch" ? new ValueTask(gate.Task.WaitAsync(ct)) : default;
        Assert.Equal(1, await _client.EndWatchesAsync());
        await _client.WaitForCallsAsync(c => c.Verb == "watch", 2);
        var three = await CreateAsync("a", "three");
        var oneTouched = await TouchAsync("a", "one", "1");
        var twoDeletedAt = await DeleteAsync("a", "two");
        gate.SetResult();

        await handler.WaitForCountAsync(5);
        var sentinel = await CreateAsync("a", "sentinel");
        await handler.WaitForCountAsync(6);

        Assert.Equal(
        [
            $"add a/one@{one.Metadata.ResourceVersion}",
            $"add a/two@{two.Metadata.ResourceVersion}",
            $"add a/three@{three.Metadata.ResourceVersion}",
            $"update a/one@{one.Metadata.ResourceVersion}->{oneTouched.Metadata.ResourceVersion}",
            $"delete a/two@{twoDeletedAt}",
            $"add a/sentinel@{sentinel.Metadata.ResourceVersion}",
        ], handler.Changes);
        Assert.Equal(two.Metadata.ResourceVersion, _client.WatchesOpened[1].ResourceVersion);
        Assert.Single(_client.Lists);
        await AssertCacheMatchesServerAsync(informer);
    }

    [Fact]
    public async Task RunAsync_WatchExpiredWhileDisconnected_RelistDeliversExactlyTheDifference()
    {
        var keep = await CreateAsync("a", "keep");
        var modify = await CreateAsync("a", "modify");
        var delete = await CreateAsync("a", "delete");
        var recreate = await CreateAsync("a", "recreate");
        var logger = new RecordingLogger();
        var (informer, handler) = Create(logger: logger);
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        // The stream ends before delivering anything, so the informer backs off before reconnecting; meanwhile the
        // objects change and the server forgets the history the informer would need to resume.
        await _client.EndWatchesAsync();
        var reconnectDelay = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(1), default).Within();
        var modified = await TouchAsync("a", "modify", "1");
        var deletedAt = await DeleteAsync("a", "delete");
        var recreateDeletedAt = await DeleteAsync("a", "recreate");
        var recreated = await CreateAsync("a", "recreate");
        var added = await CreateAsync("a", "added");
        _cluster.Server.CompactWatchHistory();

        _time.Advance(reconnectDelay);
        // The server answers the resumed watch with a 410 ERROR event; the informer backs off again, then relists.
        var relistDelay = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(2), default).Within();
        Assert.Single(logger.WithEventId(2103));
        Assert.Single(_client.Lists);
        _time.Advance(relistDelay);
        await handler.WaitForCountAsync(9);
        var sentinel = await CreateAsync("a", "sentinel");
        await handler.WaitForCountAsync(10);

        var relisted = handler.Changes.Skip(4).Take(5).ToList();
        Assert.Equal(
            new[]
            {
                $"update a/modify@{modify.Metadata.ResourceVersion}->{modified.Metadata.ResourceVersion}",
                // A deletion noticed only by a relist carries the last version the informer saw.
                $"delete a/delete@{delete.Metadata.ResourceVersion}",
                $"delete a/recreate@{recreate.Metadata.ResourceVersion}",
                $"add a/recreate@{recreated.Metadata.ResourceVersion}",
                $"add a/added@{added.Metadata.ResourceVersion}",
            }.Order(),
            relisted.Order());
        Assert.True(relisted.IndexOf($"delete a/recreate@{recreate.Metadata.ResourceVersion}") < relisted.IndexOf($"add a/recreate@{recreated.Metadata.ResourceVersion}"));
        Assert.NotEqual(deletedAt, recreateDeletedAt);
        Assert.DoesNotContain(handler.Changes.Skip(4), c => c.Contains("a/keep", StringComparison.Ordinal));
        Assert.Equal($"add a/sentinel@{sentinel.Metadata.ResourceVersion}", handler.Changes[^1]);
        Assert.True(informer.TryGet("a", "keep", out var cachedKeep));
        Assert.Equal(keep.Metadata.ResourceVersion, cachedKeep.Metadata.ResourceVersion);
        Assert.Equal(2, _client.Lists.Count);
        await AssertCacheMatchesServerAsync(informer);
    }

    [Fact]
    public async Task RunAsync_GoneErrorEventWithNothingMissed_RelistDeliversNothing()
    {
        await CreateAsync("a", "one");
        await CreateAsync("b", "two");
        var (informer, handler) = Create();
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        await _client.EndWatchesAsync(GoneError());
        _time.Advance(await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(1), default).Within());
        await _client.WaitForCallsAsync(c => c.Verb == "watch", 2);
        var sentinel = await CreateAsync("a", "sentinel");
        await handler.WaitForCountAsync(3);

        Assert.Equal(3, handler.Changes.Count);
        Assert.Equal($"add a/sentinel@{sentinel.Metadata.ResourceVersion}", handler.Changes[2]);
        Assert.Equal(2, _client.Lists.Count);
        await AssertCacheMatchesServerAsync(informer);
    }

    [Fact]
    public async Task RunAsync_BookmarkReceived_ResumesFromTheBookmarkNotTheList()
    {
        await StartClusterAsync(new ApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(50) });
        await CreateAsync("a", "one");
        var (informer, handler) = Create(new ResourceInformerOptions { Namespace = "a" });
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();
        var listedAt = _client.WatchesOpened[0].ResourceVersion;

        // Writes in another namespace move the resourceVersion on; only a bookmark tells this informer.
        await CreateAsync("b", "x");
        await CreateAsync("b", "y");
        var bookmark = _cluster.Server.CurrentResourceVersion.ToString(CultureInfo.InvariantCulture);
        await _client.WaitForConsumedAsync<V1Service>(e => e.Type == WatchEventType.Bookmark && e.ResourceVersion == bookmark);

        // Resuming from the list's resourceVersion now fails with 410 and a relist; from the bookmark it does not.
        _cluster.Server.CompactWatchHistory();
        await _client.EndWatchesAsync();
        await _client.WaitForCallsAsync(c => c.Verb == "watch", 2);
        var two = await CreateAsync("a", "two");
        await handler.WaitForCountAsync(2);

        Assert.NotEqual(listedAt, bookmark);
        Assert.Equal(bookmark, _client.WatchesOpened[1].ResourceVersion);
        Assert.All(_client.WatchesOpened, w => Assert.True(w.AllowWatchBookmarks));
        Assert.Single(_client.Lists);
        Assert.Equal($"add a/two@{two.Metadata.ResourceVersion}", handler.Changes[1]);
    }

    [Fact]
    public async Task RunAsync_WatchKeepsFailing_BackoffIsJitteredExponentialCappedAndResetByHealthyWatch()
    {
        var failing = true;
        _client.BeforeCall = (c, _) => c.Verb == "watch" && Volatile.Read(ref failing)
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
        await _client.WaitForCallsAsync(c => c.Verb == "watch", bases.Length + 1);

        // A watch that delivers an event is healthy: the next failure starts again from the initial backoff.
        Volatile.Write(ref failing, false);
        _time.Advance(await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(8), default).Within());
        await CreateAsync("a", "one");
        await handler.WaitForCountAsync(1);
        Volatile.Write(ref failing, true);
        await _client.EndWatchesAsync();
        var afterReset = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(8), default).Within();

        Assert.InRange(afterReset, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
        Assert.Single(_client.Lists);
    }

    [Fact]
    public async Task RunAsync_WatchSilentBeyondWatchdogTimeout_RestartsWatchFromLastResourceVersion()
    {
        var logger = new RecordingLogger();
        var (informer, handler) = Create(new ResourceInformerOptions { WatchdogTimeout = TimeSpan.FromMinutes(5) }, logger: logger);
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        // An event at 4 minutes is activity: the watchdog counts again from there.
        _time.Advance(TimeSpan.FromMinutes(4));
        var one = await CreateAsync("a", "one");
        await handler.WaitForCountAsync(1);
        await _time.WaitForTimerAsync(d => d == TimeSpan.FromMinutes(5), default).Within();
        _time.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(59));
        Assert.Contains(TimeSpan.FromSeconds(1), _time.PendingTimers);
        Assert.Single(_client.WatchesOpened);
        Assert.Empty(logger.WithEventId(2106));

        _time.Advance(TimeSpan.FromSeconds(1));
        await _client.WaitForCallsAsync(c => c.Verb == "watch", 2);

        Assert.Equal(one.Metadata.ResourceVersion, _client.WatchesOpened[1].ResourceVersion);
        Assert.Single(logger.WithEventId(2106));
        Assert.Single(_client.Lists);
        var two = await CreateAsync("a", "two");
        await handler.WaitForCountAsync(2);
        Assert.Equal($"add a/two@{two.Metadata.ResourceVersion}", handler.Changes[1]);
    }

    [Fact]
    public async Task RunAsync_GarbledLineMidStream_ReconnectsFromLastResourceVersionWithoutRelist()
    {
        var logger = new RecordingLogger();
        var (informer, handler) = Create(logger: logger);
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();
        var one = await CreateAsync("a", "one");
        await handler.WaitForCountAsync(1);

        await _client.EndWatchesAsync(new InvalidDataException("watch services: a line of the stream is not valid JSON"));
        // The watch had delivered an event, so it counts as healthy: the backoff starts again from the initial one.
        var delay = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(1), default).Within();
        var two = await CreateAsync("a", "two");
        _time.Advance(delay);
        await handler.WaitForCountAsync(2);

        Assert.InRange(delay, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
        Assert.Single(logger.WithEventId(2104));
        Assert.Equal(one.Metadata.ResourceVersion, _client.WatchesOpened[1].ResourceVersion);
        Assert.Equal($"add a/two@{two.Metadata.ResourceVersion}", handler.Changes[1]);
        Assert.Single(_client.Lists);
    }

    [Theory]
    [InlineData(429, "TooManyRequests")]
    [InlineData(503, "ServiceUnavailable")]
    public async Task RunAsync_ListRefused_RetriesAfterBackoffAndSyncs(int code, string reason)
    {
        await CreateAsync("a", "one");
        var refusals = 1;
        _client.BeforeCall = (c, _) => c.Verb == "list" && Interlocked.Decrement(ref refusals) >= 0
            ? ValueTask.FromException(KubernetesApiException.From((HttpStatusCode)code,
                new V1Status { Kind = "Status", Status = "Failure", Code = code, Reason = reason, Message = "try later" }))
            : default;
        var logger = new RecordingLogger();
        var (informer, handler) = Create(logger: logger);
        Start(informer);

        var delay = await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(1), default).Within();
        Assert.False(informer.HasSynced);
        _time.Advance(delay);
        await informer.WaitForSyncAsync(default).Within();

        Assert.Equal(2, _client.Lists.Count);
        Assert.Single(logger.WithEventId(2101));
        Assert.Equal(["add a/one"], handler.Changes.Select(c => c[..c.IndexOf('@', StringComparison.Ordinal)]));
    }

    [Fact]
    public async Task RunAsync_SlowAndFailingHandlers_DeliveredInOrderAndFailuresLogged()
    {
        var logger = new RecordingLogger();
        var hold = new TaskCompletionSource();
        var failingSeen = new List<string>();
        // Registered first, so by the time the recording handler has seen a change, this one has too.
        var failing = new ResourceEventHandler<V1Service>(
            onAdd: _ => throw new InvalidOperationException("handler bug"),
            onUpdate: (_, s) =>
            {
                failingSeen.Add(s.Metadata.ResourceVersion);
                throw new InvalidOperationException("handler bug");
            });
        var (informer, ordered) = Create(handler: h => h.HoldFirstDelivery = hold.Task, logger: logger, before: failing);
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        // The first delivery is stuck in the slow handler while 20 updates arrive.
        var svc = await CreateAsync("a", "one");
        var versions = new List<string> { svc.Metadata.ResourceVersion };
        for (var i = 0; i < 20; i++)
        {
            versions.Add((await TouchAsync("a", "one", i.ToString(CultureInfo.InvariantCulture))).Metadata.ResourceVersion);
        }
        hold.SetResult();
        await ordered.WaitForCountAsync(21);

        Assert.Equal($"add a/one@{versions[0]}", ordered.Changes[0]);
        for (var i = 1; i <= 20; i++)
        {
            Assert.Equal($"update a/one@{versions[i - 1]}->{versions[i]}", ordered.Changes[i]);
        }
        Assert.Equal(versions.Skip(1), failingSeen);
        Assert.Equal(21, logger.WithEventId(2108).Count());
    }

    [Theory]
    [InlineData(1, "10 10 10 10 10")]
    [InlineData(2, "10 10 10 10 unpaged")]
    public async Task RunAsync_ContinueTokenExpires_ListRestartsThenFallsBackToUnpaged(int expiries, string limits)
    {
        for (var i = 0; i < 25; i++)
        {
            await CreateAsync("a", $"svc-{i:D2}");
        }
        var remaining = expiries;
        _client.BeforeCall = async (c, ct) =>
        {
            if (c.Verb == "list" && c.Options is ListOptions { Continue: not null } && Interlocked.Decrement(ref remaining) >= 0)
            {
                // The collection moves on and the server compacts while the informer pages: its snapshot is gone.
                await Server.CreateAsync(CoreResources.Services, Service("b", $"late-{remaining}"), ct);
                _cluster.Server.CompactWatchHistory();
            }
        };
        var (informer, handler) = Create(new ResourceInformerOptions { PageSize = 10 });
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        Assert.Equal(limits.Split(' ').Select(l => l == "unpaged" ? (int?)null : int.Parse(l, CultureInfo.InvariantCulture)), _client.Lists.Select(l => l.Limit));
        Assert.Equal(25 + expiries, informer.List().Count);
        Assert.Equal(25 + expiries, handler.Changes.Count);
        Assert.Equal(handler.Changes.Count, handler.Changes.Distinct().Count());
        await AssertCacheMatchesServerAsync(informer);
    }

    [Fact]
    public async Task WaitAllAsync_TwoInformers_CompletesOnlyWhenBothHaveSynced()
    {
        await CreateAsync("a", "one");
        await Server.CreateAsync(CoreResources.Nodes, new V1Node { Metadata = new V1ObjectMeta { Name = "node-1" } }, default);
        var nodesGate = new TaskCompletionSource();
        _client.BeforeCall = (c, ct) => c.Verb == "list" && c.Resource == "nodes" ? new ValueTask(nodesGate.Task.WaitAsync(ct)) : default;
        var (services, _) = Create();
        var nodes = new ResourceInformer<V1Node>(_client, CoreResources.Nodes, null, NullLogger.Instance, _time);

        _running.Add(services.RunAsync(_stop.Token));
        _running.Add(nodes.RunAsync(_stop.Token));
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
        var e = Assert.Throws<ArgumentException>(() =>
            new ResourceInformer<V1Node>(_client, CoreResources.Nodes, new ResourceInformerOptions { Namespace = "a" }, NullLogger.Instance, _time));
        Assert.Contains("cluster-scoped", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddEventHandler_AfterRunAsync_Throws()
    {
        var (informer, _) = Create();
        Start(informer);
        await informer.WaitForSyncAsync(default).Within();

        Assert.Throws<InvalidOperationException>(() => informer.AddEventHandler(new RecordingHandler<V1Service>()));
        Assert.Throws<InvalidOperationException>(() => informer.AddUnreadableHandler(_ => { }));
    }

    internal static GoneException GoneError() => (GoneException)KubernetesApiException.From(HttpStatusCode.Gone,
        new V1Status { Kind = "Status", Status = "Failure", Code = 410, Reason = "Expired", Message = "too old resource version" });

    private (ResourceInformer<V1Service> Informer, RecordingHandler<V1Service> Handler) Create(
        ResourceInformerOptions? options = null, Action<RecordingHandler<V1Service>>? handler = null, RecordingLogger? logger = null,
        IResourceEventHandler<V1Service>? before = null)
    {
        ResourceInformer<V1Service>? informer = null;
        var recording = new RecordingHandler<V1Service>(() => informer!.HasSynced);
        handler?.Invoke(recording);
        informer = new ResourceInformer<V1Service>(_client, CoreResources.Services, options,
            (Microsoft.Extensions.Logging.ILogger?)logger ?? NullLogger.Instance, _time, new Random(7));
        if (before is not null)
        {
            informer.AddEventHandler(before);
        }
        informer.AddEventHandler(recording);
        return (informer, recording);
    }

    private void Start(ResourceInformer<V1Service> informer) => _running.Add(informer.RunAsync(_stop.Token));

    private async Task AssertCacheMatchesServerAsync(ResourceInformer<V1Service> informer)
    {
        var server = await Server.ListAsync(CoreResources.Services, informer.Name.Contains(" in ", StringComparison.Ordinal) ? "a" : null, null, default);
        Assert.Equal(
            server.Items.Select(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}@{s.Metadata.ResourceVersion}").Order(),
            informer.List().Select(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}@{s.Metadata.ResourceVersion}").Order());
    }
}

using System.Text.RegularExpressions;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Events;

/// <summary>The recorder writing to the in-memory API server over HTTP, on a fake clock (aggregation windows).</summary>
public sealed class EventRecorderTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = Wait.Patience;

    private readonly FakeTimeProvider _time = new();
    private readonly RecordingLogger _logger = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _running = [];
    private TestCluster _cluster = null!;
    private FaultInjectingClient _client = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync();
        _client = new FaultInjectingClient(_cluster.Client);
        await _cluster.Client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = "tenant" } }, default);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        _client.BeforeCall = null;
        await Task.WhenAll(_running).WaitAsync(Patience);
        await _cluster.DisposeAsync();
        _stop.Dispose();
    }

    [Fact]
    public async Task RecordAsync_SameEventRepeatedWithinWindow_OneEventWithCountAndLastTimestamp()
    {
        var recorder = StartRecorder();
        var svc = await CreateServiceAsync("tenant", "web");
        var first = _time.GetUtcNow();

        Assert.True(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Warning, "AllocationFailed", "no free address in pool blue", default).WaitAsync(Patience));
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.True(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Warning, "AllocationFailed", "no free address in pool blue", default).WaitAsync(Patience));
        _time.Advance(TimeSpan.FromMinutes(9));
        Assert.True(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Warning, "AllocationFailed", "no free address in pool blue", default).WaitAsync(Patience));

        var evt = Assert.Single(await ListEventsAsync("tenant"));
        Assert.Equal(3, evt.Count);
        Assert.Equal(first.UtcDateTime, evt.FirstTimestamp);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, evt.LastTimestamp);
        Assert.Equal("Warning", evt.Type);
        Assert.Equal("AllocationFailed", evt.Reason);
        Assert.Equal("no free address in pool blue", evt.Message);
        Assert.Matches(EventName("web"), evt.Metadata.Name);
        Assert.Equal("v1", evt.InvolvedObject.ApiVersion);
        Assert.Equal("Service", evt.InvolvedObject.Kind);
        Assert.Equal("tenant", evt.InvolvedObject.NamespaceProperty);
        Assert.Equal("web", evt.InvolvedObject.Name);
        Assert.Equal(svc.Metadata.Uid, evt.InvolvedObject.Uid);
        Assert.Equal(svc.Metadata.ResourceVersion, evt.InvolvedObject.ResourceVersion);
        Assert.Equal("barelb-controller", evt.Source?.Component);
        Assert.Equal("node-1", evt.Source?.Host);
        Assert.Equal("barelb-controller", evt.ReportingComponent);
        Assert.Equal("node-1", evt.ReportingInstance);
        Assert.Single(_client.Calls, r => r.Verb == "create" && r.Resource == "events");
        Assert.Equal(2, _client.Calls.Count(r => r.Verb == "patch" && r.Resource == "events"));
    }

    [Fact]
    public async Task RecordAsync_AnyKeyFieldDiffers_SeparateEvents()
    {
        var recorder = StartRecorder();
        var web = await CreateServiceAsync("tenant", "web");
        var api = await CreateServiceAsync("tenant", "api");
        var variants = new (V1Service Svc, EventType Type, string Reason, string Message)[]
        {
            (web, EventType.Normal, "IPAllocated", "assigned 198.51.100.10"),
            (web, EventType.Normal, "IPAllocated", "assigned 198.51.100.11"),
            (web, EventType.Warning, "IPAllocated", "assigned 198.51.100.10"),
            (web, EventType.Normal, "IPReleased", "assigned 198.51.100.10"),
            (api, EventType.Normal, "IPAllocated", "assigned 198.51.100.10"),
        };

        foreach (var v in variants)
        {
            Assert.True(await recorder.RecordAsync(v.Svc, CoreResources.Services, v.Type, v.Reason, v.Message, default).WaitAsync(Patience));
        }

        var events = await ListEventsAsync("tenant");
        Assert.Equal(5, events.Count);
        Assert.All(events, e => Assert.Equal(1, e.Count));
        Assert.Equal(5, events.Select(e => e.Metadata.Name).Distinct().Count());
    }

    [Fact]
    public async Task RecordAsync_RepeatAfterWindow_CreatesNewEvent()
    {
        var recorder = StartRecorder();
        var svc = await CreateServiceAsync("tenant", "web");

        await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "IPAllocated", "assigned 198.51.100.10", default).WaitAsync(Patience);
        _time.Advance(TimeSpan.FromMinutes(10));
        await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "IPAllocated", "assigned 198.51.100.10", default).WaitAsync(Patience);

        var events = await ListEventsAsync("tenant");
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal(1, e.Count));
    }

    [Fact]
    public async Task RecordAsync_ClusterScopedNode_EventGoesToDefaultNamespace()
    {
        var recorder = StartRecorder();
        var node = await _cluster.Client.CreateAsync(CoreResources.Nodes, new V1Node { Metadata = new V1ObjectMeta { Name = "worker-3" } }, default);

        Assert.True(await recorder.RecordAsync(node, CoreResources.Nodes, EventType.Normal, "SpeakerReady", "announcing 3 addresses", default).WaitAsync(Patience));
        Assert.True(await recorder.RecordAsync(node, CoreResources.Nodes, EventType.Normal, "SpeakerReady", "announcing 3 addresses", default).WaitAsync(Patience));

        var evt = Assert.Single(await ListEventsAsync("default"));
        Assert.Equal(2, evt.Count);
        Assert.Null(evt.InvolvedObject.NamespaceProperty);
        Assert.Equal("Node", evt.InvolvedObject.Kind);
        Assert.Equal(node.Metadata.Uid, evt.InvolvedObject.Uid);
        Assert.Matches(EventName("worker-3"), evt.Metadata.Name);
    }

    [Fact]
    public async Task RecordAsync_ApiFails_ReturnsFalseLogsAndNextSucceeds()
    {
        var recorder = StartRecorder();
        var svc = await CreateServiceAsync("tenant", "web");
        _client.BeforeCall = (r, _) => r.Resource == "events"
            ? ValueTask.FromException(new HttpRequestException("connection refused"))
            : default;

        Assert.False(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "IPAllocated", "assigned", default).WaitAsync(Patience));
        Assert.False(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "IPAllocated", "assigned", default).WaitAsync(Patience));
        _client.BeforeCall = null;
        Assert.True(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "IPAllocated", "assigned", default).WaitAsync(Patience));

        Assert.Equal(2, _logger.WithEventId(2301).Count());
        var evt = Assert.Single(await ListEventsAsync("tenant"));
        Assert.Equal(1, evt.Count);
    }

    [Fact]
    public async Task RecordAsync_EventExpiredOnServer_CreatesAFreshOne()
    {
        var recorder = StartRecorder();
        var svc = await CreateServiceAsync("tenant", "web");
        await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "IPAllocated", "assigned", default).WaitAsync(Patience);
        var old = Assert.Single(await ListEventsAsync("tenant"));
        await _cluster.Client.DeleteAsync(CoreResources.Events, "tenant", old.Metadata.Name, null, default);

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "IPAllocated", "assigned", default).WaitAsync(Patience));

        var fresh = Assert.Single(await ListEventsAsync("tenant"));
        Assert.NotEqual(old.Metadata.Name, fresh.Metadata.Name);
        Assert.Equal(1, fresh.Count);
    }

    [Fact]
    public async Task Record_QueueFlooded_DropsOldestWithoutBlockingAndLogs()
    {
        var recorder = new EventRecorder(_client, Options(queueCapacity: 2), _logger, _time);
        var svc = await CreateServiceAsync("tenant", "web");

        // Nothing is processing the queue yet: callers must still return at once.
        var results = Enumerable.Range(1, 4)
            .Select(i => recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "Step", $"message {i}", default))
            .ToList();
        Assert.False(await results[0].WaitAsync(Patience));
        Assert.False(await results[1].WaitAsync(Patience));
        Assert.False(results[2].IsCompleted);
        Assert.Single(_logger.WithEventId(2300));

        _running.Add(recorder.RunAsync(_stop.Token));
        Assert.True(await results[2].WaitAsync(Patience));
        Assert.True(await results[3].WaitAsync(Patience));
        Assert.Equal(["message 3", "message 4"], (await ListEventsAsync("tenant")).Select(e => e.Message).Order());
    }

    [Fact]
    public async Task RunAsync_Stopped_PendingAndLaterRecordsCompleteFalse()
    {
        var recorder = new EventRecorder(_client, Options(), _logger, _time);
        var svc = await CreateServiceAsync("tenant", "web");
        var pending = recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "Step", "before stop", default);
        using var stop = new CancellationTokenSource();
        stop.Cancel();

        await recorder.RunAsync(stop.Token).WaitAsync(Patience);

        Assert.False(await pending.WaitAsync(Patience));
        Assert.False(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "Step", "after stop", default).WaitAsync(Patience));
    }

    [Fact]
    public async Task RecordAsync_TwoEventsAtTheSameInstant_GetDistinctNames()
    {
        var recorder = StartRecorder();
        var svc = await CreateServiceAsync("tenant", "web");
        var a = recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "A", "a", default);
        var b = recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "B", "b", default);
        Assert.True(await a.WaitAsync(Patience));
        Assert.True(await b.WaitAsync(Patience));
        var names = (await ListEventsAsync("tenant")).Select(e => e.Metadata.Name).ToList();
        Assert.Equal(2, names.Distinct().Count());
        Assert.All(names, n => Assert.Matches(EventName("web"), n));
    }

    [Fact]
    public async Task Record_InvalidArguments_ThrowNamingTheProblem()
    {
        var recorder = new EventRecorder(_client, Options(), _logger, _time);
        var svc = await CreateServiceAsync("tenant", "web");
        Assert.Throws<ArgumentException>("reason", () => recorder.Record(svc, CoreResources.Services, EventType.Normal, " ", "m"));
        Assert.Throws<ArgumentOutOfRangeException>("eventType", () => recorder.Record(svc, CoreResources.Services, (EventType)7, "R", "m"));
        var unnamed = new V1Service { Metadata = new V1ObjectMeta { NamespaceProperty = "tenant" } };
        var ex = Assert.Throws<ArgumentException>("obj", () => recorder.Record(unnamed, CoreResources.Services, EventType.Normal, "R", "m"));
        Assert.Contains("metadata.name", ex.Message, StringComparison.Ordinal);
        var noNamespace = new V1Service { Metadata = new V1ObjectMeta { Name = "web" } };
        ex = Assert.Throws<ArgumentException>("obj", () => recorder.Record(noNamespace, CoreResources.Services, EventType.Normal, "R", "m"));
        Assert.Contains("metadata.namespace", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>("Component", () => new EventRecorder(_client, new EventRecorderOptions(), _logger, _time));
    }

    [Fact]
    public async Task RecordAsync_VeryLongObjectName_EventNameStaysWithinLimit()
    {
        var recorder = StartRecorder();
        // Node names may be as long as any object name (253); Service names may not.
        var name = new string('a', 250);
        var node = await _cluster.Client.CreateAsync(CoreResources.Nodes, new V1Node { Metadata = new V1ObjectMeta { Name = name } }, default);

        Assert.True(await recorder.RecordAsync(node, CoreResources.Nodes, EventType.Normal, "R", "m", default).WaitAsync(Patience));

        var evt = Assert.Single(await ListEventsAsync("default"));
        Assert.Equal(253, evt.Metadata.Name.Length);
        Assert.Matches(EventName(name[..236]), evt.Metadata.Name);
        Assert.Equal(name, evt.InvolvedObject.Name);
    }

    [Fact]
    public async Task Record_ObjectKnownOnlyByReference_WritesTheEventAboutIt()
    {
        var recorder = StartRecorder();
        var svc = await CreateServiceAsync("tenant", "web");
        var reference = new V1ObjectReference
        {
            ApiVersion = "tests.barelb.io/v1", Kind = "Widget", NamespaceProperty = "tenant", Name = "broken", Uid = "u-1", ResourceVersion = "42",
        };

        recorder.Record(reference, EventType.Warning, "Unreadable", "spec.size is out of range");
        // One writer, in order: once a later event is written, the earlier one is too.
        Assert.True(await recorder.RecordAsync(svc, CoreResources.Services, EventType.Normal, "Barrier", "after", default).WaitAsync(Patience));

        var evt = Assert.Single(await ListEventsAsync("tenant"), e => e.Reason == "Unreadable");
        Assert.Equal(("tests.barelb.io/v1", "Widget", "tenant", "broken", "u-1", "42"),
            (evt.InvolvedObject.ApiVersion, evt.InvolvedObject.Kind, evt.InvolvedObject.NamespaceProperty, evt.InvolvedObject.Name, evt.InvolvedObject.Uid, evt.InvolvedObject.ResourceVersion));
        Assert.Equal(("Warning", "spec.size is out of range"), (evt.Type, evt.Message));
        Assert.Matches(EventName("broken"), evt.Metadata.Name);
    }

    private EventRecorder StartRecorder()
    {
        var recorder = new EventRecorder(_client, Options(), _logger, _time);
        _running.Add(recorder.RunAsync(_stop.Token));
        return recorder;
    }

    private static EventRecorderOptions Options(int queueCapacity = 1000) => new()
    {
        Component = "barelb-controller",
        Host = "node-1",
        QueueCapacity = queueCapacity,
    };

    private Task<V1Service> CreateServiceAsync(string ns, string name) =>
        _cluster.Client.CreateAsync(CoreResources.Services, new V1Service
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = name },
            Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Protocol = "TCP", Port = 80 }] },
        }, default);

    private async Task<IReadOnlyList<Corev1Event>> ListEventsAsync(string ns) =>
        (await _cluster.Client.ListAsync(CoreResources.Events, ns, null, default)).Items;

    private static Regex EventName(string objectName) => new($"^{Regex.Escape(objectName)}\\.[0-9a-f]+$");
}

using System.Text.Json.Nodes;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.Informers;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Informers;

/// <summary>
/// An object the model cannot read (a Widget whose spec.size, an int64 in the CRD, is too big for the model's
/// int, as an IPAddressPool's priority of 3000000000 is for BareLb's) is skipped while everything else syncs.
/// </summary>
public sealed class UnreadableObjectInformerTests : IAsyncLifetime
{
    private const string TooBig = """{"spec":{"size":3000000000}}""";

    private readonly FakeTimeProvider _time = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly RecordingLogger _logger = new();
    private readonly List<UnreadableObject> _reported = [];
    private TestCluster _cluster = null!;
    private FaultInjectingClient _client = null!;
    private Task _run = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _cluster = await Widget.StartClusterAsync();
        _client = new FaultInjectingClient(_cluster.Client);
    }

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _run.Within();
        await _cluster.DisposeAsync();
        _stop.Dispose();
    }

    private IKubernetesClient Server => _cluster.Client;

    private string[] Reported
    {
        get
        {
            lock (_reported)
            {
                return [.. _reported.Select(u => $"{u.Key}@{u.Metadata.ResourceVersion}")];
            }
        }
    }

    [Fact]
    public async Task RunAsync_UnreadableInInitialList_OthersSyncAndItIsReportedOnce()
    {
        var a = await CreateAsync("a", 1);
        var b = await CreateUnreadableAsync("b");
        var c = await CreateAsync("c", 3);

        var (informer, handler) = Start();
        await informer.WaitForSyncAsync(default).Within();

        Assert.Equal([$"add default/a@{a}", $"add default/c@{c}"], handler.Changes.Order());
        Assert.Equal(["a", "c"], informer.List().Select(w => w.Metadata.Name).Order());
        Assert.Equal([$"default/b@{b}"], Reported);
        var logged = Assert.Single(_logger.WithEventId(2110));
        Assert.Contains("default/b", logged.Message, StringComparison.Ordinal);
        Assert.Contains("Widget cannot be read", logged.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_UpdateMakesObjectUnreadable_KeepsLastReadableVersionReportsEachVersionOnceAndRecovers()
    {
        var good = await CreateAsync("p", 1);
        var (informer, handler) = Start();
        await informer.WaitForSyncAsync(default).Within();

        var bad1 = await PatchUnreadableAsync("p", TooBig);
        await _client.WaitForConsumedAsync<Widget>(e => e.ResourceVersion == bad1);
        var bad2 = await PatchUnreadableAsync("p", """{"spec":{"color":"red"}}""");
        await _client.WaitForConsumedAsync<Widget>(e => e.ResourceVersion == bad2);

        // Neither a deletion nor an update reaches the handlers: for them the object is still its last readable self.
        Assert.Equal([$"add default/p@{good}"], handler.Changes);
        Assert.True(informer.TryGet("default", "p", out var cached));
        Assert.Equal(good, cached.Metadata.ResourceVersion);
        Assert.Equal([$"default/p@{bad1}", $"default/p@{bad2}"], Reported);

        // A relist finds it still unreadable at the same version: kept, and not reported again.
        await _client.EndWatchesAsync(ResourceInformerTests.GoneError());
        _time.Advance(await _time.WaitForTimerAsync(d => d <= TimeSpan.FromSeconds(1), default).Within());
        await _client.WaitForCallsAsync(c => c.Verb == "watch", 2);
        Assert.Equal(2, _client.Lists.Count);
        Assert.True(informer.TryGet("default", "p", out cached));
        Assert.Equal(good, cached.Metadata.ResourceVersion);
        Assert.Equal(2, Reported.Length);

        var fixedVersion = (await Server.PatchAsync(Widget.Type, "default", "p", JsonNode.Parse("""{"spec":{"size":5}}""")!, status: false, default)).Metadata.ResourceVersion;
        await handler.WaitForCountAsync(2);

        Assert.Equal($"update default/p@{good}->{fixedVersion}", handler.Changes[1]);
        Assert.True(informer.TryGet("default", "p", out cached));
        Assert.Equal(5, cached.Spec.Size);
        Assert.Equal(2, _logger.WithEventId(2110).Count());
    }

    [Fact]
    public async Task RunAsync_UnreadableObjectDeleted_RemovedWithItsLastReadableVersion()
    {
        var good = await CreateAsync("p", 1);
        var never = await CreateUnreadableAsync("never-readable");
        var (informer, handler) = Start();
        await informer.WaitForSyncAsync(default).Within();
        var bad = await PatchUnreadableAsync("p", TooBig);

        await Server.DeleteAsync(Widget.Type, "default", "p", null, default);
        await Server.DeleteAsync(Widget.Type, "default", "never-readable", null, default);
        var sentinel = await CreateAsync("sentinel", 7);
        await handler.WaitForCountAsync(3);

        Assert.Equal([$"add default/p@{good}", $"delete default/p@{good}", $"add default/sentinel@{sentinel}"], handler.Changes);
        Assert.False(informer.TryGet("default", "p", out _));
        Assert.False(informer.TryGet("default", "never-readable", out _));
        Assert.Equal([$"default/never-readable@{never}", $"default/p@{bad}"], Reported);
    }

    private (ResourceInformer<Widget> Informer, RecordingHandler<Widget> Handler) Start()
    {
        var informer = new ResourceInformer<Widget>(_client, Widget.Type, new ResourceInformerOptions { Namespace = "default" }, _logger, _time, new Random(3));
        var handler = new RecordingHandler<Widget>();
        informer.AddEventHandler(handler);
        informer.AddUnreadableHandler(u =>
        {
            lock (_reported)
            {
                _reported.Add(u);
            }
        });
        _run = informer.RunAsync(_stop.Token);
        return (informer, handler);
    }

    private async Task<string> CreateAsync(string name, int size) =>
        (await Server.CreateAsync(Widget.Type, Widget.New("default", name, size), default)).Metadata.ResourceVersion;

    private async Task<string> CreateUnreadableAsync(string name)
    {
        await CreateAsync(name, 1);
        return await PatchUnreadableAsync(name, TooBig);
    }

    /// <summary>Writes a patch after which the model cannot read the object; returns the new resourceVersion.</summary>
    private async Task<string> PatchUnreadableAsync(string name, string patch)
    {
        var e = await Assert.ThrowsAsync<UnreadableObjectException>(() =>
            Server.PatchAsync(Widget.Type, "default", name, JsonNode.Parse(patch)!, status: false, default));
        return e.Unreadable.Metadata.ResourceVersion;
    }
}

using k8s;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Client;

/// <summary>
/// The models know less than the API server: fields they do not declare must survive BareLb's writes, and an
/// object they cannot read must fail only itself, never the list or watch it came in.
/// </summary>
/// <remarks>
/// Unknown fields are shown on a Node (a built-in kind with a status subresource; the in-memory API server prunes
/// unknown fields of Services, as the real one does) and on a custom resource whose schema declares fields that
/// its test model lacks.
/// </remarks>
public sealed class ModelMismatchTests : IAsyncLifetime, IDisposable
{
    private readonly CancellationTokenSource _testTimeout = new(Wait.Patience);
    private TestCluster _cluster = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _cluster = await Widget.StartClusterAsync();
        _http = new HttpClient { BaseAddress = _cluster.Server.BaseAddress };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _cluster.DisposeAsync();
    }

    public void Dispose() => _testTimeout.Dispose();

    private CancellationToken Ct => _testTimeout.Token;

    private IKubernetesClient Client => _cluster.Client;

    [Fact]
    public async Task PatchAsync_NodeWithFieldsUnknownToTheModel_StatusAndAnnotationWritesKeepThem()
    {
        await SendRawAsync(HttpMethod.Post, "/api/v1/nodes", """
            {"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},
             "spec":{"podCIDR":"100.64.1.0/24","futureSpecField":{"mode":"fast"}},
             "status":{"futureStatusField":["a","b"],"addresses":[{"type":"InternalIP","address":"198.51.100.11"}]}}
            """);

        await Client.PatchAsync(CoreResources.Nodes, null, "n1",
            JsonNode.Parse("""{"status":{"addresses":[{"type":"InternalIP","address":"198.51.100.12"}]}}""")!, status: true, Ct);
        var annotated = await Client.PatchAsync(CoreResources.Nodes, null, "n1",
            JsonNode.Parse("""{"metadata":{"annotations":{"barelb.io/seen":"yes"}}}""")!, status: false, Ct);

        var raw = await GetRawAsync("/api/v1/nodes/n1");
        Assert.Equal("fast", (string?)raw["spec"]!["futureSpecField"]!["mode"]);
        Assert.Equal("100.64.1.0/24", (string?)raw["spec"]!["podCIDR"]);
        Assert.Equal("""["a","b"]""", raw["status"]!["futureStatusField"]!.ToJsonString());
        Assert.Equal("198.51.100.12", (string?)raw["status"]!["addresses"]![0]!["address"]);
        Assert.Equal("yes", (string?)raw["metadata"]!["annotations"]!["barelb.io/seen"]);
        Assert.Equal("yes", annotated.Metadata.Annotations["barelb.io/seen"]);
    }

    [Fact]
    public async Task PatchAsync_CustomResourceWithFieldsUnknownToTheModel_StatusAndAnnotationWritesKeepThem()
    {
        await SendRawAsync(HttpMethod.Post, "/apis/tests.barelb.io/v1/namespaces/default/widgets",
            """{"apiVersion":"tests.barelb.io/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":2,"note":"from a newer writer"}}""");
        await SendRawAsync(HttpMethod.Patch, "/apis/tests.barelb.io/v1/namespaces/default/widgets/w/status",
            """{"status":{"note":"status from a newer writer"}}""");

        var statusWritten = await Client.PatchAsync(Widget.Type, "default", "w", new JsonObject
        {
            ["status"] = new JsonObject { ["observedSize"] = 2 },
        }, status: true, Ct);
        await Client.PatchAsync(Widget.Type, "default", "w",
            JsonNode.Parse("""{"metadata":{"annotations":{"barelb.io/seen":"yes"}}}""")!, status: false, Ct);

        var raw = await GetRawAsync("/apis/tests.barelb.io/v1/namespaces/default/widgets/w");
        Assert.Equal("from a newer writer", (string?)raw["spec"]!["note"]);
        Assert.Equal("status from a newer writer", (string?)raw["status"]!["note"]);
        Assert.Equal(2, (long?)raw["status"]!["observedSize"]);
        Assert.Equal("yes", (string?)raw["metadata"]!["annotations"]!["barelb.io/seen"]);
        Assert.Equal(2, statusWritten.Status!.ObservedSize);
    }

    [Fact]
    public async Task ListAsync_OneObjectTheModelCannotRead_ReturnsTheOthersAndDescribesIt()
    {
        await Client.CreateAsync(Widget.Type, Widget.New("default", "a", 1), Ct);
        await Client.CreateAsync(Widget.Type, Widget.New("default", "c", 3), Ct);
        var bad = await CreateUnreadableAsync("b");

        var list = await Client.ListAsync(Widget.Type, "default", null, Ct);

        Assert.Equal(["a", "c"], list.Items.Select(w => w.Metadata.Name));
        var unreadable = Assert.Single(list.Unreadable);
        Assert.Equal("default/b", unreadable.Key);
        Assert.Equal(bad.Metadata.ResourceVersion, unreadable.Metadata.ResourceVersion);
        Assert.Equal(bad.Metadata.Uid, unreadable.Metadata.Uid);
        Assert.Equal(("tests.barelb.io/v1", "Widget"), (unreadable.ApiVersion, unreadable.Kind));
        Assert.StartsWith("Widget cannot be read: ", unreadable.Error);
        Assert.Contains("$.spec.size", unreadable.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetAsync_ObjectTheModelCannotRead_ThrowsUnreadableObject()
    {
        var bad = await CreateUnreadableAsync("b");

        var e = await Assert.ThrowsAsync<UnreadableObjectException>(() => Client.GetAsync(Widget.Type, "default", "b", Ct));

        Assert.Equal("default/b", e.Unreadable.Key);
        Assert.Equal(bad.Metadata.ResourceVersion, e.Unreadable.Metadata.ResourceVersion);
        Assert.StartsWith("Widget default/b: Widget cannot be read: ", e.Message);
    }

    [Fact]
    public async Task WatchAsync_ObjectTheModelCannotRead_YieldsItAsUnreadableBetweenReadableEvents()
    {
        var list = await Client.ListAsync(Widget.Type, "default", null, Ct);
        await Client.CreateAsync(Widget.Type, Widget.New("default", "a", 1), Ct);
        var bad = await CreateUnreadableAsync("b");
        await Client.CreateAsync(Widget.Type, Widget.New("default", "c", 3), Ct);

        var events = await KubernetesClientTests.TakeAsync(Client.WatchAsync(Widget.Type, "default",
            new WatchOptions { ResourceVersion = list.ResourceVersion, AllowWatchBookmarks = false }, Ct), 4);

        // "b" was created readable and then patched: two events, both for an object that no longer reads.
        Assert.Equal(
            [(WatchEventType.Added, "a", false), (WatchEventType.Added, "b", false), (WatchEventType.Modified, "b", true), (WatchEventType.Added, "c", false)],
            events.Select(e => (e.Type, e.Object?.Metadata.Name ?? e.Unreadable!.Metadata.Name, e.Unreadable is not null)));
        Assert.Null(events[2].Object);
        Assert.Equal(bad.Metadata.ResourceVersion, events[2].ResourceVersion);
    }

    /// <summary>
    /// Creates a readable widget, then patches spec.size to 3000000000 (valid int64, too big for the model's int):
    /// the write succeeds on the server, and the client says it cannot read the answer.
    /// </summary>
    private async Task<UnreadableObject> CreateUnreadableAsync(string name)
    {
        await Client.CreateAsync(Widget.Type, Widget.New("default", name, 1), Ct);
        var e = await Assert.ThrowsAsync<UnreadableObjectException>(() => Client.PatchAsync(Widget.Type, "default", name,
            JsonNode.Parse("""{"spec":{"size":3000000000}}""")!, status: false, Ct));
        return e.Unreadable;
    }

    private async Task SendRawAsync(HttpMethod method, string path, string json)
    {
        using var request = new HttpRequestMessage(method, path)
        {
            Content = new StringContent(json, Encoding.UTF8, method == HttpMethod.Patch ? "application/merge-patch+json" : "application/json"),
        };
        using var response = await _http.SendAsync(request, Ct);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    private async Task<JsonNode> GetRawAsync(string path) => (await _http.GetFromJsonAsync<JsonNode>(path, Ct))!;
}

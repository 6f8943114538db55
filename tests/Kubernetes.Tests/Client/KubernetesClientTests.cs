using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using BareLb.ApiServer;
using BareLb.Kubernetes.Models;
using BareLb.TestSupport;

namespace BareLb.Kubernetes.Tests.Client;

/// <summary>One shared in-memory API server; every test works in its own namespace.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

public sealed class KubernetesClientTests : IClassFixture<ClusterFixture>, IDisposable
{
    private readonly TestCluster _cluster;
    private readonly CancellationTokenSource _testTimeout = new(TimeSpan.FromSeconds(30));

    public KubernetesClientTests(ClusterFixture fixture) => _cluster = fixture.Cluster;

    public void Dispose() => _testTimeout.Dispose();

    private CancellationToken Ct => _testTimeout.Token;

    private IKubernetesClient Client => _cluster.Client;

    private async Task<string> NewNamespaceAsync()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..10];
        await Client.CreateAsync(CoreResources.Namespaces, new Namespace { Metadata = new ObjectMeta { Name = name } }, Ct);
        return name;
    }

    internal static Service NewService(string ns, string name, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
        Spec = new ServiceSpec
        {
            Type = "LoadBalancer",
            Ports = [new ServicePort { Name = "http", Protocol = "TCP", Port = 80 }],
        },
    };

    [Fact]
    public async Task Create_ThenGet_ReturnsServerAssignedMetadata()
    {
        var ns = await NewNamespaceAsync();

        var created = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);
        var fetched = await Client.GetAsync(CoreResources.Services, ns, "web", Ct);

        Assert.False(string.IsNullOrEmpty(created.Metadata.Uid));
        Assert.False(string.IsNullOrEmpty(created.Metadata.ResourceVersion));
        Assert.NotNull(created.Metadata.CreationTimestamp);
        Assert.Equal(created.Metadata.Uid, fetched.Metadata.Uid);
        Assert.Equal(created.Metadata.ResourceVersion, fetched.Metadata.ResourceVersion);
        Assert.Equal(("v1", "Service"), (fetched.ApiVersion, fetched.Kind));
        Assert.Equal(80, Assert.Single(fetched.Spec.Ports!).Port);
    }

    [Fact]
    public async Task Create_Twice_ThrowsAlreadyExists()
    {
        var ns = await NewNamespaceAsync();
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() => Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct));
        Assert.Equal(409, (int)e.Code);
        Assert.Equal("AlreadyExists", e.Reason);
    }

    [Fact]
    public async Task Get_Missing_ThrowsNotFound()
    {
        var ns = await NewNamespaceAsync();
        var e = await Assert.ThrowsAsync<NotFoundException>(() => Client.GetAsync(CoreResources.Services, ns, "absent", Ct));
        Assert.Equal("NotFound", e.Reason);
    }

    [Fact]
    public async Task Update_StaleResourceVersion_ThrowsConflict()
    {
        var ns = await NewNamespaceAsync();
        var first = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);
        var stale = await Client.GetAsync(CoreResources.Services, ns, "web", Ct);

        first.Metadata.Labels = new Dictionary<string, string>() { ["v"] = "1" };
        var updated = await Client.UpdateAsync(CoreResources.Services, first, Ct);
        Assert.NotEqual(first.Metadata.ResourceVersion, updated.Metadata.ResourceVersion);
        Assert.Equal("1", updated.Metadata.Labels!["v"]);

        stale.Metadata.Labels = new Dictionary<string, string>() { ["v"] = "2" };
        var e = await Assert.ThrowsAsync<ConflictException>(() => Client.UpdateAsync(CoreResources.Services, stale, Ct));
        Assert.Equal("Conflict", e.Reason);
        Assert.Equal("1", (await Client.GetAsync(CoreResources.Services, ns, "web", Ct)).Metadata.Labels!["v"]);
    }

    [Fact]
    public async Task List_LabelAndFieldSelectors_Filter()
    {
        var ns = await NewNamespaceAsync();
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "a", new() { ["app"] = "web", ["tier"] = "front" }), Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "b", new() { ["app"] = "web" }), Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "c", new() { ["app"] = "db" }), Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "d"), Ct);

        async Task<string[]> Names(ListOptions options) =>
            (await Client.ListAsync(CoreResources.Services, ns, options, Ct)).Items.Select(s => s.Metadata.Name!).Order().ToArray();

        Assert.Equal(["a", "b", "c", "d"], await Names(new ListOptions()));
        Assert.Equal(["a", "b"], await Names(new ListOptions { LabelSelector = "app=web" }));
        Assert.Equal(["c", "d"], await Names(new ListOptions { LabelSelector = "app!=web" }));
        Assert.Equal(["a", "b", "c"], await Names(new ListOptions { LabelSelector = "app in (web,db)" }));
        Assert.Equal(["a"], await Names(new ListOptions { LabelSelector = "app=web,tier" }));
        Assert.Equal(["d"], await Names(new ListOptions { LabelSelector = "!app" }));
        Assert.Equal(["c"], await Names(new ListOptions { FieldSelector = "metadata.name=c" }));
        Assert.Equal(["a", "c", "d"], await Names(new ListOptions { FieldSelector = "metadata.name!=b" }));
        Assert.Equal(["b"], await Names(new ListOptions { LabelSelector = "app=web", FieldSelector = "metadata.name=b" }));

        // All namespaces, narrowed by a field selector on the namespace.
        var all = await Client.ListAsync(CoreResources.Services, null, new ListOptions { FieldSelector = $"metadata.namespace={ns}" }, Ct);
        Assert.Equal(4, all.Items.Count);
        Assert.All(all.Items, s => Assert.Equal(ns, s.Metadata.NamespaceProperty));
    }

    [Fact]
    public async Task List_LimitAndContinue_PagesThroughEverything()
    {
        var ns = await NewNamespaceAsync();
        for (var i = 0; i < 5; i++)
        {
            await Client.CreateAsync(CoreResources.Services, NewService(ns, $"s{i}"), Ct);
        }

        var names = new List<string>();
        var pages = new List<int>();
        string? token = null;
        string? listVersion = null;
        do
        {
            var page = await Client.ListAsync(CoreResources.Services, ns, new ListOptions { Limit = 2, Continue = token }, Ct);
            pages.Add(page.Items.Count);
            names.AddRange(page.Items.Select(s => s.Metadata.Name!));
            listVersion ??= page.Metadata.ResourceVersion;
            token = string.IsNullOrEmpty(page.Metadata.Continue) ? null : page.Metadata.Continue;
        } while (token is not null);

        Assert.Equal([2, 2, 1], pages);
        Assert.Equal(["s0", "s1", "s2", "s3", "s4"], names.Order());
        Assert.False(string.IsNullOrEmpty(listVersion));
    }

    [Fact]
    public async Task Delete_RemovesTheObject()
    {
        var ns = await NewNamespaceAsync();
        var created = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);

        await Assert.ThrowsAsync<ConflictException>(() => Client.DeleteAsync(CoreResources.Services, ns, "web",
            new DeleteOptions { PreconditionUid = "not-" + created.Metadata.Uid }, Ct));
        await Client.GetAsync(CoreResources.Services, ns, "web", Ct);

        await Client.DeleteAsync(CoreResources.Services, ns, "web",
            new DeleteOptions { PreconditionUid = created.Metadata.Uid, PropagationPolicy = "Background" }, Ct);
        await Assert.ThrowsAsync<NotFoundException>(() => Client.GetAsync(CoreResources.Services, ns, "web", Ct));
        await Assert.ThrowsAsync<NotFoundException>(() => Client.DeleteAsync(CoreResources.Services, ns, "web", null, Ct));
    }

    [Fact]
    public async Task Patch_MergePatch_AddsAndRemovesFields()
    {
        var ns = await NewNamespaceAsync();
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "web", new() { ["keep"] = "1", ["drop"] = "2" }), Ct);

        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["drop"] = null, ["add"] = "3" } },
            ["spec"] = new JsonObject { ["externalTrafficPolicy"] = "Local" },
        };
        var patched = await Client.PatchAsync(CoreResources.Services, ns, "web", patch, status: false, Ct);

        Assert.Equal(new Dictionary<string, string> { ["keep"] = "1", ["add"] = "3" }, patched.Metadata.Labels);
        Assert.Equal("Local", patched.Spec.ExternalTrafficPolicy);
        Assert.Equal(80, Assert.Single(patched.Spec.Ports!).Port);
    }

    [Fact]
    public async Task UpdateStatus_ChangesStatusOnly_AndUpdateIgnoresStatus()
    {
        var ns = await NewNamespaceAsync();
        var service = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);

        service.Status = new ServiceStatus { LoadBalancer = new LoadBalancerStatus { Ingress = [new LoadBalancerIngress { Ip = "198.51.100.10" }] } };
        service.Spec.LoadBalancerClass = "ignored-by-status";
        var afterStatus = await Client.UpdateStatusAsync(CoreResources.Services, service, Ct);
        Assert.Equal("198.51.100.10", Assert.Single(afterStatus.Status!.LoadBalancer!.Ingress!).Ip);
        Assert.Null(afterStatus.Spec.LoadBalancerClass);

        afterStatus.Status!.LoadBalancer!.Ingress![0].Ip = "198.51.100.99";
        afterStatus.Metadata.Labels = new Dictionary<string, string>() { ["touched"] = "yes" };
        var afterUpdate = await Client.UpdateAsync(CoreResources.Services, afterStatus, Ct);
        Assert.Equal("yes", afterUpdate.Metadata.Labels!["touched"]);
        Assert.Equal("198.51.100.10", afterUpdate.Status!.LoadBalancer!.Ingress![0].Ip);
    }

    [Fact]
    public async Task PatchStatus_ChangesStatus()
    {
        var ns = await NewNamespaceAsync();
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);

        var patch = JsonNode.Parse("""{"status":{"loadBalancer":{"ingress":[{"ip":"2001:db8::10"}]}}}""")!;
        var patched = await Client.PatchAsync(CoreResources.Services, ns, "web", patch, status: true, Ct);

        Assert.Equal("2001:db8::10", Assert.Single(patched.Status!.LoadBalancer!.Ingress!).Ip);
        var fetched = await Client.GetAsync(CoreResources.Services, ns, "web", Ct);
        Assert.Equal("2001:db8::10", fetched.Status!.LoadBalancer!.Ingress![0].Ip);
    }

    [Fact]
    public async Task UpdateStatus_StaleResourceVersion_ThrowsConflict()
    {
        var ns = await NewNamespaceAsync();
        var service = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);
        service.Status = new ServiceStatus { LoadBalancer = new LoadBalancerStatus { Ingress = [new LoadBalancerIngress { Ip = "198.51.100.1" }] } };
        await Client.UpdateStatusAsync(CoreResources.Services, service, Ct);

        await Assert.ThrowsAsync<ConflictException>(() => Client.UpdateStatusAsync(CoreResources.Services, service, Ct));
    }

    [Fact]
    public async Task Watch_FromListVersion_SeesChangesInOrderAndResumes()
    {
        var ns = await NewNamespaceAsync();
        var list = await Client.ListAsync(CoreResources.Services, ns, null, Ct);

        var events = new List<WatchEvent<Service>>();
        using var watchStop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var watching = Task.Run(async () =>
        {
            await foreach (var e in Client.WatchAsync(CoreResources.Services, ns,
                new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion, AllowWatchBookmarks = false }, watchStop.Token))
            {
                lock (events)
                {
                    events.Add(e);
                    if (events.Count == 3)
                    {
                        return;
                    }
                }
            }
        }, Ct);

        var created = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);
        created.Metadata.Labels = new Dictionary<string, string>() { ["v"] = "2" };
        var updated = await Client.UpdateAsync(CoreResources.Services, created, Ct);
        await Client.DeleteAsync(CoreResources.Services, ns, "web", null, Ct);
        await watching.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.Equal(created.Metadata.ResourceVersion, events[0].Object.Metadata.ResourceVersion);
        Assert.Equal(updated.Metadata.ResourceVersion, events[1].Object.Metadata.ResourceVersion);
        Assert.Equal("2", events[1].Object.Metadata.Labels!["v"]);

        // Resume after the ADDED event: the same MODIFIED and DELETED come again, then a later create.
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "later"), Ct);
        var resumed = new List<WatchEvent<Service>>();
        await foreach (var e in Client.WatchAsync(CoreResources.Services, ns,
            new WatchOptions { ResourceVersion = events[0].Object.Metadata.ResourceVersion, AllowWatchBookmarks = false }, Ct))
        {
            resumed.Add(e);
            if (resumed.Count == 3)
            {
                break;
            }
        }
        Assert.Equal([WatchEventType.Modified, WatchEventType.Deleted, WatchEventType.Added], resumed.Select(e => e.Type));
        Assert.Equal(["web", "web", "later"], resumed.Select(e => e.Object.Metadata.Name));
    }

    [Fact]
    public async Task Watch_LabelSelector_OnlyMatchingObjects()
    {
        var ns = await NewNamespaceAsync();
        var list = await Client.ListAsync(CoreResources.Services, ns, null, Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "other", new() { ["app"] = "db" }), Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "match", new() { ["app"] = "web" }), Ct);

        await foreach (var e in Client.WatchAsync(CoreResources.Services, ns,
            new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion, LabelSelector = "app=web", AllowWatchBookmarks = false }, Ct))
        {
            Assert.Equal((WatchEventType.Added, "match"), (e.Type, e.Object.Metadata.Name));
            break;
        }
    }

    [Fact]
    public async Task Watch_TimeoutSeconds_EndsTheStream()
    {
        var ns = await NewNamespaceAsync();
        var list = await Client.ListAsync(CoreResources.Services, ns, null, Ct);
        var count = 0;
        await foreach (var _ in Client.WatchAsync(CoreResources.Services, ns,
            new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion, TimeoutSeconds = 1, AllowWatchBookmarks = false }, Ct))
        {
            count++;
        }
        Assert.Equal(0, count);
    }

    [Fact]
    public async Task Update_KeepsFieldsTheModelDoesNotDeclare()
    {
        var ns = await NewNamespaceAsync();
        // Real Service fields that BareLb's model leaves out: they must survive a typed read-modify-update.
        var raw = $$$"""
            {"apiVersion":"v1","kind":"Service","metadata":{"name":"raw","namespace":"{{{ns}}}"},
             "spec":{"type":"LoadBalancer","sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":600}},
                     "ports":[{"name":"http","protocol":"TCP","port":80,"appProtocol":"http"}],"publishNotReadyAddresses":true}}
            """;
        using var http = new HttpClient { BaseAddress = _cluster.Server.BaseAddress };
        using (var created = await http.PostAsync($"/api/v1/namespaces/{ns}/services", new StringContent(raw, Encoding.UTF8, "application/json"), Ct))
        {
            Assert.True(created.IsSuccessStatusCode, await created.Content.ReadAsStringAsync(Ct));
        }

        var typed = await Client.GetAsync(CoreResources.Services, ns, "raw", Ct);
        typed.Metadata.Labels = new Dictionary<string, string>() { ["edited"] = "true" };
        await Client.UpdateAsync(CoreResources.Services, typed, Ct);

        var after = (await http.GetFromJsonAsync<JsonNode>($"/api/v1/namespaces/{ns}/services/raw", Ct))!;
        Assert.Equal("true", (string?)after["metadata"]!["labels"]!["edited"]);
        Assert.Equal("ClientIP", (string?)after["spec"]!["sessionAffinity"]);
        Assert.Equal(600, (int?)after["spec"]!["sessionAffinityConfig"]!["clientIP"]!["timeoutSeconds"]);
        Assert.Equal("http", (string?)after["spec"]!["ports"]![0]!["appProtocol"]);
        Assert.True((bool?)after["spec"]!["publishNotReadyAddresses"]);
    }

    [Fact]
    public async Task ClusterScoped_CreateGetListDelete()
    {
        var name = "node-" + Guid.NewGuid().ToString("N")[..8];
        var node = await Client.CreateAsync(CoreResources.Nodes, new Node
        {
            Metadata = new ObjectMeta { Name = name, Labels = new Dictionary<string, string>() { ["test"] = name } },
            Status = new NodeStatus { Addresses = [new NodeAddress { Type = "InternalIP", Address = "10.0.0.5" }] },
        }, Ct);
        Assert.Null(node.Metadata.NamespaceProperty);

        var list = await Client.ListAsync(CoreResources.Nodes, null, new ListOptions { LabelSelector = "test=" + name }, Ct);
        Assert.Equal(name, Assert.Single(list.Items).Metadata.Name);

        await Client.DeleteAsync(CoreResources.Nodes, null, name, null, Ct);
        await Assert.ThrowsAsync<NotFoundException>(() => Client.GetAsync(CoreResources.Nodes, null, name, Ct));
    }
}

/// <summary>Tests that change server-wide state (watch history, bookmark timing) get their own server.</summary>
public sealed class KubernetesClientWatchHistoryTests
{
    private readonly CancellationTokenSource _testTimeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Ct => _testTimeout.Token;

    [Fact]
    public async Task Watch_FromCompactedVersion_ThrowsGone()
    {
        await using var cluster = await TestCluster.StartAsync(ct: Ct);
        var client = cluster.Client;
        await client.CreateAsync(CoreResources.Namespaces, new Namespace { Metadata = new ObjectMeta { Name = "w" } }, Ct);
        var list = await client.ListAsync(CoreResources.Services, "w", null, Ct);
        await client.CreateAsync(CoreResources.Services, KubernetesClientTests.NewService("w", "a"), Ct);
        await client.CreateAsync(CoreResources.Services, KubernetesClientTests.NewService("w", "b"), Ct);

        cluster.Server.CompactWatchHistory();

        var e = await Assert.ThrowsAsync<GoneException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(CoreResources.Services, "w", new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion }, Ct))
            {
            }
        });
        Assert.Equal(410, (int)e.Code);
        Assert.Equal("Expired", e.Reason);
    }

    [Fact]
    public async Task Watch_WithBookmarks_YieldsBookmarkWithOnlyResourceVersion()
    {
        await using var cluster = await TestCluster.StartAsync(new ApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(200) }, Ct);
        var client = cluster.Client;
        await client.CreateAsync(CoreResources.Namespaces, new Namespace { Metadata = new ObjectMeta { Name = "b" } }, Ct);
        var list = await client.ListAsync(CoreResources.Services, "b", null, Ct);

        await foreach (var e in client.WatchAsync(CoreResources.Services, "b", new WatchOptions { ResourceVersion = list.Metadata.ResourceVersion, AllowWatchBookmarks = true }, Ct))
        {
            Assert.Equal(WatchEventType.Bookmark, e.Type);
            Assert.False(string.IsNullOrEmpty(e.Object.Metadata.ResourceVersion));
            Assert.True(long.Parse(e.Object.Metadata.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture)
                >= long.Parse(list.Metadata.ResourceVersion!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.Null(e.Object.Metadata.Name);
            Assert.Null(e.Object.Metadata.Uid);
            break;
        }
    }
}

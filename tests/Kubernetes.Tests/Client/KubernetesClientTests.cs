using k8s;
using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using BareLb.ApiServer;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Client;

/// <summary>One in-memory API server for the class; every test works in a namespace of its own.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public TestCluster Cluster { get; private set; } = null!;

    public async Task InitializeAsync() => Cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>The verbs over loopback HTTP against the in-memory API server: paths, bodies, errors and watch streams.</summary>
public sealed class KubernetesClientTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>, IDisposable
{
    private readonly CancellationTokenSource _testTimeout = new(Wait.Patience);

    public void Dispose() => _testTimeout.Dispose();

    private CancellationToken Ct => _testTimeout.Token;

    private IKubernetesClient Client => fixture.Cluster.Client;

    internal static V1Service NewService(string ns, string name, Dictionary<string, string>? labels = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = labels },
        Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Name = "http", Protocol = "TCP", Port = 80 }] },
    };

    private async Task<string> NewNamespaceAsync()
    {
        var name = "t-" + Guid.NewGuid().ToString("N")[..10];
        await Client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = name } }, Ct);
        return name;
    }

    [Fact]
    public async Task CreateAsync_ThenGetAsync_ReturnsServerAssignedMetadata()
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
        Assert.Equal(80, Assert.Single(fetched.Spec.Ports).Port);
        Assert.Equal("ClusterIP", fetched.Spec.Type);
    }

    [Fact]
    public async Task CreateAsync_Twice_ThrowsAlreadyExists()
    {
        var ns = await NewNamespaceAsync();
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() => Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct));
        Assert.Equal(HttpStatusCode.Conflict, e.Code);
        Assert.Equal("AlreadyExists", e.Reason);
    }

    [Fact]
    public async Task GetAsync_Missing_ThrowsNotFoundWithStatus()
    {
        var ns = await NewNamespaceAsync();

        var e = await Assert.ThrowsAsync<NotFoundException>(() => Client.GetAsync(CoreResources.Services, ns, "absent", Ct));

        Assert.Equal(HttpStatusCode.NotFound, e.Code);
        Assert.Equal("NotFound", e.Reason);
        Assert.Equal("absent", e.Status.Details?.Name);
        Assert.StartsWith("404 NotFound: ", e.Message);
    }

    [Fact]
    public async Task PatchAsync_MergePatch_AddsReplacesAndRemovesFields()
    {
        var ns = await NewNamespaceAsync();
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "web", new() { ["keep"] = "1", ["drop"] = "2" }), Ct);

        var patched = await Client.PatchAsync(CoreResources.Services, ns, "web", new JsonObject
        {
            ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["drop"] = null, ["add"] = "3" } },
            ["spec"] = new JsonObject { ["sessionAffinity"] = "ClientIP" },
        }, status: false, Ct);

        Assert.Equal(new Dictionary<string, string> { ["keep"] = "1", ["add"] = "3" }, patched.Metadata.Labels);
        Assert.Equal("ClientIP", patched.Spec.SessionAffinity);
        Assert.Equal(80, Assert.Single(patched.Spec.Ports).Port);
    }

    [Fact]
    public async Task PatchAsync_StaleResourceVersion_ThrowsConflictAndChangesNothing()
    {
        var ns = await NewNamespaceAsync();
        var created = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);
        var first = await Client.PatchAsync(CoreResources.Services, ns, "web", LabelPatch("v", "1", created.Metadata.ResourceVersion), status: false, Ct);

        var e = await Assert.ThrowsAsync<ConflictException>(() =>
            Client.PatchAsync(CoreResources.Services, ns, "web", LabelPatch("v", "2", created.Metadata.ResourceVersion), status: false, Ct));

        Assert.Equal(HttpStatusCode.Conflict, e.Code);
        Assert.Equal("Conflict", e.Reason);
        var now = await Client.GetAsync(CoreResources.Services, ns, "web", Ct);
        Assert.Equal("1", now.Metadata.Labels["v"]);
        Assert.Equal(first.Metadata.ResourceVersion, now.Metadata.ResourceVersion);
    }

    [Fact]
    public async Task PatchAsync_StatusSubresource_WritesOnlyStatus()
    {
        var ns = await NewNamespaceAsync();
        // Load-balancer ingress may only be written to a LoadBalancer Service (kube-apiserver 1.29+).
        var service = NewService(ns, "web");
        service.Spec.Type = "LoadBalancer";
        service.Spec.AllocateLoadBalancerNodePorts = false;
        await Client.CreateAsync(CoreResources.Services, service, Ct);
        var statusAndSpec = JsonNode.Parse("""
            {"spec":{"sessionAffinity":"ClientIP"},"status":{"loadBalancer":{"ingress":[{"ip":"2001:db8::10"}]}}}
            """)!;

        var afterStatus = await Client.PatchAsync(CoreResources.Services, ns, "web", statusAndSpec, status: true, Ct);
        var afterMain = await Client.PatchAsync(CoreResources.Services, ns, "web",
            JsonNode.Parse("""{"status":{"loadBalancer":{"ingress":[{"ip":"198.51.100.99"}]}}}""")!, status: false, Ct);

        Assert.Equal("2001:db8::10", Assert.Single(afterStatus.Status.LoadBalancer.Ingress).Ip);
        Assert.Equal("None", afterStatus.Spec.SessionAffinity);
        Assert.Equal("2001:db8::10", Assert.Single(afterMain.Status.LoadBalancer.Ingress).Ip);
    }

    [Fact]
    public async Task ListAsync_LabelAndFieldSelectors_Filter()
    {
        var ns = await NewNamespaceAsync();
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "a", new() { ["app"] = "web", ["tier"] = "front" }), Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "b", new() { ["app"] = "web" }), Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "c", new() { ["app"] = "db" }), Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "d"), Ct);

        async Task<string[]> Names(ListOptions options) =>
            [.. (await Client.ListAsync(CoreResources.Services, ns, options, Ct)).Items.Select(s => s.Metadata.Name).Order(StringComparer.Ordinal)];

        Assert.Equal(["a", "b"], await Names(new ListOptions { LabelSelector = "app=web" }));
        Assert.Equal(["a"], await Names(new ListOptions { LabelSelector = "app in (web,db),tier" }));
        Assert.Equal(["c", "d"], await Names(new ListOptions { LabelSelector = "app!=web" }));
        Assert.Equal(["d"], await Names(new ListOptions { LabelSelector = "!app" }));
        Assert.Equal(["a", "c", "d"], await Names(new ListOptions { FieldSelector = "metadata.name!=b" }));
        Assert.Equal(["b"], await Names(new ListOptions { LabelSelector = "app=web", FieldSelector = "metadata.name=b" }));

        var all = await Client.ListAsync(CoreResources.Services, null, new ListOptions { FieldSelector = $"metadata.namespace={ns}" }, Ct);
        Assert.Equal(4, all.Items.Count);
        Assert.All(all.Items, s => Assert.Equal(ns, s.Metadata.NamespaceProperty));
        Assert.All(all.Items, s => Assert.Equal(("v1", "Service"), (s.ApiVersion, s.Kind)));
    }

    [Fact]
    public async Task ListAsync_LimitAndContinue_PagesThroughOneSnapshot()
    {
        var ns = await NewNamespaceAsync();
        for (var i = 0; i < 5; i++)
        {
            await Client.CreateAsync(CoreResources.Services, NewService(ns, $"s{i}"), Ct);
        }

        var names = new List<string>();
        var pages = new List<(int Count, long? Remaining)>();
        string? token = null;
        var versions = new HashSet<string?>();
        do
        {
            var page = await Client.ListAsync(CoreResources.Services, ns, new ListOptions { Limit = 2, Continue = token }, Ct);
            pages.Add((page.Items.Count, page.RemainingItemCount));
            names.AddRange(page.Items.Select(s => s.Metadata.Name));
            versions.Add(page.ResourceVersion);
            token = page.Continue;
            if (token is not null && pages.Count == 1)
            {
                // A write between pages does not show up in the pages that follow.
                await Client.CreateAsync(CoreResources.Services, NewService(ns, "s9"), Ct);
            }
        } while (token is not null);

        Assert.Equal([2, 2, 1], pages.Select(p => p.Count));
        Assert.Equal(3, pages[0].Remaining);
        Assert.Equal(["s0", "s1", "s2", "s3", "s4"], names);
        Assert.Single(versions);
    }

    [Fact]
    public async Task ListAsync_ResourceVersionAheadOfServer_Throws504WithRetryAfter()
    {
        var ahead = (fixture.Cluster.Server.CurrentResourceVersion + 1000).ToString(CultureInfo.InvariantCulture);

        var e = await Assert.ThrowsAsync<KubernetesApiException>(() =>
            Client.ListAsync(CoreResources.Services, null, new ListOptions { ResourceVersion = ahead }, Ct));

        Assert.Equal(HttpStatusCode.GatewayTimeout, e.Code);
        Assert.Equal("Timeout", e.Reason);
        Assert.Equal(TimeSpan.FromSeconds(1), e.RetryAfter);
        Assert.Equal("ResourceVersionTooLarge", Assert.Single(e.Causes).Reason);
    }

    [Fact]
    public async Task DeleteAsync_Preconditions_AreEnforcedByTheServer()
    {
        var ns = await NewNamespaceAsync();
        var created = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);

        await Assert.ThrowsAsync<ConflictException>(() => Client.DeleteAsync(CoreResources.Services, ns, "web",
            new DeleteOptions { PreconditionUid = "not-" + created.Metadata.Uid }, Ct));
        await Assert.ThrowsAsync<ConflictException>(() => Client.DeleteAsync(CoreResources.Services, ns, "web",
            new DeleteOptions { PreconditionResourceVersion = "1" }, Ct));
        await Client.GetAsync(CoreResources.Services, ns, "web", Ct);

        await Client.DeleteAsync(CoreResources.Services, ns, "web",
            new DeleteOptions { PreconditionUid = created.Metadata.Uid, PreconditionResourceVersion = created.Metadata.ResourceVersion, PropagationPolicy = "Background" }, Ct);
        await Assert.ThrowsAsync<NotFoundException>(() => Client.GetAsync(CoreResources.Services, ns, "web", Ct));
        await Assert.ThrowsAsync<NotFoundException>(() => Client.DeleteAsync(CoreResources.Services, ns, "web", null, Ct));
    }

    [Fact]
    public async Task ClusterScopedKind_CreateGetListPatchStatusDelete()
    {
        var name = "node-" + Guid.NewGuid().ToString("N")[..8];
        var node = await Client.CreateAsync(CoreResources.Nodes, new V1Node
        {
            Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["test"] = name } },
        }, Ct);
        Assert.Null(node.Metadata.NamespaceProperty);

        var patched = await Client.PatchAsync(CoreResources.Nodes, null, name,
            JsonNode.Parse("""{"status":{"addresses":[{"type":"InternalIP","address":"198.51.100.5"}]}}""")!, status: true, Ct);
        var list = await Client.ListAsync(CoreResources.Nodes, null, new ListOptions { LabelSelector = "test=" + name }, Ct);
        await Client.DeleteAsync(CoreResources.Nodes, null, name, null, Ct);

        Assert.Equal("198.51.100.5", Assert.Single(patched.Status.Addresses).Address);
        Assert.Equal(name, Assert.Single(list.Items).Metadata.Name);
        await Assert.ThrowsAsync<NotFoundException>(() => Client.GetAsync(CoreResources.Nodes, null, name, Ct));
    }

    [Fact]
    public async Task NamedGroupKinds_EndpointSliceAndLease_CreateListAndPatch()
    {
        var ns = await NewNamespaceAsync();
        await Client.CreateAsync(CoreResources.EndpointSlices, new V1EndpointSlice
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = "web-1", Labels = new Dictionary<string, string> { ["kubernetes.io/service-name"] = "web" } },
            AddressType = "IPv4",
            Endpoints = [new V1Endpoint { Addresses = ["198.51.100.20"], NodeName = "node-1" }],
        }, Ct);
        await Client.CreateAsync(CoreResources.Leases, new V1Lease
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = ns, Name = "lock" },
            Spec = new V1LeaseSpec { HolderIdentity = "a", LeaseDurationSeconds = 15, RenewTime = new DateTime(2025, 1, 2, 3, 4, 5, 123, 456, DateTimeKind.Utc) },
        }, Ct);

        var slices = await Client.ListAsync(CoreResources.EndpointSlices, ns, new ListOptions { LabelSelector = "kubernetes.io/service-name=web" }, Ct);
        var lease = await Client.PatchAsync(CoreResources.Leases, ns, "lock", JsonNode.Parse("""{"spec":{"holderIdentity":"b"}}""")!, status: false, Ct);

        var slice = Assert.Single(slices.Items);
        Assert.Equal(("discovery.k8s.io/v1", "EndpointSlice"), (slice.ApiVersion, slice.Kind));
        Assert.Equal("198.51.100.20", Assert.Single(Assert.Single(slice.Endpoints).Addresses));
        Assert.Equal("b", lease.Spec.HolderIdentity);
        // MicroTime: six fractional digits survive the round trip.
        Assert.Equal(new DateTime(2025, 1, 2, 3, 4, 5, 123, 456, DateTimeKind.Utc), lease.Spec.RenewTime);
    }

    [Fact]
    public async Task WatchAsync_FromListVersion_SeesChangesInOrderAndResumesAfterAnyEvent()
    {
        var ns = await NewNamespaceAsync();
        var list = await Client.ListAsync(CoreResources.Services, ns, null, Ct);
        var created = await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);
        var updated = await Client.PatchAsync(CoreResources.Services, ns, "web", LabelPatch("v", "2"), status: false, Ct);
        await Client.DeleteAsync(CoreResources.Services, ns, "web", null, Ct);

        var events = await TakeAsync(Client.WatchAsync(CoreResources.Services, ns,
            new WatchOptions { ResourceVersion = list.ResourceVersion, AllowWatchBookmarks = false }, Ct), 3);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "later"), Ct);
        var resumed = await TakeAsync(Client.WatchAsync(CoreResources.Services, ns,
            new WatchOptions { ResourceVersion = events[0].ResourceVersion, AllowWatchBookmarks = false }, Ct), 3);

        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.Equal(created.Metadata.ResourceVersion, events[0].ResourceVersion);
        Assert.Equal(updated.Metadata.ResourceVersion, events[1].ResourceVersion);
        Assert.Equal("2", events[1].Object!.Metadata.Labels["v"]);
        Assert.All(events, e => Assert.Equal(("v1", "Service"), (e.Object!.ApiVersion, e.Object.Kind)));
        Assert.Equal([WatchEventType.Modified, WatchEventType.Deleted, WatchEventType.Added], resumed.Select(e => e.Type));
        Assert.Equal(["web", "web", "later"], resumed.Select(e => e.Object!.Metadata.Name));
    }

    [Fact]
    public async Task WatchAsync_LabelSelector_OnlyMatchingObjects()
    {
        var ns = await NewNamespaceAsync();
        var list = await Client.ListAsync(CoreResources.Services, ns, null, Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "other", new() { ["app"] = "db" }), Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "match", new() { ["app"] = "web" }), Ct);
        // Stops matching: a watch with a selector sees that as DELETED.
        await Client.PatchAsync(CoreResources.Services, ns, "match", LabelPatch("app", "db"), status: false, Ct);

        var events = await TakeAsync(Client.WatchAsync(CoreResources.Services, ns,
            new WatchOptions { ResourceVersion = list.ResourceVersion, LabelSelector = "app=web", AllowWatchBookmarks = false }, Ct), 2);

        Assert.Equal([(WatchEventType.Added, "match"), (WatchEventType.Deleted, "match")], events.Select(e => (e.Type, e.Object!.Metadata.Name)));
    }

    [Fact]
    public async Task WatchAsync_ServerEndsAQuietStream_EnumerationEndsWithoutError()
    {
        var ns = await NewNamespaceAsync();
        var list = await Client.ListAsync(CoreResources.Services, ns, null, Ct);

        var events = await TakeAsync(Client.WatchAsync(CoreResources.Services, ns,
            new WatchOptions { ResourceVersion = list.ResourceVersion, TimeoutSeconds = 1, AllowWatchBookmarks = false }, Ct), int.MaxValue);

        Assert.Empty(events);
    }

    [Fact]
    public async Task WatchAsync_ServerEndsAStreamAfterEvents_EnumerationEndsWithoutError()
    {
        var ns = await NewNamespaceAsync();
        var list = await Client.ListAsync(CoreResources.Services, ns, null, Ct);
        await Client.CreateAsync(CoreResources.Services, NewService(ns, "web"), Ct);

        var events = await TakeAsync(Client.WatchAsync(CoreResources.Services, ns,
            new WatchOptions { ResourceVersion = list.ResourceVersion, TimeoutSeconds = 1, AllowWatchBookmarks = false }, Ct), int.MaxValue);

        Assert.Equal([(WatchEventType.Added, "web")], events.Select(e => (e.Type, e.Object!.Metadata.Name)));
    }

    [Fact]
    public async Task Arguments_WrongScopeKindOrLimit_AreRejectedBeforeAnyRequest()
    {
        // Nothing listens on port 1: a request that were sent would fail with a connection error instead.
        using var client = new KubernetesClient(ApiConnection.ForServer(new Uri("http://127.0.0.1:1")));
        var service = NewService("ns", "web");
        service.Kind = "Pod";

        var wrongKind = await Assert.ThrowsAsync<ArgumentException>(() => client.CreateAsync(CoreResources.Services, service, Ct));
        var noNamespace = await Assert.ThrowsAsync<ArgumentException>(() => client.GetAsync(CoreResources.Services, null, "x", Ct));
        var clusterWithNamespace = await Assert.ThrowsAsync<ArgumentException>(() => client.ListAsync(CoreResources.Nodes, "ns", null, Ct));
        var emptyNamespace = await Assert.ThrowsAsync<ArgumentException>(() => client.ListAsync(CoreResources.Services, "", null, Ct));
        var noName = await Assert.ThrowsAsync<ArgumentException>(() => client.DeleteAsync(CoreResources.Services, "ns", "", null, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => client.ListAsync(CoreResources.Services, "ns", new ListOptions { Limit = -1 }, Ct));

        Assert.StartsWith("services: object has kind \"Pod\", expected \"Service\"", wrongKind.Message);
        Assert.StartsWith("services is namespaced; a namespace is required", noNamespace.Message);
        Assert.StartsWith("nodes is cluster-scoped; the namespace must be null, not \"ns\"", clusterWithNamespace.Message);
        Assert.StartsWith("services: the namespace must be null (all namespaces) or non-empty", emptyNamespace.Message);
        Assert.StartsWith("services: a name is required", noName.Message);
    }

    [Fact]
    public async Task FromKubeconfig_WrittenWithoutCredentials_ConnectsAnonymously()
    {
        using var dir = new TempDirectory();
        var path = fixture.Cluster.Server.WriteKubeconfig(Path.Combine(dir.Path, "kubeconfig"));
        using var client = new KubernetesClient(ApiConnection.FromKubeconfig(path));

        var list = await client.ListAsync(CoreResources.Namespaces, null, null, Ct);

        Assert.Contains(list.Items, n => n.Metadata.Name == "default");
        Assert.Null(client.Connection.Package.AccessToken);
    }

    [Fact]
    public async Task GetAsync_NothingListening_ThrowsConnectionError()
    {
        using var client = new KubernetesClient(ApiConnection.ForServer(new Uri("http://127.0.0.1:1")));

        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetAsync(CoreResources.Services, "ns", "web", Ct));

        Assert.Equal(HttpRequestError.ConnectionError, e.HttpRequestError);
    }

    internal static JsonObject LabelPatch(string key, string? value, string? resourceVersion = null)
    {
        var metadata = new JsonObject { ["labels"] = new JsonObject { [key] = value } };
        if (resourceVersion is not null)
        {
            metadata["resourceVersion"] = resourceVersion;
        }
        return new JsonObject { ["metadata"] = metadata };
    }

    /// <summary>The first <paramref name="count"/> events, or all of them if the stream ends first.</summary>
    internal static async Task<List<WatchEvent<T>>> TakeAsync<T>(IAsyncEnumerable<WatchEvent<T>> stream, int count)
        where T : class, k8s.IKubernetesObject<V1ObjectMeta>
    {
        var events = new List<WatchEvent<T>>();
        if (count == 0)
        {
            return events;
        }
        await foreach (var e in stream)
        {
            events.Add(e);
            if (events.Count == count)
            {
                break;
            }
        }
        return events;
    }
}

/// <summary>Tests that change server-wide state (watch history, bookmark timing) get a server of their own.</summary>
public sealed class KubernetesClientWatchHistoryTests : IDisposable
{
    private readonly CancellationTokenSource _testTimeout = new(Wait.Patience);

    public void Dispose() => _testTimeout.Dispose();

    private CancellationToken Ct => _testTimeout.Token;

    [Fact]
    public async Task WatchAsync_FromCompactedVersion_ThrowsGoneFromTheErrorEvent()
    {
        await using var cluster = await TestCluster.StartAsync(ct: Ct);
        var client = cluster.Client;
        var list = await client.ListAsync(CoreResources.Services, "default", null, Ct);
        await client.CreateAsync(CoreResources.Services, KubernetesClientTests.NewService("default", "a"), Ct);
        cluster.Server.CompactWatchHistory();

        var e = await Assert.ThrowsAsync<GoneException>(() =>
            KubernetesClientTests.TakeAsync(client.WatchAsync(CoreResources.Services, "default", new WatchOptions { ResourceVersion = list.ResourceVersion }, Ct), int.MaxValue));

        Assert.Equal(HttpStatusCode.Gone, e.Code);
        Assert.Equal("Expired", e.Reason);
        Assert.StartsWith("too old resource version: ", e.Status.Message);
    }

    [Fact]
    public async Task WatchAsync_WithBookmarks_YieldsBookmarkCarryingOnlyResourceVersion()
    {
        await using var cluster = await TestCluster.StartAsync(new ApiServerOptions { BookmarkInterval = TimeSpan.FromMilliseconds(100) }, Ct);
        var client = cluster.Client;
        var list = await client.ListAsync(CoreResources.Services, "default", null, Ct);
        // Another namespace moves the resourceVersion on; only a bookmark can tell this watch about it.
        await client.CreateAsync(CoreResources.Services, KubernetesClientTests.NewService("kube-system", "elsewhere"), Ct);
        var current = cluster.Server.CurrentResourceVersion;

        var bookmark = Assert.Single(await KubernetesClientTests.TakeAsync(client.WatchAsync(CoreResources.Services, "default",
            new WatchOptions { ResourceVersion = list.ResourceVersion, AllowWatchBookmarks = true }, Ct), 1));

        Assert.Equal(WatchEventType.Bookmark, bookmark.Type);
        Assert.Equal(current.ToString(CultureInfo.InvariantCulture), bookmark.ResourceVersion);
        Assert.Null(bookmark.Object!.Metadata.Name);
        Assert.Null(bookmark.Object.Metadata.Uid);
        Assert.Null(bookmark.Unreadable);
    }
}

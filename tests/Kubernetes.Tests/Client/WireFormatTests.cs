using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Http;
using BareLb.Kubernetes.Models;
using BareLb.Kubernetes.Tests.Config;
using BareLb.TestSupport;

namespace BareLb.Kubernetes.Tests.Client;

/// <summary>What the client sends and how it reads answers, against a server that answers byte for byte.</summary>
public sealed class WireFormatTests
{
    private const string ServiceJson = """{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc-a","namespace":"ns1","resourceVersion":"5"},"spec":{"type":"LoadBalancer"}}""";
    // Bounds every test: a hang fails the test instead of the run.
    private readonly CancellationTokenSource _testTimeout = new(TimeSpan.FromSeconds(30));

    private CancellationToken Ct => _testTimeout.Token;

    private static KubernetesClient Client(CannedHttpServer server, string? token = null, IRequestRateLimiter? limiter = null,
        TimeSpan? timeout = null) =>
        new(new KubernetesClientConfiguration { Server = server.BaseAddress, BearerToken = token, RequestTimeout = timeout ?? TimeSpan.FromSeconds(10) }, limiter);

    private static Service NewService(string name = "svc-a", string ns = "ns1") =>
        new() { Metadata = new ObjectMeta { Name = name, NamespaceProperty = ns }, Spec = new ServiceSpec { Type = "LoadBalancer" } };

    [Fact]
    public async Task Get_NamespacedCoreKind_UsesApiV1Path()
    {
        await using var server = new CannedHttpServer(200, ServiceJson);
        using var client = Client(server, token: "secret-token");

        var service = await client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct);

        var request = Assert.Single(server.Requests);
        Assert.Equal("GET", request.Method);
        Assert.Equal("/api/v1/namespaces/ns1/services/svc-a", request.Target);
        Assert.Equal("application/json", request.Header("Accept"));
        Assert.Equal("Bearer secret-token", request.Header("Authorization"));
        Assert.StartsWith("barelb/", request.Header("User-Agent"));
        Assert.Equal("LoadBalancer", service.Spec.Type);
        Assert.Equal("5", service.Metadata.ResourceVersion);
    }

    [Theory]
    [InlineData("lease", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/barelb-controller")]
    [InlineData("node", "/api/v1/nodes/worker%2F1")]
    [InlineData("slice", "/apis/discovery.k8s.io/v1/namespaces/a%20b/endpointslices/s")]
    public async Task Get_KindsAndScopes_BuildPaths(string which, string expected)
    {
        await using var server = new CannedHttpServer(200, """{"metadata":{"name":"x"}}""");
        using var client = Client(server);
        switch (which)
        {
            case "lease": await client.GetAsync(CoreResources.Leases, "kube-system", "barelb-controller", Ct); break;
            case "node": await client.GetAsync(CoreResources.Nodes, null, "worker/1", Ct); break;
            default: await client.GetAsync(CoreResources.EndpointSlices, "a b", "s", Ct); break;
        }
        Assert.Equal(expected, Assert.Single(server.Requests).Target);
    }

    [Fact]
    public async Task List_AllOptions_AreEscapedIntoTheQuery()
    {
        await using var server = new CannedHttpServer(200, """{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"tok"},"items":[{"metadata":{"name":"a","namespace":"n"}}]}""");
        using var client = Client(server);

        var list = await client.ListAsync(CoreResources.Services, null, new ListOptions
        {
            LabelSelector = "app in (a,b),tier!=db",
            FieldSelector = "metadata.namespace=n1",
            Limit = 50,
            Continue = "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==",
            ResourceVersion = "0",
        }, Ct);

        Assert.Equal(
            "/api/v1/services?labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb&fieldSelector=metadata.namespace%3Dn1" +
            "&limit=50&continue=eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ%3D%3D&resourceVersion=0",
            Assert.Single(server.Requests).Target);
        Assert.Equal("9", list.Metadata.ResourceVersion);
        Assert.Equal("tok", list.Metadata.Continue);
        // Items come without apiVersion and kind from the API server; the client fills them in.
        var item = Assert.Single(list.Items);
        Assert.Equal(("v1", "Service"), (item.ApiVersion, item.Kind));
    }

    [Fact]
    public async Task Create_EmptyApiVersionAndKind_AreSetAndPosted()
    {
        await using var server = new CannedHttpServer(201, ServiceJson);
        using var client = Client(server);

        await client.CreateAsync(CoreResources.Services, NewService(), Ct);

        var request = Assert.Single(server.Requests);
        Assert.Equal(("POST", "/api/v1/namespaces/ns1/services"), (request.Method, request.Target));
        Assert.Equal("application/json", request.Header("Content-Type"));
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("v1", (string?)body["apiVersion"]);
        Assert.Equal("Service", (string?)body["kind"]);
        Assert.Equal("svc-a", (string?)body["metadata"]!["name"]);
    }

    [Fact]
    public async Task Create_ObjectOfAnotherKind_IsRejectedBeforeSending()
    {
        await using var server = new CannedHttpServer(201, ServiceJson);
        using var client = Client(server);
        var service = NewService();
        service.Kind = "Pod";

        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.CreateAsync(CoreResources.Services, service, Ct));
        Assert.StartsWith("services: object has kind \"Pod\", expected \"Service\"", e.Message);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Get_NamespacedKindWithoutNamespace_IsRejected()
    {
        await using var server = new CannedHttpServer(200, ServiceJson);
        using var client = Client(server);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => client.GetAsync(CoreResources.Services, null, "x", Ct));
        Assert.StartsWith("services is namespaced; a namespace is required", e.Message);
        var e2 = await Assert.ThrowsAsync<ArgumentException>(() => client.GetAsync(CoreResources.Nodes, "ns", "x", Ct));
        Assert.StartsWith("nodes is cluster-scoped; the namespace must be null, not \"ns\"", e2.Message);
    }

    [Theory]
    [InlineData(false, "/api/v1/namespaces/ns1/services/svc-a")]
    [InlineData(true, "/api/v1/namespaces/ns1/services/svc-a/status")]
    public async Task Update_PutsObjectWithResourceVersion(bool status, string expectedPath)
    {
        await using var server = new CannedHttpServer(200, ServiceJson);
        using var client = Client(server);
        var service = NewService();
        service.Metadata.ResourceVersion = "41";

        _ = status
            ? await client.UpdateStatusAsync(CoreResources.Services, service, Ct)
            : await client.UpdateAsync(CoreResources.Services, service, Ct);

        var request = Assert.Single(server.Requests);
        Assert.Equal(("PUT", expectedPath), (request.Method, request.Target));
        Assert.Equal("41", (string?)JsonNode.Parse(request.Body)!["metadata"]!["resourceVersion"]);
    }

    [Theory]
    [InlineData(false, "/api/v1/namespaces/ns1/services/svc-a")]
    [InlineData(true, "/api/v1/namespaces/ns1/services/svc-a/status")]
    public async Task Patch_SendsMergePatchWithNulls(bool status, string expectedPath)
    {
        await using var server = new CannedHttpServer(200, ServiceJson);
        using var client = Client(server);
        var patch = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["gone"] = null, ["new"] = "v" } } };

        await client.PatchAsync(CoreResources.Services, "ns1", "svc-a", patch, status, Ct);

        var request = Assert.Single(server.Requests);
        Assert.Equal(("PATCH", expectedPath), (request.Method, request.Target));
        Assert.Equal("application/merge-patch+json", request.Header("Content-Type"));
        Assert.Equal("""{"metadata":{"labels":{"gone":null,"new":"v"}}}""", request.BodyText);
    }

    [Fact]
    public async Task Delete_SendsDeleteOptions()
    {
        await using var server = new CannedHttpServer(200, """{"kind":"Status","apiVersion":"v1","status":"Success"}""");
        using var client = Client(server);

        await client.DeleteAsync(CoreResources.Services, "ns1", "svc-a",
            new DeleteOptions { PreconditionUid = "u-1", PreconditionResourceVersion = "7", PropagationPolicy = "Foreground" }, Ct);
        await client.DeleteAsync(CoreResources.Services, "ns1", "svc-b", null, Ct);

        var requests = server.Requests.ToArray();
        Assert.Equal(("DELETE", "/api/v1/namespaces/ns1/services/svc-a"), (requests[0].Method, requests[0].Target));
        Assert.Equal("""{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"u-1","resourceVersion":"7"},"propagationPolicy":"Foreground"}""", requests[0].BodyText);
        Assert.Equal("""{"kind":"DeleteOptions","apiVersion":"v1"}""", requests[1].BodyText);
        Assert.Equal("application/json", requests[1].Header("Content-Type"));
    }

    [Fact]
    public async Task Error_StatusBody_IsParsed()
    {
        await using var server = new CannedHttpServer(409, """
            {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services \"svc-a\" already exists","reason":"AlreadyExists","details":{"name":"svc-a","kind":"services"},"code":409}
            """);
        using var client = Client(server);

        var e = await Assert.ThrowsAsync<AlreadyExistsException>(() => client.CreateAsync(CoreResources.Services, NewService(), Ct));
        Assert.Equal(HttpStatusCode.Conflict, e.Code);
        Assert.Equal("svc-a", e.Status.Details!.Name);
        Assert.Equal("409 AlreadyExists: services \"svc-a\" already exists", e.Message);
    }

    [Theory]
    [InlineData(404, "text/plain", "404 page not found", typeof(NotFoundException), "NotFound")]
    [InlineData(502, "text/html", "<html>bad gateway</html>", typeof(KubernetesApiException), "Unknown")]
    [InlineData(409, "application/json", """{"kind":"Pod"}""", typeof(ConflictException), "Conflict")]
    public async Task Error_NotAStatusBody_IsSynthesized(int code, string contentType, string body, Type expected, string reason)
    {
        await using var server = new CannedHttpServer((_, s, ct) => CannedHttpServer.WriteJsonAsync(s, code, body, ct, contentType));
        using var client = Client(server);

        var e = await Assert.ThrowsAnyAsync<KubernetesApiException>(() => client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct));

        Assert.IsType(expected, e);
        Assert.Equal(code, (int)e.Code);
        Assert.Equal(code, e.Status.Code);
        Assert.Equal(reason, e.Reason);
        Assert.Equal("Failure", e.Status.StatusValue);
        Assert.StartsWith($"GET /api/v1/namespaces/ns1/services/svc-a: {code} ", e.Status.Message);
        Assert.EndsWith(body, e.Status.Message);
    }

    [Fact]
    public async Task Request_NoAnswer_TimesOutWithClearError()
    {
        await using var server = new CannedHttpServer((_, _, ct) => Task.Delay(Timeout.Infinite, ct));
        using var client = Client(server, timeout: TimeSpan.FromMilliseconds(300));

        var e = await Assert.ThrowsAsync<TimeoutException>(() => client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct));
        Assert.Equal($"GET {server.BaseAddress.AbsoluteUri.TrimEnd('/')}/api/v1/namespaces/ns1/services/svc-a: no answer within 0.3 s", e.Message);
    }

    [Fact]
    public async Task Request_CallerCancels_ThrowsOperationCanceled()
    {
        await using var server = new CannedHttpServer((_, _, ct) => Task.Delay(Timeout.Infinite, ct));
        using var client = Client(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(100);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync(CoreResources.Services, "ns1", "svc-a", cts.Token));
    }

    [Fact]
    public async Task Watch_QueryAndFraming_YieldsEachEvent()
    {
        await using var server = new CannedHttpServer(async (_, s, ct) =>
        {
            await CannedHttpServer.WriteStreamStartAsync(s, ct);
            // Type first (what the API server writes), type last, a blank line, a bookmark split over two writes,
            // and a final event without a trailing newline.
            await CannedHttpServer.WriteTextAsync(s, """{"type":"ADDED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"a","namespace":"n","resourceVersion":"10"}}}""" + "\n", ct);
            await CannedHttpServer.WriteTextAsync(s, """{"object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"a","namespace":"n","resourceVersion":"11"},"spec":{"type":"ClusterIP"}},"type":"MODIFIED"}""" + "\n\n", ct);
            await CannedHttpServer.WriteTextAsync(s, """{"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","met""", ct);
            await CannedHttpServer.WriteTextAsync(s, """adata":{"resourceVersion":"12","annotations":{"k8s.io/initial-events-end":"true"}}}}""" + "\r\n", ct);
            await CannedHttpServer.WriteTextAsync(s, """{"type":"DELETED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"a","namespace":"n","resourceVersion":"13"}}}""", ct);
            s.Close();
        });
        using var client = Client(server);

        var events = new List<WatchEvent<Service>>();
        await foreach (var e in client.WatchAsync(CoreResources.Services, "n", new WatchOptions
        {
            ResourceVersion = "9", LabelSelector = "app=x", FieldSelector = "metadata.name=a", TimeoutSeconds = 30,
        }, Ct))
        {
            events.Add(e);
        }

        Assert.Equal("/api/v1/namespaces/n/services?watch=true&resourceVersion=9&labelSelector=app%3Dx&fieldSelector=metadata.name%3Da&allowWatchBookmarks=true&timeoutSeconds=30",
            Assert.Single(server.Requests).Target);
        Assert.Equal([WatchEventType.Added, WatchEventType.Modified, WatchEventType.Bookmark, WatchEventType.Deleted], events.Select(e => e.Type));
        Assert.Equal(["10", "11", "12", "13"], events.Select(e => e.Object.Metadata.ResourceVersion));
        Assert.Equal("ClusterIP", events[1].Object.Spec.Type);
        Assert.Null(events[2].Object.Metadata.Name);
    }

    [Theory]
    [InlineData(410, "Expired", typeof(GoneException))]
    [InlineData(500, "InternalError", typeof(KubernetesApiException))]
    public async Task Watch_ErrorEvent_ThrowsTypedException(int code, string reason, Type expected)
    {
        await using var server = new CannedHttpServer(async (_, s, ct) =>
        {
            await CannedHttpServer.WriteStreamStartAsync(s, ct);
            await CannedHttpServer.WriteTextAsync(s, """{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"10"}}}""" + "\n", ct);
            await CannedHttpServer.WriteTextAsync(s, $$$"""{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (10)","reason":"{{{reason}}}","code":{{{code}}}}}""" + "\n", ct);
            s.Close();
        });
        using var client = Client(server);

        var seen = 0;
        var e = await Assert.ThrowsAnyAsync<KubernetesApiException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(CoreResources.Services, null, new WatchOptions { ResourceVersion = "5" }, Ct))
            {
                seen++;
            }
        });
        Assert.Equal(1, seen);
        Assert.IsType(expected, e);
        Assert.Equal(code, (int)e.Code);
        Assert.Equal("too old resource version: 5 (10)", e.Status.Message);
    }

    [Fact]
    public async Task Watch_GoneResponse_ThrowsGoneBeforeAnyEvent()
    {
        await using var server = new CannedHttpServer(410, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old","reason":"Expired","code":410}""");
        using var client = Client(server);
        await Assert.ThrowsAsync<GoneException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(CoreResources.Services, null, new WatchOptions { ResourceVersion = "1" }, Ct))
            {
            }
        });
    }

    [Fact]
    public async Task Watch_MalformedLine_ThrowsInvalidData()
    {
        await using var server = new CannedHttpServer(async (_, s, ct) =>
        {
            await CannedHttpServer.WriteStreamStartAsync(s, ct);
            await CannedHttpServer.WriteTextAsync(s, "{\"type\":\"ADDED\",\"object\":{\"metadata\":\n", ct);
            s.Close();
        });
        using var client = Client(server);
        var e = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(CoreResources.Services, null, new WatchOptions(), Ct))
            {
            }
        });
        Assert.StartsWith("watch services: malformed event: ", e.Message);
    }

    [Fact]
    public async Task Watch_Cancelled_StopsPromptly()
    {
        await using var server = new CannedHttpServer(async (_, s, ct) =>
        {
            await CannedHttpServer.WriteStreamStartAsync(s, ct);
            await CannedHttpServer.WriteTextAsync(s, """{"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"10"}}}""" + "\n", ct);
            await Task.Delay(Timeout.Infinite, ct);
        });
        using var client = Client(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var started = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(CoreResources.Services, null, new WatchOptions(), cts.Token))
            {
                cts.CancelAfter(50);
            }
        });
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5), $"took {started.Elapsed}");
    }

    [Fact]
    public async Task Watch_OutlivesTheRequestTimeout()
    {
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new CannedHttpServer(async (_, s, ct) =>
        {
            await CannedHttpServer.WriteStreamStartAsync(s, ct);
            await CannedHttpServer.WriteTextAsync(s, """{"type":"ADDED","object":{"metadata":{"name":"a"}}}""" + "\n", ct);
            await second.Task.WaitAsync(ct);
            await CannedHttpServer.WriteTextAsync(s, """{"type":"ADDED","object":{"metadata":{"name":"b"}}}""" + "\n", ct);
            s.Close();
        });
        using var client = Client(server, timeout: TimeSpan.FromMilliseconds(200));

        var names = new List<string?>();
        await foreach (var e in client.WatchAsync(CoreResources.Services, null, new WatchOptions(), Ct))
        {
            names.Add(e.Object.Metadata.Name);
            if (names.Count == 1)
            {
                // Well past the request timeout, which bounds only the wait for the response headers.
                await Task.Delay(600, Ct);
                second.SetResult();
            }
        }
        Assert.Equal(["a", "b"], names);
    }

    [Fact]
    public async Task List_NullItems_IsEmpty()
    {
        await using var server = new CannedHttpServer(200, """{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"3"},"items":null}""");
        using var client = Client(server);
        var list = await client.ListAsync(CoreResources.Services, "n", null, Ct);
        Assert.Empty(list.Items);
    }

    [Fact]
    public async Task RateLimiter_IsAskedOncePerRequestNotPerWatchEvent()
    {
        await using var server = new CannedHttpServer(async (r, s, ct) =>
        {
            if (r.Target.Contains("watch=true", StringComparison.Ordinal))
            {
                await CannedHttpServer.WriteStreamStartAsync(s, ct);
                for (var i = 0; i < 5; i++)
                {
                    await CannedHttpServer.WriteTextAsync(s, "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"a" + i + "\"}}}\n", ct);
                }
                s.Close();
            }
            else
            {
                await CannedHttpServer.WriteJsonAsync(s, 200, """{"metadata":{},"items":[]}""", ct);
            }
        });
        var limiter = new CountingRateLimiter();
        using var client = Client(server, limiter: limiter);

        await client.ListAsync(CoreResources.Services, null, null, Ct);
        var events = 0;
        await foreach (var _ in client.WatchAsync(CoreResources.Services, null, new WatchOptions(), Ct))
        {
            events++;
        }

        Assert.Equal(5, events);
        Assert.Equal(2, limiter.Calls);
    }

    [Fact]
    public async Task RateLimiter_Waiting_DelaysTheRequest()
    {
        await using var server = new CannedHttpServer(200, ServiceJson);
        var gate = new GateRateLimiter();
        using var client = Client(server, limiter: gate);

        var get = client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct);
        await gate.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Empty(server.Requests);
        gate.Open.SetResult();
        await get;
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task TokenFile_IsReReadAfterAMinute()
    {
        using var dir = new TempDirectory();
        var tokenPath = dir.Write("token", "first\n");
        var clock = new FakeTimeProvider();
        await using var server = new CannedHttpServer(200, ServiceJson);
        using var client = new KubernetesClient(new KubernetesClientConfiguration { Server = server.BaseAddress, BearerTokenFile = tokenPath }, timeProvider: clock);

        async Task<string?> SentToken()
        {
            await client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct);
            server.Requests.TryDequeue(out var r);
            return r!.Header("Authorization");
        }

        Assert.Equal("Bearer first", await SentToken());
        File.WriteAllText(tokenPath, "second");
        Assert.Equal("Bearer first", await SentToken());
        clock.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal("Bearer first", await SentToken());
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("Bearer second", await SentToken());
    }

    [Fact]
    public async Task TokenFile_Unauthorized_ReReadsAtOnceAndRetriesOnlyWhenChanged()
    {
        using var dir = new TempDirectory();
        var tokenPath = dir.Write("token", "old");
        var clock = new FakeTimeProvider();
        await using var server = new CannedHttpServer((r, s, ct) => r.Header("Authorization") == "Bearer new"
            ? CannedHttpServer.WriteJsonAsync(s, 200, ServiceJson, ct)
            : CannedHttpServer.WriteJsonAsync(s, 401, """{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}""", ct));
        var limiter = new CountingRateLimiter();
        using var client = new KubernetesClient(new KubernetesClientConfiguration { Server = server.BaseAddress, BearerTokenFile = tokenPath }, limiter, clock);

        // The file still holds the rejected token: no retry.
        await Assert.ThrowsAsync<UnauthorizedException>(() => client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct));
        Assert.Equal(["Bearer old"], server.Requests.Select(r => r.Header("Authorization")));

        // Rotated within the minute: the 401 triggers the re-read and one retry with the new token.
        File.WriteAllText(tokenPath, "new");
        server.Requests.Clear();
        var service = await client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct);
        Assert.Equal("svc-a", service.Metadata.Name);
        Assert.Equal(["Bearer old", "Bearer new"], server.Requests.Select(r => r.Header("Authorization")));
        Assert.Equal(3, limiter.Calls);
    }

    [Fact]
    public async Task StaticToken_Unauthorized_IsNotRetried()
    {
        await using var server = new CannedHttpServer(401, """{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Unauthorized","code":401}""");
        using var client = Client(server, token: "t");
        await Assert.ThrowsAsync<UnauthorizedException>(() => client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct));
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task ServerWithPathPrefix_KeepsThePrefix()
    {
        await using var server = new CannedHttpServer(200, ServiceJson);
        using var client = new KubernetesClient(new KubernetesClientConfiguration { Server = new Uri(server.BaseAddress, "/k8s/clusters/c-1/") });
        await client.GetAsync(CoreResources.Services, "ns1", "svc-a", Ct);
        Assert.Equal("/k8s/clusters/c-1/api/v1/namespaces/ns1/services/svc-a", Assert.Single(server.Requests).Target);
    }

    [Fact]
    public void Lease_MicroTime_RoundTripsWithSixDigits()
    {
        var json = """{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"l","creationTimestamp":"2025-01-02T03:04:05Z"},"spec":{"holderIdentity":"a","leaseDurationSeconds":15,"renewTime":"2025-01-02T03:04:05.123456Z"}}""";
        var lease = JsonSerializer.Deserialize(json, CoreResources.Leases.TypeInfo)!;
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234560), lease.Spec.RenewTime);
        Assert.Equal(json, JsonSerializer.Serialize(lease, CoreResources.Leases.TypeInfo));
    }

    private sealed class CountingRateLimiter : IRequestRateLimiter
    {
        private int _calls;
        public int Calls => _calls;

        public ValueTask WaitAsync(CancellationToken ct)
        {
            Interlocked.Increment(ref _calls);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class GateRateLimiter : IRequestRateLimiter
    {
        public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask WaitAsync(CancellationToken ct)
        {
            Waiting.TrySetResult();
            await Open.Task.WaitAsync(ct);
        }
    }
}

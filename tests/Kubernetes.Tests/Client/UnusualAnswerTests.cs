using System.Net;
using System.Net.Sockets;
using BareLb.Kubernetes.Client;
using BareLb.Kubernetes.Config;
using BareLb.Kubernetes.Tests.Support;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Client;

/// <summary>
/// Answers no API server gives but the network in front of one does (a proxy's error page, a connection cut
/// mid-body, a garbled watch line, silence): each must become a clear exception, never a hang or a silent success.
/// </summary>
public sealed class UnusualAnswerTests : IDisposable
{
    private const string ServiceJson = """{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"ns","resourceVersion":"5"},"spec":{"type":"ClusterIP"}}""";
    private const string AddedLine = """{"type":"ADDED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"a","namespace":"ns","resourceVersion":"10"}}}""" + "\n";

    private readonly CancellationTokenSource _testTimeout = new(Wait.Patience);

    public void Dispose() => _testTimeout.Dispose();

    private CancellationToken Ct => _testTimeout.Token;

    private static KubernetesClient ClientFor(CannedHttpServer server, TimeSpan? timeout = null) =>
        new(ApiConnection.ForServer(server.BaseAddress) with { RequestTimeout = timeout ?? TimeSpan.FromSeconds(15) });

    [Theory]
    [InlineData(502, "text/html", "<html><body>502 Bad Gateway</body></html>", typeof(KubernetesApiException), "Unknown")]
    [InlineData(503, "text/plain", "upstream connect error or disconnect/reset before headers", typeof(KubernetesApiException), "ServiceUnavailable")]
    [InlineData(404, "text/plain", "404 page not found", typeof(NotFoundException), "NotFound")]
    [InlineData(409, "application/json", """{"kind":"Pod"}""", typeof(ConflictException), "Conflict")]
    public async Task GetAsync_ErrorWithoutStatusBody_SynthesizesStatusFromCodeAndBody(int code, string contentType, string body, Type expected, string reason)
    {
        await using var server = new CannedHttpServer((_, s, ct) => CannedHttpServer.WriteJsonAsync(s, code, body, ct, contentType));
        using var client = ClientFor(server);

        var e = await Assert.ThrowsAnyAsync<KubernetesApiException>(() => client.GetAsync(CoreResources.Services, "ns", "web", Ct));

        Assert.IsType(expected, e);
        Assert.Equal(code, (int)e.Code);
        Assert.Equal(code, e.Status.Code);
        Assert.Equal(reason, e.Reason);
        Assert.Equal("Failure", e.Status.Status);
        Assert.StartsWith($"get services ns/web: {code} ", e.Status.Message);
        Assert.EndsWith(body, e.Status.Message);
    }

    [Fact]
    public async Task GetAsync_ConnectionClosedMidBody_ThrowsInsteadOfReturningPartOfTheObject()
    {
        await using var server = new CannedHttpServer(async (_, s, ct) =>
        {
            var head = $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {ServiceJson.Length}\r\n\r\n";
            await CannedHttpServer.WriteTextAsync(s, head + ServiceJson[..40], ct);
            s.Close();
        });
        using var client = ClientFor(server);

        var e = await Assert.ThrowsAnyAsync<Exception>(() => client.GetAsync(CoreResources.Services, "ns", "web", Ct));

        Assert.True(e is HttpRequestException or IOException or InvalidDataException, e.ToString());
    }

    [Fact]
    public async Task GetAsync_BodyNotJson_ThrowsInvalidData()
    {
        await using var server = new CannedHttpServer(200, "<html>login page</html>");
        using var client = ClientFor(server);

        var e = await Assert.ThrowsAsync<InvalidDataException>(() => client.GetAsync(CoreResources.Services, "ns", "web", Ct));

        Assert.StartsWith("get services ns/web: the response is not valid JSON: ", e.Message);
    }

    [Fact]
    public async Task GetAsync_NoAnswerWithinRequestTimeout_ThrowsTimeoutNamingTheServer()
    {
        await using var server = new CannedHttpServer((_, _, ct) => Task.Delay(Timeout.Infinite, ct));
        // The connect timeout is the same setting: long enough for a loopback connect on a loaded machine.
        using var client = ClientFor(server, TimeSpan.FromSeconds(1));

        var e = await Assert.ThrowsAsync<TimeoutException>(() => client.GetAsync(CoreResources.Services, "ns", "web", Ct));

        Assert.Equal($"get services ns/web at {server.BaseAddress}: no answer within 1 s", e.Message);
    }

    [Fact]
    public async Task GetAsync_ConnectionNeverAccepted_ThrowsTimeoutNotCancellation()
    {
        // A listener whose backlog is full: the kernel leaves further connection attempts unanswered.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(0);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            for (var i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                _ = filler.ConnectAsync(endpoint);
            }
            using var client = new KubernetesClient(ApiConnection.ForServer(new Uri($"http://{endpoint}")) with { RequestTimeout = TimeSpan.FromSeconds(1) });

            var e = await Assert.ThrowsAsync<TimeoutException>(() => client.GetAsync(CoreResources.Services, "ns", "web", Ct));

            Assert.Equal($"get services ns/web at http://{endpoint}/: no answer within 1 s", e.Message);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task GetAsync_CallerCancels_ThrowsOperationCanceled()
    {
        await using var server = new CannedHttpServer((_, _, ct) => Task.Delay(Timeout.Infinite, ct));
        using var client = ClientFor(server);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(100);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync(CoreResources.Services, "ns", "web", cts.Token));
    }

    [Fact]
    public async Task WatchAsync_GarbledLineAfterEvents_YieldsTheGoodOnesThenThrowsInvalidData()
    {
        await using var server = WatchServer(AddedLine + "{\"type\":\"MODIFIED\",\"object\":{\"metadata\":\n" + AddedLine);
        using var client = ClientFor(server);

        var seen = new List<string?>();
        var e = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var evt in client.WatchAsync(CoreResources.Services, "ns", new WatchOptions(), Ct))
            {
                seen.Add(evt.ResourceVersion);
            }
        });

        Assert.Equal(["10"], seen);
        Assert.StartsWith("watch services in ns: a line of the stream is not valid JSON: ", e.Message);
    }

    [Fact]
    public async Task WatchAsync_GarbledFirstLine_ThrowsInvalidDataInsteadOfEndingQuietly()
    {
        await using var server = WatchServer("<html>proxy error</html>\n");
        using var client = ClientFor(server);

        var e = await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(CoreResources.Services, "ns", new WatchOptions(), Ct))
            {
            }
        });

        Assert.StartsWith("watch services in ns: ", e.Message);
    }

    [Fact]
    public async Task WatchAsync_StreamCutMidLine_ThrowsInvalidDataAfterTheCompleteEvents()
    {
        await using var server = WatchServer(AddedLine + AddedLine[..30]);
        using var client = ClientFor(server);

        var seen = 0;
        await Assert.ThrowsAsync<InvalidDataException>(async () =>
        {
            await foreach (var _ in client.WatchAsync(CoreResources.Services, "ns", new WatchOptions(), Ct))
            {
                seen++;
            }
        });

        Assert.Equal(1, seen);
    }

    [Fact]
    public async Task WatchAsync_ClosedWithoutAnyLine_EndsWithoutError()
    {
        await using var server = WatchServer("");
        using var client = ClientFor(server);

        var seen = 0;
        await foreach (var _ in client.WatchAsync(CoreResources.Services, "ns", new WatchOptions(), Ct))
        {
            seen++;
        }

        Assert.Equal(0, seen);
    }

    [Fact]
    public async Task WatchAsync_OutlivesTheRequestTimeout()
    {
        var second = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = new CannedHttpServer(async (_, s, ct) =>
        {
            await CannedHttpServer.WriteStreamStartAsync(s, ct);
            await CannedHttpServer.WriteTextAsync(s, AddedLine, ct);
            await second.Task.WaitAsync(ct);
            await CannedHttpServer.WriteTextAsync(s, AddedLine.Replace("\"10\"", "\"11\"", StringComparison.Ordinal), ct);
            s.Close();
        });
        using var client = ClientFor(server, TimeSpan.FromSeconds(1));

        var seen = new List<string?>();
        await foreach (var evt in client.WatchAsync(CoreResources.Services, "ns", new WatchOptions(), Ct))
        {
            seen.Add(evt.ResourceVersion);
            if (seen.Count == 1)
            {
                // Longer than the request timeout, which bounds requests, not the life of a watch. A real-time
                // wait is the point of this test: the request timeout runs on the real clock.
                await Task.Delay(1500, Ct);
                second.SetResult();
            }
        }

        Assert.Equal(["10", "11"], seen);
    }

    [Theory]
    [InlineData("/k8s/clusters/c-1")]
    [InlineData("/k8s/clusters/c-1/")]
    public async Task Requests_ServerUrlWithPathPrefix_KeepThePrefix(string prefix)
    {
        // A proxy in front of the API server (Rancher, a bastion) serves it under a path.
        await using var server = new CannedHttpServer(200, ServiceJson);
        using var client = new KubernetesClient(ApiConnection.ForServer(new Uri(server.BaseAddress, prefix)));

        await client.GetAsync(CoreResources.Services, "ns", "web", Ct);

        Assert.Equal("/k8s/clusters/c-1/api/v1/namespaces/ns/services/web", Assert.Single(server.Requests).Target);
    }

    /// <summary>Answers a watch with <paramref name="body"/> and closes the connection.</summary>
    private static CannedHttpServer WatchServer(string body) => new(async (_, s, ct) =>
    {
        await CannedHttpServer.WriteStreamStartAsync(s, ct);
        await CannedHttpServer.WriteTextAsync(s, body, ct);
        s.Close();
    });
}

using BareLb.Kubernetes.RateLimiting;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.RateLimiting;

/// <summary>The limiter in the client's HTTP pipeline, against the in-memory API server.</summary>
public sealed class RateLimitingHandlerTests : IAsyncLifetime
{
    private TestCluster _cluster = null!;

    public async Task InitializeAsync() => _cluster = await TestCluster.StartAsync();

    public async Task DisposeAsync() => await _cluster.DisposeAsync();

    [Fact]
    public async Task Requests_EachAsksTheLimiterOnce_AWatchOnlyWhenOpened()
    {
        var limiter = new CountingRateLimiter();
        var client = _cluster.CreateClient(limiter);
        var list = await client.ListAsync(CoreResources.Services, "default", null, default);
        for (var i = 0; i < 5; i++)
        {
            await _cluster.Client.CreateAsync(CoreResources.Services, new V1Service
            {
                Metadata = new V1ObjectMeta { NamespaceProperty = "default", Name = $"s{i}" },
                Spec = new V1ServiceSpec { Ports = [new V1ServicePort { Protocol = "TCP", Port = 80 }] },
            }, default);
        }

        var events = 0;
        await foreach (var _ in client.WatchAsync(CoreResources.Services, "default",
            new WatchOptions { ResourceVersion = list.ResourceVersion, AllowWatchBookmarks = false }, default).WithCancellation(default))
        {
            if (++events == 5)
            {
                break;
            }
        }

        Assert.Equal(2, limiter.Calls);
    }

    [Fact]
    public async Task Request_LimiterWaiting_IsNotSentUntilItAdmits()
    {
        var gate = new GateRateLimiter();
        var client = _cluster.CreateClient(gate);
        var before = _cluster.Server.CurrentResourceVersion;

        var create = client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = "gated" } }, default);
        await gate.Waiting.Task.Within();
        Assert.Equal(before, _cluster.Server.CurrentResourceVersion);
        Assert.False(create.IsCompleted);

        gate.Open.SetResult();
        await create.Within();
        Assert.True(_cluster.Server.CurrentResourceVersion > before);
    }

    [Fact]
    public async Task Request_CancelledWhileTheLimiterWaits_ThrowsOperationCanceledAndIsNeverSent()
    {
        var gate = new GateRateLimiter();
        var client = _cluster.CreateClient(gate);
        var before = _cluster.Server.CurrentResourceVersion;
        using var cts = new CancellationTokenSource();

        var create = client.CreateAsync(CoreResources.Namespaces, new V1Namespace { Metadata = new V1ObjectMeta { Name = "never" } }, cts.Token);
        await gate.Waiting.Task.Within();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => create.Within());
        Assert.Equal(before, _cluster.Server.CurrentResourceVersion);
    }

    private sealed class CountingRateLimiter : IRequestRateLimiter
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

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

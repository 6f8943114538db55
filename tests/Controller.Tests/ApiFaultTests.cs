using BareLb.Controller.Tests.Support;
using System.Diagnostics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.LeaderElection;
using BareLb.TestSupport;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

/// <summary>The API server failing: outages, dead watches, and errors on every kind of write.</summary>
public sealed class ApiFaultTests
{
    /// <summary>Every request fails while the API is "down"; open watches break, as a lost connection does.</summary>
    private sealed class OutageClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
    {
        private readonly Lock _lock = new();
        private CancellationTokenSource _outage = new();
        private volatile bool _down;

        public void GoDown()
        {
            lock (_lock)
            {
                _down = true;
                _outage.Cancel();
            }
        }

        public void ComeBack()
        {
            lock (_lock)
            {
                _down = false;
                _outage = new CancellationTokenSource();
            }
        }

        private static Exception Refused() => new HttpRequestException("connection refused (API outage)");

        public override Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) =>
            _down ? Task.FromException<T>(Refused()) : base.GetAsync(type, ns, name, ct);

        public override Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) =>
            _down ? Task.FromException<ResourceList<T>>(Refused()) : base.ListAsync(type, ns, options, ct);

        public override Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) =>
            _down ? Task.FromException<T>(Refused()) : base.CreateAsync(type, obj, ct);

        public override Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) =>
            _down ? Task.FromException<T>(Refused()) : base.PatchAsync(type, ns, name, mergePatch, status, ct);

        public override Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) =>
            _down ? Task.FromException(Refused()) : base.DeleteAsync(type, ns, name, options, ct);

        public override IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, CancellationToken ct) =>
            WatchUntilOutageAsync(type, ns, options, ct);

        private async IAsyncEnumerable<WatchEvent<T>> WatchUntilOutageAsync<T>(ResourceType<T> type, string? ns, WatchOptions options,
            [EnumeratorCancellation] CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
        {
            CancellationToken outage;
            lock (_lock)
            {
                if (_down)
                {
                    throw Refused();
                }
                outage = _outage.Token;
            }
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, outage);
            var events = Inner.WatchAsync(type, ns, options, linked.Token).GetAsyncEnumerator(linked.Token);
            try
            {
                while (true)
                {
                    bool more;
                    try
                    {
                        more = await events.MoveNextAsync();
                    }
                    catch (OperationCanceledException) when (outage.IsCancellationRequested && !ct.IsCancellationRequested)
                    {
                        throw new IOException("connection reset (API outage)");
                    }
                    if (!more)
                    {
                        yield break;
                    }
                    yield return events.Current;
                }
            }
            finally
            {
                await events.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// The whole hosted service with leader election on short timings: the API goes away for longer than the renew
    /// deadline, so the leader steps down; when it returns, the same process leads again and allocates within
    /// seconds, and nothing that had an address moved.
    /// </summary>
    [Fact]
    public async Task ApiOutageLongerThanRenewDeadline_StepsDownCampaignsAgainInSameProcessMovesNothing()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var outage = new OutageClient(f.Cluster.Client);
        var election = new LeaderElectionOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(3),
            RenewDeadline = TimeSpan.FromSeconds(2),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        };
        var events = ControllerEvents.CreateRecorder(outage, "replica", NullLogger.Instance);
        var service = new ControllerService(outage, events,
            new ControllerCommandLine(null, SystemNamespace, null, LeaderElect: true, Identity: "replica", Qps: 0, Burst: 0),
            NullLoggerFactory.Instance, TimeProvider.System, election);
        using var host = new CancellationTokenSource();
        await service.StartAsync(host.Token);
        try
        {
            await EventuallyAsync(() => Task.FromResult(service.Replica?.Current is not null ? "" : null), "the replica to lead");
            f.Follow(() => service.Replica?.Current, events);
            for (var i = 0; i < 3; i++)
            {
                await f.CreateServiceAsync(LoadBalancer($"s{i}"));
            }
            await f.SettleAsync();
            var before = new List<string>();
            for (var i = 0; i < 3; i++)
            {
                before.AddRange(Ingress(await f.GetServiceAsync($"s{i}")));
            }
            Assert.Equal(3, before.Distinct().Count());

            outage.GoDown();
            // The outage lasts until the leader has given up: longer than the renew deadline by construction.
            await EventuallyAsync(() => Task.FromResult(service.Replica!.Current is null ? "" : null), "the leader to step down");
            await f.Cluster.Client.CreateAsync(CoreResources.Services, LoadBalancer("during"), default);
            outage.ComeBack();
            var back = Stopwatch.StartNew();

            await EventuallyAsync(async () => Ingress(await f.GetServiceAsync("during")).Count == 1 ? "" : null, "allocation to resume");
            var resumed = back.Elapsed;
            await f.SettleAsync();

            Assert.True(resumed < TimeSpan.FromSeconds(5), $"allocation resumed {resumed} after the API came back");
            Assert.Equal(2, service.Replica!.Terms);
            Assert.False(service.ExecuteTask!.IsCompleted, "the hosted service ended");
            for (var i = 0; i < 3; i++)
            {
                Assert.Equal(before[i], Ingress(await f.GetServiceAsync($"s{i}"))[0]);
            }
            Assert.DoesNotContain(Ingress(await f.GetServiceAsync("during"))[0], before);
        }
        finally
        {
            await host.CancelAsync();
            await service.StopAsync(CancellationToken.None);
        }
    }

    /// <summary>The first watch of Services is a dead connection: open, silent, never closed.</summary>
    private sealed class HalfOpenClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
    {
        private int _serviceWatches;

        public override IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, CancellationToken ct) =>
            type.Kind == "Service" && Interlocked.Increment(ref _serviceWatches) == 1 ? SilentAsync<T>(ct) : base.WatchAsync(type, ns, options, ct);

        private static async IAsyncEnumerable<WatchEvent<T>> SilentAsync<T>([EnumeratorCancellation] CancellationToken ct)
            where T : class, IKubernetesObject<V1ObjectMeta>
        {
            await Task.Delay(System.Threading.Timeout.Infinite, ct);
            yield break;
        }
    }

    [Fact]
    public async Task HalfOpenServiceWatch_NoticedWithinTwoMinutes()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var clock = new FakeTimeProvider();
        var options = DefaultOptions();
        options.PoolStatusInterval = TimeSpan.Zero;
        await f.StartControllerAsync(new HalfOpenClient(f.Cluster.Client), clock, options);
        await f.CreateServiceAsync(LoadBalancer("web"));
        // Each informer arms its watchdog when its watch opens; the clock may move only after all three have.
        await EventuallyAsync(() => Task.FromResult(clock.PendingTimers.Count(t => t == options.WatchdogTimeout) == 3 ? "" : null),
            "the three watches to be open");

        clock.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));

        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("web")));
    }

    /// <summary>Fails the first two calls of one kind of write with one kind of error.</summary>
    private sealed class FaultyWrites(IKubernetesClient inner, string write, string error) : DelegatingKubernetesClient(inner)
    {
        private int _budget = 2;
        public int Injected;

        private Exception? Fault(string what)
        {
            if (what != write || Interlocked.Decrement(ref _budget) < 0)
            {
                return null;
            }
            Interlocked.Increment(ref Injected);
            return error switch
            {
                "garbled" => new InvalidDataException($"{what}: the response is not valid JSON: '<' is an invalid start of a value"),
                "429" => KubernetesApiException.From((HttpStatusCode)429, new V1Status
                {
                    Code = 429, Reason = "TooManyRequests", Message = "slow down", Details = new V1StatusDetails { RetryAfterSeconds = 1 },
                }),
                "503" => KubernetesApiException.From(HttpStatusCode.ServiceUnavailable, new V1Status { Code = 503, Reason = "ServiceUnavailable", Message = "etcd leader changed" }),
                _ => new TimeoutException($"{what}: no answer within 15 s"),
            };
        }

        public override Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
        {
            var what = (type.Kind, status) switch
            {
                ("Service", true) => "service status",
                ("Service", false) => "service annotation",
                ("IPAddressPool", true) => "pool status",
                ("IPAddressPool", false) => "pool finalizer",
                _ => "other",
            };
            return Fault(what) is { } e ? Task.FromException<T>(e) : base.PatchAsync(type, ns, name, mergePatch, status, ct);
        }

        public override Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) =>
            type.Kind == "Event" && obj is Corev1Event { Reason: not "TestBarrier" } && Fault("event") is { } e
                ? Task.FromException<T>(e)
                : base.CreateAsync(type, obj, ct);
    }

    public static TheoryData<string, string> Faults()
    {
        var data = new TheoryData<string, string>();
        foreach (var write in new[] { "service status", "service annotation", "pool finalizer", "pool status", "event" })
        {
            foreach (var error in new[] { "garbled", "429", "503", "timeout" })
            {
                data.Add(write, error);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task TransientErrorOnAnyWrite_RetriedWithBackoffLoopKeepsRunning(string write, string error)
    {
        await using var f = await StartAsync(startController: false);
        // The annotation has a write of its own only against a server that drops metadata written through /status.
        var faulty = new FaultyWrites(write == "service annotation" ? new MetadataDroppedOnStatusClient(f.Cluster.Client) : f.Cluster.Client, write, error);
        await f.StartControllerAsync(faulty);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.CreateServiceAsync(LoadBalancer("web"));

        var web = await f.WaitForIngressAsync("web");
        Assert.Equal(["198.51.100.0"], Ingress(web));
        Assert.Equal("main", PoolAnnotation(web));
        var pool = await f.GetPoolAsync("main");
        Assert.Contains(Finalizers.PoolProtection, pool.Metadata.Finalizers ?? []);
        Assert.Equal(1, pool.Status?.AssignedIPv4);
        await f.WaitForEventAsync("web", "IPAllocated");
        Assert.Equal(2, faulty.Injected);
        Assert.False(f.Running!.IsCompleted, "the controller stopped on a transient API error");
    }

    /// <summary>Hides one pool from the models, as an object written by a newer or broken client would be.</summary>
    private sealed class UnreadablePoolClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
    {
        public override async Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct)
        {
            var list = await Inner.ListAsync(type, ns, options, ct);
            if (type.Kind != "IPAddressPool")
            {
                return list;
            }
            var broken = list.Items.Where(i => i.Metadata.Name == "broken").ToList();
            return new ResourceList<T>
            {
                Items = [.. list.Items.Except(broken)],
                Unreadable = [.. list.Unreadable, .. broken.Select(b => new UnreadableObject(b.ApiVersion, b.Kind, b.Metadata, "IPAddressPool cannot be read: priority out of range"))],
                ResourceVersion = list.ResourceVersion,
                Continue = list.Continue,
            };
        }
    }

    [Fact]
    public async Task UnreadablePool_WarningEventOnItOthersServed()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("broken", "203.0.113.0/28");
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        await f.StartControllerAsync(new UnreadablePoolClient(f.Cluster.Client));
        await f.CreateServiceAsync(LoadBalancer("web"));

        Assert.Equal(["198.51.100.0"], Ingress(await f.WaitForIngressAsync("web")));
        var warning = await f.WaitForEventAsync("broken", "Unreadable", ns: SystemNamespace);
        Assert.Equal("Warning", warning.Type);
        Assert.Contains("priority out of range", warning.Message);
    }
}

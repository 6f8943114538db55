using System.Diagnostics;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.LeaderElection;
using Microsoft.Extensions.Logging.Abstractions;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

public sealed class LeaderHandoverTests
{
    private static readonly LeaderElectionOptions FastElection = new()
    {
        LeaseDuration = TimeSpan.FromSeconds(3),
        RenewDeadline = TimeSpan.FromSeconds(2),
        RetryPeriod = TimeSpan.FromMilliseconds(200),
    };

    private sealed class Replica(ControllerFixture f, string identity, LeaderElectionOptions? election = null) : IAsyncDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private Task? _run;

        public LeaderElectedController Controller { get; private set; } = null!;
        public EventRecorder Events { get; private set; } = null!;

        public void Start()
        {
            var events = Events = ControllerEvents.CreateRecorder(f.Cluster.Client, identity, NullLogger.Instance);
            Controller = new LeaderElectedController(f.Cluster.Client, new ControllerOptions { Namespace = SystemNamespace }, events,
                NullLoggerFactory.Instance, TimeProvider.System, identity, election ?? FastElection);
            _run = Task.WhenAll(events.RunAsync(_stop.Token), Controller.RunAsync(_stop.Token));
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            try
            {
                await _run!;
            }
            catch (OperationCanceledException)
            {
            }
        }
    }

    [Fact]
    public async Task TwoReplicas_LeaderStopsGracefully_StandbyTakesOverWithoutMovingServices()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var a = new Replica(f, "replica-a");
        await using var b = new Replica(f, "replica-b");
        a.Start();
        await EventuallyAsync(() => Task.FromResult(a.Controller.Current is not null ? "" : null), "replica-a to lead");
        f.Follow(() => a.Controller.Current, a.Events);
        b.Start();

        for (var i = 0; i < 3; i++)
        {
            await f.CreateServiceAsync(LoadBalancer($"s{i}"));
        }
        var before = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            before.AddRange(Ingress(await f.WaitForIngressAsync($"s{i}")));
        }
        Assert.Null(b.Controller.Current);

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        await EventuallyAsync(() => Task.FromResult(b.Controller.Current is not null ? "" : null), "replica-b to lead");
        f.Follow(() => b.Controller.Current, b.Events);
        var handover = clock.Elapsed;
        await f.CreateServiceAsync(LoadBalancer("after"));

        Assert.Equal(["198.51.100.3"], Ingress(await f.WaitForIngressAsync("after")));
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(before[i], Ingress(await f.GetServiceAsync($"s{i}"))[0]);
        }
        // A released Lease is taken at the standby's next attempt, not after the 3 s lease duration.
        Assert.True(handover < TimeSpan.FromSeconds(1.5), $"handover took {handover}");
    }

    [Fact]
    public async Task TwoReplicas_LeaderDiesWithoutRelease_StandbyWaitsOutLeaseThenTakesOver()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        // A crash: the leader stops without giving the Lease back.
        var crashing = new LeaderElectionOptions
        {
            LeaseDuration = FastElection.LeaseDuration,
            RenewDeadline = FastElection.RenewDeadline,
            RetryPeriod = FastElection.RetryPeriod,
            ReleaseOnCancel = false,
        };
        var a = new Replica(f, "replica-a", crashing);
        await using var b = new Replica(f, "replica-b");
        a.Start();
        await EventuallyAsync(() => Task.FromResult(a.Controller.Current is not null ? "" : null), "replica-a to lead");
        f.Follow(() => a.Controller.Current, a.Events);
        b.Start();
        await f.CreateServiceAsync(LoadBalancer("web"));
        var before = Ingress(await f.WaitForIngressAsync("web"));

        var clock = Stopwatch.StartNew();
        await a.DisposeAsync();
        await EventuallyAsync(() => Task.FromResult(b.Controller.Current is not null ? "" : null), "replica-b to lead");
        f.Follow(() => b.Controller.Current, b.Events);
        var takeover = clock.Elapsed;
        await f.CreateServiceAsync(LoadBalancer("after"));

        Assert.Equal(["198.51.100.1"], Ingress(await f.WaitForIngressAsync("after")));
        Assert.Equal(before, Ingress(await f.GetServiceAsync("web")));
        // Never before the lease ran out (judged from when the standby last saw it change), not much after.
        Assert.InRange(takeover, FastElection.LeaseDuration - FastElection.RetryPeriod * 2, FastElection.LeaseDuration + TimeSpan.FromSeconds(2));
    }
}

using System.Diagnostics;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.LeaderElection;
using Microsoft.Extensions.Logging.Abstractions;
using static BareLb.Controller.Tests.ControllerFixture;

namespace BareLb.Controller.Tests;

public sealed class LeaderHandoverTests
{
    [Fact]
    public async Task TwoReplicas_LeaderStopsGracefully_StandbyTakesOverWithoutMovingServices()
    {
        await using var f = await StartAsync(startController: false);
        await f.CreatePoolAsync("main", "198.51.100.0/28");
        var a = new ControllerReplica(f, "replica-a");
        await using var b = new ControllerReplica(f, "replica-b");
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
            LeaseDuration = ControllerReplica.FastElection.LeaseDuration,
            RenewDeadline = ControllerReplica.FastElection.RenewDeadline,
            RetryPeriod = ControllerReplica.FastElection.RetryPeriod,
            ReleaseOnCancel = false,
        };
        var a = new ControllerReplica(f, "replica-a", crashing);
        await using var b = new ControllerReplica(f, "replica-b");
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
        Assert.InRange(takeover, ControllerReplica.FastElection.LeaseDuration - ControllerReplica.FastElection.RetryPeriod * 2, ControllerReplica.FastElection.LeaseDuration + TimeSpan.FromSeconds(2));
    }
}

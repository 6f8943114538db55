using System.Diagnostics;
using BareLb.Kubernetes.LeaderElection;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace BareLb.Kubernetes.Tests.LeaderElection;

/// <summary>Two electors on the real clock, over HTTP to the in-memory API server: the whole stack with nothing faked.</summary>
public sealed class LeaderElectionLoopbackTests(ITestOutputHelper output)
{
    [Fact]
    public async Task RunAsync_LeaderStopsGracefully_StandbyLeadsLongBeforeTheLeaseCouldExpire()
    {
        await using var cluster = await TestCluster.StartAsync();
        // A standby that were not told of the release would wait the whole 10 s lease; with it, one poll (0.1 s).
        var options = new LeaderElectionOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(10),
            RenewDeadline = TimeSpan.FromSeconds(5),
            RetryPeriod = TimeSpan.FromMilliseconds(100),
        };
        var a = new Participant("a", cluster.CreateClient(), options);
        var b = new Participant("b", cluster.CreateClient(), options);

        a.Start();
        await a.Started.Task.Within();
        b.Start();
        await b.SawLeaderA.Task.Within();
        Assert.True(a.Elector.IsLeader);
        Assert.False(b.Elector.IsLeader);

        var stopRequested = Stopwatch.GetTimestamp();
        await a.Stop.CancelAsync();
        await a.Run.Within();
        await b.Started.Task.Within();

        var handover = Stopwatch.GetElapsedTime(stopRequested, b.StartedAt);
        output.WriteLine($"handover: {handover.TotalMilliseconds:F0} ms (retry period {options.RetryPeriod.TotalMilliseconds} ms)");
        Assert.True(handover < options.RenewDeadline, $"handover took {handover}");
        Assert.True(b.StartedAt > a.StoppedAt, "the standby started before the old leader had stopped");
        var lease = await cluster.Client.GetAsync(CoreResources.Leases, "default", "barelb-itest", default);
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);

        await b.Stop.CancelAsync();
        await b.Run.Within();
    }

    private sealed class Participant(string identity, IKubernetesClient client, LeaderElectionOptions options)
    {
        public LeaderElector Elector { get; private set; } = null!;
        public CancellationTokenSource Stop { get; } = new();
        public Task Run { get; private set; } = Task.CompletedTask;
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource SawLeaderA { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public long StartedAt { get; private set; }
        public long StoppedAt { get; private set; }

        public void Start()
        {
            Elector = new LeaderElector(new LeaseLock(client, "default", "barelb-itest", identity), options, new LeaderElectionCallbacks
            {
                OnStartedLeading = async ct =>
                {
                    StartedAt = Stopwatch.GetTimestamp();
                    Started.TrySetResult();
                    try
                    {
                        await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                    }
                    finally
                    {
                        StoppedAt = Stopwatch.GetTimestamp();
                    }
                },
                OnNewLeader = leader =>
                {
                    if (leader == "a")
                    {
                        SawLeaderA.TrySetResult();
                    }
                },
            }, NullLogger.Instance);
            Run = Elector.RunAsync(Stop.Token);
        }
    }
}

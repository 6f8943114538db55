using System.Diagnostics;
using BareLb.ApiServer;
using BareLb.Kubernetes.LeaderElection;
using BareLb.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace BareLb.Kubernetes.Tests.LeaderElection;

/// <summary>Two electors over the real HTTP client against the in-memory API server on loopback, in real time.</summary>
public sealed class LeaderElectionLoopbackTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task RunAsync_LeaderStopsGracefully_StandbyLeadsWithinOneAndAHalfSeconds()
    {
        await using var cluster = await TestCluster.StartAsync(new ApiServerOptions());
        var options = new LeaderElectionOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(2),
            RenewDeadline = TimeSpan.FromSeconds(1.5),
            RetryPeriod = TimeSpan.FromMilliseconds(200),
        };
        var a = new Participant("a", cluster.CreateClient(), options);
        var b = new Participant("b", cluster.CreateClient(), options);

        a.Start();
        await a.Started.Task.WaitAsync(Patience);
        b.Start();
        await b.SawLeaderA.Task.WaitAsync(Patience);
        Assert.True(a.Elector.IsLeader);
        Assert.False(b.Elector.IsLeader);

        var stopRequested = Stopwatch.GetTimestamp();
        a.Stop.Cancel();
        await a.Run.WaitAsync(Patience);
        await b.Started.Task.WaitAsync(Patience);

        var handover = Stopwatch.GetElapsedTime(stopRequested, b.StartedAt);
        output.WriteLine($"handover: {handover.TotalMilliseconds:F0} ms (retry period {options.RetryPeriod.TotalMilliseconds} ms)");
        Assert.True(handover < TimeSpan.FromSeconds(1.5), $"handover took {handover}");
        Assert.True(b.StartedAt > a.StoppedAt, "the standby started before the old leader had stopped");
        var lease = await cluster.Client.GetAsync(CoreResources.Leases, "default", "barelb-itest", default);
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);

        b.Stop.Cancel();
        await b.Run.WaitAsync(Patience);
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
            var elector = new LeaderElector(new LeaseLock(client, "default", "barelb-itest", identity), options, new LeaderElectionCallbacks
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
            Elector = elector;
            Run = elector.RunAsync(Stop.Token);
        }
    }
}

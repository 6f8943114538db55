using System.Globalization;
using BareLb.Kubernetes.LeaderElection;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Kubernetes.Tests.LeaderElection;

/// <summary>
/// Lease election with the defaults (lease 15 s, renew deadline 10 s, retry 2 s) on a fake clock, over HTTP to the
/// in-memory API server. See <see cref="Election"/> for how the clock is moved.
/// </summary>
public sealed class LeaderElectorTests : IAsyncLifetime
{
    private static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(2);

    private readonly FakeTimeProvider _time = new();
    private TestCluster _cluster = null!;
    private Election _election = null!;

    public async Task InitializeAsync()
    {
        _cluster = await TestCluster.StartAsync();
        _election = new Election(_cluster, _time);
    }

    public async Task DisposeAsync()
    {
        await _election.DisposeAsync();
        await _cluster.DisposeAsync();
    }

    [Fact]
    public async Task RunAsync_TwoCandidates_OneLeadsAndRenewsEveryRetryPeriod()
    {
        var a = _election.Start("a");
        await a.Started.Task.Within();
        var b = _election.Start("b");

        await _election.RunForAsync(TimeSpan.FromSeconds(60), () =>
        {
            Assert.True(a.Elector.IsLeader, $"a lost leadership at {_time.Elapsed}");
            Assert.False(b.Elector.IsLeader, $"b led at {_time.Elapsed}");
        });

        var lease = await _election.GetLeaseAsync();
        Assert.Equal(TimeSpan.FromSeconds(60), _time.Elapsed);
        Assert.Equal("a", lease.Spec.HolderIdentity);
        Assert.Equal(0, lease.Spec.LeaseTransitions);
        Assert.Equal(15, lease.Spec.LeaseDurationSeconds);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, lease.Spec.RenewTime);
        // The create at 0 s, then a renewal every 2 s up to and including 60 s.
        Assert.Equal(1 + 30, a.Client.Writes);
        Assert.Equal(0, b.Client.Writes);
        Assert.Equal(["a"], b.NewLeaders);
        Assert.False(b.Started.Task.IsCompleted);
    }

    [Fact]
    public async Task RunAsync_BothCreateTheLeaseAtOnce_ExactlyOneWins()
    {
        // Hold the first create until the second candidate has also read "no Lease" and tries to create it.
        var creates = 0;
        var bothCreating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Func<string, CancellationToken, Task> hold = async (verb, ct) =>
        {
            if (verb == "create")
            {
                if (Interlocked.Increment(ref creates) == 2)
                {
                    bothCreating.TrySetResult();
                }
                await bothCreating.Task.WaitAsync(ct);
            }
        };
        var a = _election.Start("a", c => c.BeforeCall = hold);
        var b = _election.Start("b", c => c.BeforeCall = hold);

        var winner = await Task.WhenAny(a.Started.Task, b.Started.Task).Within();
        var (leader, standby) = winner == a.Started.Task ? (a, b) : (b, a);
        await _election.RunForAsync(TimeSpan.FromSeconds(30), () =>
        {
            Assert.True(leader.Elector.IsLeader);
            Assert.False(standby.Elector.IsLeader);
        });

        Assert.Equal(2, creates);
        Assert.Equal(leader.Identity, (await _election.GetLeaseAsync()).Spec.HolderIdentity);
        Assert.Equal(0, standby.Client.Writes);
        Assert.False(standby.Started.Task.IsCompleted);
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(0)]
    [InlineData(3600)]
    public async Task RunAsync_HolderStopsRenewing_TakeoverAfterLeaseDurationOfLocalObservation(int holderClockSkewSeconds)
    {
        // The dead holder's renewTime comes from its own clock, which may be far off ours: it must not matter.
        var deadRenew = _time.GetUtcNow().AddSeconds(holderClockSkewSeconds).UtcDateTime;
        await _cluster.Client.CreateAsync(CoreResources.Leases, new V1Lease
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = Election.Namespace, Name = Election.LeaseName },
            Spec = new V1LeaseSpec { HolderIdentity = "dead", LeaseDurationSeconds = 15, AcquireTime = deadRenew, RenewTime = deadRenew, LeaseTransitions = 3 },
        }, default);
        var b = _election.Start("b");

        // b reads the Lease at 0 s and polls every 1.6-2 s: it takes over at its first poll at or after 15 s.
        var takeover = await _election.RunUntilAsync(() => b.Elector.IsLeader, TimeSpan.FromSeconds(30));

        Assert.InRange(takeover, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(17));
        var lease = await _election.GetLeaseAsync();
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(4, lease.Spec.LeaseTransitions);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, lease.Spec.AcquireTime);
        Assert.Equal(lease.Spec.AcquireTime, lease.Spec.RenewTime);
        Assert.Equal(["dead", "b"], b.NewLeaders);
    }

    [Fact]
    public async Task RunAsync_HolderRenewsWithClockAnHourBehind_StandbyNeverTakesOver()
    {
        await _cluster.Client.CreateAsync(CoreResources.Leases, new V1Lease
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = Election.Namespace, Name = Election.LeaseName },
            Spec = new V1LeaseSpec { HolderIdentity = "other", LeaseDurationSeconds = 15, RenewTime = _time.GetUtcNow().AddHours(-1).UtcDateTime },
        }, default);
        var b = _election.Start("b");
        // The other holder renews every 2 s; a timer on the shared clock tells the test when.
        var ticks = 0;
        using var renewals = _time.CreateTimer(_ => Interlocked.Increment(ref ticks), null, RetryPeriod, RetryPeriod);
        var renewed = 0;

        while (_time.Elapsed < TimeSpan.FromSeconds(40))
        {
            await _election.StepAsync();
            while (renewed < Volatile.Read(ref ticks))
            {
                renewed++;
                var renewTime = _time.GetUtcNow().AddHours(-1).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
                await _election.PatchLeaseAsync($$$"""{"spec":{"renewTime":"{{{renewTime}}}"}}""");
            }
            Assert.False(b.Elector.IsLeader, $"b took over at {_time.Elapsed}");
        }

        Assert.Equal(20, renewed);
        Assert.Equal("other", (await _election.GetLeaseAsync()).Spec.HolderIdentity);
    }

    [Fact]
    public async Task Renew_ConflictShowsNewHolder_StepsDownAndTakesOverOnlyAfterThatLeaseExpires()
    {
        var a = _election.Start("a");
        await a.Started.Task.Within();
        await _election.WaitAllIdleAsync();
        await _election.PatchLeaseAsync("""{"spec":{"holderIdentity":"intruder"}}""");

        // The renewal at 2 s is refused (409); the Lease now names the intruder.
        var stoppedAt = await _election.RunUntilAsync(() => a.Stopped.Task.IsCompleted, TimeSpan.FromSeconds(3));
        Assert.Equal(RetryPeriod, stoppedAt);
        Assert.Equal(RetryPeriod, await a.Stopped.Task);
        Assert.False(a.Elector.IsLeader);
        Assert.True(a.LeadingToken.IsCancellationRequested);
        Assert.Equal("intruder", a.Elector.CurrentLeader);

        // a first saw the intruder's Lease at 2 s; it may take it over from 2 + 15 s, at its next poll.
        var takeover = await _election.RunUntilAsync(() => a.Elector.IsLeader, TimeSpan.FromSeconds(20));

        Assert.InRange(takeover, TimeSpan.FromSeconds(17), TimeSpan.FromSeconds(19));
        Assert.Equal(["a", "intruder", "a"], a.NewLeaders);
    }

    [Fact]
    public async Task Renew_ConflictButStillHolder_RenewsAtOnceAndKeepsTheOtherWritersChange()
    {
        var a = _election.Start("a");
        await a.Started.Task.Within();
        await _election.WaitAllIdleAsync();
        await _election.PatchLeaseAsync("""{"metadata":{"labels":{"edited-by":"admin"}}}""");

        await _election.StepAsync();

        Assert.Equal(RetryPeriod, _time.Elapsed);
        Assert.True(a.Elector.IsLeader);
        Assert.False(a.Stopped.Task.IsCompleted);
        var renewed = await _election.GetLeaseAsync();
        Assert.Equal("a", renewed.Spec.HolderIdentity);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, renewed.Spec.RenewTime);
        Assert.Equal("admin", renewed.Metadata.Labels["edited-by"]);
        // The create, then the renewal that succeeded after the refused one.
        Assert.Equal(2, a.Client.Writes);
    }

    [Theory]
    [InlineData("failing")]
    [InlineData("hanging")]
    public async Task Renew_NoSuccessWithinRenewDeadline_StepsDownBeforeStandbyMayTakeOver(string mode)
    {
        var a = _election.Start("a");
        await a.Started.Task.Within();
        var b = _election.Start("b");
        await _election.WaitAllIdleAsync();
        if (mode == "failing")
        {
            a.Client.BeforeCall = (verb, _) => verb == "patch" ? throw new HttpRequestException("connection reset by peer") : Task.CompletedTask;
        }
        else
        {
            a.Client.Hang = verb => verb == "patch";
        }

        var stoppedAt = await _election.RunUntilAsync(() => !a.Elector.IsLeader, TimeSpan.FromSeconds(11),
            () => Assert.True(a.Elector.IsLeader || _time.Elapsed >= TimeSpan.FromSeconds(10), $"a stepped down early, at {_time.Elapsed}"));

        Assert.Equal(TimeSpan.FromSeconds(10), stoppedAt);
        Assert.Equal(TimeSpan.FromSeconds(10), await a.Stopped.Task.Within());
        // b last saw the Lease change at 0 s (a's create): it may take over from 15 s, at its next poll.
        var takeover = await _election.RunUntilAsync(() => b.Elector.IsLeader, TimeSpan.FromSeconds(10), () => Assert.False(a.Elector.IsLeader));
        Assert.InRange(takeover, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(17));
        Assert.Equal("b", (await _election.GetLeaseAsync()).Spec.HolderIdentity);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    public async Task RunAsync_LeaderCancelled_ReleasesAndStandbyLeadsWithinOneRetryPeriod(int steps)
    {
        var a = _election.Start("a");
        await a.Started.Task.Within();
        var b = _election.Start("b");
        for (var i = 0; i < steps; i++)
        {
            await _election.StepAsync();
        }
        Assert.True(a.Elector.IsLeader);

        var releasedAt = _time.Elapsed;
        await a.Stop.CancelAsync();
        await a.Run.Within();

        Assert.True(a.Stopped.Task.IsCompleted);
        Assert.True(a.LeadingToken.IsCancellationRequested);
        var released = await _election.GetLeaseAsync();
        Assert.Equal("", released.Spec.HolderIdentity);
        Assert.Equal(1, released.Spec.LeaseDurationSeconds);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, released.Spec.RenewTime);
        Assert.Equal(0, released.Spec.LeaseTransitions);
        Assert.Null(a.Elector.CurrentLeader);

        var handover = await _election.RunUntilAsync(() => b.Elector.IsLeader, TimeSpan.FromSeconds(3)) - releasedAt;

        Assert.InRange(handover, TimeSpan.FromMilliseconds(1), RetryPeriod);
        var lease = await _election.GetLeaseAsync();
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
        Assert.Equal(15, lease.Spec.LeaseDurationSeconds);
        Assert.Equal(_time.GetUtcNow().UtcDateTime, lease.Spec.AcquireTime);
        Assert.Equal(["a", "b"], b.NewLeaders);
    }

    [Fact]
    public async Task RunAsync_LeaderWorkCrashes_StepsDownReleasesAndStandbyLeads()
    {
        var a = _election.Start("a");
        await a.Started.Task.Within();
        var b = _election.Start("b");
        await _election.StepAsync();

        a.CrashWork.SetResult();
        var crashedAt = _time.Elapsed;
        await a.Stopped.Task.Within();
        Assert.False(a.Elector.IsLeader);
        Assert.Equal("", (await _election.GetLeaseAsync()).Spec.HolderIdentity);

        var handover = await _election.RunUntilAsync(() => b.Elector.IsLeader, TimeSpan.FromSeconds(3)) - crashedAt;

        Assert.InRange(handover, TimeSpan.FromMilliseconds(1), RetryPeriod);
        // a waits a whole lease before competing again, so the healthy standby keeps the work.
        await _election.RunForAsync(TimeSpan.FromSeconds(20), () => Assert.False(a.Elector.IsLeader));
        Assert.True(b.Elector.IsLeader);
    }

    [Theory]
    [InlineData(0.5, 0.4, 0.2, "LeaseDuration")]
    [InlineData(15, 15, 2, "RenewDeadline")]
    [InlineData(15, 0, 2, "RenewDeadline")]
    [InlineData(15, 10, 10, "RetryPeriod")]
    [InlineData(15, 10, 0, "RetryPeriod")]
    public void Constructor_InconsistentTimings_ThrowsNamingTheSetting(double lease, double renew, double retry, string setting)
    {
        var options = new LeaderElectionOptions
        {
            LeaseDuration = TimeSpan.FromSeconds(lease),
            RenewDeadline = TimeSpan.FromSeconds(renew),
            RetryPeriod = TimeSpan.FromSeconds(retry),
        };

        var e = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new LeaderElector(new LeaseLock(_cluster.Client, "ns", "lease", "a"), options, null, NullLogger.Instance, _time));

        Assert.Equal(setting, e.ParamName);
    }

    [Theory]
    [InlineData("", "lease", "id", "ns")]
    [InlineData("ns", " ", "id", "name")]
    [InlineData("ns", "lease", "", "identity")]
    public void LeaseLock_EmptyField_ThrowsNamingIt(string ns, string name, string identity, string parameter) =>
        Assert.Equal(parameter, Assert.Throws<ArgumentException>(() => new LeaseLock(_cluster.Client, ns, name, identity)).ParamName);
}

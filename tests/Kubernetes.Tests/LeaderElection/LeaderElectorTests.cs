using System.Collections.Concurrent;
using BareLb.Kubernetes.LeaderElection;
using BareLb.Kubernetes.Models;
using BareLb.Kubernetes.Tests.Fakes;
using BareLb.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace BareLb.Kubernetes.Tests.LeaderElection;

public sealed class LeaderElectorTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Ns = "barelb-system";
    private const string LeaseName = "barelb-controller";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly FakeTimeProvider _time = new();
    private readonly List<Candidate> _candidates = [];
    private FakeKubernetesClient _client = null!;

    public Task InitializeAsync()
    {
        _client = new FakeKubernetesClient(_time);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _client.OnRequest = null;
        foreach (var c in _candidates)
        {
            c.Stop.Cancel();
        }
        await Task.WhenAll(_candidates.Select(c => c.Run)).WaitAsync(Patience);
    }

    [Fact]
    public async Task RunAsync_TwoCandidates_OneLeadsAndKeepsRenewing()
    {
        var a = Start("a");
        var b = Start("b");
        await a.Started.Task.WaitAsync(Patience);

        for (var i = 0; i < 60; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(a.Elector.IsLeader);
            Assert.False(b.Elector.IsLeader);
        }

        // The last renewal's continuation may still be on its way on a busy machine: wait for it, not for time.
        await _client.WaitForRequestsAsync(r => r.Verb == "update" && r.Options is Lease { Spec.HolderIdentity: "a" }, 30, default).WaitAsync(Patience);
        var lease = await GetLeaseAsync();
        Assert.Equal("a", lease.Spec.HolderIdentity);
        Assert.Equal(0, lease.Spec.LeaseTransitions);
        Assert.Equal(15, lease.Spec.LeaseDurationSeconds);
        Assert.Equal(_time.GetUtcNow(), lease.Spec.RenewTime);
        Assert.Equal(30, _client.Requests.Count(r => r.Verb == "update" && r.Options is Lease { Spec.HolderIdentity: "a" }));
        Assert.Equal(["a"], b.NewLeaders);
        Assert.False(b.Started.Task.IsCompleted);
    }

    [Fact]
    public async Task RunAsync_BothCreateTheLeaseAtOnce_ExactlyOneWins()
    {
        // Hold the first create until the second candidate has also read "no Lease" and tries to create it.
        var creates = 0;
        var bothCreating = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _client.OnRequest = async (r, ct) =>
        {
            if (r.Verb == "create")
            {
                if (Interlocked.Increment(ref creates) == 2)
                {
                    bothCreating.TrySetResult();
                }
                await bothCreating.Task.WaitAsync(ct);
            }
        };
        var a = Start("a");
        var b = Start("b");

        var winner = await Task.WhenAny(a.Started.Task, b.Started.Task).WaitAsync(Patience);
        Assert.Equal(2, _client.Requests.Count(r => r.Verb == "create"));
        var (leader, standby) = winner == a.Started.Task ? (a, b) : (b, a);
        for (var i = 0; i < 30; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.True(leader.Elector.IsLeader);
            Assert.False(standby.Elector.IsLeader);
        }
        Assert.Equal(leader.Elector.Identity, (await GetLeaseAsync()).Spec.HolderIdentity);
        Assert.False(standby.Started.Task.IsCompleted);
    }

    [Theory]
    [InlineData(-3600)]
    [InlineData(0)]
    [InlineData(3600)]
    public async Task RunAsync_HolderStopsRenewing_TakeoverAfterLeaseDurationOfLocalObservation(int holderClockSkewSeconds)
    {
        // The dead holder's renewTime is written by its own clock, which may be far off ours: it must not matter.
        var deadRenew = _time.GetUtcNow().AddSeconds(holderClockSkewSeconds);
        await _client.CreateAsync(CoreResources.Leases, new Lease
        {
            Metadata = new ObjectMeta { NamespaceProperty = Ns, Name = LeaseName },
            Spec = new LeaseSpec { HolderIdentity = "dead", LeaseDurationSeconds = 15, AcquireTime = deadRenew, RenewTime = deadRenew, LeaseTransitions = 3 },
        }, default);
        var b = Start("b");
        var firstSeen = _time.Elapsed;

        var takeover = await StepUntilAsync(() => b.Elector.IsLeader, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30)) - firstSeen;

        Assert.InRange(takeover, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(17));
        var lease = await GetLeaseAsync();
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(4, lease.Spec.LeaseTransitions);
        // Acquired by the retry timer that fired within the last step.
        Assert.InRange(lease.Spec.AcquireTime!.Value, _time.GetUtcNow() - TimeSpan.FromMilliseconds(100), _time.GetUtcNow());
        Assert.Equal(lease.Spec.AcquireTime, lease.Spec.RenewTime);
        Assert.Equal(["dead", "b"], b.NewLeaders);
    }

    [Fact]
    public async Task RunAsync_HolderRenewsWithClockHourBehind_StandbyNeverTakesOver()
    {
        var created = await _client.CreateAsync(CoreResources.Leases, new Lease
        {
            Metadata = new ObjectMeta { NamespaceProperty = Ns, Name = LeaseName },
            Spec = new LeaseSpec { HolderIdentity = "other", LeaseDurationSeconds = 15, RenewTime = _time.GetUtcNow().AddHours(-1) },
        }, default);
        var b = Start("b");

        for (var i = 0; i < 40; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(2));
            created.Spec.RenewTime = _time.GetUtcNow().AddHours(-1);
            created = await _client.UpdateAsync(CoreResources.Leases, created, default);
            Assert.False(b.Elector.IsLeader);
        }
        Assert.Equal("other", (await GetLeaseAsync()).Spec.HolderIdentity);
    }

    [Fact]
    public async Task Renew_ConflictAndNewHolder_StepsDownAndWaitsForThatLease()
    {
        var a = Start("a");
        await a.Started.Task.WaitAsync(Patience);
        var lease = await GetLeaseAsync();
        lease.Spec.HolderIdentity = "intruder";
        await _client.UpdateAsync(CoreResources.Leases, lease, default);

        _time.Advance(TimeSpan.FromSeconds(2));
        await a.Stopped.Task.WaitAsync(Patience);

        Assert.False(a.Elector.IsLeader);
        Assert.True(a.LeadingToken.IsCancellationRequested);
        Assert.Equal("intruder", a.Elector.CurrentLeader);
        for (var i = 0; i < 12; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            Assert.False(a.Elector.IsLeader);
        }
        Assert.Equal("intruder", (await GetLeaseAsync()).Spec.HolderIdentity);
    }

    [Fact]
    public async Task Renew_ConflictButStillHolder_KeepsLeadingAndKeepsOthersChanges()
    {
        var a = Start("a");
        await a.Started.Task.WaitAsync(Patience);
        var lease = await GetLeaseAsync();
        lease.Metadata.Labels = new Dictionary<string, string>() { ["edited-by"] = "admin" };
        await _client.UpdateAsync(CoreResources.Leases, lease, default);

        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.True(a.Elector.IsLeader);
        Assert.False(a.Stopped.Task.IsCompleted);
        var renewed = await GetLeaseAsync();
        Assert.Equal("a", renewed.Spec.HolderIdentity);
        Assert.Equal(_time.GetUtcNow(), renewed.Spec.RenewTime);
        Assert.Equal("admin", renewed.Metadata.Labels!["edited-by"]);
    }

    [Theory]
    [InlineData("failing")]
    [InlineData("hanging")]
    public async Task Renew_NoSuccessWithinRenewDeadline_StepsDownBeforeStandbyCanTakeOver(string mode)
    {
        var a = Start("a");
        await a.Started.Task.WaitAsync(Patience);
        var b = Start("b");
        _client.OnRequest = async (r, ct) =>
        {
            if (r.Verb == "update" && r.Options is Lease { Spec.HolderIdentity: "a" })
            {
                if (mode == "failing")
                {
                    throw new HttpRequestException("connection reset by peer");
                }
                await Task.Delay(Timeout.InfiniteTimeSpan, ct);
            }
        };

        for (var i = 0; i < 99; i++)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
            Assert.True(a.Elector.IsLeader, $"stepped down early at {_time.Elapsed}");
        }
        _time.Advance(TimeSpan.FromMilliseconds(100));
        var steppedDownAt = await a.Stopped.Task.WaitAsync(Patience);
        Assert.Equal(TimeSpan.FromSeconds(10), steppedDownAt);
        Assert.False(a.Elector.IsLeader);

        var takeover = await StepUntilAsync(() => b.Elector.IsLeader, TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(30));
        Assert.InRange(takeover, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(17));
        Assert.False(a.Elector.IsLeader);
    }

    [Theory]
    [InlineData(100)]
    [InlineData(1000)]
    [InlineData(1900)]
    [InlineData(7300)]
    public async Task RunAsync_LeaderCancelled_ReleasesAndStandbyLeadsWithinOneRetryPeriod(int leadForMs)
    {
        var a = Start("a");
        await a.Started.Task.WaitAsync(Patience);
        var b = Start("b");
        for (var t = 0; t < leadForMs; t += 100)
        {
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        var releasedAt = _time.Elapsed;
        var releasedWall = _time.GetUtcNow();
        a.Stop.Cancel();
        await a.Run.WaitAsync(Patience);

        Assert.True(a.Stopped.Task.IsCompleted);
        Assert.True(a.LeadingToken.IsCancellationRequested);
        var released = await GetLeaseAsync();
        Assert.Equal("", released.Spec.HolderIdentity);
        Assert.Equal(1, released.Spec.LeaseDurationSeconds);
        Assert.Equal(releasedWall, released.Spec.RenewTime);
        Assert.Equal(0, released.Spec.LeaseTransitions);

        var handover = await StepUntilAsync(() => b.Elector.IsLeader, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20)) - releasedAt;
        output.WriteLine($"handover after graceful release: {handover.TotalMilliseconds} ms (retry period 2000 ms)");
        Assert.InRange(handover, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(2));
        var lease = await GetLeaseAsync();
        Assert.Equal("b", lease.Spec.HolderIdentity);
        Assert.Equal(1, lease.Spec.LeaseTransitions);
        Assert.Equal(15, lease.Spec.LeaseDurationSeconds);
        Assert.InRange(lease.Spec.AcquireTime!.Value, _time.GetUtcNow() - TimeSpan.FromMilliseconds(10), _time.GetUtcNow());
        Assert.Equal(["a", "b"], b.NewLeaders);
    }

    [Fact]
    public async Task RunAsync_LeaderWorkCrashes_StepsDownReleasesAndStandbyLeads()
    {
        var a = Start("a");
        await a.Started.Task.WaitAsync(Patience);
        var b = Start("b");
        _time.Advance(TimeSpan.FromSeconds(3));

        a.CrashWork.SetResult();
        await a.Stopped.Task.WaitAsync(Patience);

        Assert.False(a.Elector.IsLeader);
        var released = await GetLeaseAsync();
        Assert.Equal("", released.Spec.HolderIdentity);
        var crashedAt = _time.Elapsed;
        var handover = await StepUntilAsync(() => b.Elector.IsLeader, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(20)) - crashedAt;
        Assert.InRange(handover, TimeSpan.Zero, TimeSpan.FromSeconds(2));
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
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new LeaderElector(new LeaseLock(_client, Ns, LeaseName, "a"), options, null, NullLogger.Instance, _time));
        Assert.Equal(setting, ex.ParamName);
    }

    [Theory]
    [InlineData("", "lease", "id", "ns")]
    [InlineData("ns", " ", "id", "name")]
    [InlineData("ns", "lease", "", "identity")]
    public void LeaseLock_EmptyField_ThrowsNamingIt(string ns, string name, string identity, string parameter)
    {
        var ex = Assert.Throws<ArgumentException>(() => new LeaseLock(_client, ns, name, identity));
        Assert.Equal(parameter, ex.ParamName);
    }

    private Candidate Start(string identity)
    {
        var candidate = new Candidate(identity, _time);
        var elector = new LeaderElector(new LeaseLock(_client, Ns, LeaseName, identity), new LeaderElectionOptions(), candidate.Callbacks(),
            NullLogger.Instance, _time, new Random(identity.GetHashCode(StringComparison.Ordinal)));
        candidate.Elector = elector;
        candidate.Run = elector.RunAsync(candidate.Stop.Token);
        _candidates.Add(candidate);
        return candidate;
    }

    private Task<Lease> GetLeaseAsync() => _client.GetAsync(CoreResources.Leases, Ns, LeaseName, default);

    /// <summary>Advances the clock in steps until the condition holds; returns the clock reading at that point.</summary>
    private async Task<TimeSpan> StepUntilAsync(Func<bool> condition, TimeSpan step, TimeSpan limit)
    {
        var end = _time.Elapsed + limit;
        while (!condition())
        {
            Assert.True(_time.Elapsed < end, "condition never held");
            _time.Advance(step);
            await Task.Yield();
        }
        return _time.Elapsed;
    }

    private sealed class Candidate(string identity, FakeTimeProvider time)
    {
        public string Identity { get; } = identity;
        public LeaderElector Elector { get; set; } = null!;
        public Task Run { get; set; } = Task.CompletedTask;
        public CancellationTokenSource Stop { get; } = new();
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<TimeSpan> Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public CancellationToken LeadingToken { get; private set; }
        public ConcurrentQueue<string> NewLeaderQueue { get; } = new();
        public string[] NewLeaders => [.. NewLeaderQueue];
        public TaskCompletionSource CrashWork { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public LeaderElectionCallbacks Callbacks() => new()
        {
            OnStartedLeading = async ct =>
            {
                LeadingToken = ct;
                Started.TrySetResult();
                await Task.WhenAny(Task.Delay(Timeout.InfiniteTimeSpan, ct), CrashWork.Task);
                ct.ThrowIfCancellationRequested();
                throw new InvalidOperationException("the leader's work crashed");
            },
            OnStoppedLeading = () => Stopped.TrySetResult(time.Elapsed),
            OnNewLeader = NewLeaderQueue.Enqueue,
        };
    }
}

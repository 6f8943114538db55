using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using BareLb.Kubernetes.LeaderElection;
using BareLb.Kubernetes.Tests.Support;
using BareLb.TestSupport;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Kubernetes.Tests.LeaderElection;

/// <summary>
/// Candidates for one Lease on one fake clock, talking to the in-memory API server over HTTP. The clock moves only
/// in <see cref="StepAsync"/>, and only once every running candidate is waiting on it (see <see cref="Candidate.IsIdle"/>),
/// so each candidate's renewals and polls happen at exactly the fake times its timers say, however slowly the
/// machine runs the HTTP calls in between.
/// </summary>
internal sealed class Election(TestCluster cluster, FakeTimeProvider time, LeaderElectionOptions? options = null) : IAsyncDisposable
{
    public const string Namespace = "default";
    public const string LeaseName = "barelb-controller";

    private readonly List<Candidate> _candidates = [];

    public FakeTimeProvider Time => time;

    public LeaderElectionOptions Options { get; } = options ?? new LeaderElectionOptions();

    /// <param name="configure">Runs before the candidate sends anything, e.g. to make its requests fail.</param>
    public Candidate Start(string identity, Action<CandidateClient>? configure = null)
    {
        var candidate = new Candidate(identity, cluster.Client, time, Options, configure);
        lock (_candidates)
        {
            _candidates.Add(candidate);
        }
        return candidate;
    }

    public Task<V1Lease> GetLeaseAsync() => cluster.Client.GetAsync(CoreResources.Leases, Namespace, LeaseName, default);

    /// <summary>A write by someone other than the candidates (an admin, another controller), as a merge patch.</summary>
    public Task<V1Lease> PatchLeaseAsync(string mergePatch) =>
        cluster.Client.PatchAsync(CoreResources.Leases, Namespace, LeaseName, JsonNode.Parse(mergePatch)!, status: false, default);

    /// <summary>Waits until every running candidate waits on the clock, then moves it to the next timer that falls due.</summary>
    public async Task StepAsync()
    {
        await WaitAllIdleAsync();
        var pending = time.PendingTimers;
        Assert.True(pending.Count > 0, "nothing is waiting on the clock");
        time.Advance(pending[0]);
        await WaitAllIdleAsync();
    }

    /// <summary>Steps until <paramref name="condition"/> holds (checked while everyone waits on the clock); returns the clock then.</summary>
    public async Task<TimeSpan> RunUntilAsync(Func<bool> condition, TimeSpan limit, Action? afterEachStep = null)
    {
        var end = time.Elapsed + limit;
        await WaitAllIdleAsync();
        while (!condition())
        {
            Assert.True(time.Elapsed < end, $"condition still false after {limit} of fake time");
            await StepAsync();
            afterEachStep?.Invoke();
        }
        return time.Elapsed;
    }

    /// <summary>Steps until the clock has moved on by <paramref name="duration"/> (at least), checking <paramref name="invariant"/> after each step.</summary>
    public async Task RunForAsync(TimeSpan duration, Action? invariant = null)
    {
        var end = time.Elapsed + duration;
        await WaitAllIdleAsync();
        while (time.Elapsed < end)
        {
            await StepAsync();
            invariant?.Invoke();
        }
    }

    public async Task WaitAllIdleAsync()
    {
        Candidate[] running;
        lock (_candidates)
        {
            running = [.. _candidates.Where(c => !c.Run.IsCompleted)];
        }
        await Task.WhenAll(running.Select(c => c.WaitIdleAsync()));
    }

    public async ValueTask DisposeAsync()
    {
        Candidate[] all;
        lock (_candidates)
        {
            all = [.. _candidates];
        }
        foreach (var c in all)
        {
            await c.Stop.CancelAsync();
        }
        await Task.WhenAll(all.Select(c => c.Run)).Within();
    }
}

/// <summary>One elector with callbacks that record what it was told, and a view of what it is doing right now.</summary>
internal sealed class Candidate
{
    private readonly Lock _gate = new();
    private readonly Dictionary<object, bool> _timers = new(ReferenceEqualityComparer.Instance);
    private int _inFlight;
    private int _parked;
    private TaskCompletionSource? _idle;

    public Candidate(string identity, IKubernetesClient server, FakeTimeProvider time, LeaderElectionOptions options, Action<CandidateClient>? configure)
    {
        Identity = identity;
        Client = new CandidateClient(server, this);
        configure?.Invoke(Client);
        Elector = new LeaderElector(new LeaseLock(Client, Election.Namespace, Election.LeaseName, identity), options, new LeaderElectionCallbacks
        {
            OnStartedLeading = async ct =>
            {
                LeadingToken = ct;
                Started.TrySetResult(time.Elapsed);
                await Task.WhenAny(Task.Delay(Timeout.InfiniteTimeSpan, ct), CrashWork.Task);
                ct.ThrowIfCancellationRequested();
                throw new InvalidOperationException("the leader's work crashed");
            },
            OnStoppedLeading = () => Stopped.TrySetResult(time.Elapsed),
            OnNewLeader = NewLeaderQueue.Enqueue,
        }, NullLogger.Instance, new CandidateClock(time, this), new Random(identity.Length * 7919 + identity[0]));
        Run = Elector.RunAsync(Stop.Token);
    }

    public string Identity { get; }
    public LeaderElector Elector { get; }
    public CandidateClient Client { get; }
    public Task Run { get; }
    public CancellationTokenSource Stop { get; } = new();
    /// <summary>The fake time at which the work started.</summary>
    public TaskCompletionSource<TimeSpan> Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>The fake time at which OnStoppedLeading ran.</summary>
    public TaskCompletionSource<TimeSpan> Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public TaskCompletionSource CrashWork { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public CancellationToken LeadingToken { get; private set; }
    public ConcurrentQueue<string> NewLeaderQueue { get; } = new();
    public string[] NewLeaders => [.. NewLeaderQueue];

    /// <summary>
    /// Waiting on the clock: no request in flight, and a Task.Delay armed (a retry or renew period), or a request
    /// hung on purpose whose deadline timer is armed. A deadline timer alone is not idle: it is armed just before
    /// the request it bounds is sent.
    /// </summary>
    public bool IsIdle
    {
        get
        {
            lock (_gate)
            {
                return _inFlight == 0 && (_timers.ContainsValue(true) || (_parked > 0 && _timers.ContainsValue(false)));
            }
        }
    }

    /// <summary>Completes when the candidate waits on the clock, or has stopped.</summary>
    public Task WaitIdleAsync()
    {
        Task idle;
        lock (_gate)
        {
            if (IsIdle)
            {
                return Task.CompletedTask;
            }
            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            idle = _idle.Task;
        }
        return Task.WhenAny(idle, Run).Within();
    }

    internal void TimerArmed(object timer, bool isDelay) => Update(() => _timers[timer] = isDelay);

    internal void TimerGone(object timer) => Update(() => _timers.Remove(timer));

    internal void CallStarted() => Update(() => _inFlight++);

    internal void CallEnded() => Update(() => _inFlight--);

    internal void CallParked() => Update(() =>
    {
        _inFlight--;
        _parked++;
    });

    internal void CallUnparked() => Update(() =>
    {
        _parked--;
        _inFlight++;
    });

    private void Update(Action change)
    {
        TaskCompletionSource? idle = null;
        lock (_gate)
        {
            change();
            if (_idle is not null && IsIdle)
            {
                idle = _idle;
                _idle = null;
            }
        }
        idle?.TrySetResult();
    }
}

/// <summary>The candidate's view of the shared fake clock, telling the candidate which timers it has armed.</summary>
internal sealed class CandidateClock(FakeTimeProvider shared, Candidate owner) : TimeProvider
{
    public override long TimestampFrequency => shared.TimestampFrequency;

    public override long GetTimestamp() => shared.GetTimestamp();

    public override DateTimeOffset GetUtcNow() => shared.GetUtcNow();

    public override TimeZoneInfo LocalTimeZone => shared.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Task.Delay passes its task as the state, a CancellationTokenSource with a timeout passes itself.
        var timer = new TrackedTimer(owner, isDelay: state is Task);
        timer.Inner = shared.CreateTimer(s =>
        {
            timer.Fired();
            callback(s);
        }, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        timer.Change(dueTime, period);
        return timer;
    }

    private sealed class TrackedTimer(Candidate owner, bool isDelay) : ITimer
    {
        public ITimer Inner { get; set; } = null!;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            // On the clock before the candidate counts as waiting, so a step never misses it.
            var changed = Inner.Change(dueTime, period);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                owner.TimerGone(this);
            }
            else
            {
                owner.TimerArmed(this, isDelay);
            }
            return changed;
        }

        public void Fired() => owner.TimerGone(this);

        public void Dispose()
        {
            owner.TimerGone(this);
            Inner.Dispose();
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>The candidate's client: counts its requests in flight, and fails, holds or hangs the ones a test picks.</summary>
internal sealed class CandidateClient(IKubernetesClient inner, Candidate owner) : DelegatingKubernetesClient(inner)
{
    private int _writes;

    /// <summary>Runs before a request is sent (it counts as in flight meanwhile): throw to fail it, await to hold it.</summary>
    public Func<string, CancellationToken, Task>? BeforeCall { get; set; }

    /// <summary>Requests for which this returns true hang until their cancellation token fires, as on a dead connection.</summary>
    public Func<string, bool>? Hang { get; set; }

    /// <summary>Lease writes (creates and patches) that reached the server.</summary>
    public int Writes => Volatile.Read(ref _writes);

    public override Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) =>
        TrackAsync("get", ct, () => Inner.GetAsync(type, ns, name, ct));

    public override async Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct)
    {
        var created = await TrackAsync("create", ct, () => Inner.CreateAsync(type, obj, ct));
        Interlocked.Increment(ref _writes);
        return created;
    }

    public override async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
    {
        var patched = await TrackAsync("patch", ct, () => Inner.PatchAsync(type, ns, name, mergePatch, status, ct));
        Interlocked.Increment(ref _writes);
        return patched;
    }

    private async Task<T> TrackAsync<T>(string verb, CancellationToken ct, Func<Task<T>> call)
    {
        owner.CallStarted();
        try
        {
            if (BeforeCall is { } before)
            {
                await before(verb, ct);
            }
            if (Hang?.Invoke(verb) == true)
            {
                owner.CallParked();
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, ct);
                }
                finally
                {
                    owner.CallUnparked();
                }
            }
            return await call();
        }
        finally
        {
            owner.CallEnded();
        }
    }
}

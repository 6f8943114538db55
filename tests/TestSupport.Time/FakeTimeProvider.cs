namespace BareLb.TestSupport;

/// <summary>
/// A clock that moves only when a test calls <see cref="Advance"/>. Timers created through it (Task.Delay,
/// CancellationTokenSource, PeriodicTimer with this provider) fire during <see cref="Advance"/>, in due order,
/// on the advancing thread; periodic timers fire once per elapsed period.
/// </summary>
/// <remarks>
/// The timestamp frequency is deliberately neither 10^7 (TimeSpan ticks) nor 10^9 (Stopwatch on Linux), so code
/// that treats <see cref="GetTimestamp"/> values as ticks or divides by Stopwatch.Frequency is visibly wrong. The
/// default is 10^7 × 4 because the base class converts timestamps to TimeSpan through a double ratio: with a
/// power-of-two ratio the conversion is exact, and tests can assert durations to the tick.
/// </remarks>
public sealed class FakeTimeProvider : TimeProvider
{
    public const long DefaultTimestampFrequency = 40_000_000;

    private readonly object _gate = new();
    private readonly object _advanceGate = new();
    private readonly List<FakeTimer> _timers = [];
    private readonly List<TimerWaiter> _waiters = [];
    private readonly DateTimeOffset _start;
    private readonly long _frequency;
    private TimeSpan _elapsed;
    private TimeSpan _stalled;
    private long _sequence;

    public FakeTimeProvider()
        : this(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero))
    {
    }

    public FakeTimeProvider(DateTimeOffset start, long timestampFrequency = DefaultTimestampFrequency)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(timestampFrequency);
        _start = start;
        _frequency = timestampFrequency;
    }

    public override long TimestampFrequency => _frequency;

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>Time advanced since construction.</summary>
    public TimeSpan Elapsed
    {
        get
        {
            lock (_gate)
            {
                return _elapsed;
            }
        }
    }

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _start + _elapsed;
        }
    }

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            // Int128: elapsed ticks times a large frequency overflows long after a few simulated days.
            return (long)((Int128)(_elapsed + _stalled).Ticks * _frequency / TimeSpan.TicksPerSecond);
        }
    }

    /// <summary>
    /// The monotonic clock moves on by <paramref name="pause"/> while no timer fires: what a process sees when it
    /// was not scheduled for that long (its periodic timer then fires once, late).
    /// </summary>
    public void Stall(TimeSpan pause)
    {
        lock (_gate)
        {
            _stalled += pause;
        }
    }

    /// <summary>Remaining time of every armed timer, soonest first.</summary>
    public IReadOnlyList<TimeSpan> PendingTimers
    {
        get
        {
            lock (_gate)
            {
                return _timers.Select(t => t.Due - _elapsed).Order().ToArray();
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        ArgumentNullException.ThrowIfNull(callback);
        var timer = new FakeTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    /// <summary>
    /// Moves the clock forward by <paramref name="delta"/>, firing every timer that falls due on the way at its
    /// own due time (so a callback reading the clock sees the time it was due), including timers that callbacks
    /// arm during this call.
    /// </summary>
    public void Advance(TimeSpan delta)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delta, TimeSpan.Zero);
        lock (_advanceGate)
        {
            TimeSpan target;
            lock (_gate)
            {
                target = _elapsed + delta;
            }

            while (true)
            {
                FakeTimer? next;
                lock (_gate)
                {
                    next = null;
                    foreach (var t in _timers)
                    {
                        if (t.Due <= target && (next is null || t.Due < next.Due || (t.Due == next.Due && t.Sequence < next.Sequence)))
                        {
                            next = t;
                        }
                    }

                    if (next is null)
                    {
                        _elapsed = target;
                        break;
                    }

                    if (next.Due > _elapsed)
                    {
                        _elapsed = next.Due;
                    }

                    if (next.Period > TimeSpan.Zero)
                    {
                        next.Due += next.Period;
                        next.Sequence = ++_sequence;
                    }
                    else
                    {
                        _timers.Remove(next);
                    }
                }

                next.Fire();
            }
        }
    }

    /// <summary>
    /// Completes when a timer is armed (already or later) whose remaining time satisfies <paramref name="match"/>:
    /// the phase barrier that tells a test the code under test is now waiting on the clock.
    /// </summary>
    public Task<TimeSpan> WaitForTimerAsync(Func<TimeSpan, bool> match, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(match);
        var waiter = new TimerWaiter(match);
        lock (_gate)
        {
            foreach (var t in _timers)
            {
                var remaining = t.Due - _elapsed;
                if (match(remaining))
                {
                    return Task.FromResult(remaining);
                }
            }
            _waiters.Add(waiter);
        }

        var registration = ct.Register(() =>
        {
            lock (_gate)
            {
                _waiters.Remove(waiter);
            }
            waiter.Completion.TrySetCanceled(ct);
        });
        _ = waiter.Completion.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        return waiter.Completion.Task;
    }

    private void Schedule(FakeTimer timer, TimeSpan dueTime, TimeSpan period)
    {
        List<(TimerWaiter, TimeSpan)>? matched = null;
        var fireNow = false;
        lock (_gate)
        {
            _timers.Remove(timer);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return;
            }

            timer.Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
            if (dueTime == TimeSpan.Zero)
            {
                // Like the system timer, zero means "as soon as possible", not "at the next Advance"; run it
                // off this thread because the caller may not have finished constructing what the callback uses.
                fireNow = true;
                if (timer.Period > TimeSpan.Zero)
                {
                    timer.Due = _elapsed + timer.Period;
                    timer.Sequence = ++_sequence;
                    _timers.Add(timer);
                }
            }
            else
            {
                timer.Due = _elapsed + dueTime;
                timer.Sequence = ++_sequence;
                _timers.Add(timer);
                for (var i = _waiters.Count - 1; i >= 0; i--)
                {
                    if (_waiters[i].Match(dueTime))
                    {
                        (matched ??= []).Add((_waiters[i], dueTime));
                        _waiters.RemoveAt(i);
                    }
                }
            }
        }

        if (fireNow)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static t => t.Fire(), timer, preferLocal: false);
        }

        if (matched is not null)
        {
            foreach (var (waiter, due) in matched)
            {
                waiter.Completion.TrySetResult(due);
            }
        }
    }

    private void Cancel(FakeTimer timer)
    {
        lock (_gate)
        {
            _timers.Remove(timer);
        }
    }

    private sealed class TimerWaiter(Func<TimeSpan, bool> match)
    {
        public Func<TimeSpan, bool> Match { get; } = match;
        public TaskCompletionSource<TimeSpan> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class FakeTimer(FakeTimeProvider owner, TimerCallback callback, object? state) : ITimer
    {
        private volatile bool _disposed;

        public TimeSpan Due { get; set; }
        public TimeSpan Period { get; set; }
        public long Sequence { get; set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (_disposed)
            {
                return false;
            }
            if (dueTime < TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(dueTime), dueTime, "must be non-negative or Timeout.InfiniteTimeSpan");
            }
            if (period < TimeSpan.Zero && period != Timeout.InfiniteTimeSpan)
            {
                throw new ArgumentOutOfRangeException(nameof(period), period, "must be non-negative or Timeout.InfiniteTimeSpan");
            }
            owner.Schedule(this, dueTime, period);
            return true;
        }

        public void Fire()
        {
            if (!_disposed)
            {
                callback(state);
            }
        }

        public void Dispose()
        {
            _disposed = true;
            owner.Cancel(this);
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

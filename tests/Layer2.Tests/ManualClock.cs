namespace BareLb.Layer2.Tests;

/// <summary>
/// A clock that moves only when a test calls <see cref="Advance"/>; timers fire during Advance, in due order, each
/// seeing the clock at its own due time. The timestamp frequency is an odd 3 MHz so that code treating timestamps
/// as TimeSpan ticks or Stopwatch ticks is visibly wrong.
/// </summary>
internal sealed class ManualClock : TimeProvider
{
    private readonly object _gate = new();
    private readonly List<ManualTimer> _timers = [];
    private long _now;

    public override long TimestampFrequency => 3_000_000;

    public override long GetTimestamp()
    {
        lock (_gate)
        {
            return _now;
        }
    }

    public TimeSpan Now => TimeSpan.FromTicks(GetTimestamp() * TimeSpan.TicksPerSecond / TimestampFrequency);

    /// <summary>Remaining time of each armed timer.</summary>
    public IReadOnlyList<TimeSpan> Pending
    {
        get
        {
            lock (_gate)
            {
                return _timers.Select(t => ToSpan(t.Due - _now)).Order().ToArray();
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = new ManualTimer(this, callback, state);
        timer.Change(dueTime, period);
        return timer;
    }

    public void Advance(TimeSpan delta)
    {
        long target;
        lock (_gate)
        {
            target = _now + ToTimestamp(delta);
        }
        while (true)
        {
            ManualTimer? next;
            lock (_gate)
            {
                next = _timers.Where(t => t.Due <= target).OrderBy(t => t.Due).FirstOrDefault();
                if (next is null)
                {
                    _now = target;
                    return;
                }
                _now = Math.Max(_now, next.Due);
                _timers.Remove(next);
                if (next.Period > TimeSpan.Zero)
                {
                    next.Due = _now + ToTimestamp(next.Period);
                    _timers.Add(next);
                }
            }
            next.Fire();
        }
    }

    private long ToTimestamp(TimeSpan span) => span.Ticks * TimestampFrequency / TimeSpan.TicksPerSecond;

    private TimeSpan ToSpan(long timestamps) => TimeSpan.FromTicks(timestamps * TimeSpan.TicksPerSecond / TimestampFrequency);

    private sealed class ManualTimer(ManualClock clock, TimerCallback callback, object? state) : ITimer
    {
        public long Due { get; set; }

        public TimeSpan Period { get; private set; }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
                if (dueTime == Timeout.InfiniteTimeSpan)
                {
                    return true;
                }
                Due = clock._now + clock.ToTimestamp(dueTime);
                Period = period == Timeout.InfiniteTimeSpan ? TimeSpan.Zero : period;
                clock._timers.Add(this);
            }
            return true;
        }

        public void Fire() => callback(state);

        public void Dispose()
        {
            lock (clock._gate)
            {
                clock._timers.Remove(this);
            }
        }

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

namespace BareLb.Controller.Reconciliation;

/// <summary>
/// Per-item retry: an item that failed is queued again after a delay that doubles with each consecutive failure of
/// that item (from <c>initial</c> up to <c>max</c>, with ±20% jitter), and never sooner than the API server asked
/// for (a 429's retryAfterSeconds). One failing item never slows the others down.
/// </summary>
public sealed class RetryBackoff(TimeSpan initial, TimeSpan max, TimeProvider time, Action<WorkItem> requeue, ControllerActivity activity)
{
    private readonly Dictionary<WorkItem, int> _failures = [];
    private readonly Dictionary<WorkItem, ITimer> _timers = [];
    private readonly Lock _lock = new();

    /// <summary>Items that are waiting out a delay.</summary>
    public int Scheduled
    {
        get { lock (_lock) { return _timers.Count; } }
    }

    public int FailuresOf(WorkItem item)
    {
        lock (_lock)
        {
            return _failures.GetValueOrDefault(item);
        }
    }

    /// <summary>Counts a failure of the item and queues it again after its delay; returns the delay.</summary>
    public TimeSpan Schedule(WorkItem item, Exception? cause)
    {
        lock (_lock)
        {
            var failures = Math.Min(_failures.GetValueOrDefault(item) + 1, 30);
            _failures[item] = failures;
            var ticks = Math.Min(initial.Ticks * Math.Pow(2, failures - 1), max.Ticks);
            var delay = TimeSpan.FromTicks((long)(ticks * (0.8 + Random.Shared.NextDouble() * 0.4)));
            if (cause is not null && TransientErrors.RetryAfter(cause) is { } asked && asked > delay)
            {
                delay = asked;
            }
            if (_timers.Remove(item, out var armed))
            {
                armed.Dispose();
                activity.End();
            }
            activity.Begin();
            var timer = time.CreateTimer(_ => Fire(item), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            _timers[item] = timer;
            timer.Change(delay, Timeout.InfiniteTimeSpan);
            return delay;
        }
    }

    /// <summary>The item succeeded (or its object is gone): its next failure starts from the initial delay again.</summary>
    public void Forget(WorkItem item)
    {
        lock (_lock)
        {
            _failures.Remove(item);
        }
    }

    /// <summary>Stops every armed timer (the loop is ending).</summary>
    public void Clear()
    {
        lock (_lock)
        {
            foreach (var timer in _timers.Values)
            {
                timer.Dispose();
                activity.End();
            }
            _timers.Clear();
        }
    }

    private void Fire(WorkItem item)
    {
        lock (_lock)
        {
            if (!_timers.Remove(item, out var timer))
            {
                return;
            }
            timer.Dispose();
        }
        requeue(item);
        activity.End();
    }
}

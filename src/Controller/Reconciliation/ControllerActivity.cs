namespace BareLb.Controller.Reconciliation;

/// <summary>
/// Counts the work the controller still owes: queued items, writes in flight, armed retry timers, and its own
/// writes whose watch event has not come back yet. Zero means settled: nothing that has happened so far will make
/// the controller do anything more. Each step takes its successor's count before giving up its own (an item
/// queues the write it starts before it ends, a write registers its echo before it ends), so the count never
/// touches zero in between.
/// </summary>
public sealed class ControllerActivity
{
    private readonly Lock _lock = new();
    private int _pending;
    private TaskCompletionSource _settled = NewSettled(completed: true);

    public int Pending
    {
        get { lock (_lock) { return _pending; } }
    }

    public void Begin()
    {
        lock (_lock)
        {
            if (_pending++ == 0)
            {
                _settled = NewSettled(completed: false);
            }
        }
    }

    public void End()
    {
        TaskCompletionSource? settled = null;
        lock (_lock)
        {
            if (--_pending == 0)
            {
                settled = _settled;
            }
            else if (_pending < 0)
            {
                throw new InvalidOperationException("ControllerActivity.End without Begin");
            }
        }
        settled?.TrySetResult();
    }

    /// <summary>Completes at a moment when nothing is owed.</summary>
    public async Task WhenSettledAsync(CancellationToken ct)
    {
        while (true)
        {
            Task settled;
            lock (_lock)
            {
                if (_pending == 0)
                {
                    return;
                }
                settled = _settled.Task;
            }
            await settled.WaitAsync(ct).ConfigureAwait(false);
        }
    }

    private static TaskCompletionSource NewSettled(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            source.TrySetResult();
        }
        return source;
    }
}

using Microsoft.Extensions.Logging;

namespace BareLb.ApiServer.Controllers;

internal enum WorkKind
{
    NamespaceDeletion,
    CrdCleanup,
    DependentCheck,
    OwnerRemoved,
    OwnerFinalizers,
}

/// <summary>One unit of controller work; Key and Key2 depend on the kind (names, a storage location, a uid).</summary>
internal readonly record struct WorkItem(WorkKind Kind, string Key, string Key2 = "");

// The emulated controllers' work queue: deduplicating like client-go's, drained by one background loop, with a way to
// wait until nothing is queued or running. Enqueue is called under the store lock (from the commit observer), so it
// never blocks; the handlers take the lock per API call, as a real controller makes one request at a time.
internal sealed partial class ControllerQueue : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly Queue<WorkItem> _order = new();
    private readonly HashSet<WorkItem> _queued = [];
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Action<WorkItem> _handle;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private int _outstanding;
    private bool _stopped;
    private TaskCompletionSource _idle = NewIdle(completed: true);

    public ControllerQueue(Action<WorkItem> handle, ILogger logger)
    {
        _handle = handle;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    public void Enqueue(WorkItem item)
    {
        lock (_gate)
        {
            if (_stopped || !_queued.Add(item))
            {
                return;
            }

            _order.Enqueue(item);
            if (_outstanding++ == 0)
            {
                _idle = NewIdle(completed: false);
            }

            _signal.Release();
        }
    }

    /// <summary>Completes when no work is queued or running (new commits may queue more afterwards).</summary>
    public Task WhenIdleAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            return _idle.Task.WaitAsync(ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            // Commits still arriving while the server stops queue nothing more.
            _stopped = true;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        try
        {
            await _loop.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        lock (_gate)
        {
            _stopping.Dispose();
            _signal.Dispose();
        }
    }

    private async Task RunAsync()
    {
        var ct = _stopping.Token;
        while (!ct.IsCancellationRequested)
        {
            await _signal.WaitAsync(ct).ConfigureAwait(false);
            WorkItem item;
            lock (_gate)
            {
                item = _order.Dequeue();
                _queued.Remove(item);
            }

            try
            {
                _handle(item);
            }
            catch (Exception e)
            {
                // A real controller logs, backs off and retries; the next commit touching the object retries here.
                LogFailed(_logger, item.Kind, item.Key, e);
            }
            finally
            {
                lock (_gate)
                {
                    if (--_outstanding == 0)
                    {
                        _idle.TrySetResult();
                    }
                }
            }
        }
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            tcs.SetResult();
        }

        return tcs;
    }

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "emulated controller work {Kind} {Key} failed")]
    private static partial void LogFailed(ILogger logger, WorkKind kind, string key, Exception exception);
}

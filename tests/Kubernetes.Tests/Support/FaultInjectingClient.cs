using System.Runtime.CompilerServices;
using System.Text.Json.Nodes;
using BareLb.TestSupport;
using k8s;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Support;

/// <summary>One call as the wrapper saw it; Options is the ListOptions, WatchOptions, DeleteOptions, patch text or object sent.</summary>
internal sealed record ClientCall(string Verb, string Resource, string? Namespace, string? Name, object? Options = null);

/// <summary>
/// The real client (against the in-memory API server) with a seam for faults: every call is recorded and may be
/// delayed or failed by <see cref="BeforeCall"/>, and open watch streams can be ended the way a server ends them
/// (a clean close, or an error such as a 410 ERROR event or a garbled line) with <see cref="EndWatches"/>.
/// </summary>
internal sealed class FaultInjectingClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
{
    private readonly Lock _gate = new();
    private readonly List<ClientCall> _calls = [];
    private readonly List<(Func<ClientCall, bool> Match, int Count, TaskCompletionSource Done)> _callWaiters = [];
    private readonly List<OpenWatch> _watches = [];
    private TaskCompletionSource? _watchOpened;
    private readonly List<object> _consumed = [];
    private readonly List<(Func<object, bool> Match, TaskCompletionSource Done)> _consumedWaiters = [];

    /// <summary>Runs before every call reaches the server: throw to fail it, await to hold it.</summary>
    public Func<ClientCall, CancellationToken, ValueTask>? BeforeCall { get; set; }

    public IReadOnlyList<ClientCall> Calls
    {
        get
        {
            lock (_gate)
            {
                return [.. _calls];
            }
        }
    }

    public int OpenWatches
    {
        get
        {
            lock (_gate)
            {
                return _watches.Count;
            }
        }
    }

    public IReadOnlyList<WatchOptions> WatchesOpened => [.. Calls.Where(c => c.Verb == "watch").Select(c => (WatchOptions)c.Options!)];

    public IReadOnlyList<ListOptions> Lists => [.. Calls.Where(c => c.Verb == "list").Select(c => (ListOptions)c.Options!)];

    /// <summary>Completes once <paramref name="count"/> calls matching <paramref name="match"/> have been made, earlier ones included.</summary>
    public Task WaitForCallsAsync(Func<ClientCall, bool> match, int count)
    {
        lock (_gate)
        {
            if (_calls.Count(match) >= count)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _callWaiters.Add((match, count, done));
            return done.Task.WaitAsync(Wait.Patience);
        }
    }

    /// <summary>
    /// Completes once the consumer of a watch has finished with an event matching <paramref name="match"/> (it asked
    /// for the next one), so whatever the event changed in the consumer has happened. Earlier events count too.
    /// </summary>
    public Task WaitForConsumedAsync<T>(Func<WatchEvent<T>, bool> match) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        bool Match(object o) => o is WatchEvent<T> e && match(e);
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            if (_consumed.Any(Match))
            {
                return Task.CompletedTask;
            }
            _consumedWaiters.Add((Match, done));
        }
        return done.Task.WaitAsync(Wait.Patience);
    }

    /// <summary>
    /// Ends every open watch stream, once at least one is open (a consumer may report "synced" a moment before it
    /// opens its watch): cleanly (<paramref name="error"/> null), as the server does when timeoutSeconds runs out, or
    /// by throwing <paramref name="error"/> to the consumer, as the client does for a 410 ERROR event or a line it
    /// cannot parse. Returns how many were ended.
    /// </summary>
    public async Task<int> EndWatchesAsync(Exception? error = null)
    {
        Task opened;
        lock (_gate)
        {
            opened = _watches.Count > 0 ? Task.CompletedTask : (_watchOpened ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
        await opened.Within();
        List<OpenWatch> open;
        lock (_gate)
        {
            open = [.. _watches];
            _watches.Clear();
        }
        foreach (var w in open)
        {
            w.End(error);
        }
        return open.Count;
    }

    public override async Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct)
    {
        await BeginAsync(new ClientCall("get", type.ToString(), ns, name), ct);
        return await Inner.GetAsync(type, ns, name, ct);
    }

    public override async Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct)
    {
        await BeginAsync(new ClientCall("list", type.ToString(), ns, null, options ?? new ListOptions()), ct);
        return await Inner.ListAsync(type, ns, options, ct);
    }

    public override async Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct)
    {
        await BeginAsync(new ClientCall("create", type.ToString(), obj.Metadata?.NamespaceProperty, obj.Metadata?.Name, obj), ct);
        return await Inner.CreateAsync(type, obj, ct);
    }

    public override async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
    {
        await BeginAsync(new ClientCall(status ? "patchstatus" : "patch", type.ToString(), ns, name, mergePatch.ToJsonString()), ct);
        return await Inner.PatchAsync(type, ns, name, mergePatch, status, ct);
    }

    public override async Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct)
    {
        await BeginAsync(new ClientCall("delete", type.ToString(), ns, name, options), ct);
        await Inner.DeleteAsync(type, ns, name, options, ct);
    }

    public override async IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options,
        [EnumeratorCancellation] CancellationToken ct)
    {
        await BeginAsync(new ClientCall("watch", type.ToString(), ns, null, options), ct);
        using var watch = new OpenWatch(ct);
        TaskCompletionSource? opened;
        lock (_gate)
        {
            _watches.Add(watch);
            opened = _watchOpened;
            _watchOpened = null;
        }
        opened?.TrySetResult();
        try
        {
            await using var events = Inner.WatchAsync(type, ns, options, watch.Token).GetAsyncEnumerator(watch.Token);
            while (true)
            {
                var next = await watch.MoveNextAsync(events);
                if (!next)
                {
                    yield break;
                }
                yield return events.Current;
                // The consumer asked for the next event, so it is done with this one.
                Consumed(events.Current);
            }
        }
        finally
        {
            lock (_gate)
            {
                _watches.Remove(watch);
            }
        }
    }

    private async ValueTask BeginAsync(ClientCall call, CancellationToken ct)
    {
        List<TaskCompletionSource> done = [];
        lock (_gate)
        {
            _calls.Add(call);
            for (var i = _callWaiters.Count - 1; i >= 0; i--)
            {
                if (_calls.Count(_callWaiters[i].Match) >= _callWaiters[i].Count)
                {
                    done.Add(_callWaiters[i].Done);
                    _callWaiters.RemoveAt(i);
                }
            }
        }
        done.ForEach(d => d.TrySetResult());
        if (BeforeCall is { } hook)
        {
            await hook(call, ct);
        }
    }

    private void Consumed(object watchEvent)
    {
        List<TaskCompletionSource> done = [];
        lock (_gate)
        {
            _consumed.Add(watchEvent);
            for (var i = _consumedWaiters.Count - 1; i >= 0; i--)
            {
                if (_consumedWaiters[i].Match(watchEvent))
                {
                    done.Add(_consumedWaiters[i].Done);
                    _consumedWaiters.RemoveAt(i);
                }
            }
        }
        done.ForEach(d => d.TrySetResult());
    }

    /// <summary>One watch stream: ending it cancels the real HTTP watch underneath and tells the consumer how it ended.</summary>
    private sealed class OpenWatch(CancellationToken consumer) : IDisposable
    {
        private readonly CancellationTokenSource _cts = CancellationTokenSource.CreateLinkedTokenSource(consumer);
        private volatile bool _ended;
        private Exception? _error;

        public CancellationToken Token => _cts.Token;

        public void End(Exception? error)
        {
            _error = error;
            _ended = true;
            try
            {
                _cts.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // The stream ended by itself meanwhile.
            }
        }

        /// <summary>False at the end of the stream, whether the server or the test ended it.</summary>
        public async ValueTask<bool> MoveNextAsync<T>(IAsyncEnumerator<T> events)
        {
            try
            {
                if (!_ended && await events.MoveNextAsync())
                {
                    return true;
                }
            }
            catch (Exception) when (_ended && !consumer.IsCancellationRequested)
            {
                // Whatever cancelling the HTTP stream underneath threw: the test ended it.
            }
            if (_ended && _error is not null)
            {
                throw _error;
            }
            return false;
        }

        public void Dispose() => _cts.Dispose();
    }
}

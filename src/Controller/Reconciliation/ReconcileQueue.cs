using System.Threading.Channels;

namespace BareLb.Controller.Reconciliation;

/// <summary>
/// A FIFO of keys to reconcile in which a key waits at most once: adding a key that is already waiting does nothing,
/// so a burst of watch events for one object costs one reconcile. A key being processed may be added again and is
/// then processed once more afterwards (it may have changed during processing). One consumer.
/// </summary>
public sealed class ReconcileQueue<TKey> where TKey : notnull
{
    private readonly Channel<TKey> _channel = Channel.CreateUnbounded<TKey>(new UnboundedChannelOptions { SingleReader = true });
    private readonly HashSet<TKey> _waiting = [];
    private readonly Lock _lock = new();

    public int Count
    {
        get { lock (_lock) { return _waiting.Count; } }
    }

    /// <summary>Queues the key; false when it was already waiting.</summary>
    public bool Add(TKey key)
    {
        lock (_lock)
        {
            if (!_waiting.Add(key))
            {
                return false;
            }
        }
        _channel.Writer.TryWrite(key);
        return true;
    }

    /// <summary>Waits for the next key; the key counts as no longer waiting from this moment.</summary>
    public async ValueTask<TKey> TakeAsync(CancellationToken ct)
    {
        var key = await _channel.Reader.ReadAsync(ct).ConfigureAwait(false);
        lock (_lock)
        {
            _waiting.Remove(key);
        }
        return key;
    }
}

using System.Threading.Channels;

namespace BareLb.ApiServer.Storage;

// Either an event or a bookmark at BookmarkResourceVersion. Bookmarks travel through the same channel so
// that a bookmark never overtakes an event with a lower resourceVersion.
internal readonly record struct WatchItem(WatchEvent? Event, long BookmarkResourceVersion, bool InitialEventsEnd = false);

// One open watch. Writers enqueue under the store lock, in resourceVersion order; the HTTP side drains it.
// A watcher that falls too far behind is closed (like the real server's cacheWatcher), and the client
// resumes from the last resourceVersion it saw.
internal sealed class Watcher(string storageKey, string? ns, int maxPending)
{
    private readonly Channel<WatchItem> _channel =
        Channel.CreateUnbounded<WatchItem>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });

    public string StorageKey { get; } = storageKey;

    public string? Namespace { get; } = ns;

    private int _pending;

    public ValueTask<bool> WaitToReadAsync(CancellationToken ct) => _channel.Reader.WaitToReadAsync(ct);

    public bool TryRead(out WatchItem item)
    {
        if (_channel.Reader.TryRead(out item))
        {
            Interlocked.Decrement(ref _pending);
            return true;
        }

        return false;
    }

    public bool Overflowed { get; private set; }

    public void Offer(WatchItem item, bool initial = false)
    {
        if (!initial && Volatile.Read(ref _pending) >= maxPending)
        {
            Overflowed = true;
            _channel.Writer.TryComplete();
            return;
        }

        if (_channel.Writer.TryWrite(item))
        {
            Interlocked.Increment(ref _pending);
        }
    }

    public void Close() => _channel.Writer.TryComplete();
}

namespace BareLb.ApiServer.Storage;

// Bounded ring of the most recent events, in resourceVersion order. A watch or a continue token from
// resourceVersion N is servable only while every event after N is still here.
internal sealed class EventHistory(int capacity)
{
    private readonly WatchEvent[] _ring = new WatchEvent[Math.Max(1, capacity)];
    private int _start;
    private int _count;

    // Highest resourceVersion whose event is no longer retained (0 = nothing lost yet).
    public long CompactedResourceVersion { get; private set; }

    public void Add(WatchEvent evt)
    {
        if (_count == _ring.Length)
        {
            CompactedResourceVersion = _ring[_start].ResourceVersion;
            _ring[_start] = evt;
            _start = (_start + 1) % _ring.Length;
            return;
        }

        _ring[(_start + _count) % _ring.Length] = evt;
        _count++;
    }

    public void Compact(long currentResourceVersion)
    {
        Array.Clear(_ring);
        _start = 0;
        _count = 0;
        CompactedResourceVersion = currentResourceVersion;
    }

    public bool CanServeFrom(long resourceVersion) => resourceVersion >= CompactedResourceVersion;

    // Events with resourceVersion > after, oldest first.
    public IEnumerable<WatchEvent> After(long after)
    {
        var lo = 0;
        var hi = _count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (At(mid).ResourceVersion <= after)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        for (var i = lo; i < _count; i++)
        {
            yield return At(i);
        }
    }

    private WatchEvent At(int i) => _ring[(_start + i) % _ring.Length];
}

namespace BareLb.Layer2;

/// <summary>
/// When to send gratuitous ARP / unsolicited NA after taking an address over: a burst whose first announcement goes
/// out at once, then repeats spaced out over a few seconds, then (optional, off by default) a periodic refresh.
/// <para>
/// Default offsets from the takeover: 0, 50 ms, 200 ms, 500 ms, 1 s, 2 s, 4 s. The first one is what moves the
/// neighbours; the early repeats cover a lost frame or a switch that was still learning the port (an unlucky loss
/// costs 50 ms, not MetalLB's 1.1 s); the later ones cover neighbours that were briefly unreachable. Seven frames
/// per address and interface in four seconds is negligible load even for a thousand addresses.
/// </para>
/// </summary>
public sealed class AnnouncementSchedule
{
    public static readonly IReadOnlyList<TimeSpan> DefaultBurst =
    [
        TimeSpan.Zero,
        TimeSpan.FromMilliseconds(50),
        TimeSpan.FromMilliseconds(200),
        TimeSpan.FromMilliseconds(500),
        TimeSpan.FromSeconds(1),
        TimeSpan.FromSeconds(2),
        TimeSpan.FromSeconds(4),
    ];

    public AnnouncementSchedule(IReadOnlyList<TimeSpan>? burst = null, TimeSpan? refresh = null)
    {
        burst ??= DefaultBurst;
        if (burst.Count == 0)
        {
            throw new ArgumentException("the burst needs at least the first announcement", nameof(burst));
        }
        for (var i = 0; i < burst.Count; i++)
        {
            if (burst[i] < TimeSpan.Zero || (i > 0 && burst[i] <= burst[i - 1]))
            {
                throw new ArgumentException("burst offsets must be non-negative and increasing", nameof(burst));
            }
        }
        if (refresh is { } r && r <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(refresh), r, "the refresh period must be positive");
        }
        Burst = burst;
        Refresh = refresh;
    }

    public static AnnouncementSchedule Default { get; } = new();

    public IReadOnlyList<TimeSpan> Burst { get; }

    /// <summary>Period of announcements after the burst, for switches whose tables age out; null: none.</summary>
    public TimeSpan? Refresh { get; }

    /// <summary>
    /// The offset, from the takeover, of the first announcement due strictly after <paramref name="elapsed"/>;
    /// null when the schedule is over. Steps that a late timer skipped are not sent in a catch-up burst.
    /// </summary>
    public TimeSpan? NextAfter(TimeSpan elapsed)
    {
        foreach (var offset in Burst)
        {
            if (offset > elapsed)
            {
                return offset;
            }
        }
        if (Refresh is not { } period)
        {
            return null;
        }
        var last = Burst[^1];
        var periods = (elapsed - last).Ticks / period.Ticks + 1;
        return last + TimeSpan.FromTicks(period.Ticks * periods);
    }
}

/// <summary>
/// Pending announcements, keyed by what is announced (an address on an interface), each following an
/// <see cref="AnnouncementSchedule"/> from the moment it started. Pure apart from reading the clock; one timer
/// outside drives it: take what is due, send it, sleep until <see cref="NextDue"/>.
/// </summary>
public sealed class AnnouncementQueue<TKey>(AnnouncementSchedule schedule, TimeProvider time)
    where TKey : notnull
{
    private readonly Dictionary<TKey, Entry> _entries = [];

    public int Count => _entries.Count;

    /// <summary>Starts (or restarts) the schedule of <paramref name="key"/> now; its first step is due at once.</summary>
    public void Start(TKey key)
    {
        _entries[key] = new Entry(time.GetTimestamp(), schedule.Burst[0]);
    }

    public void Stop(TKey key) => _entries.Remove(key);

    public bool Contains(TKey key) => _entries.ContainsKey(key);

    /// <summary>Adds to <paramref name="due"/> every key whose next step is due, and moves each to its following step.</summary>
    public void TakeDue(List<TKey> due)
    {
        List<TKey>? finished = null;
        foreach (var (key, entry) in _entries)
        {
            var elapsed = time.GetElapsedTime(entry.Started);
            if (entry.Next > elapsed)
            {
                continue;
            }
            due.Add(key);
            if (schedule.NextAfter(elapsed) is { } next)
            {
                entry.Next = next;
            }
            else
            {
                (finished ??= []).Add(key);
            }
        }
        foreach (var key in finished ?? [])
        {
            _entries.Remove(key);
        }
    }

    /// <summary>Time until the earliest pending step (zero if overdue); null when nothing is pending.</summary>
    public TimeSpan? NextDue()
    {
        TimeSpan? soonest = null;
        foreach (var entry in _entries.Values)
        {
            var remaining = entry.Next - time.GetElapsedTime(entry.Started);
            if (remaining < TimeSpan.Zero)
            {
                remaining = TimeSpan.Zero;
            }
            if (soonest is null || remaining < soonest)
            {
                soonest = remaining;
            }
        }
        return soonest;
    }

    private sealed class Entry(long started, TimeSpan next)
    {
        public long Started { get; } = started;

        public TimeSpan Next { get; set; } = next;
    }
}

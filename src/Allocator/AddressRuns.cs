namespace BareLb.Allocator;

// A set of addresses stored as maximal runs of consecutive values, ordered by start. Every operation costs
// O(log r) in the number of runs and nothing depends on how large the surrounding pool is.
// Because runs are maximal, the value right after a run is never in the set: that is what makes
// "first value >= x not in the set" a single lookup.
internal sealed class AddressRuns
{
    private readonly SortedSet<Run> _runs = new(RunStartComparer.Instance);

    public int RunCount => _runs.Count;

    public bool Contains(UInt128 value) => RunContaining(value) is not null;

    public bool Add(UInt128 value)
    {
        var before = Floor(value);
        if (before is { } b && b.End >= value)
        {
            return false;
        }

        var start = value;
        var end = value;
        if (before is { } left && left.End == value - 1)
        {
            _runs.Remove(left);
            start = left.Start;
        }

        if (value != UInt128.MaxValue && _runs.TryGetValue(new Run(value + 1, value + 1), out var right))
        {
            _runs.Remove(right);
            end = right.End;
        }

        _runs.Add(new Run(start, end));
        return true;
    }

    public bool Remove(UInt128 value)
    {
        if (RunContaining(value) is not { } run)
        {
            return false;
        }

        _runs.Remove(run);
        if (run.Start < value)
        {
            _runs.Add(new Run(run.Start, value - 1));
        }

        if (value < run.End)
        {
            _runs.Add(new Run(value + 1, run.End));
        }

        return true;
    }

    // Smallest value in [from, to] that is not in the set, or null when [from, to] is covered.
    public UInt128? FirstAbsent(UInt128 from, UInt128 to)
    {
        if (from > to)
        {
            return null;
        }

        if (RunContaining(from) is not { } run)
        {
            return from;
        }

        return run.End < to ? run.End + 1 : null;
    }

    // The runs that intersect [from, to], clipped to it, in order.
    public IEnumerable<(UInt128 First, UInt128 Last)> Within(UInt128 from, UInt128 to)
    {
        if (from > to || _runs.Count == 0)
        {
            yield break;
        }

        if (Floor(from) is { } first && first.End >= from && first.Start < from)
        {
            yield return (from, UInt128.Min(first.End, to));
        }

        foreach (var run in _runs.GetViewBetween(new Run(from, from), new Run(to, to)))
        {
            yield return (run.Start, UInt128.Min(run.End, to));
        }
    }

    private Run? RunContaining(UInt128 value) => Floor(value) is { } run && run.End >= value ? run : null;

    // The run with the largest start <= value. SortedSet has no floor lookup; a view bounded above by the value
    // is O(log r) as long as its Count is never read (that walks the view).
    private Run? Floor(UInt128 value)
    {
        if (_runs.Count == 0 || _runs.Min.Start > value)
        {
            return null;
        }

        return _runs.GetViewBetween(_runs.Min, new Run(value, value)).Max;
    }

    private readonly record struct Run(UInt128 Start, UInt128 End);

    private sealed class RunStartComparer : IComparer<Run>
    {
        public static readonly RunStartComparer Instance = new();

        public int Compare(Run x, Run y) => x.Start.CompareTo(y.Start);
    }
}

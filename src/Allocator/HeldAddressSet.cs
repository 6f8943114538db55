namespace BareLb.Allocator;

// Every held address of one family with the services holding it. Held addresses are global, not per pool,
// so overlapping pools can never hand out one address twice. A service may hold one address more than once (its
// live assignment and a reservation left by a move whose write has not landed yet); each Add needs its Remove.
internal sealed class HeldAddressSet
{
    private readonly Dictionary<UInt128, List<ServiceKey>> _holders = [];
    private readonly AddressRuns _held = new();

    // IPv4 only: held addresses plus every .255/.0 pair that touches a held address. Searching this set for the
    // first absent value skips held runs and the buggy pairs between them in one lookup, so an avoidBuggyIPs pool
    // whose held runs stop at every /24 boundary still costs O(log n) per allocation.
    private readonly AddressRuns? _heldOrBridged;

    public HeldAddressSet(IpFamily family)
    {
        Family = family;
        _heldOrBridged = family == IpFamily.IPv4 ? new AddressRuns() : null;
    }

    public IpFamily Family { get; }

    public int Count => _holders.Count;

    public int HeldRunCount => _held.RunCount;

    public int BridgedRunCount => _heldOrBridged?.RunCount ?? 0;

    public IReadOnlyList<ServiceKey> HoldersOf(UInt128 value) =>
        _holders.TryGetValue(value, out var holders) ? holders : [];

    public bool IsHeld(UInt128 value) => _holders.ContainsKey(value);

    public void Add(UInt128 value, ServiceKey holder)
    {
        if (_holders.TryGetValue(value, out var holders))
        {
            holders.Add(holder);
            return;
        }

        _holders.Add(value, [holder]);
        _held.Add(value);
        UpdateBridges(value);
    }

    public void Remove(UInt128 value, ServiceKey holder)
    {
        if (!_holders.TryGetValue(value, out var holders) || !holders.Remove(holder) || holders.Count > 0)
        {
            return;
        }

        _holders.Remove(value);
        _held.Remove(value);
        UpdateBridges(value);
    }

    // Smallest address in [first, last] that nobody holds (and, when asked, that does not end in .0 or .255).
    public UInt128? FirstFree(UInt128 first, UInt128 last, bool avoidBuggy)
    {
        if (!avoidBuggy || _heldOrBridged is null)
        {
            return _held.FirstAbsent(first, last);
        }

        // Each pass either skips at most two buggy addresses or jumps past a whole run of _heldOrBridged, whose
        // successor is never held; the loop ends after a handful of passes whatever the pool size.
        var candidate = first;
        while (true)
        {
            while (IpAddressMath.IsBuggy(Family, candidate))
            {
                if (candidate >= last)
                {
                    return null;
                }

                candidate++;
            }

            if (_heldOrBridged.FirstAbsent(candidate, last) is not { } absent)
            {
                return null;
            }

            if (absent == candidate)
            {
                return candidate;
            }

            candidate = absent;
        }
    }

    // Held addresses in [first, last], and how many of those end in .0 or .255.
    public (UInt128 Held, UInt128 HeldBuggy) CountWithin(UInt128 first, UInt128 last)
    {
        UInt128 held = 0;
        UInt128 buggy = 0;
        foreach (var (runFirst, runLast) in _held.Within(first, last))
        {
            held += runLast - runFirst + 1;
            if (Family == IpFamily.IPv4)
            {
                buggy += IpAddressMath.CountBuggy(runFirst, runLast);
            }
        }

        return (held, buggy);
    }

    private void UpdateBridges(UInt128 changed)
    {
        if (_heldOrBridged is null)
        {
            return;
        }

        // Membership of a buggy address depends on the held state of the addresses next to its pair:
        // x.254 decides x.255 and (x+1).0; (x+1).1 decides them too.
        Refresh(changed);
        switch ((byte)changed)
        {
            case 254:
                RefreshIfValid(changed, +1);
                RefreshIfValid(changed, +2);
                break;
            case 1:
                RefreshIfValid(changed, -1);
                RefreshIfValid(changed, -2);
                break;
        }
    }

    private void RefreshIfValid(UInt128 value, int delta)
    {
        if (delta > 0 && value + (uint)delta <= IpAddressMath.MaxIPv4)
        {
            Refresh(value + (uint)delta);
        }
        else if (delta < 0 && value >= (uint)-delta)
        {
            Refresh(value - (uint)-delta);
        }
    }

    private void Refresh(UInt128 value)
    {
        var member = IsHeld(value) || (IpAddressMath.IsBuggy(Family, value) && TouchesHeld(value));
        if (member)
        {
            _heldOrBridged!.Add(value);
        }
        else
        {
            _heldOrBridged!.Remove(value);
        }
    }

    // A buggy pair x.255,(x+1).0 touches a held address when x.254 or (x+1).1 is held.
    private bool TouchesHeld(UInt128 buggy)
    {
        if ((byte)buggy == 255)
        {
            return IsHeld(buggy - 1) || (buggy + 2 <= IpAddressMath.MaxIPv4 && IsHeld(buggy + 2));
        }

        return (buggy >= 2 && IsHeld(buggy - 2)) || IsHeld(buggy + 1);
    }
}

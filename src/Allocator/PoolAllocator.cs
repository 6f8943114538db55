using System.Net;
using System.Numerics;

namespace BareLb.Allocator;

// Hands out load-balancer addresses from pools. Pure and single-threaded: the controller's reconcile loop owns
// one instance and feeds it pools and Services; nothing here does I/O.
public sealed class PoolAllocator
{
    private readonly HeldAddressSet _ipv4 = new(IpFamily.IPv4);
    private readonly HeldAddressSet _ipv6 = new(IpFamily.IPv6);
    private readonly Dictionary<ServiceKey, Holding> _holdings = [];
    private readonly Dictionary<string, HashSet<ServiceKey>> _bySharingKey = new(StringComparer.Ordinal);
    private readonly Dictionary<ServiceKey, List<Reservation>> _reserved = [];
    private PoolTable _pools = new([], []);

    public IReadOnlyList<PoolOverlap> SetPools(IReadOnlyList<PoolDefinition> pools)
    {
        ArgumentNullException.ThrowIfNull(pools);
        _pools = new PoolTable(pools, _pools.Draining);
        Relabel();
        return _pools.Overlaps();
    }

    public void SetDraining(IReadOnlySet<string> poolNames)
    {
        ArgumentNullException.ThrowIfNull(poolNames);
        _pools.SetDraining(poolNames);
        Relabel();
    }

    // With a ticket, the addresses the service gives up stay reserved under that ticket (see ReleaseReserved): the
    // controller frees an address for others only once the write that takes it off the service has landed.
    public AllocationResult Allocate(ServiceRequest request, long? ticket = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var before = _holdings.GetValueOrDefault(request.Key);
        var result = AllocateCore(request);
        if (ticket is { } t && before is not null)
        {
            ReserveGivenUp(before, t);
        }

        return result;
    }

    private AllocationResult AllocateCore(ServiceRequest request)
    {
        if (!AllocationPlan.TryCreate(request, out var plan, out var invalid))
        {
            return Failed(AllocationFailure.InvalidRequest, invalid);
        }

        var existing = _holdings.GetValueOrDefault(request.Key);
        if (existing is not null && StillSatisfies(existing, request, plan))
        {
            return Succeeded(Hold(request, existing.Addresses));
        }

        // The service's own addresses count as free while it looks for new ones (it may keep them), and come back
        // untouched if nothing fits: a failed attempt never costs a running Service its address.
        if (existing is not null)
        {
            Unhold(existing);
        }

        var outcome = plan.Requested.Count > 0
            ? AllocateRequested(request, plan)
            : AllocateAutomatically(request, plan, existing);
        if (outcome.Addresses is { } addresses)
        {
            return Succeeded(Hold(request, addresses));
        }

        if (existing is not null)
        {
            // The old addresses stay only if the service, as it now asks, may still share them with their other
            // holders; otherwise two Services would claim one (address, port) and the old address is released.
            // What it keeps is held under its new sharing terms, so later sharers are checked against those.
            var kept = existing.Request with
            {
                SharingKey = request.SharingKey,
                Ports = request.Ports,
                ExternalTrafficPolicy = request.ExternalTrafficPolicy,
                Selector = request.Selector,
            };
            if (SharingConflict(kept, existing.Addresses) is { } conflict)
            {
                return Failed(outcome.Failure, $"{outcome.Message}; its previous address was released: {conflict}");
            }
            Hold(kept, existing.Addresses);
        }

        return Failed(outcome.Failure, outcome.Message);
    }

    // Keeps the service's current addresses whatever the pools say (they may belong to a pool the caller cannot
    // see), held under its current request, as long as its co-holders may still share them with it as it now asks;
    // otherwise the addresses are released (reserved under the ticket, if given) and the reason returned.
    public AllocationResult Keep(ServiceRequest request, long? ticket = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (_holdings.GetValueOrDefault(request.Key) is not { } existing)
        {
            return Failed(AllocationFailure.InvalidRequest, "nothing to keep");
        }

        if (SharingConflict(request, existing.Addresses) is { } conflict)
        {
            Release(request.Key, ticket);
            return Failed(AllocationFailure.AddressInUse, $"its previous address was released: {conflict}");
        }

        return Succeeded(Hold(request, existing.Addresses));
    }

    private string? SharingConflict(ServiceRequest request, IReadOnlyList<FamilyAddress> addresses)
    {
        foreach (var address in addresses)
        {
            if (SharingConflict(request, address) is { } conflict)
            {
                return conflict;
            }
        }
        return null;
    }

    public AllocationResult Restore(ServiceRequest request, IReadOnlyList<IPAddress> addresses)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(addresses);
        if (!TryReadRestored(request, addresses, out var restored, out var invalid))
        {
            return Failed(AllocationFailure.InvalidRequest, invalid);
        }

        foreach (var address in restored)
        {
            if (SharingConflict(request, address) is { } conflict)
            {
                return Failed(AllocationFailure.AddressInUse, conflict);
            }
        }

        if (_holdings.GetValueOrDefault(request.Key) is { } existing)
        {
            Unhold(existing);
        }

        return Succeeded(Hold(request, restored));
    }

    // Without a ticket the addresses are free at once (the service is gone from the API); with one they stay
    // reserved until ReleaseReserved (the service still shows them until the write that clears it lands).
    public bool Release(ServiceKey service, long? ticket = null)
    {
        if (!_holdings.TryGetValue(service, out var holding))
        {
            return false;
        }

        Unhold(holding);
        if (ticket is { } t)
        {
            ReserveGivenUp(holding, t);
        }

        return true;
    }

    // Reserves addresses a service shows but no longer holds (found at a restart: it stopped being ours while the
    // write that clears it had not landed), so that nobody else is given them until that write lands.
    public void Reserve(ServiceRequest request, IReadOnlyList<IPAddress> addresses, long ticket)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(addresses);
        var valid = addresses.Where(a => AllocationPlan.TryValidateAddress(a, "address", out _)).Select(FamilyAddress.From).Distinct().ToArray();
        if (valid.Length == 0)
        {
            return;
        }

        foreach (var address in valid)
        {
            Held(address.Family).Add(address.Value, request.Key);
        }

        if (!_reserved.TryGetValue(request.Key, out var reservations))
        {
            _reserved[request.Key] = reservations = [];
        }

        reservations.Add(new Reservation(ticket, request, valid));
    }

    // Ends the reservations a service's writes up to and including ticket had kept: the API now shows what that
    // write said, so the addresses it gave up are no longer shown by it. True when any reservation ended.
    public bool ReleaseReserved(ServiceKey service, long upToTicket)
    {
        if (!_reserved.TryGetValue(service, out var reservations))
        {
            return false;
        }

        var ended = false;
        for (var i = reservations.Count - 1; i >= 0; i--)
        {
            if (reservations[i].Ticket <= upToTicket)
            {
                foreach (var address in reservations[i].Addresses)
                {
                    Held(address.Family).Remove(address.Value, service);
                }

                reservations.RemoveAt(i);
                ended = true;
            }
        }

        if (reservations.Count == 0)
        {
            _reserved.Remove(service);
        }

        return ended;
    }

    // The addresses a service gave up that are still reserved for it, lowest ticket first.
    public IReadOnlyList<IPAddress> ReservedFor(ServiceKey service) =>
        _reserved.TryGetValue(service, out var reservations)
            ? [.. reservations.OrderBy(r => r.Ticket).SelectMany(r => r.Addresses).Select(a => a.ToAddress()).Distinct()]
            : [];

    // Whether a reservation keeps an address inside the pool's ranges: the pool must stay until it ends.
    public bool HasReservationsIn(string pool)
    {
        if (_pools.Find(pool) is not { } configured)
        {
            return false;
        }

        return _reserved.Values.Any(list => list.Any(r => r.Addresses.Any(a => configured.Contains(a.Family, a.Value))));
    }

    public Assignment? GetAssignment(ServiceKey service) => _holdings.GetValueOrDefault(service)?.Assignment;

    // Every pool whose ranges contain the address, whatever its state.
    public IReadOnlyList<string> PoolsContaining(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (!AllocationPlan.TryValidateAddress(address, "address", out _))
        {
            return [];
        }

        var value = FamilyAddress.From(address);
        return _pools.Containing(value);
    }

    public IReadOnlyList<Assignment> HoldersOf(string pool) =>
        SortedAssignments(a => string.Equals(a.Pool, pool, StringComparison.Ordinal));

    // Assignments that Allocate would no longer keep for their own request: the addresses lie in no pool, only in
    // draining pools, or only in pools that no longer admit the service or hand the address out (avoidBuggyIPs).
    public IReadOnlyList<Assignment> Misplaced() =>
        [.. _holdings.Values
            .Where(h => !StillSatisfies(h, h.Request))
            .Select(h => h.Assignment)
            .OrderBy(a => a.Service.Namespace, StringComparer.Ordinal)
            .ThenBy(a => a.Service.Name, StringComparer.Ordinal)];

    public bool IsMisplaced(ServiceKey service) =>
        _holdings.TryGetValue(service, out var holding) && !StillSatisfies(holding, holding.Request);

    // Assigned counts every held address inside the pool's ranges, whichever pool it was handed out from:
    // overlapping pools share addresses, and an address held through the other pool is just as unavailable.
    public PoolUsage GetUsage(string pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var configured = _pools.Find(pool) ?? throw new KeyNotFoundException($"pool \"{pool}\" does not exist");
        var (assignedV4, availableV4) = Usage(configured, _ipv4);
        var (assignedV6, availableV6) = Usage(configured, _ipv6);
        return new PoolUsage(assignedV4, assignedV6, availableV4, availableV6);
    }

    public IReadOnlyList<string> CandidatePools(ServiceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return AllocationPlan.TryCreate(request, out var plan, out _)
            ? [.. _pools.CandidatesFor(request, plan).Select(p => p.Name)]
            : [];
    }

    private bool StillSatisfies(Holding holding, ServiceRequest request)
    {
        if (!AllocationPlan.TryCreate(request, out var plan, out _))
        {
            return false;
        }

        return StillSatisfies(holding, request, plan);
    }

    // An address is kept where MetalLB keeps it: some live pool contains it, admits the service (serviceAllocation)
    // and would hand it out (avoidBuggyIPs); autoAssign does not matter for an address already held. The pool it
    // came from need not be that pool: renaming or splitting a pool moves nothing.
    private bool StillSatisfies(Holding holding, ServiceRequest request, AllocationPlan plan)
    {
        var shapeOk = plan.Requested.Count > 0
            ? holding.Addresses.Count == plan.Requested.Count && plan.Requested.All(holding.Addresses.Contains)
            : plan.IsShapeOf(holding.Addresses);
        if (!shapeOk || _pools.PoolOf(request, holding.Addresses) is not { } pool || !_pools.Serves(pool, request, holding.Addresses))
        {
            return false;
        }

        if (request.RequestedPool is { } requested && !string.Equals(pool.Name, requested, StringComparison.Ordinal))
        {
            return false;
        }

        return holding.Addresses.All(a => SharingConflict(request, a) is null);
    }

    private Outcome AllocateRequested(ServiceRequest request, AllocationPlan plan)
    {
        var who = request.Key;
        var candidates = _pools.CandidatesFor(request, plan);
        if (request.RequestedPool is not null && candidates.Count == 0)
        {
            return RequestedPoolUnusable(request);
        }

        var pool = candidates.FirstOrDefault(p => plan.Requested.All(a => p.CanHandOut(a.Family, a.Value)));
        if (pool is null)
        {
            var buggyIn = candidates.FirstOrDefault(p => plan.Requested.All(a => p.Contains(a.Family, a.Value)));
            if (buggyIn is not null)
            {
                var buggy = plan.Requested.First(a => !buggyIn.CanHandOut(a.Family, a.Value)).ToAddress();
                return Outcome.Fail(
                    AllocationFailure.InvalidRequest,
                    $"requested address {buggy} ends in .0 or .255, which pool {buggyIn.Name} does not hand out (avoidBuggyIPs)");
            }

            var described = string.Join(" and ", plan.Requested.Select(a => a.ToAddress()));

            var where = request.RequestedPool is { } requested ? $"in pool {requested}" : $"in a pool that admits {who}";
            var message = plan.Requested.Count == 1
                ? $"requested address {described} is not {where}"
                : $"requested addresses {described} are not both {where}";
            return Outcome.Fail(AllocationFailure.NoCompatiblePool, message);
        }

        foreach (var address in plan.Requested)
        {
            if (SharingConflict(request, address) is { } conflict)
            {
                return Outcome.Fail(AllocationFailure.AddressInUse, conflict);
            }
        }

        return Outcome.Success(plan.Requested);
    }

    private Outcome AllocateAutomatically(ServiceRequest request, AllocationPlan plan, Holding? existing)
    {
        var candidates = _pools.CandidatesFor(request, plan);
        if (candidates.Count == 0)
        {
            return request.RequestedPool is not null
                ? RequestedPoolUnusable(request)
                : Outcome.Fail(AllocationFailure.NoCompatiblePool, $"no auto-assign pool admits {request.Key}");
        }

        if (existing is not null)
        {
            // A service that must leave its address looks first in the pools that contain it: an address that
            // avoidBuggyIPs now excludes, or a pool that shrank, gives a new address from that same pool.
            candidates = [.. candidates.OrderBy(p => existing.Addresses.Any(a => p.Contains(a.Family, a.Value)) ? 0 : 1)];
        }

        var outcome = AllocateFamilies(request, plan.Families, candidates, existing);
        if (outcome.Addresses is null && plan.Fallback is { } fallback)
        {
            outcome = AllocateFamilies(request, fallback, candidates, existing);
        }

        return outcome;
    }

    // All families from one pool. Reuse comes first, across every candidate pool: the service's own current
    // addresses (so a changed request does not churn addresses that still fit), then addresses shared under the
    // same key; only then the first free address of each pool in preference order.
    private Outcome AllocateFamilies(
        ServiceRequest request,
        IReadOnlyList<IpFamily> families,
        IReadOnlyList<ConfiguredPool> candidates,
        Holding? existing)
    {
        var eligible = candidates.Where(p => families.All(p.Has)).ToArray();
        var familyText = string.Join(" and ", families);
        if (eligible.Length == 0)
        {
            return Outcome.Fail(
                AllocationFailure.NoCompatiblePool,
                $"no pool that admits {request.Key} has {familyText} addresses (candidates: {Names(candidates)})");
        }

        var picked = new FamilyAddress?[families.Count];
        foreach (var pool in eligible)
        {
            for (var i = 0; i < families.Count; i++)
            {
                picked[i] = OwnAddress(request, families[i], pool, existing) ?? SharedAddress(request, families[i], pool);
            }

            if (picked.Any(a => a is not null) && TryFillFree(families, pool, picked))
            {
                return Outcome.Success([.. picked.Select(a => a!.Value)]);
            }
        }

        foreach (var pool in eligible)
        {
            Array.Clear(picked);
            if (TryFillFree(families, pool, picked))
            {
                return Outcome.Success([.. picked.Select(a => a!.Value)]);
            }
        }

        return Outcome.Fail(
            AllocationFailure.PoolExhausted,
            $"no free {familyText} address in {(eligible.Length == 1 ? "pool" : "pools")} {Names(eligible)}");
    }

    // Fills the slots nothing was reused for with the first free address of the pool.
    private bool TryFillFree(IReadOnlyList<IpFamily> families, ConfiguredPool pool, FamilyAddress?[] picked)
    {
        for (var i = 0; i < families.Count; i++)
        {
            if (picked[i] is not null)
            {
                continue;
            }

            if (FirstFree(families[i], pool) is not { } free)
            {
                return false;
            }

            picked[i] = new FamilyAddress(families[i], free);
        }

        return true;
    }

    private UInt128? FirstFree(IpFamily family, ConfiguredPool pool)
    {
        var held = Held(family);
        foreach (var range in pool.RangesOf(family))
        {
            if (held.FirstFree(range.First, range.Last, pool.AvoidBuggyIPs) is { } free)
            {
                return free;
            }
        }

        return null;
    }

    private FamilyAddress? OwnAddress(ServiceRequest request, IpFamily family, ConfiguredPool pool, Holding? existing)
    {
        if (existing is null)
        {
            return null;
        }

        foreach (var address in existing.Addresses)
        {
            if (address.Family == family && pool.CanHandOut(family, address.Value) && SharingConflict(request, address) is null)
            {
                return address;
            }
        }

        return null;
    }

    // The lowest address in the pool held under the request's sharing key that every holder agrees to share.
    private FamilyAddress? SharedAddress(ServiceRequest request, IpFamily family, ConfiguredPool pool)
    {
        if (request.SharingKey is not { } key || !_bySharingKey.TryGetValue(key, out var sharers))
        {
            return null;
        }

        FamilyAddress? best = null;
        foreach (var sharer in sharers)
        {
            if (sharer == request.Key)
            {
                continue;
            }

            foreach (var address in _holdings[sharer].Addresses)
            {
                if (address.Family == family
                    && (best is null || address.Value < best.Value.Value)
                    && pool.CanHandOut(family, address.Value)
                    && SharingConflict(request, address) is null)
                {
                    best = address;
                }
            }
        }

        return best;
    }

    // Why the request may not hold the address next to its current holders, or null when it may. A reserved
    // address counts as held under the request it was held with, so its co-sharers stay valid and nobody else
    // gets it; the service's own reservations never stand in its way.
    private string? SharingConflict(ServiceRequest request, FamilyAddress address)
    {
        foreach (var holder in Held(address.Family).HoldersOf(address.Value))
        {
            if (holder == request.Key)
            {
                continue;
            }

            if (_holdings.TryGetValue(holder, out var holding) && holding.Addresses.Contains(address)
                && SharingRules.Conflict(address.ToAddress(), request, holding.Request) is { } conflict)
            {
                return conflict;
            }

            if (_reserved.TryGetValue(holder, out var reservations))
            {
                foreach (var reservation in reservations)
                {
                    if (reservation.Addresses.Contains(address)
                        && SharingRules.Conflict(address.ToAddress(), request, reservation.Request) is { } reserved)
                    {
                        return reserved + " (until the write that frees it lands)";
                    }
                }
            }
        }

        return null;
    }

    private void ReserveGivenUp(Holding before, long ticket)
    {
        var now = _holdings.GetValueOrDefault(before.Request.Key);
        FamilyAddress[] givenUp = [.. before.Addresses.Where(a => now is null || !now.Addresses.Contains(a))];
        if (givenUp.Length == 0)
        {
            return;
        }

        foreach (var address in givenUp)
        {
            Held(address.Family).Add(address.Value, before.Request.Key);
        }

        if (!_reserved.TryGetValue(before.Request.Key, out var reservations))
        {
            _reserved[before.Request.Key] = reservations = [];
        }

        reservations.Add(new Reservation(ticket, before.Request, givenUp));
    }

    private Outcome RequestedPoolUnusable(ServiceRequest request)
    {
        var name = request.RequestedPool!;
        var reason = _pools.Find(name) switch
        {
            null => $"pool {name} does not exist",
            _ when _pools.IsDraining(name) => $"pool {name} is being deleted and hands out no new addresses",
            _ => $"pool {name} does not admit {request.Key} (serviceAllocation)",
        };
        return Outcome.Fail(AllocationFailure.NoCompatiblePool, reason);
    }

    private static bool TryReadRestored(
        ServiceRequest request,
        IReadOnlyList<IPAddress> addresses,
        out IReadOnlyList<FamilyAddress> restored,
        out string? error)
    {
        restored = [];
        if (request.SharingKey is { Length: 0 })
        {
            error = "sharing key is empty";
            return false;
        }

        if (addresses.Count == 0)
        {
            error = "no addresses to restore";
            return false;
        }

        var list = new List<FamilyAddress>(addresses.Count);
        foreach (var address in addresses)
        {
            if (!AllocationPlan.TryValidateAddress(address, "restored address", out error))
            {
                return false;
            }

            var parsed = FamilyAddress.From(address);
            if (list.Any(a => a.Family == parsed.Family))
            {
                error = $"restored addresses hold two {parsed.Family} addresses; at most one address per family";
                return false;
            }

            list.Add(parsed);
        }

        restored = list;
        error = null;
        return true;
    }

    private Assignment Hold(ServiceRequest request, IReadOnlyList<FamilyAddress> addresses)
    {
        if (_holdings.GetValueOrDefault(request.Key) is { } previous)
        {
            Unhold(previous);
        }

        FamilyAddress[] copy = [.. addresses];
        foreach (var address in copy)
        {
            Held(address.Family).Add(address.Value, request.Key);
        }

        if (request.SharingKey is { } key)
        {
            if (!_bySharingKey.TryGetValue(key, out var sharers))
            {
                _bySharingKey[key] = sharers = [];
            }

            sharers.Add(request.Key);
        }

        var holding = new Holding(request, copy, Label(request, copy));
        _holdings[request.Key] = holding;
        return holding.Assignment;
    }

    private void Unhold(Holding holding)
    {
        var key = holding.Request.Key;
        foreach (var address in holding.Addresses)
        {
            Held(address.Family).Remove(address.Value, key);
        }

        if (holding.Request.SharingKey is { } sharingKey && _bySharingKey.TryGetValue(sharingKey, out var sharers))
        {
            sharers.Remove(key);
            if (sharers.Count == 0)
            {
                _bySharingKey.Remove(sharingKey);
            }
        }

        _holdings.Remove(key);
    }

    // Pool labels follow the pools: SetPools and SetDraining never move an address, they only say where it lies now.
    private void Relabel()
    {
        foreach (var holding in _holdings.Values.ToArray())
        {
            var assignment = Label(holding.Request, holding.Addresses);
            if (!string.Equals(assignment.Pool, holding.Assignment.Pool, StringComparison.Ordinal))
            {
                _holdings[holding.Request.Key] = holding with { Assignment = assignment };
            }
        }
    }

    private Assignment Label(ServiceRequest request, IReadOnlyList<FamilyAddress> addresses) =>
        new(request.Key, _pools.PoolOf(request, addresses)?.Name, [.. addresses.Select(a => a.ToAddress())]);

    private (UInt128 Assigned, UInt128 Available) Usage(ConfiguredPool pool, HeldAddressSet held)
    {
        BigInteger capacity = 0;
        BigInteger assigned = 0;
        BigInteger heldUsable = 0;
        var avoidBuggy = pool.AvoidBuggyIPs && held.Family == IpFamily.IPv4;
        foreach (var range in PoolTable.Merge(pool.RangesOf(held.Family)))
        {
            capacity += range.ExactCount;
            var (inRange, buggyInRange) = held.CountWithin(range.First, range.Last);
            assigned += (BigInteger)inRange;
            heldUsable += (BigInteger)inRange;
            if (avoidBuggy)
            {
                capacity -= (BigInteger)IpAddressMath.CountBuggy(range.First, range.Last);
                heldUsable -= (BigInteger)buggyInRange;
            }
        }

        return (Saturate(assigned), Saturate(capacity - heldUsable));
    }

    // ::/0 holds 2^128 addresses, one more than UInt128 can say.
    private static UInt128 Saturate(BigInteger value) =>
        value <= 0 ? UInt128.Zero : value >= (BigInteger)UInt128.MaxValue ? UInt128.MaxValue : (UInt128)value;

    private HeldAddressSet Held(IpFamily family) => family == IpFamily.IPv4 ? _ipv4 : _ipv6;

    private IReadOnlyList<Assignment> SortedAssignments(Func<Assignment, bool> filter) =>
        [.. _holdings.Values
            .Select(h => h.Assignment)
            .Where(filter)
            .OrderBy(a => a.Service.Namespace, StringComparer.Ordinal)
            .ThenBy(a => a.Service.Name, StringComparer.Ordinal)];

    private static string Names(IEnumerable<ConfiguredPool> pools) => string.Join(", ", pools.Select(p => p.Name));

    private static AllocationResult Succeeded(Assignment assignment) => new(AllocationFailure.None, assignment, null);

    private static AllocationResult Failed(AllocationFailure failure, string? message) => new(failure, null, message);

    private sealed record Holding(ServiceRequest Request, IReadOnlyList<FamilyAddress> Addresses, Assignment Assignment);

    private sealed record Reservation(long Ticket, ServiceRequest Request, IReadOnlyList<FamilyAddress> Addresses);

    private readonly record struct Outcome(IReadOnlyList<FamilyAddress>? Addresses, AllocationFailure Failure, string? Message)
    {
        public static Outcome Success(IReadOnlyList<FamilyAddress> addresses) => new([.. addresses], AllocationFailure.None, null);

        public static Outcome Fail(AllocationFailure failure, string message) => new(null, failure, message);
    }
}

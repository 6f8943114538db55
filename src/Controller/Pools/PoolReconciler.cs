using BareLb.Allocator;
using BareLb.Api;
using BareLb.Api.Config;
using BareLb.Api.Models;
using k8s;
using k8s.Models;

namespace BareLb.Controller.Pools;

/// <summary>What a pool pass changed: whether allocations must be looked at again, and what deserves an event.</summary>
/// <param name="AllocationChanged">
/// The pools as the allocator sees them (valid definitions, which are draining) differ from the last pass: every
/// Service may now fit elsewhere, or no longer fit where it is.
/// </param>
public sealed record PoolSyncResult(
    bool AllocationChanged,
    IReadOnlyList<(IPAddressPool Pool, IReadOnlyList<ValidationError> Errors)> NewlyInvalid,
    IReadOnlyList<PoolOverlap> NewOverlaps);

/// <summary>
/// Loads IPAddressPools into the allocator and computes their status, without I/O. A pool whose current spec is
/// invalid keeps its last valid definition: a typo in an edit must not move the Services already using the pool.
/// </summary>
public sealed class PoolReconciler(PoolAllocator allocator)
{
    private readonly Dictionary<string, PoolDefinition> _lastValid = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<ValidationError>> _errors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _reportedErrors = new(StringComparer.Ordinal);
    private HashSet<PoolOverlap> _overlaps = [];
    private HashSet<string> _deleting = new(StringComparer.Ordinal);
    private readonly Dictionary<ServiceKey, string> _stuck = [];
    private string _loaded = "";
    private bool _unknownInvalid;

    public IReadOnlyCollection<PoolOverlap> Overlaps => _overlaps;

    public PoolSyncResult Sync(IReadOnlyList<IPAddressPool> pools)
    {
        var newlyInvalid = new List<(IPAddressPool, IReadOnlyList<ValidationError>)>();
        var definitions = new List<PoolDefinition>();
        var draining = new HashSet<string>(StringComparer.Ordinal);
        var present = new HashSet<string>(StringComparer.Ordinal);

        foreach (var pool in pools.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal))
        {
            var name = pool.Metadata.Name ?? "";
            present.Add(name);
            var result = PoolValidator.Validate(pool);
            if (result.IsValid)
            {
                _lastValid[name] = result.Value;
                _errors.Remove(name);
                _reportedErrors.Remove(name);
            }
            else
            {
                _errors[name] = result.Errors;
                var text = string.Join("; ", result.Errors);
                if (!_reportedErrors.TryGetValue(name, out var reported) || reported != text)
                {
                    _reportedErrors[name] = text;
                    newlyInvalid.Add((pool, result.Errors));
                }
            }
            if (_lastValid.TryGetValue(name, out var definition))
            {
                definitions.Add(definition);
            }
            if (pool.Metadata.DeletionTimestamp is not null)
            {
                draining.Add(name);
            }
        }
        foreach (var gone in _lastValid.Keys.Where(k => !present.Contains(k)).ToList())
        {
            _lastValid.Remove(gone);
            _errors.Remove(gone);
            _reportedErrors.Remove(gone);
        }

        // What the allocator sees, in one comparable text: a pass that changes none of it moves nothing.
        var loaded = string.Join("\n", definitions.OrderBy(d => d.Name, StringComparer.Ordinal).Select(Describe)) +
            "\ndraining:" + string.Join(",", draining.Order(StringComparer.Ordinal));
        var changed = loaded != _loaded;
        _loaded = loaded;
        var newOverlaps = new List<PoolOverlap>();
        if (changed)
        {
            var overlaps = allocator.SetPools(definitions).ToHashSet();
            allocator.SetDraining(draining);
            newOverlaps = overlaps.Where(o => !_overlaps.Contains(o)).ToList();
            _overlaps = overlaps;
        }
        _deleting = draining;
        _unknownInvalid = pools.Any(p => p.Metadata.DeletionTimestamp is null && _errors.ContainsKey(p.Metadata.Name ?? "") &&
            !_lastValid.ContainsKey(p.Metadata.Name ?? ""));
        return new PoolSyncResult(changed, newlyInvalid, newOverlaps);
    }

    /// <summary>
    /// True while a pool exists whose spec is invalid and that this controller never saw valid (it restarted while
    /// the pool was broken): an address that lies in no known pool may belong to it, so nothing moves such addresses
    /// until the pool is fixed or deleted. A typo must never change running addresses.
    /// </summary>
    public bool HasUnknownInvalidPools => _unknownInvalid;

    /// <summary>Pools being deleted (they keep their finalizer while Services hold their addresses).</summary>
    public IReadOnlyCollection<string> Deleting => _deleting;

    /// <summary>
    /// Records that a Service keeps an address its pool no longer gives it (the pool was deleted or shrunk, or stopped
    /// admitting it) because no other pool could take it; null when it is not stuck. The pool's Draining condition
    /// names it. Returns the pools whose stuck list changed.
    /// </summary>
    public IReadOnlyList<string> SetStuck(ServiceKey service, string? pool)
    {
        var had = _stuck.GetValueOrDefault(service);
        if (had == pool)
        {
            return [];
        }
        if (pool is null)
        {
            _stuck.Remove(service);
        }
        else
        {
            _stuck[service] = pool;
        }
        return [.. new[] { had, pool }.OfType<string>()];
    }

    /// <summary>
    /// A deleted pool may go once no Service holds one of its addresses (holders of an address in the pool's ranges
    /// are named after it while it drains, unless a live pool serves them) or still shows one it gave up (a move
    /// whose write has not landed). A Service that keeps an address the pool offered before an edit does not hold
    /// the pool: the address is not the pool's any more.
    /// </summary>
    public bool CanRelease(IPAddressPool pool)
    {
        var name = pool.Metadata.Name ?? "";
        return pool.Metadata.DeletionTimestamp is not null && HasFinalizer(pool) &&
            allocator.HoldersOf(name).Count == 0 && !allocator.HasReservationsIn(name);
    }

    private static string Describe(PoolDefinition d) =>
        $"{d.Name}|{string.Join(",", d.Ranges)}|{d.AutoAssign}|{d.AvoidBuggyIPs}|" +
        (d.ServiceAllocation is not { } a ? "" :
            $"{a.Priority}|{string.Join(",", a.Namespaces)}|{string.Join(";", a.NamespaceSelectors.Select(Describe))}|{string.Join(";", a.ServiceSelectors.Select(Describe))}");

    private static string Describe(LabelMatcher m) =>
        string.Join(",", m.MatchLabels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={l.Value}")) + "/" +
        string.Join(",", m.MatchExpressions.Select(e => $"{e.Key} {e.Operator} {string.Join(" ", e.Values)}"));

    public static bool HasFinalizer(IPAddressPool pool) => pool.Metadata.Finalizers?.Contains(Finalizers.PoolProtection) == true;

    public IPAddressPoolStatus DesiredStatus(IPAddressPool pool, DateTimeOffset now)
    {
        var name = pool.Metadata.Name ?? "";
        var status = new IPAddressPoolStatus();
        // A pool that has never been valid is not in the allocator: it offers nothing and nobody holds from it.
        status.SetUsage(_lastValid.ContainsKey(name) ? allocator.GetUsage(name) : new PoolUsage(0, 0, 0, 0));

        var generation = pool.Metadata.Generation;
        var conditions = new List<Condition>();
        if (_errors.TryGetValue(name, out var errors))
        {
            var kept = _lastValid.ContainsKey(name) ? " (the last valid addresses stay in use)" : "";
            conditions.Add(Make(PoolConditions.Valid, false, ConfigConditions.ReasonInvalidSpec, string.Join("; ", errors) + kept));
        }
        else
        {
            conditions.Add(Make(PoolConditions.Valid, true, ConfigConditions.ReasonValid, "the pool is valid and in use"));
        }

        var overlapping = _overlaps.Where(o => o.PoolA == name || o.PoolB == name)
            .Select(o => $"{(o.PoolA == name ? o.PoolB : o.PoolA)} ({o.Shared})").Order(StringComparer.Ordinal).ToList();
        conditions.Add(overlapping.Count > 0
            ? Make(PoolConditions.Conflicting, true, PoolConditions.ReasonAddressesOverlap,
                "addresses overlap with pool " + string.Join(", ", overlapping) + "; each address is still given to one Service only")
            : Make(PoolConditions.Conflicting, false, PoolConditions.ReasonNoOverlap, "no overlap with other pools"));

        var deleting = pool.Metadata.DeletionTimestamp is not null;
        var holders = deleting ? allocator.HoldersOf(name).Select(a => a.Service.ToString()) : [];
        var stuck = _stuck.Where(kv => kv.Value == name).Select(kv => kv.Key.ToString());
        var waiting = holders.Concat(stuck).Distinct().Order(StringComparer.Ordinal).ToList();
        if (deleting || waiting.Count > 0)
        {
            var why = deleting ? "the pool is being deleted" : "the pool no longer gives these Services their addresses (addresses removed, or serviceAllocation changed)";
            var message = waiting.Count == 0
                ? $"{why}; no Service holds its addresses"
                : $"{why}; no other compatible pool can take these Services, which keep their addresses: {NameList(waiting)}";
            conditions.Add(Make(PoolConditions.Draining, true, deleting ? PoolConditions.ReasonPoolDeleted : "AddressesRemoved", message));
        }
        else
        {
            conditions.Add(Make(PoolConditions.Draining, false, PoolConditions.ReasonNotDeleted, "the pool is not being drained"));
        }

        // A condition's lastTransitionTime changes only when its status does.
        foreach (var condition in conditions)
        {
            var old = pool.Status?.Conditions?.FirstOrDefault(c => c.Type == condition.Type);
            condition.LastTransitionTime = old is not null && old.Status == condition.Status && old.LastTransitionTime is { } t ? t : now;
        }
        status.Conditions = conditions;
        return status;

        Condition Make(string type, bool value, string reason, string message) => new()
        {
            Type = type,
            Status = value ? "True" : "False",
            Reason = reason,
            Message = message,
            ObservedGeneration = generation,
        };
    }

    /// <summary>
    /// Condition messages are bounded by the CRD (32 KiB) and read by people: name the first few, count the rest.
    /// </summary>
    private static string NameList(IReadOnlyList<string> names, int shown = 20) =>
        names.Count <= shown ? string.Join(", ", names) : $"{string.Join(", ", names.Take(shown))} and {names.Count - shown} more";

    public static bool StatusEquals(IPAddressPoolStatus? a, IPAddressPoolStatus b)
    {
        if (a is null)
        {
            return false;
        }
        if (a.AssignedIPv4 != b.AssignedIPv4 || a.AssignedIPv6 != b.AssignedIPv6 ||
            a.AvailableIPv4 != b.AvailableIPv4 || a.AvailableIPv6 != b.AvailableIPv6)
        {
            return false;
        }
        var ca = a.Conditions ?? [];
        var cb = b.Conditions ?? [];
        return ca.Count == cb.Count && ca.Zip(cb).All(p =>
            p.First.Type == p.Second.Type && p.First.Status == p.Second.Status && p.First.Reason == p.Second.Reason &&
            p.First.Message == p.Second.Message && p.First.ObservedGeneration == p.Second.ObservedGeneration &&
            p.First.LastTransitionTime == p.Second.LastTransitionTime);
    }
}

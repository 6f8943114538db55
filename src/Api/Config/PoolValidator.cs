using BareLb.Allocator;
using BareLb.Api.Models;

namespace BareLb.Api.Config;

/// <summary>Turns an IPAddressPool into the allocator's <see cref="PoolDefinition"/>, or says what is wrong with it.</summary>
public static class PoolValidator
{
    public static ValidationResult<PoolDefinition> Validate(IPAddressPool pool)
    {
        ArgumentNullException.ThrowIfNull(pool);
        var errors = new List<ValidationError>();
        var name = pool.Metadata?.Name;
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(new("metadata.name", "must be set"));
        }

        var spec = pool.Spec;
        if (spec is null)
        {
            errors.Add(new("spec", "must be set"));
            return new ValidationResult<PoolDefinition>(null, errors);
        }

        var ranges = ParseAddresses(spec.Addresses, errors);
        var allocation = ParseServiceAllocation(spec.ServiceAllocation, errors);
        return ValidationResult<PoolDefinition>.Of(errors, () => new PoolDefinition(
            name!, ranges, spec.AutoAssign ?? true, spec.AvoidBuggyIPs ?? false, allocation));
    }

    private static List<IpRange> ParseAddresses(List<string>? addresses, List<ValidationError> errors)
    {
        var ranges = new List<IpRange>();
        if (addresses is null || addresses.Count == 0)
        {
            errors.Add(new("spec.addresses", "must list at least one CIDR or range"));
            return ranges;
        }

        var parsed = new List<(int Index, IpRange Range)>();
        for (var i = 0; i < addresses.Count; i++)
        {
            var field = $"spec.addresses[{i}]";
            if (addresses[i] is null)
            {
                errors.Add(new(field, "must be a CIDR or range, not null"));
            }
            else if (!IpRange.TryParse(addresses[i], out var range, out var error))
            {
                errors.Add(new(field, error));
            }
            else
            {
                parsed.Add((i, range));
                ranges.Add(range);
            }
        }

        // Sorted by start, an entry overlaps an earlier one exactly when it starts before the furthest end seen so
        // far in its family: O(n log n) however many entries a pool lists.
        (int Index, IpRange Range)? furthest = null;
        foreach (var entry in parsed.OrderBy(e => e.Range.Family).ThenBy(e => e.Range.First).ThenBy(e => e.Index))
        {
            if (furthest is { } previous && previous.Range.Family == entry.Range.Family && entry.Range.First <= previous.Range.Last)
            {
                var (later, earlier) = entry.Index > previous.Index ? (entry, previous) : (previous, entry);
                errors.Add(new($"spec.addresses[{later.Index}]",
                    $"{later.Range} overlaps {earlier.Range} (spec.addresses[{earlier.Index}])"));
            }

            if (furthest is not { } current || current.Range.Family != entry.Range.Family || entry.Range.Last > current.Range.Last)
            {
                furthest = entry;
            }
        }

        return ranges;
    }

    private static ServiceAllocationPolicy? ParseServiceAllocation(ServiceAllocation? allocation, List<ValidationError> errors)
    {
        if (allocation is null)
        {
            return null;
        }

        int? priority = null;
        if (allocation.Priority < 0)
        {
            errors.Add(new("spec.serviceAllocation.priority", $"{allocation.Priority} is negative; use 1 or more (lower is tried first), or leave it unset"));
        }
        else if (allocation.Priority > 0)
        {
            priority = allocation.Priority;
        }

        var namespaces = FieldLists.Names(allocation.Namespaces, "spec.serviceAllocation.namespaces", KubernetesNames.CheckDnsLabel, errors);
        var namespaceSelectors = FieldLists.Selectors(allocation.NamespaceSelectors, "spec.serviceAllocation.namespaceSelectors", errors);
        var serviceSelectors = FieldLists.Selectors(allocation.ServiceSelectors, "spec.serviceAllocation.serviceSelectors", errors);
        return new ServiceAllocationPolicy(priority, namespaces, namespaceSelectors, serviceSelectors);
    }
}

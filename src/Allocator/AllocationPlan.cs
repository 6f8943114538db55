using System.Net;

namespace BareLb.Allocator;

internal readonly record struct FamilyAddress(IpFamily Family, UInt128 Value)
{
    public IPAddress ToAddress() => IpAddressMath.ToAddress(Family, Value);

    public static FamilyAddress From(IPAddress address) =>
        new(IpAddressMath.FamilyOf(address), IpAddressMath.ToUInt128(address));
}

// What a request asks for, checked once: the families to allocate (and the single-family fallback of
// PreferDualStack) and the requested addresses in family order.
internal sealed class AllocationPlan
{
    private AllocationPlan(IReadOnlyList<IpFamily> families, IReadOnlyList<IpFamily>? fallback, IReadOnlyList<FamilyAddress> requested)
    {
        Families = families;
        Fallback = fallback;
        Requested = requested;
    }

    public IReadOnlyList<IpFamily> Families { get; }

    // PreferDualStack: the primary family alone, tried when no pool can give both.
    public IReadOnlyList<IpFamily>? Fallback { get; }

    public IReadOnlyList<FamilyAddress> Requested { get; }

    public static bool TryCreate(ServiceRequest request, out AllocationPlan plan, out string? error)
    {
        plan = null!;
        if (request.SharingKey is { Length: 0 })
        {
            error = "sharing key is empty";
            return false;
        }

        if (!TryValidateFamilies(request.Families, out error))
        {
            return false;
        }

        IReadOnlyList<IpFamily> families;
        IReadOnlyList<IpFamily>? fallback = null;
        switch (request.FamilyPolicy)
        {
            case IpFamilyPolicy.SingleStack:
                families = [request.Families[0]];
                break;
            case IpFamilyPolicy.RequireDualStack when request.Families.Count < 2:
                error = "ipFamilyPolicy RequireDualStack needs both IPv4 and IPv6 in ipFamilies";
                return false;
            case IpFamilyPolicy.RequireDualStack:
                families = request.Families;
                break;
            case IpFamilyPolicy.PreferDualStack:
                families = request.Families;
                fallback = families.Count > 1 ? [families[0]] : null;
                break;
            default:
                error = $"ipFamilyPolicy {request.FamilyPolicy} is not SingleStack, PreferDualStack or RequireDualStack";
                return false;
        }

        if (!TryValidateRequested(request, families, out var requested, out error))
        {
            return false;
        }

        plan = new AllocationPlan(families, fallback, requested);
        return true;
    }

    // Whether held addresses have the shape the policy asks for: exactly one per planned family, or the
    // PreferDualStack fallback of the primary family alone.
    public bool IsShapeOf(IReadOnlyList<FamilyAddress> addresses) =>
        HasExactly(addresses, Families) || (Fallback is { } fallback && HasExactly(addresses, fallback));

    private static bool HasExactly(IReadOnlyList<FamilyAddress> addresses, IReadOnlyList<IpFamily> families) =>
        addresses.Count == families.Count && families.All(f => addresses.Any(a => a.Family == f));

    private static bool TryValidateFamilies(IReadOnlyList<IpFamily> families, out string? error)
    {
        error = families.Count switch
        {
            0 => "ipFamilies is empty",
            > 2 => $"ipFamilies lists {families.Count} families; at most IPv4 and IPv6",
            _ => null,
        };

        foreach (var family in families)
        {
            if (!Enum.IsDefined(family))
            {
                error ??= $"ipFamilies contains unknown family {(int)family}";
            }
        }

        if (families.Count == 2 && families[0] == families[1])
        {
            error ??= $"ipFamilies lists {families[0]} twice";
        }

        return error is null;
    }

    private static bool TryValidateRequested(
        ServiceRequest request,
        IReadOnlyList<IpFamily> families,
        out IReadOnlyList<FamilyAddress> requested,
        out string? error)
    {
        requested = [];
        if (request.RequestedAddresses.Count == 0)
        {
            error = null;
            return true;
        }

        var byFamily = new FamilyAddress?[2];
        var written = new IPAddress?[2];
        foreach (var address in request.RequestedAddresses)
        {
            if (!TryValidateAddress(address, "requested address", out error))
            {
                return false;
            }

            var family = IpAddressMath.FamilyOf(address);
            if (!families.Contains(family))
            {
                error = $"requested address {address} is {family}, but the service's ipFamilies ({request.FamilyPolicy}) allow only {string.Join(", ", families)}";
                return false;
            }

            if (written[(int)family] is { } first)
            {
                error = $"requested addresses {first} and {address} are both {family}; at most one address per family";
                return false;
            }

            written[(int)family] = address;
            byFamily[(int)family] = FamilyAddress.From(address);
        }

        if (request.FamilyPolicy == IpFamilyPolicy.RequireDualStack && byFamily.Any(a => a is null))
        {
            error = "ipFamilyPolicy RequireDualStack needs a requested address of each family, got only one";
            return false;
        }

        requested = [.. families.Where(f => byFamily[(int)f] is not null).Select(f => byFamily[(int)f]!.Value)];
        error = null;
        return true;
    }

    public static bool TryValidateAddress(IPAddress? address, string what, out string? error)
    {
        if (address is null)
        {
            error = $"{what} is null";
            return false;
        }

        if (address.AddressFamily is not (System.Net.Sockets.AddressFamily.InterNetwork or System.Net.Sockets.AddressFamily.InterNetworkV6))
        {
            error = $"{what} {address} is neither IPv4 nor IPv6";
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            error = $"{what} {address} is an IPv4-mapped IPv6 address; use {address.MapToIPv4()}";
            return false;
        }

        error = null;
        return true;
    }
}

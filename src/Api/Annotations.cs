namespace BareLb.Api;

/// <summary>
/// Service annotations. BareLb's own names come first; MetalLB's current (metallb.io) and legacy
/// (metallb.universe.tf) names are read too, so a Service written for MetalLB works unchanged.
/// </summary>
public static class Annotations
{
    /// <summary>Comma-separated addresses to assign, at most one per family.</summary>
    public const string LoadBalancerIPs = "barelb.io/loadBalancerIPs";
    /// <summary>Name of the IPAddressPool to take the address from.</summary>
    public const string AddressPool = "barelb.io/address-pool";
    /// <summary>Sharing key: Services with the same key may hold the same address.</summary>
    public const string AllowSharedIP = "barelb.io/allow-shared-ip";
    /// <summary>Written by the controller: the pool the Service's address came from.</summary>
    public const string IPAllocatedFromPool = "barelb.io/ip-allocated-from-pool";

    public const string MetalLBLoadBalancerIPs = "metallb.io/loadBalancerIPs";
    public const string MetalLBAddressPool = "metallb.io/address-pool";
    public const string MetalLBAllowSharedIP = "metallb.io/allow-shared-ip";

    public const string LegacyMetalLBLoadBalancerIPs = "metallb.universe.tf/loadBalancerIPs";
    public const string LegacyMetalLBAddressPool = "metallb.universe.tf/address-pool";
    public const string LegacyMetalLBAllowSharedIP = "metallb.universe.tf/allow-shared-ip";

    /// <summary>The names of each request annotation in precedence order.</summary>
    public static IReadOnlyList<string> LoadBalancerIPsKeys { get; } =
        [LoadBalancerIPs, MetalLBLoadBalancerIPs, LegacyMetalLBLoadBalancerIPs];

    public static IReadOnlyList<string> AddressPoolKeys { get; } =
        [AddressPool, MetalLBAddressPool, LegacyMetalLBAddressPool];

    public static IReadOnlyList<string> AllowSharedIPKeys { get; } =
        [AllowSharedIP, MetalLBAllowSharedIP, LegacyMetalLBAllowSharedIP];

    /// <summary>The first of <paramref name="keys"/> present on the object, or null.</summary>
    public static AnnotationValue? Find(IReadOnlyDictionary<string, string>? annotations, IReadOnlyList<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (annotations is null)
        {
            return null;
        }

        foreach (var key in keys)
        {
            if (annotations.TryGetValue(key, out var value))
            {
                return new AnnotationValue(key, value);
            }
        }

        return null;
    }

    /// <summary>
    /// Every one of <paramref name="keys"/> present, in precedence order, so a caller can report a Service that
    /// carries, say, both barelb.io/address-pool and metallb.io/address-pool with different values.
    /// </summary>
    public static IReadOnlyList<AnnotationValue> FindAll(IReadOnlyDictionary<string, string>? annotations, IReadOnlyList<string> keys)
    {
        ArgumentNullException.ThrowIfNull(keys);
        if (annotations is null)
        {
            return [];
        }

        var found = new List<AnnotationValue>();
        foreach (var key in keys)
        {
            if (annotations.TryGetValue(key, out var value))
            {
                found.Add(new AnnotationValue(key, value));
            }
        }

        return found;
    }
}

public readonly record struct AnnotationValue(string Key, string Value);

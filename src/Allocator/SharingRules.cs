using System.Net;

namespace BareLb.Allocator;

// Whether two Services may hold one address. The reason names the rule and the other Service, because the
// operator reading a Service event has to find the one it collides with.
internal static class SharingRules
{
    public static string? Conflict(IPAddress address, ServiceRequest candidate, ServiceRequest holder)
    {
        var other = holder.Key;
        if (candidate.SharingKey is null)
        {
            return holder.SharingKey is null
                ? $"address {address} is in use by {other}"
                : $"address {address} is in use by {other} with sharing key \"{holder.SharingKey}\"; this service has no sharing key";
        }

        if (holder.SharingKey is null)
        {
            return $"address {address} is in use by {other}, which has no sharing key";
        }

        if (!string.Equals(candidate.SharingKey, holder.SharingKey, StringComparison.Ordinal))
        {
            return $"address {address} is shared by {other} with key \"{holder.SharingKey}\", not \"{candidate.SharingKey}\"";
        }

        var prefix = $"address {address} is shared by {other} with key \"{holder.SharingKey}\"";
        foreach (var port in candidate.Ports)
        {
            if (holder.Ports.Contains(port))
            {
                return $"{prefix}: port {port.Protocol}/{port.Port} is used by both";
            }
        }

        if (candidate.ExternalTrafficPolicy != holder.ExternalTrafficPolicy)
        {
            return $"{prefix}: externalTrafficPolicy {candidate.ExternalTrafficPolicy} cannot share with {holder.ExternalTrafficPolicy}";
        }

        // With Local, the address is announced only from nodes running the pods; different pods would make
        // one of the services unreachable on some of those nodes.
        if (candidate.ExternalTrafficPolicy == TrafficPolicy.Local && !SameSelector(candidate.Selector, holder.Selector))
        {
            return $"{prefix}: externalTrafficPolicy Local needs the same pod selector on both services";
        }

        return null;
    }

    private static bool SameSelector(IReadOnlyDictionary<string, string>? x, IReadOnlyDictionary<string, string>? y)
    {
        var left = x ?? EmptySelector;
        var right = y ?? EmptySelector;
        if (left.Count != right.Count)
        {
            return false;
        }

        foreach (var (key, value) in left)
        {
            if (!right.TryGetValue(key, out var other) || !string.Equals(value, other, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    private static readonly IReadOnlyDictionary<string, string> EmptySelector = new Dictionary<string, string>();
}

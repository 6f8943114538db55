using System.Net;
using BareLb.Allocator;
using BareLb.Controller.Reconciliation;

namespace BareLb.Controller.Services;

/// <summary>
/// Services of ours that hold no address because their request could not be met, and the one place that retries
/// them, on what could help them: an address was freed (<see cref="RetryAll"/>, also after the pools changed), or a
/// co-sharer changed its sharing terms (<see cref="RetryCoSharers"/>). Nothing else retries them; in particular the
/// controller's own writes do not.
/// </summary>
public sealed class WaitingServices(Action<WorkItem> enqueue)
{
    private readonly Dictionary<ServiceKey, ServiceRequest?> _waiting = [];

    public IReadOnlyCollection<ServiceKey> Keys => _waiting.Keys;

    public bool Contains(ServiceKey key) => _waiting.ContainsKey(key);

    /// <param name="request">What it asks for, or null when its request is malformed.</param>
    public void Set(ServiceKey key, ServiceRequest? request) => _waiting[key] = request;

    public void Remove(ServiceKey key) => _waiting.Remove(key);

    /// <summary>An address became free, or the pools changed: every waiting Service may fit now.</summary>
    public void RetryAll()
    {
        foreach (var key in _waiting.Keys)
        {
            enqueue(WorkItem.ForService(key.Namespace, key.Name));
        }
    }

    /// <summary>
    /// A Service's sharing terms (key, ports, traffic policy, selector, requested addresses) changed from
    /// <paramref name="before"/> to <paramref name="after"/>: Services waiting to share with it may fit now.
    /// </summary>
    public void RetryCoSharers(ServiceRequest? before, ServiceRequest? after, IEnumerable<IPAddress> addresses)
    {
        var keys = new[] { before?.SharingKey, after?.SharingKey }.OfType<string>().ToHashSet(StringComparer.Ordinal);
        var held = addresses.ToHashSet();
        foreach (var (key, request) in _waiting)
        {
            if (request is null)
            {
                continue;
            }
            if ((request.SharingKey is { } k && keys.Contains(k)) || request.RequestedAddresses.Any(held.Contains))
            {
                enqueue(WorkItem.ForService(key.Namespace, key.Name));
            }
        }
    }

    /// <summary>Whether a change from <paramref name="before"/> to <paramref name="after"/> can matter to another Service's sharing.</summary>
    public static bool SharingTermsChanged(ServiceRequest? before, ServiceRequest? after)
    {
        if (before is null || after is null)
        {
            return before is not null || after is not null;
        }
        return before.SharingKey != after.SharingKey ||
            before.ExternalTrafficPolicy != after.ExternalTrafficPolicy ||
            !before.Ports.SequenceEqual(after.Ports) ||
            !before.RequestedAddresses.SequenceEqual(after.RequestedAddresses) ||
            !SameMap(before.Selector, after.Selector);
    }

    private static bool SameMap(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a?.Count ?? 0) == (b?.Count ?? 0) && (a ?? new Dictionary<string, string>()).All(kv => b!.TryGetValue(kv.Key, out var v) && v == kv.Value);
}

using System.Net;
using BareLb.Api;
using BareLb.Api.Config;
using BareLb.Kubernetes;
using k8s.Models;

namespace BareLb.Speaker.Planning;

/// <summary>Rules both announcement modes share: which Services are ours, where an address belongs, who can serve it.</summary>
internal static class ServiceAddresses
{
    public static string Key(V1Service service) => $"{service.Metadata.NamespaceProperty}/{service.Metadata.Name}";

    public static bool IsOurs(V1Service service, string? loadBalancerClass) =>
        service.Spec?.Type == "LoadBalancer" && service.Metadata.DeletionTimestamp is null &&
        string.Equals(service.Spec.LoadBalancerClass, loadBalancerClass, StringComparison.Ordinal);

    /// <summary>The LoadBalancer addresses the Service shows, parsed.</summary>
    public static IEnumerable<IPAddress> Addresses(V1Service service)
    {
        foreach (var ingress in service.Status?.LoadBalancer?.Ingress ?? [])
        {
            if (ingress.Ip is { } text && IPAddress.TryParse(text, out var address))
            {
                yield return address;
            }
        }
    }

    /// <summary>The pool the controller recorded, if it still holds the address; else the first pool that does.</summary>
    public static string? PoolOf(BareLbConfig config, V1Service service, IPAddress address)
    {
        if (service.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.IPAllocatedFromPool) is { } annotated &&
            config.FindPool(annotated) is { } recorded && recorded.Ranges.Any(r => r.Contains(address)))
        {
            return recorded.Name;
        }
        return config.Pools.FirstOrDefault(p => p.Ranges.Any(r => r.Contains(address)))?.Name;
    }

    /// <summary>externalTrafficPolicy Local: a ready endpoint on the node; Cluster: a ready endpoint anywhere.</summary>
    public static bool CanServe(string node, V1Service service, IReadOnlyDictionary<string, ServiceEndpoints> endpoints)
    {
        var ready = endpoints.GetValueOrDefault(Key(service)) ?? ServiceEndpoints.None;
        return service.Spec.ExternalTrafficPolicy == "Local" ? ready.NodesWithReadyEndpoints.Contains(node) : ready.AnyReady;
    }
}

using BareLb.Kubernetes;
using System.Net;
using BareLb.Api;
using BareLb.Api.Config;
using k8s;
using k8s.Models;
using BareLb.Speaker.Election;

namespace BareLb.Speaker.Layer2;

/// <summary>An address this node answers ARP/NDP for. Empty <see cref="Interfaces"/>: every interface.</summary>
public sealed record Announcement(string Address, string Service, string Pool, IReadOnlyList<string> Interfaces)
{
    public override string ToString() =>
        $"{Address} for {Service} (pool {Pool}) on {(Interfaces.Count == 0 ? "all interfaces" : string.Join(",", Interfaces))}";
}

public sealed record NodeInfo(string Name, IReadOnlyDictionary<string, string> Labels, bool Ready)
{
    public static NodeInfo From(V1Node node) => new(
        node.Metadata.Name ?? "",
        node.Metadata.LabelsOrEmpty(),
        node.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true);
}

/// <summary>
/// Decides, without I/O, which Service addresses this node announces over layer 2: an address is announced by
/// exactly one node, elected among the Ready nodes that an L2Advertisement for the address's pool selects.
/// </summary>
public static class AnnouncementPlanner
{
    public static IReadOnlyList<Announcement> Plan(
        string thisNode, BareLbConfig config, IEnumerable<V1Service> services, IReadOnlyList<NodeInfo> nodes, string? loadBalancerClass)
    {
        var plan = new List<Announcement>();
        foreach (var service in services)
        {
            if (service.Spec.Type != "LoadBalancer" || service.Spec.LoadBalancerClass != loadBalancerClass)
            {
                continue;
            }
            var key = $"{service.Metadata.NamespaceProperty}/{service.Metadata.Name}";
            foreach (var ingress in service.Status?.LoadBalancer?.Ingress ?? [])
            {
                if (ingress.Ip is not { } ip || !IPAddress.TryParse(ip, out var address))
                {
                    continue;
                }
                var pool = PoolOf(config, service, address);
                if (pool is null)
                {
                    continue;
                }
                var advertisements = config.L2AdvertisementsFor(pool);
                var eligible = nodes.Where(n => n.Ready && advertisements.Any(a => a.SelectsNode(n.Labels))).Select(n => n.Name);
                if (OwnerElection.Owner(ip, eligible) != thisNode)
                {
                    continue;
                }
                var mine = advertisements.Where(a => a.SelectsNode(nodes.First(n => n.Name == thisNode).Labels)).ToList();
                var interfaces = mine.Any(a => a.AllInterfaces)
                    ? []
                    : mine.SelectMany(a => a.Interfaces).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                plan.Add(new Announcement(ip, key, pool, interfaces));
            }
        }
        plan.Sort((a, b) => string.CompareOrdinal(a.Address, b.Address));
        return plan;
    }

    /// <summary>The pool the controller recorded, if it still holds the address; else the first pool that does.</summary>
    private static string? PoolOf(BareLbConfig config, V1Service service, IPAddress address)
    {
        if (service.Metadata.AnnotationsOrEmpty().GetValueOrDefault(Annotations.IPAllocatedFromPool) is { } annotated &&
            config.FindPool(annotated) is { } recorded && recorded.Ranges.Any(r => r.Contains(address)))
        {
            return recorded.Name;
        }
        return config.Pools.FirstOrDefault(p => p.Ranges.Any(r => r.Contains(address)))?.Name;
    }
}

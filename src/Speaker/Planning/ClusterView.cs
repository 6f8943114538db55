using System.Net;
using BareLb.Kubernetes;
using k8s.Models;

namespace BareLb.Speaker.Planning;

/// <summary>What the planner needs of a Node. Liveness is not here: it comes from the speakers' own membership.</summary>
public sealed record NodeInfo(
    string Name,
    IReadOnlyDictionary<string, string> Labels,
    bool NetworkUnavailable = false,
    IReadOnlyList<IPAddress>? InternalAddresses = null)
{
    /// <summary>The node's InternalIPs (one per family on a dual-stack node).</summary>
    public IReadOnlyList<IPAddress> Addresses => InternalAddresses ?? [];

    /// <summary>The first InternalIP: where the node's speaker is reached for membership.</summary>
    public IPAddress? InternalAddress => Addresses.FirstOrDefault();

    /// <summary>The well-known label that takes a node out of every external load balancer (as cloud providers honour it).</summary>
    public const string ExcludeFromExternalLoadBalancers = "node.kubernetes.io/exclude-from-external-load-balancers";

    public bool ExcludedFromLoadBalancers => Labels.ContainsKey(ExcludeFromExternalLoadBalancers);

    public static NodeInfo From(V1Node node)
    {
        var conditions = node.Status?.Conditions ?? [];
        var internalIps = (node.Status?.Addresses ?? [])
            .Where(a => a.Type == "InternalIP" && IPAddress.TryParse(a.Address, out _))
            .Select(a => IPAddress.Parse(a.Address))
            .ToList();
        return new NodeInfo(
            node.Metadata.Name ?? "",
            node.Metadata.LabelsOrEmpty(),
            conditions.Any(c => c.Type == "NetworkUnavailable" && c.Status == "True"),
            internalIps);
    }
}

/// <summary>Where a Service's ready endpoints run, from its EndpointSlices.</summary>
public sealed record ServiceEndpoints(IReadOnlySet<string> NodesWithReadyEndpoints, bool AnyReady)
{
    public static ServiceEndpoints None { get; } = new(new HashSet<string>(), false);

    /// <summary>
    /// Merges the slices of one Service. An endpoint counts as ready when its <c>ready</c> condition is true or unset
    /// (the API's documented meaning of an absent condition); one without a nodeName still makes the Service
    /// reachable for externalTrafficPolicy Cluster.
    /// </summary>
    public static ServiceEndpoints From(IEnumerable<V1EndpointSlice> slices)
    {
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        var any = false;
        foreach (var slice in slices)
        {
            foreach (var endpoint in slice.Endpoints ?? [])
            {
                if (endpoint.Conditions?.Ready == false)
                {
                    continue;
                }
                any = true;
                if (!string.IsNullOrEmpty(endpoint.NodeName))
                {
                    nodes.Add(endpoint.NodeName);
                }
            }
        }
        return new ServiceEndpoints(nodes, any);
    }
}

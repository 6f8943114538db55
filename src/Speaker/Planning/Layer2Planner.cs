using System.Net;
using BareLb.Api.Config;
using k8s.Models;

namespace BareLb.Speaker.Planning;

/// <summary>One LoadBalancer address in layer-2 mode and who answers for it.</summary>
/// <param name="Services">Every Service showing the address ("namespace/name"), several when it is shared.</param>
/// <param name="Owner">The elected node, or null when no node qualifies (see <paramref name="Candidates"/>).</param>
/// <param name="Interfaces">On the owner: the interfaces its advertisements allow; null means every interface.</param>
public sealed record Layer2Address(
    IPAddress Address,
    string Pool,
    IReadOnlyList<string> Services,
    IReadOnlyList<string> Candidates,
    string? Owner,
    IReadOnlyList<string>? Interfaces);

/// <summary>What every speaker knows that decides layer-2 ownership. Every speaker that sees the same input plans the same owners.</summary>
public sealed record Layer2PlanInput(
    string ThisNode,
    BareLbConfig Config,
    IReadOnlyCollection<V1Service> Services,
    IReadOnlyDictionary<string, NodeInfo> Nodes,
    IReadOnlySet<string> LiveSpeakers,
    IReadOnlyDictionary<string, ServiceEndpoints> Endpoints,
    string? LoadBalancerClass);

/// <summary>
/// Decides, without I/O, which node answers ARP/NDP for each LoadBalancer address. The candidates for an address are
/// the live speakers on nodes that an L2Advertisement of the address's pool selects, that do not report
/// NetworkUnavailable and do not carry <see cref="NodeInfo.ExcludeFromExternalLoadBalancers"/>, and that can serve
/// the traffic: for externalTrafficPolicy Local a node with a ready endpoint of the Service, for Cluster any node as
/// long as some endpoint is ready. Among them the rendezvous hash of (node, address) picks one
/// (<see cref="OwnerElection"/>): no coordination, and a node joining or leaving moves only what it gains or owned.
/// </summary>
public static class Layer2Planner
{
    public static IReadOnlyList<Layer2Address> Plan(Layer2PlanInput input)
    {
        // Shared addresses: all Services showing one address are planned together, so they land on one node.
        var byAddress = new Dictionary<IPAddress, (string Pool, List<V1Service> Services)>();
        foreach (var service in input.Services)
        {
            if (!ServiceAddresses.IsOurs(service, input.LoadBalancerClass))
            {
                continue;
            }
            foreach (var address in ServiceAddresses.Addresses(service))
            {
                if (byAddress.TryGetValue(address, out var entry))
                {
                    entry.Services.Add(service);
                }
                else if (ServiceAddresses.PoolOf(input.Config, service, address) is { } pool)
                {
                    byAddress[address] = (pool, [service]);
                }
            }
        }

        var plan = new List<Layer2Address>(byAddress.Count);
        foreach (var (address, (pool, services)) in byAddress)
        {
            var advertisements = input.Config.L2AdvertisementsFor(pool);
            if (advertisements.Count == 0)
            {
                continue;
            }
            services.Sort((a, b) => string.CompareOrdinal(Key(a), Key(b)));
            var candidates = input.Nodes.Values
                .Where(node => input.LiveSpeakers.Contains(node.Name) && !node.NetworkUnavailable && !node.ExcludedFromLoadBalancers &&
                    advertisements.Any(a => a.SelectsNode(node.Labels)) &&
                    services.Any(s => ServiceAddresses.CanServe(node.Name, s, input.Endpoints)))
                .Select(node => node.Name)
                .Order(StringComparer.Ordinal)
                .ToList();
            var owner = OwnerElection.Owner(address.ToString(), candidates);
            plan.Add(new Layer2Address(address, pool, [.. services.Select(Key)], candidates, owner,
                owner is null ? null : InterfacesOn(input.Nodes[owner], advertisements)));
        }
        plan.Sort((a, b) => CompareAddresses(a.Address, b.Address));
        return plan;
    }


    private static IReadOnlyList<string>? InterfacesOn(NodeInfo node, IReadOnlyList<L2AdvertisementConfig> advertisements)
    {
        var selecting = advertisements.Where(a => a.SelectsNode(node.Labels)).ToList();
        return selecting.Any(a => a.AllInterfaces)
            ? null
            : [.. selecting.SelectMany(a => a.Interfaces).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }


    public static string Key(V1Service service) => ServiceAddresses.Key(service);

    private static int CompareAddresses(IPAddress a, IPAddress b)
    {
        var family = a.AddressFamily.CompareTo(b.AddressFamily);
        return family != 0 ? family : a.GetAddressBytes().AsSpan().SequenceCompareTo(b.GetAddressBytes());
    }
}

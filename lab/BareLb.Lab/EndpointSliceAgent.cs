using System.Net;
using System.Text.Json.Nodes;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Informers;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

namespace BareLb.Lab;

/// <summary>
/// The lab's stand-in for the pods and the EndpointSlice controller: every LoadBalancer Service gets EndpointSlices
/// (one per address family) with one ready endpoint per node, its address being the node's, as if a pod of the
/// Service ran on every node. The annotation <see cref="EndpointNodes"/> ("node1,node3") limits the endpoints to those
/// nodes, for externalTrafficPolicy: Local scenarios; "" means no ready endpoint at all.
/// </summary>
public sealed class EndpointSliceAgent(IKubernetesClient client)
{
    public const string EndpointNodes = "lab.barelb.io/endpoint-nodes";
    public const string ManagedBy = "lab.barelb.io";

    private readonly SemaphoreSlim _changed = new(0, 1);

    public async Task RunAsync(CancellationToken ct)
    {
        var services = new ResourceInformer<V1Service>(client, CoreResources.Services, null, NullLogger.Instance);
        var nodes = new ResourceInformer<V1Node>(client, CoreResources.Nodes, null, NullLogger.Instance);
        var slices = new ResourceInformer<V1EndpointSlice>(client, CoreResources.EndpointSlices,
            new ResourceInformerOptions { LabelSelector = $"endpointslice.kubernetes.io/managed-by={ManagedBy}" }, NullLogger.Instance);
        services.AddEventHandler(new ResourceEventHandler<V1Service>(_ => Signal(), (_, _) => Signal(), _ => Signal()));
        nodes.AddEventHandler(new ResourceEventHandler<V1Node>(_ => Signal(), (_, _) => Signal(), _ => Signal()));
        var running = Task.WhenAll(services.RunAsync(ct), nodes.RunAsync(ct), slices.RunAsync(ct));
        await InformerSync.WaitAllAsync([services, nodes, slices], ct).ConfigureAwait(false);
        Console.WriteLine("agent: synced");
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await ReconcileAsync(services.List(), nodes.List(), slices.List(), ct).ConfigureAwait(false);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                Console.WriteLine($"agent: {e.Message}; retrying");
                await Task.Delay(500, ct).ConfigureAwait(false);
                Signal();
            }
            await _changed.WaitAsync(ct).ConfigureAwait(false);
        }
        await running.ConfigureAwait(false);
    }

    private void Signal()
    {
        if (_changed.CurrentCount == 0)
        {
            try
            {
                _changed.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

    private async Task ReconcileAsync(IReadOnlyList<V1Service> services, IReadOnlyList<V1Node> nodes, IReadOnlyList<V1EndpointSlice> existing, CancellationToken ct)
    {
        var wanted = new Dictionary<string, V1EndpointSlice>(StringComparer.Ordinal);
        foreach (var service in services.Where(s => s.Spec.Type == "LoadBalancer"))
        {
            foreach (var slice in Desired(service, nodes))
            {
                wanted[$"{slice.Metadata.NamespaceProperty}/{slice.Metadata.Name}"] = slice;
            }
        }
        var have = existing.ToDictionary(s => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}", StringComparer.Ordinal);
        foreach (var (key, slice) in wanted)
        {
            if (!have.TryGetValue(key, out var current))
            {
                await client.CreateAsync(CoreResources.EndpointSlices, slice, ct).ConfigureAwait(false);
            }
            else if (Fingerprint(current) != Fingerprint(slice))
            {
                var patch = JsonNode.Parse(k8s.KubernetesJson.Serialize(new { endpoints = slice.Endpoints, ports = slice.Ports }))!;
                await client.PatchAsync(CoreResources.EndpointSlices, slice.Metadata.NamespaceProperty, slice.Metadata.Name, patch, status: false, ct).ConfigureAwait(false);
            }
        }
        foreach (var (key, slice) in have.Where(kv => !wanted.ContainsKey(kv.Key)))
        {
            try
            {
                await client.DeleteAsync(CoreResources.EndpointSlices, slice.Metadata.NamespaceProperty, slice.Metadata.Name, null, ct).ConfigureAwait(false);
            }
            catch (NotFoundException)
            {
            }
        }
    }

    private static IEnumerable<V1EndpointSlice> Desired(V1Service service, IReadOnlyList<V1Node> nodes)
    {
        var annotated = service.Metadata.AnnotationsOrEmpty().GetValueOrDefault(EndpointNodes);
        var chosen = annotated is null
            ? nodes
            : nodes.Where(n => annotated.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Contains(n.Metadata.Name));
        var ports = (service.Spec.Ports ?? []).Select(p => new Discoveryv1EndpointPort
        {
            Name = p.Name,
            Protocol = p.Protocol ?? "TCP",
            Port = LabAddressing.BackendPort,
        }).ToList();
        foreach (var family in service.Spec.IpFamilies ?? ["IPv4"])
        {
            var endpoints = chosen
                .Select(n => (Node: n, Address: (n.Status?.Addresses ?? []).Select(a => a.Address)
                    .FirstOrDefault(a => IPAddress.TryParse(a, out var ip) && (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6) == (family == "IPv6"))))
                .Where(e => e.Address is not null)
                .OrderBy(e => e.Node.Metadata.Name, StringComparer.Ordinal)
                .Select(e => new V1Endpoint
                {
                    Addresses = [e.Address!],
                    NodeName = e.Node.Metadata.Name,
                    Conditions = new V1EndpointConditions { Ready = true, Serving = true, Terminating = false },
                })
                .ToList();
            yield return new V1EndpointSlice
            {
                Metadata = new V1ObjectMeta
                {
                    Name = $"{service.Metadata.Name}-lab-{family.ToLowerInvariant()}",
                    NamespaceProperty = service.Metadata.NamespaceProperty,
                    Labels = new Dictionary<string, string>
                    {
                        ["kubernetes.io/service-name"] = service.Metadata.Name,
                        ["endpointslice.kubernetes.io/managed-by"] = ManagedBy,
                    },
                },
                AddressType = family,
                Endpoints = endpoints,
                Ports = ports,
            };
        }
    }

    private static string Fingerprint(V1EndpointSlice slice) => k8s.KubernetesJson.Serialize(new { slice.Endpoints, slice.Ports });
}

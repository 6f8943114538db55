using k8s.Models;

namespace BareLb.Kubernetes;

/// <summary>The built-in kinds BareLb reads or writes, as the official client's models.</summary>
public static class CoreResources
{
    public static ResourceType<V1Service> Services { get; } = new("", "v1", "Service", "services", namespaced: true);

    public static ResourceType<V1Node> Nodes { get; } = new("", "v1", "Node", "nodes", namespaced: false);

    public static ResourceType<V1Namespace> Namespaces { get; } = new("", "v1", "Namespace", "namespaces", namespaced: false);

    public static ResourceType<V1Pod> Pods { get; } = new("", "v1", "Pod", "pods", namespaced: true);

    public static ResourceType<V1Secret> Secrets { get; } = new("", "v1", "Secret", "secrets", namespaced: true);

    public static ResourceType<Corev1Event> Events { get; } = new("", "v1", "Event", "events", namespaced: true);

    public static ResourceType<V1EndpointSlice> EndpointSlices { get; } =
        new("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", namespaced: true);

    public static ResourceType<V1Lease> Leases { get; } = new("coordination.k8s.io", "v1", "Lease", "leases", namespaced: true);
}

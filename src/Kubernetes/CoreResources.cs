using BareLb.Kubernetes.Models;
using BareLb.Kubernetes.Serialization;

namespace BareLb.Kubernetes;

/// <summary>The built-in kinds BareLb reads or writes.</summary>
public static class CoreResources
{
    private static KubernetesJsonContext Json => KubernetesJsonContext.Default;

    public static ResourceType<Service> Services { get; } =
        new("", "v1", "Service", "services", namespaced: true, Json.Service, Json.KubernetesListService);

    public static ResourceType<Node> Nodes { get; } =
        new("", "v1", "Node", "nodes", namespaced: false, Json.Node, Json.KubernetesListNode);

    public static ResourceType<Namespace> Namespaces { get; } =
        new("", "v1", "Namespace", "namespaces", namespaced: false, Json.Namespace, Json.KubernetesListNamespace);

    public static ResourceType<Pod> Pods { get; } =
        new("", "v1", "Pod", "pods", namespaced: true, Json.Pod, Json.KubernetesListPod);

    public static ResourceType<Secret> Secrets { get; } =
        new("", "v1", "Secret", "secrets", namespaced: true, Json.Secret, Json.KubernetesListSecret);

    public static ResourceType<Event> Events { get; } =
        new("", "v1", "Event", "events", namespaced: true, Json.Event, Json.KubernetesListEvent);

    public static ResourceType<EndpointSlice> EndpointSlices { get; } =
        new("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", namespaced: true, Json.EndpointSlice, Json.KubernetesListEndpointSlice);

    public static ResourceType<Lease> Leases { get; } =
        new("coordination.k8s.io", "v1", "Lease", "leases", namespaced: true, Json.Lease, Json.KubernetesListLease);
}

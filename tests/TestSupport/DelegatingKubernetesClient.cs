using System.Text.Json.Nodes;
using BareLb.Kubernetes;
using k8s;
using k8s.Models;

namespace BareLb.TestSupport;

/// <summary>
/// Passes every call to another client; a test overrides the calls it wants to disturb (inject a fault, make a
/// concurrent write first) and leaves the rest real.
/// </summary>
public abstract class DelegatingKubernetesClient(IKubernetesClient inner) : IKubernetesClient
{
    protected IKubernetesClient Inner { get; } = inner;

    public virtual Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        Inner.GetAsync(type, ns, name, ct);

    public virtual Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        Inner.ListAsync(type, ns, options, ct);

    public virtual Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        Inner.CreateAsync(type, obj, ct);

    public virtual Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        Inner.PatchAsync(type, ns, name, mergePatch, status, ct);

    public virtual Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        Inner.DeleteAsync(type, ns, name, options, ct);

    public virtual IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        Inner.WatchAsync(type, ns, options, ct);
}

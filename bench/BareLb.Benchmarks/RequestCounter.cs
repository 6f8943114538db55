using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using BareLb.Kubernetes;
using k8s;
using k8s.Models;

namespace BareLb.Benchmarks;

/// <summary>Counts the controller's requests by verb and kind, passing every call through.</summary>
internal sealed class RequestCounter(IKubernetesClient inner) : IKubernetesClient
{
    private readonly ConcurrentDictionary<string, int> _counts = new();

    public IReadOnlyDictionary<string, int> Counts => _counts;

    private void Count(string what) => _counts.AddOrUpdate(what, 1, (_, n) => n + 1);

    public Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Count($"get {type.Kind}");
        return inner.GetAsync(type, ns, name, ct);
    }

    public Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Count($"list {type.Kind}");
        return inner.ListAsync(type, ns, options, ct);
    }

    public Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Count($"create {type.Kind}");
        return inner.CreateAsync(type, obj, ct);
    }

    public Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Count($"patch {type.Kind}{(status ? "/status" : "")}");
        return inner.PatchAsync(type, ns, name, mergePatch, status, ct);
    }

    public Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        Count($"delete {type.Kind}");
        return inner.DeleteAsync(type, ns, name, options, ct);
    }

    public IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        inner.WatchAsync(type, ns, options, ct);
}

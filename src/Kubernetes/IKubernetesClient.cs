using System.Text.Json.Nodes;
using BareLb.Kubernetes.Models;

namespace BareLb.Kubernetes;

/// <summary>
/// The verbs BareLb uses, over the Kubernetes REST API. Failures are <see cref="KubernetesApiException"/>
/// subclasses carrying the API's Status (reason, code, causes). Namespace is null for cluster-scoped kinds and,
/// for list and watch, means "all namespaces".
/// </summary>
public interface IKubernetesClient
{
    Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) where T : class, IKubernetesObject;

    /// <summary>One page; follow <see cref="ListMeta.Continue"/> with <see cref="ListOptions.Continue"/>.</summary>
    Task<KubernetesList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) where T : class, IKubernetesObject;

    Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject;

    /// <summary>PUT with the object's resourceVersion: a stale one fails with <see cref="ConflictException"/>.</summary>
    Task<T> UpdateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject;

    /// <summary>PUT to the status subresource.</summary>
    Task<T> UpdateStatusAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject;

    /// <summary>JSON merge patch (RFC 7386), to the object or (<paramref name="status"/>) its status subresource.</summary>
    Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) where T : class, IKubernetesObject;

    Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) where T : class, IKubernetesObject;

    /// <summary>
    /// One watch stream from <see cref="WatchOptions.ResourceVersion"/>. The stream ends when the server closes it;
    /// an expired resourceVersion surfaces as <see cref="GoneException"/> (whether sent as a 410 response or as an
    /// ERROR event), so the caller relists.
    /// </summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, CancellationToken ct) where T : class, IKubernetesObject;
}

public sealed record ListOptions
{
    public string? LabelSelector { get; init; }
    public string? FieldSelector { get; init; }
    public int? Limit { get; init; }
    public string? Continue { get; init; }
    public string? ResourceVersion { get; init; }
}

public sealed record WatchOptions
{
    public string? ResourceVersion { get; init; }
    public string? LabelSelector { get; init; }
    public string? FieldSelector { get; init; }
    public bool AllowWatchBookmarks { get; init; } = true;
    public int? TimeoutSeconds { get; init; }
}

public sealed record DeleteOptions
{
    /// <summary>Precondition: delete only this exact object.</summary>
    public string? PreconditionUid { get; init; }
    public string? PreconditionResourceVersion { get; init; }
    /// <summary>Foreground, Background or Orphan.</summary>
    public string? PropagationPolicy { get; init; }
}

public enum WatchEventType { Added, Modified, Deleted, Bookmark }

/// <summary>
/// ADDED, MODIFIED, DELETED carry the object; BOOKMARK carries only metadata.resourceVersion.
/// ERROR events are turned into exceptions by the client and never yielded.
/// </summary>
public readonly record struct WatchEvent<T>(WatchEventType Type, T Object) where T : class, IKubernetesObject;

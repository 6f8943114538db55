using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace BareLb.Kubernetes;

/// <summary>
/// The verbs BareLb uses, over the Kubernetes REST API; the one seam between BareLb and the API. Failures are
/// <see cref="KubernetesApiException"/> subclasses carrying the API's Status (reason, code, causes). Namespace is null
/// for cluster-scoped kinds and, for list and watch, means "all namespaces".
/// </summary>
/// <remarks>
/// There is no full-object PUT on purpose: the models drop fields they do not know, so a read-modify-PUT of an
/// object written by a newer API server or another controller would erase them. Every write is a create, a JSON
/// merge patch (carrying <c>metadata.resourceVersion</c> where concurrency matters), or a delete.
/// </remarks>
public interface IKubernetesClient
{
    Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>One page; follow <see cref="ResourceList{T}.Continue"/> with <see cref="ListOptions.Continue"/>.</summary>
    Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>;

    Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// JSON merge patch (RFC 7386), to the object or (<paramref name="status"/>) its status subresource. Put
    /// <c>metadata.resourceVersion</c> in the patch to make it conditional: a stale one fails with <see cref="ConflictException"/>.
    /// </summary>
    Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>;

    Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>;

    /// <summary>
    /// One watch stream from <see cref="WatchOptions.ResourceVersion"/>. The stream ends when the server closes it;
    /// an expired resourceVersion surfaces as <see cref="GoneException"/> (whether sent as a 410 response or as an
    /// ERROR event), so the caller relists.
    /// </summary>
    IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>;
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

/// <summary>
/// One page of a list. Items the models cannot read (a field out of range, a type the schema allows but the model
/// does not) are not in <see cref="Items"/> but in <see cref="Unreadable"/>, so one bad object never hides the others.
/// </summary>
public sealed class ResourceList<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    public required IReadOnlyList<T> Items { get; init; }
    public IReadOnlyList<UnreadableObject> Unreadable { get; init; } = [];
    public string? ResourceVersion { get; init; }
    public string? Continue { get; init; }
    public long? RemainingItemCount { get; init; }
}

/// <summary>An object the API returned that its model could not read: what it is, and why it could not be read.</summary>
public sealed record UnreadableObject(string? ApiVersion, string? Kind, V1ObjectMeta Metadata, string Error)
{
    public string Key => string.IsNullOrEmpty(Metadata.NamespaceProperty) ? Metadata.Name : $"{Metadata.NamespaceProperty}/{Metadata.Name}";
}

/// <summary>
/// ADDED, MODIFIED, DELETED (the package's <see cref="k8s.WatchEventType"/>) carry the object, or, when its model cannot read it, <see cref="Unreadable"/> (with
/// <see cref="Object"/> null). BOOKMARK carries only metadata.resourceVersion. ERROR events become exceptions and are never yielded.
/// </summary>
public readonly record struct WatchEvent<T>(WatchEventType Type, T? Object, UnreadableObject? Unreadable = null)
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    public string? ResourceVersion => Object?.Metadata?.ResourceVersion ?? Unreadable?.Metadata.ResourceVersion;
}

using k8s;
using k8s.Models;

namespace BareLb.Kubernetes.Informers;

/// <summary>
/// Receives an informer's changes, one at a time and in the order they happened. Objects are the informer's
/// cached instances: read them, never mutate them. An exception is logged and the next change is delivered.
/// </summary>
public interface IResourceEventHandler<in T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    void OnAdd(T obj);

    void OnUpdate(T oldObj, T newObj);

    /// <summary>
    /// The last state seen: the object from the DELETED watch event, or, when the deletion was only noticed by a
    /// relist, the last cached version.
    /// </summary>
    void OnDelete(T obj);
}

/// <summary>Adapts delegates to <see cref="IResourceEventHandler{T}"/>; a null delegate ignores that kind of change.</summary>
public sealed class ResourceEventHandler<T>(Action<T>? onAdd = null, Action<T, T>? onUpdate = null, Action<T>? onDelete = null)
    : IResourceEventHandler<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    public void OnAdd(T obj) => onAdd?.Invoke(obj);

    public void OnUpdate(T oldObj, T newObj) => onUpdate?.Invoke(oldObj, newObj);

    public void OnDelete(T obj) => onDelete?.Invoke(obj);
}

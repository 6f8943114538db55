using BareLb.ApiServer.Api;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Storage;
using Microsoft.Extensions.Logging;

namespace BareLb.ApiServer.Controllers;

// The controllers a real cluster runs next to the API server that change what clients observe of its objects:
// namespace deletion, CRD cleanup and garbage collection. Every commit is inspected (under the store lock, like an
// informer event) and queues the work it implies; the queue runs it right after, so a test can wait for quiescence.
internal sealed class ControllerHost : IAsyncDisposable
{
    private readonly ObjectStore _store;
    private readonly ResourceCatalog _catalog;
    private readonly NamespaceDeleter _namespaces;
    private readonly CrdFinalizer _crds;
    private readonly GarbageCollector _collector;
    private readonly ControllerQueue _queue;

    public ControllerHost(ObjectStore store, ResourceCatalog catalog, ResourceOperations operations, TimeProvider time, ILogger logger)
    {
        _store = store;
        _catalog = catalog;
        _namespaces = new NamespaceDeleter(operations, catalog, time);
        _crds = new CrdFinalizer(operations, catalog, time);
        _collector = new GarbageCollector(operations, catalog);
        _queue = new ControllerQueue(Handle, logger);
        lock (store.Gate)
        {
            store.AddObserver(Observe);
        }
    }

    public Task WhenIdleAsync(CancellationToken ct) => _queue.WhenIdleAsync(ct);

    public ValueTask DisposeAsync() => _queue.DisposeAsync();

    private void Handle(WorkItem item)
    {
        switch (item.Kind)
        {
            case WorkKind.NamespaceDeletion:
                _namespaces.Sync(item.Key);
                break;
            case WorkKind.CrdCleanup:
                _crds.Sync(item.Key);
                break;
            case WorkKind.DependentCheck:
                _collector.CheckDependent(new ObjectLocation(item.Key, item.Key2));
                break;
            case WorkKind.OwnerRemoved:
                _collector.OwnerRemoved(item.Key);
                break;
            case WorkKind.OwnerFinalizers:
                _collector.ProcessOwnerFinalizers(item.Key);
                break;
        }
    }

    // Runs under the store lock for every committed event: reads the store, never writes, only queues.
    private void Observe(WatchEvent evt)
    {
        var obj = evt.Object.Object;
        var deleted = evt.Type == WatchEventType.Deleted;
        var deleting = !deleted && ObjectMeta.DeletionTimestamp(obj) is not null;
        if (evt.StorageKey == _catalog.Namespaces.StorageKey)
        {
            if (deleting)
            {
                _queue.Enqueue(new WorkItem(WorkKind.NamespaceDeletion, evt.Object.Name));
            }
        }
        else if (evt.StorageKey == _catalog.CustomResourceDefinitions.StorageKey)
        {
            if (deleting && ObjectMeta.Finalizers(obj).Contains(CrdStrategy.CleanupFinalizer))
            {
                _queue.Enqueue(new WorkItem(WorkKind.CrdCleanup, evt.Object.Name));
            }
        }

        if (evt.Type != WatchEventType.Added)
        {
            // Content that changes or goes away may be what a deletion in progress waits for.
            if (evt.Object.Namespace.Length > 0 && IsDeleting(_catalog.Namespaces.StorageKey, evt.Object.Namespace))
            {
                _queue.Enqueue(new WorkItem(WorkKind.NamespaceDeletion, evt.Object.Namespace));
            }

            if (_catalog.ForStorage(evt.StorageKey) is { IsCustom: true } custom && IsDeleting(_catalog.CustomResourceDefinitions.StorageKey, custom.CrdName))
            {
                _queue.Enqueue(new WorkItem(WorkKind.CrdCleanup, custom.CrdName));
            }
        }

        ObserveForGarbageCollection(evt, deleted, deleting);
    }

    private void ObserveForGarbageCollection(WatchEvent evt, bool deleted, bool deleting)
    {
        var obj = evt.Object.Object;
        var owners = OwnerUids(obj);
        if (deleted)
        {
            if (JsonTree.Str(obj["metadata"], "uid") is { } uid && _store.DependentsOf(uid).Count > 0)
            {
                _queue.Enqueue(new WorkItem(WorkKind.OwnerRemoved, uid));
            }

            // An owner deleting in the foreground waits for its blocking dependents to go.
            foreach (var owner in owners)
            {
                _queue.Enqueue(new WorkItem(WorkKind.OwnerFinalizers, owner));
            }

            return;
        }

        if (owners.Count > 0 && (evt.Type == WatchEventType.Added || !owners.SequenceEqual(OwnerUids(evt.Previous?.Object))))
        {
            _queue.Enqueue(new WorkItem(WorkKind.DependentCheck, evt.StorageKey, evt.Object.Key));
        }

        if (deleting && JsonTree.Str(obj["metadata"], "uid") is { } self &&
            ObjectMeta.Finalizers(obj).Any(f => f is ObjectMeta.OrphanFinalizer or ObjectMeta.ForegroundFinalizer))
        {
            _queue.Enqueue(new WorkItem(WorkKind.OwnerFinalizers, self));
        }
    }

    private bool IsDeleting(string storageKey, string key) =>
        _store.Get(storageKey, key) is { } holder && ObjectMeta.DeletionTimestamp(holder.Object) is not null;

    private static List<string> OwnerUids(System.Text.Json.Nodes.JsonObject? obj) =>
        (JsonTree.Arr(obj?["metadata"], "ownerReferences") ?? []).Select(r => JsonTree.Str(r, "uid") ?? "").Where(u => u.Length > 0).ToList();
}

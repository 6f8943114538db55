using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Storage;

namespace BareLb.ApiServer.Controllers;

// kube-controller-manager's garbage collector (pkg/controller/garbagecollector), driven by the store's owner index:
// - a dependent none of whose owners exists any more (missing, or another object with that name) is deleted,
//   in the background unless it carries the orphan/foregroundDeletion finalizer itself;
// - a dependent with at least one live owner loses only its references to missing owners;
// - an owner deleted with propagationPolicy Orphan (finalizer "orphan") first has its references removed from its
//   dependents, then the finalizer; with Foreground ("foregroundDeletion") its dependents are deleted and the
//   finalizer goes once no dependent with blockOwnerDeletion is left.
// References to kinds this server does not serve, and cluster-scoped dependents of namespaced owners, are left
// alone, as the real collector cannot resolve them either.
internal sealed class GarbageCollector(ResourceOperations operations, ResourceCatalog catalog)
{
    private static readonly WriteOptions ControllerWrite = new(FieldValidation: FieldValidation.Ignore);

    private enum OwnerState
    {
        Live,
        Missing,
        WaitingForDependents,
    }

    public void CheckDependent(ObjectLocation at)
    {
        if (Load(at) is not ({ } kind, { } dependent) || ObjectMeta.DeletionTimestamp(dependent.Object) is not null)
        {
            return;
        }

        var references = OwnerReferences(dependent.Object);
        if (references.Count == 0)
        {
            return;
        }

        var states = references.Select(r => Classify(r, kind, dependent)).ToList();
        if (states.Contains(OwnerState.Live))
        {
            var stale = references.Where((_, i) => states[i] != OwnerState.Live).Select(r => JsonTree.Str(r, "uid") ?? "").ToHashSet(StringComparer.Ordinal);
            if (stale.Count > 0)
            {
                RemoveReferences(kind, dependent, stale);
            }

            return;
        }

        Call(() => operations.Delete(kind, dependent.Namespace, dependent.Name, new DeleteRequest(), ControllerWrite));
    }

    public void OwnerRemoved(string uid)
    {
        foreach (var at in operations.DependentsOf(uid))
        {
            CheckDependent(at);
        }
    }

    public void ProcessOwnerFinalizers(string uid)
    {
        if (operations.FindUid(uid) is not { } at || Load(at) is not ({ } kind, { } owner) || ObjectMeta.DeletionTimestamp(owner.Object) is null)
        {
            return;
        }

        var finalizers = ObjectMeta.Finalizers(owner.Object);
        if (finalizers.Contains(ObjectMeta.OrphanFinalizer))
        {
            foreach (var dep in operations.DependentsOf(uid))
            {
                if (Load(dep) is ({ } depKind, { } dependent))
                {
                    RemoveReferences(depKind, dependent, new HashSet<string>(StringComparer.Ordinal) { uid });
                }
            }

            RemoveFinalizer(kind, owner, ObjectMeta.OrphanFinalizer);
        }
        else if (finalizers.Contains(ObjectMeta.ForegroundFinalizer))
        {
            var dependents = operations.DependentsOf(uid);
            foreach (var dep in dependents)
            {
                CheckDependent(dep);
            }

            var blocked = operations.DependentsOf(uid).Any(dep => Load(dep) is (_, { } d) &&
                OwnerReferences(d.Object).Any(r => JsonTree.Str(r, "uid") == uid && JsonTree.AsBool(r["blockOwnerDeletion"]) == true));
            if (!blocked)
            {
                RemoveFinalizer(kind, owner, ObjectMeta.ForegroundFinalizer);
            }
        }
    }

    private OwnerState Classify(JsonObject reference, ResourceKind dependentKind, StoredObject dependent)
    {
        var ownerKind = catalog.FindKind(JsonTree.Str(reference, "apiVersion") ?? "", JsonTree.Str(reference, "kind") ?? "");
        if (ownerKind is null || (ownerKind.Namespaced && !dependentKind.Namespaced))
        {
            return OwnerState.Live;
        }

        var owner = operations.Find(ownerKind, ownerKind.Namespaced ? dependent.Namespace : "", JsonTree.Str(reference, "name") ?? "");
        if (owner is null || JsonTree.Str(owner.Object["metadata"], "uid") != JsonTree.Str(reference, "uid"))
        {
            return OwnerState.Missing;
        }

        return ObjectMeta.DeletionTimestamp(owner.Object) is not null && ObjectMeta.Finalizers(owner.Object).Contains(ObjectMeta.ForegroundFinalizer)
            ? OwnerState.WaitingForDependents
            : OwnerState.Live;
    }

    private void RemoveReferences(ResourceKind kind, StoredObject dependent, IReadOnlySet<string> uids)
    {
        var body = (JsonObject)kind.ToServed(dependent.Object).DeepClone();
        var kept = OwnerReferences(dependent.Object).Where(r => !uids.Contains(JsonTree.Str(r, "uid") ?? "")).Select(r => (JsonNode?)r.DeepClone()).ToArray();
        var meta = ObjectMeta.Of(body);
        if (kept.Length == 0)
        {
            meta.Remove("ownerReferences");
        }
        else
        {
            meta["ownerReferences"] = new JsonArray(kept);
        }

        Call(() => operations.Update(kind, dependent.Namespace, dependent.Name, body, null, ControllerWrite));
    }

    private void RemoveFinalizer(ResourceKind kind, StoredObject owner, string finalizer)
    {
        var body = (JsonObject)kind.ToServed(owner.Object).DeepClone();
        ObjectMeta.Of(body)["finalizers"] = new JsonArray(ObjectMeta.Finalizers(owner.Object).Where(f => f != finalizer).Select(f => (JsonNode?)f).ToArray());
        Call(() => operations.Update(kind, owner.Namespace, owner.Name, body, null, ControllerWrite));
    }

    private (ResourceKind? Kind, StoredObject? Object) Load(ObjectLocation at)
    {
        var kind = catalog.ForStorage(at.StorageKey);
        var slash = at.Key.IndexOf('/', StringComparison.Ordinal);
        var obj = kind is null ? null : operations.Find(kind, slash < 0 ? "" : at.Key[..slash], slash < 0 ? at.Key : at.Key[(slash + 1)..]);
        return (kind, obj);
    }

    private static List<JsonObject> OwnerReferences(JsonObject obj) => (JsonTree.Arr(obj["metadata"], "ownerReferences") ?? []).OfType<JsonObject>().ToList();

    private static void Call(Action call)
    {
        try
        {
            call();
        }
        catch (StatusException)
        {
        }
    }
}

using System.Globalization;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Controllers;

// kube-controller-manager's namespace controller (pkg/controller/namespace/deletion): for a namespace being deleted,
// deletes every object in it (objects with finalizers only get a deletionTimestamp), reports what remains in the
// namespace's conditions, and once it is empty removes the "kubernetes" finalizer through /finalize, which deletes
// the namespace. It is run again by any change to an object in the namespace, instead of by a timer.
internal sealed class NamespaceDeleter(ResourceOperations operations, ResourceCatalog catalog, TimeProvider time)
{
    // status_condition_utils.go: the conditions this controller owns, with their "all is well" reason and message.
    private static readonly (string Type, string Reason, string Message)[] Conditions =
    [
        ("NamespaceDeletionDiscoveryFailure", "ResourcesDiscovered", "All resources successfully discovered"),
        ("NamespaceDeletionGroupVersionParsingFailure", "ParsedGroupVersions", "All legacy kube types successfully parsed"),
        ("NamespaceDeletionContentFailure", "ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
        ("NamespaceContentRemaining", "ContentRemoved", "All content successfully removed"),
        ("NamespaceFinalizersRemaining", "ContentRemoved", "All content successfully removed"),
    ];

    private static readonly WriteOptions ControllerWrite = new(FieldValidation: FieldValidation.Ignore);

    public void Sync(string name)
    {
        var nsKind = catalog.Namespaces;
        var ns = operations.Find(nsKind, "", name);
        if (ns is null || ObjectMeta.DeletionTimestamp(ns.Object) is null)
        {
            return;
        }

        if (NamespaceStrategy.SpecFinalizers(ns.Object).Count == 0)
        {
            Ignore(() => operations.Delete(nsKind, "", name, new DeleteRequest(Uid: Uid(ns.Object)), ControllerWrite));
            return;
        }

        var remaining = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var finalizers = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var kind in catalog.NamespacedStorageKinds())
        {
            foreach (var obj in operations.List(kind, name))
            {
                if (ObjectMeta.DeletionTimestamp(obj.Object) is null)
                {
                    Ignore(() => operations.Delete(kind, name, obj.Name, new DeleteRequest(Propagation: DeletionPropagation.Background, OrphanDependents: false), ControllerWrite));
                }
            }

            foreach (var left in operations.List(kind, name))
            {
                var label = kind.Plural + "." + kind.Group;
                remaining[label] = remaining.GetValueOrDefault(label) + 1;
                foreach (var f in ObjectMeta.Finalizers(left.Object))
                {
                    finalizers[f] = finalizers.GetValueOrDefault(f) + 1;
                }
            }
        }

        UpdateConditions(name, remaining, finalizers);
        if (remaining.Count > 0)
        {
            return;
        }

        // Everything is gone: take our finalizer off; with none left the update deletes the namespace.
        var current = operations.Find(nsKind, "", name);
        if (current is null)
        {
            return;
        }

        var body = (JsonObject)current.Object.DeepClone();
        var others = NamespaceStrategy.SpecFinalizers(current.Object).Where(f => f != NamespaceStrategy.KubernetesFinalizer)
            .Distinct().Order(StringComparer.Ordinal).Select(f => (JsonNode?)f).ToArray();
        JsonTree.EnsureObject(body, "spec")["finalizers"] = new JsonArray(others);
        Ignore(() => operations.Update(nsKind, "", name, body, "finalize", ControllerWrite));
        if (others.Length == 0 && operations.Find(nsKind, "", name) is { } still)
        {
            Ignore(() => operations.Delete(nsKind, "", name, new DeleteRequest(Uid: Uid(still.Object)), ControllerWrite));
        }
    }

    private void UpdateConditions(string name, SortedDictionary<string, int> remaining, SortedDictionary<string, int> finalizers)
    {
        var current = operations.Find(catalog.Namespaces, "", name);
        if (current is null)
        {
            return;
        }

        var body = (JsonObject)current.Object.DeepClone();
        var status = JsonTree.EnsureObject(body, "status");
        var conditions = status["conditions"] as JsonArray ?? [];
        status["conditions"] = conditions;
        var changed = false;
        foreach (var (type, okReason, okMessage) in Conditions)
        {
            var (conditionStatus, reason, message) = (type, remaining.Count, finalizers.Count) switch
            {
                ("NamespaceContentRemaining", > 0, _) => ("True", "SomeResourcesRemain",
                    "Some resources are remaining: " + string.Join(", ", remaining.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} has {kv.Value} resource instances")))),
                ("NamespaceFinalizersRemaining", _, > 0) => ("True", "SomeFinalizerRemain",
                    "Some finalizers are remaining: " + string.Join(", ", finalizers.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} in {kv.Value} resource instances")))),
                _ => ("False", okReason, okMessage),
            };
            var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => JsonTree.Str(c, "type") == type);
            if (existing is null)
            {
                conditions.Add(new JsonObject
                {
                    ["type"] = type, ["status"] = conditionStatus, ["lastTransitionTime"] = KubeTime.Format(time.GetUtcNow()),
                    ["reason"] = reason, ["message"] = message,
                });
                changed = true;
            }
            else if (JsonTree.Str(existing, "status") != conditionStatus || JsonTree.Str(existing, "reason") != reason ||
                     JsonTree.Str(existing, "message") != message)
            {
                if (JsonTree.Str(existing, "status") != conditionStatus)
                {
                    existing["lastTransitionTime"] = KubeTime.Format(time.GetUtcNow());
                }

                existing["status"] = conditionStatus;
                existing["reason"] = reason;
                existing["message"] = message;
                changed = true;
            }
        }

        if (changed)
        {
            Ignore(() => operations.Update(catalog.Namespaces, "", name, body, "status", ControllerWrite));
        }
    }

    private static string? Uid(JsonObject obj) => JsonTree.Str(obj["metadata"], "uid");

    // Conflicts, NotFound and the like: the next change to the namespace or its content runs the sync again.
    private static void Ignore(Action call)
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

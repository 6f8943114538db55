using System.Globalization;
using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Patching;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Storage;

namespace BareLb.ApiServer.Operations;

internal enum FieldValidation
{
    Ignore,
    Warn,
    Strict,
}

internal sealed record WriteOptions(bool DryRun = false, FieldValidation FieldValidation = FieldValidation.Warn);

/// <summary>Outcome of a write: the object to return (or a Status body when Response is set) and warnings.</summary>
internal sealed record WriteResult(StoredObject? Object, int StatusCode, IReadOnlyList<string> Warnings, JsonObject? Response = null);

internal enum DeletionPropagation
{
    Orphan,
    Background,
    Foreground,
}

/// <summary>A DELETE's preconditions and garbage collection policy (metav1.DeleteOptions).</summary>
internal sealed record DeleteRequest(string? Uid = null, string? ResourceVersion = null, DeletionPropagation? Propagation = null, bool? OrphanDependents = null);

// The verbs, with the real server's semantics: system metadata, resourceVersion preconditions, status
// subresource isolation, generation, finalizers, namespace lifecycle. Each call is one atomic step under
// the store lock.
internal sealed class ResourceOperations(ObjectStore store, ResourceCatalog catalog, TimeProvider time)
{
    private const string GenerateNameAlphabet = "bcdfghjklmnpqrstvwxz2456789";
    private static readonly string[] ImmortalNamespaces = ["default", "kube-system", "kube-public"];

    public ObjectStore Store => store;

    public StoredObject Get(ResourceKind kind, string ns, string name)
    {
        lock (store.Gate)
        {
            return store.Get(kind.StorageKey, StoredObject.MakeKey(ns, name)) ?? throw ApiErrors.NotFound(kind.Group, kind.Plural, name);
        }
    }

    public WriteResult Create(ResourceKind kind, string ns, JsonObject body, WriteOptions options)
    {
        lock (store.Gate)
        {
            return CreateLocked(kind, ns, body, options, viaUpdate: false);
        }
    }

    public WriteResult Update(ResourceKind kind, string ns, string name, JsonObject body, string? subresource, WriteOptions options)
    {
        lock (store.Gate)
        {
            return UpdateLocked(kind, ns, name, body, subresource, options, isPatch: false);
        }
    }

    public WriteResult Patch(ResourceKind kind, string ns, string name, string contentType, byte[] patch, string? subresource, WriteOptions options)
    {
        lock (store.Gate)
        {
            var existing = store.Get(kind.StorageKey, StoredObject.MakeKey(ns, name)) ?? throw ApiErrors.NotFound(kind.Group, kind.Plural, name);
            var served = kind.ToServed(existing.Object);
            var current = (JsonObject)(ReferenceEquals(served, existing.Object) ? served.DeepClone() : served);
            current["apiVersion"] = kind.ApiVersion;
            var patched = PatchApplier.Apply(kind, contentType, current, patch);
            return UpdateLocked(kind, ns, name, patched, subresource, options, isPatch: true);
        }
    }

    public WriteResult Delete(ResourceKind kind, string ns, string name, DeleteRequest request, WriteOptions options)
    {
        lock (store.Gate)
        {
            var existing = store.Get(kind.StorageKey, StoredObject.MakeKey(ns, name)) ?? throw ApiErrors.NotFound(kind.Group, kind.Plural, name);
            var uid = JsonTree.Str(existing.Object["metadata"], "uid") ?? "";
            if (request.Uid is { } wantUid && wantUid != uid)
            {
                throw ApiErrors.Conflict(kind.Group, kind.Plural, name,
                    $"Precondition failed: UID in precondition: {wantUid}, UID in object meta: {uid}");
            }

            var rv = existing.ResourceVersion.ToString(CultureInfo.InvariantCulture);
            if (request.ResourceVersion is { } wantRv && wantRv != rv)
            {
                throw ApiErrors.Conflict(kind.Group, kind.Plural, name,
                    $"Precondition failed: ResourceVersion in precondition: {wantRv}, ResourceVersion in object meta: {rv}");
            }

            if (kind == catalog.Namespaces && ImmortalNamespaces.Contains(name))
            {
                throw ApiErrors.Forbidden(kind.Group, kind.Plural, name, "this namespace may not be deleted");
            }

            if (options.DryRun)
            {
                return new WriteResult(existing, 200, []);
            }

            StoredObject? pending;
            StoredObject lastState;
            if (kind == catalog.Namespaces && ObjectMeta.DeletionTimestamp(existing.Object) is null)
            {
                pending = BeginNamespaceDeletion(kind, existing);
                lastState = pending;
            }
            else if (kind == catalog.Namespaces && NamespaceStrategy.SpecFinalizers(existing.Object).Count > 0)
            {
                // Final deletion waits for spec.finalizers (pkg/registry/core/namespace/storage).
                pending = existing;
                lastState = existing;
            }
            else if (kind == catalog.CustomResourceDefinitions && ObjectMeta.DeletionTimestamp(existing.Object) is null)
            {
                pending = BeginCrdDeletion(kind, existing);
                lastState = pending;
            }
            else
            {
                pending = DeleteLocked(kind, existing, request.Propagation, out lastState);
            }

            if (pending is null)
            {
                return kind.ReturnDeletedObject
                    ? new WriteResult(lastState, 200, [])
                    : new WriteResult(null, 200, [], SuccessStatus(kind, name, uid));
            }

            // 202 only where the real handler gives it: not deleted yet and orphanDependents=false asked for.
            return new WriteResult(pending, request.OrphanDependents == false ? 202 : 200, []);
        }
    }

    public StoredObject? Find(ResourceKind kind, string ns, string name)
    {
        lock (store.Gate)
        {
            return store.Get(kind.StorageKey, StoredObject.MakeKey(ns, name));
        }
    }

    public ObjectLocation? FindUid(string uid)
    {
        lock (store.Gate)
        {
            return store.FindUid(uid);
        }
    }

    public IReadOnlyCollection<ObjectLocation> DependentsOf(string uid)
    {
        lock (store.Gate)
        {
            return store.DependentsOf(uid);
        }
    }

    public List<StoredObject> List(ResourceKind kind, string? ns)
    {
        lock (store.Gate)
        {
            return store.Snapshot(kind.StorageKey, ns);
        }
    }

    // Namespace DELETE: the first request only marks it (deletionTimestamp, phase Terminating); the namespace
    // controller empties it and removes the "kubernetes" finalizer (pkg/registry/core/namespace/storage/storage.go).
    private StoredObject BeginNamespaceDeletion(ResourceKind kind, StoredObject existing)
    {
        var next = (JsonObject)existing.Object.DeepClone();
        ObjectMeta.Of(next)["deletionTimestamp"] = KubeTime.Format(time.GetUtcNow());
        JsonTree.EnsureObject(next, "status")["phase"] = "Terminating";
        return store.Put(kind.StorageKey, JsonTree.CanonicalObject(next), existing);
    }

    // CRD DELETE: the first request marks it and adds the cleanup finalizer the CRD finalizer controller removes
    // once every instance is gone (apiextensions registry/customresourcedefinition/etcd.go).
    private StoredObject BeginCrdDeletion(ResourceKind kind, StoredObject existing)
    {
        var next = (JsonObject)existing.Object.DeepClone();
        var meta = ObjectMeta.Of(next);
        meta["deletionTimestamp"] = KubeTime.Format(time.GetUtcNow());
        var finalizers = ObjectMeta.Finalizers(next);
        if (!finalizers.Contains(CrdStrategy.CleanupFinalizer))
        {
            finalizers.Add(CrdStrategy.CleanupFinalizer);
            meta["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode?)f).ToArray());
        }

        CrdStrategy.SetCondition(next, "Terminating", "True", "InstanceDeletionPending",
            "CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon", time.GetUtcNow());
        return store.Put(kind.StorageKey, JsonTree.CanonicalObject(next), existing);
    }

    /// <summary>
    /// The generic store's delete: removes the object, or, when finalizers (its own or the garbage collector's for
    /// Orphan/Foreground propagation) must run first, marks it deleted and returns it.
    /// </summary>
    private StoredObject? DeleteLocked(ResourceKind kind, StoredObject existing, DeletionPropagation? propagation, out StoredObject lastState)
    {
        lastState = existing;
        if (ObjectMeta.DeletionTimestamp(existing.Object) is not null)
        {
            return existing;
        }

        var finalizers = GarbageCollectorFinalizers(kind, ObjectMeta.Finalizers(existing.Object), propagation);
        if (finalizers.Count == 0)
        {
            RemoveLocked(kind, existing);
            return null;
        }

        var next = (JsonObject)existing.Object.DeepClone();
        var meta = ObjectMeta.Of(next);
        meta["deletionTimestamp"] = KubeTime.Format(time.GetUtcNow());
        meta["deletionGracePeriodSeconds"] = 0;
        meta["finalizers"] = new JsonArray(finalizers.Select(f => (JsonNode?)f).ToArray());
        if (JsonTree.TryGetLong(meta["generation"], out var gen) && gen > 0)
        {
            meta["generation"] = gen + 1;
        }

        return store.Put(kind.StorageKey, JsonTree.CanonicalObject(next), existing);
    }

    // deletionFinalizersForGarbageCollection (apiserver registry/generic/registry/store.go): the orphan and
    // foregroundDeletion finalizers follow the request's policy, else the ones already present; events opt out.
    private static List<string> GarbageCollectorFinalizers(ResourceKind kind, List<string> current, DeletionPropagation? propagation)
    {
        var orphan = current.Contains(ObjectMeta.OrphanFinalizer);
        var foreground = current.Contains(ObjectMeta.ForegroundFinalizer);
        if (kind.GarbageCollectionUnsupported)
        {
            (orphan, foreground) = (false, false);
        }
        else if (propagation is { } policy)
        {
            (orphan, foreground) = (policy == DeletionPropagation.Orphan, policy == DeletionPropagation.Foreground);
        }

        var result = current.Where(f => f is not (ObjectMeta.OrphanFinalizer or ObjectMeta.ForegroundFinalizer)).ToList();
        if (orphan)
        {
            result.Add(ObjectMeta.OrphanFinalizer);
        }

        if (foreground)
        {
            result.Add(ObjectMeta.ForegroundFinalizer);
        }

        return result;
    }

    private StoredObject RemoveLocked(ResourceKind kind, StoredObject existing, JsonObject? finalState = null)
    {
        var removed = store.Remove(kind.StorageKey, existing, finalState ?? JsonTree.CanonicalObject(existing.Object));
        kind.Strategy.Committed(kind, null, existing.Object);
        if (kind == catalog.CustomResourceDefinitions)
        {
            // Instances that outlive their CRD (a force-removed finalizer) stay in storage, unserved, and come back
            // with a CRD of the same name, as on the real server; open watches on them end.
            if (catalog.KindsForCrd(removed.Name) is { Count: > 0 } crKinds)
            {
                store.CloseWatchers(crKinds[0].StorageKey);
            }

            catalog.UnregisterCrd(removed.Name);
        }

        return removed;
    }

    private WriteResult CreateLocked(ResourceKind kind, string ns, JsonObject body, WriteOptions options, bool viaUpdate)
    {
        CheckTypeMeta(kind, body);
        var meta = ObjectMeta.Of(body);
        ApplyNamespace(kind, ns, meta);
        var warnings = new List<string>();
        var unknown = new List<string>();
        ObjectMeta.Normalize(meta, unknown);
        TimeFields.Apply(kind, body);
        kind.Strategy.Normalize(kind, body, unknown);
        ApplyFieldValidation(unknown, options, warnings);

        var requestedRv = JsonTree.Str(meta, "resourceVersion");
        foreach (var f in (string[])["resourceVersion", "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields"])
        {
            meta.Remove(f);
        }

        meta["uid"] = Guid.NewGuid().ToString();
        meta["creationTimestamp"] = KubeTime.Format(time.GetUtcNow());
        if (kind.TracksGeneration)
        {
            meta["generation"] = 1;
        }
        else
        {
            meta.Remove("generation");
        }

        if (kind.HasStatus && kind.ResetStatusOnCreate)
        {
            body.Remove("status");
        }

        if (kind.IsCustom && CrdIsTerminating(kind))
        {
            // apiextensions customresource_handler.go refuses creates before admission.
            throw new StatusException(405, "MethodNotAllowed", "create not allowed while custom resource definition is terminating",
                GroupKindDetails(kind));
        }

        if (kind.Namespaced)
        {
            var nsObj = store.Get(catalog.Namespaces.StorageKey, ns) ?? throw ApiErrors.NotFound("", "namespaces", ns);
            if (JsonTree.Str(nsObj.Object["status"], "phase") == "Terminating")
            {
                // The NamespaceLifecycle admission plugin.
                var objectName = JsonTree.Str(meta, "name") is { Length: > 0 } n ? n : JsonTree.Str(meta, "generateName") ?? "";
                var details = GroupKindDetails(kind);
                details.Insert(0, "name", objectName);
                details["causes"] = new JsonArray(new JsonObject
                {
                    ["reason"] = "NamespaceTerminating", ["message"] = $"namespace {ns} is being terminated", ["field"] = "metadata.namespace",
                });
                throw new StatusException(403, "Forbidden",
                    $"{kind.QualifiedResource} \"{objectName}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                    details);
            }
        }

        kind.Strategy.PrepareForCreate(kind, body);

        var name = JsonTree.Str(meta, "name") ?? "";
        var generateName = JsonTree.Str(meta, "generateName") ?? "";
        var attempts = name.Length == 0 && generateName.Length > 0 ? 8 : 1;
        for (var attempt = 0; ; attempt++)
        {
            if (name.Length == 0 && generateName.Length > 0)
            {
                name = generateName.Length > 58 ? generateName[..58] : generateName;
                for (var i = 0; i < 5; i++)
                {
                    name += GenerateNameAlphabet[Random.Shared.Next(GenerateNameAlphabet.Length)];
                }

                meta["name"] = name;
            }

            if (store.Get(kind.StorageKey, StoredObject.MakeKey(ns, name)) is null || attempt + 1 >= attempts)
            {
                break;
            }

            name = "";
        }

        var errors = new List<FieldError>();
        if (name.Length == 0)
        {
            errors.Add(FieldError.Required("metadata.name", "name or generateName is required"));
        }
        else
        {
            errors.AddRange(Names.Validate(name, kind.NameRule));
        }

        ObjectMeta.Validate(meta, errors);
        kind.Strategy.Validate(kind, body, null, errors);
        if (errors.Count > 0)
        {
            throw ApiErrors.Invalid(kind.Group, kind.Kind, name, errors);
        }

        if (store.Get(kind.StorageKey, StoredObject.MakeKey(ns, name)) is not null)
        {
            throw ApiErrors.AlreadyExists(kind.Group, kind.Plural, name);
        }

        kind.Strategy.Allocate(kind, body, null, errors);
        if (errors.Count > 0)
        {
            throw ApiErrors.Invalid(kind.Group, kind.Kind, name, errors);
        }

        if (!viaUpdate && requestedRv is { Length: > 0 } and not "0")
        {
            // etcd3's store refuses this after admission; it surfaces as an internal error on the real server too.
            kind.Strategy.Committed(kind, null, body);
            throw new StatusException(500, "InternalError", "Internal error occurred: resourceVersion should not be set on objects to be created",
                new JsonObject { ["causes"] = new JsonArray(new JsonObject { ["message"] = "resourceVersion should not be set on objects to be created" }) });
        }

        var canonical = JsonTree.CanonicalObject(body);
        if (options.DryRun)
        {
            kind.Strategy.Committed(kind, null, canonical);
            return new WriteResult(StoredObject.Create(canonical, 0), 201, warnings);
        }

        var stored = store.Put(kind.StorageKey, canonical, null);
        kind.Strategy.Committed(kind, stored.Object, null);
        return new WriteResult(stored, 201, warnings);
    }

    private WriteResult UpdateLocked(ResourceKind kind, string ns, string name, JsonObject body, string? subresource, WriteOptions options, bool isPatch)
    {
        CheckTypeMeta(kind, body);
        var meta = ObjectMeta.Of(body);
        var bodyName = JsonTree.Str(meta, "name") ?? "";
        if (bodyName != name)
        {
            throw ApiErrors.BadRequest($"the name of the object ({bodyName}) does not match the name on the URL ({name})");
        }

        ApplyNamespace(kind, ns, meta);
        var existing = store.Get(kind.StorageKey, StoredObject.MakeKey(ns, name));
        if (existing is null)
        {
            if (kind.AllowCreateOnUpdate && subresource is null && !isPatch)
            {
                return CreateLocked(kind, ns, body, options, viaUpdate: true);
            }

            throw ApiErrors.NotFound(kind.Group, kind.Plural, name);
        }

        var warnings = new List<string>();
        var unknown = new List<string>();
        ObjectMeta.Normalize(meta, unknown);
        TimeFields.Apply(kind, body);
        kind.Strategy.Normalize(kind, body, unknown);
        ApplyFieldValidation(unknown, options, warnings);

        var errors = new List<FieldError>();
        var bodyRv = JsonTree.Str(meta, "resourceVersion");
        if (!string.IsNullOrEmpty(bodyRv))
        {
            if (!long.TryParse(bodyRv, NumberStyles.None, CultureInfo.InvariantCulture, out var rv))
            {
                throw ApiErrors.BadRequest($"invalid resourceVersion: {JsonTree.Quote(bodyRv)}");
            }

            if (rv != existing.ResourceVersion)
            {
                throw ApiErrors.Conflict(kind.Group, kind.Plural, name, ApiErrors.ObjectModified);
            }
        }
        else if (!isPatch && !kind.AllowUnconditionalUpdate)
        {
            throw ApiErrors.Invalid(kind.Group, kind.Kind, name,
                [FieldError.InvalidRaw("metadata.resourceVersion", "0x0", "must be specified for an update")]);
        }

        var old = existing.Object;
        JsonObject next;
        var isStatus = subresource == "status";
        if (isStatus && kind.IsCustom)
        {
            // The custom resource status strategy copies the stored object and takes only the new status, so
            // metadata changes sent to /status are dropped (apiextensions customresource/status_strategy.go).
            next = (JsonObject)old.DeepClone();
            if (body["status"] is { } status)
            {
                next["status"] = status.DeepClone();
            }
            else
            {
                next.Remove("status");
            }
        }
        else
        {
            next = body;
            if (isStatus)
            {
                kind.Strategy.PrepareForStatusUpdate(kind, next, old);
            }
            else if (subresource == "finalize")
            {
                NamespaceStrategy.PrepareForFinalize(next, old);
            }
            else if (kind.HasStatus)
            {
                if (old["status"] is { } oldStatus)
                {
                    next["status"] = oldStatus.DeepClone();
                }
                else
                {
                    next.Remove("status");
                }
            }

            var oldMeta = (JsonObject)old["metadata"]!;
            var uid = JsonTree.Str(meta, "uid");
            var oldUid = JsonTree.Str(oldMeta, "uid") ?? "";
            if (!string.IsNullOrEmpty(uid) && uid != oldUid)
            {
                errors.Add(FieldError.Invalid("metadata.uid", uid, "field is immutable"));
            }

            foreach (var f in (string[])["uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"])
            {
                if (oldMeta[f] is { } v)
                {
                    meta[f] = v.DeepClone();
                }
                else
                {
                    meta.Remove(f);
                }
            }

            meta.Remove("managedFields");
            meta.Remove("selfLink");
            if (ObjectMeta.DeletionTimestamp(old) is not null)
            {
                var oldFinalizers = ObjectMeta.Finalizers(old);
                if (ObjectMeta.Finalizers(next).Any(f => !oldFinalizers.Contains(f)))
                {
                    errors.Add(FieldError.Forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted"));
                }
            }

            if (subresource is null)
            {
                kind.Strategy.PrepareForUpdate(kind, next, old);
            }

            ObjectMeta.Validate(meta, errors);
        }

        if (isStatus)
        {
            kind.Strategy.ValidateStatusUpdate(kind, next, old, errors);
        }
        else if (subresource == "finalize")
        {
            NamespaceStrategy.ValidateFinalizers(next, errors, indexed: true);
        }
        else
        {
            kind.Strategy.Validate(kind, next, old, errors);
        }

        if (errors.Count > 0)
        {
            throw ApiErrors.Invalid(kind.Group, kind.Kind, name, errors);
        }

        kind.Strategy.Allocate(kind, next, old, errors);
        if (errors.Count > 0)
        {
            throw ApiErrors.Invalid(kind.Group, kind.Kind, name, errors);
        }

        var nextMeta = ObjectMeta.Of(next);
        if (kind.TracksGeneration && subresource is null && !SpecEquals(next, old, kind.HasStatus))
        {
            JsonTree.TryGetLong(old["metadata"]?["generation"], out var gen);
            nextMeta["generation"] = gen + 1;
        }

        nextMeta["resourceVersion"] = existing.ResourceVersion.ToString(CultureInfo.InvariantCulture);
        var canonical = JsonTree.CanonicalObject(next);
        if (JsonTree.Serialize(canonical).AsSpan().SequenceEqual(existing.Json))
        {
            // A no-op update writes nothing and sends no event, like etcd3's GuaranteedUpdate.
            return new WriteResult(existing, 200, warnings);
        }

        if (options.DryRun)
        {
            kind.Strategy.Committed(kind, old, canonical);
            return new WriteResult(StoredObject.Create(canonical, existing.ResourceVersion), 200, warnings);
        }

        // An update that leaves a deleted object without finalizers completes its deletion (ShouldDeleteDuringUpdate;
        // namespaces also need an empty spec.finalizers).
        if (ObjectMeta.DeletionTimestamp(old) is not null && ObjectMeta.Finalizers(canonical).Count == 0 &&
            (kind != catalog.Namespaces || NamespaceStrategy.SpecFinalizers(canonical).Count == 0))
        {
            var removed = RemoveLocked(kind, existing, canonical);
            return new WriteResult(removed, 200, warnings);
        }

        var stored = store.Put(kind.StorageKey, canonical, existing);
        kind.Strategy.Committed(kind, stored.Object, old);
        return new WriteResult(stored, 200, warnings);
    }

    private static bool SpecEquals(JsonObject a, JsonObject b, bool ignoreStatus)
    {
        foreach (var kv in a)
        {
            if (kv.Key is "metadata" or "apiVersion" or "kind" || (ignoreStatus && kv.Key == "status"))
            {
                continue;
            }

            if (!JsonNode.DeepEquals(kv.Value, b[kv.Key]))
            {
                return false;
            }
        }

        foreach (var kv in b)
        {
            if (kv.Key is "metadata" or "apiVersion" or "kind" || (ignoreStatus && kv.Key == "status"))
            {
                continue;
            }

            if (!a.ContainsKey(kv.Key))
            {
                return false;
            }
        }

        return true;
    }

    private static void CheckTypeMeta(ResourceKind kind, JsonObject body)
    {
        var apiVersion = JsonTree.Str(body, "apiVersion");
        if (!string.IsNullOrEmpty(apiVersion) && apiVersion != kind.ApiVersion)
        {
            throw ApiErrors.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({kind.ApiVersion})");
        }

        var k = JsonTree.Str(body, "kind");
        if (!string.IsNullOrEmpty(k) && k != kind.Kind)
        {
            throw ApiErrors.BadRequest($"the kind in the data ({k}) does not match the expected kind ({kind.Kind})");
        }

        // Custom resources are stored in the storage version; conversion strategy None only rewrites apiVersion.
        body["apiVersion"] = kind.StorageApiVersion;
        body["kind"] = kind.Kind;
    }

    private static void ApplyNamespace(ResourceKind kind, string ns, JsonObject meta)
    {
        var bodyNs = JsonTree.Str(meta, "namespace");
        if (kind.Namespaced)
        {
            if (!string.IsNullOrEmpty(bodyNs) && bodyNs != ns)
            {
                throw ApiErrors.BadRequest("the namespace of the provided object does not match the namespace sent on the request");
            }

            meta["namespace"] = ns;
        }
        else
        {
            meta.Remove("namespace");
        }
    }

    private static void ApplyFieldValidation(List<string> unknown, WriteOptions options, List<string> warnings)
    {
        if (unknown.Count == 0 || options.FieldValidation == FieldValidation.Ignore)
        {
            return;
        }

        if (options.FieldValidation == FieldValidation.Strict)
        {
            throw ApiErrors.BadRequest("strict decoding error: " + string.Join(", ", unknown.Select(u => $"unknown field \"{u}\"")));
        }

        warnings.AddRange(unknown.Select(u => $"unknown field \"{u}\""));
    }

    private bool CrdIsTerminating(ResourceKind kind) =>
        store.Get(catalog.CustomResourceDefinitions.StorageKey, kind.CrdName) is { } crd && CrdStrategy.IsConditionTrue(crd.Object, "Terminating");

    private static JsonObject GroupKindDetails(ResourceKind kind)
    {
        var details = new JsonObject();
        if (kind.Group.Length > 0)
        {
            details["group"] = kind.Group;
        }

        details["kind"] = kind.Plural;
        return details;
    }

    private static JsonObject SuccessStatus(ResourceKind kind, string name, string uid)
    {
        var details = new JsonObject { ["name"] = name };
        if (kind.Group.Length > 0)
        {
            details["group"] = kind.Group;
        }

        details["kind"] = kind.Plural;
        details["uid"] = uid;
        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Success",
            ["details"] = details,
        };
    }
}

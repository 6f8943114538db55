using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Operations;

// core/v1 Namespace (pkg/registry/core/namespace/strategy.go, ValidateNamespace* in pkg/apis/core/validation).
internal sealed class NamespaceStrategy : ResourceStrategy
{
    public const string KubernetesFinalizer = "kubernetes";
    private static readonly string[] StandardFinalizers = [KubernetesFinalizer, "orphan", "foregroundDeletion"];

    public static List<string> SpecFinalizers(JsonObject ns) =>
        (JsonTree.Arr(ns["spec"], "finalizers") ?? []).Select(f => JsonTree.AsString(f) ?? "").ToList();

    public override void Normalize(ResourceKind kind, JsonObject obj, List<string> unknownFields)
    {
        // SetDefaults_NamespaceStatus.
        JsonTree.EnsureObject(obj, "status")["phase"] ??= "Active";
    }

    public override void PrepareForCreate(ResourceKind kind, JsonObject obj)
    {
        // The namespace controller's finalizer is required on create, after whatever the client asked for.
        var spec = JsonTree.EnsureObject(obj, "spec");
        var finalizers = spec["finalizers"] as JsonArray ?? [];
        if (!finalizers.Any(f => JsonTree.AsString(f) == KubernetesFinalizer))
        {
            finalizers = (JsonArray)finalizers.DeepClone();
            finalizers.Add(KubernetesFinalizer);
        }

        spec["finalizers"] = finalizers;
        obj["status"] = new JsonObject { ["phase"] = "Active" };
        SetNameLabel(obj);
    }

    public override void PrepareForUpdate(ResourceKind kind, JsonObject obj, JsonObject old)
    {
        obj["spec"] = old["spec"]?.DeepClone();
        SetNameLabel(obj);
    }

    public override void PrepareForStatusUpdate(ResourceKind kind, JsonObject obj, JsonObject old)
    {
        base.PrepareForStatusUpdate(kind, obj, old);
        SetNameLabel(obj);
    }

    /// <summary>PUT .../finalize: only spec.finalizers changes (namespaceFinalizeStrategy).</summary>
    public static void PrepareForFinalize(JsonObject obj, JsonObject old)
    {
        if (old["status"] is { } status)
        {
            obj["status"] = status.DeepClone();
        }

        SetNameLabel(obj);
    }

    public override void Validate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors) =>
        ValidateFinalizers(obj, errors, indexed: false);

    public override void ValidateStatusUpdate(ResourceKind kind, JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        var phase = JsonTree.Obj(obj, "status")?["phase"];
        if (ObjectMeta.DeletionTimestamp(obj) is null)
        {
            if (JsonTree.AsString(phase) != "Active")
            {
                errors.Add(FieldError.Invalid("status.Phase", phase, "may only be 'Active' if `deletionTimestamp` is empty"));
            }
        }
        else if (JsonTree.AsString(phase) != "Terminating")
        {
            errors.Add(FieldError.Invalid("status.Phase", phase, "may only be 'Terminating' if `deletionTimestamp` is not empty"));
        }
    }

    public static void ValidateFinalizers(JsonObject obj, List<FieldError> errors, bool indexed)
    {
        var finalizers = JsonTree.Arr(obj["spec"], "finalizers") ?? [];
        for (var i = 0; i < finalizers.Count; i++)
        {
            var path = indexed ? $"spec.finalizers[{i}]" : "spec.finalizers";
            var name = JsonTree.AsString(finalizers[i]) ?? "";
            var before = errors.Count;
            ObjectMeta.ValidateQualifiedName(name, path, errors);
            if (errors.Count == before && !name.Contains('/', StringComparison.Ordinal) && !StandardFinalizers.Contains(name))
            {
                errors.Add(FieldError.Invalid(path, name, "name is neither a standard finalizer name nor is it fully qualified"));
            }
        }
    }

    // Since 1.22 every namespace carries kubernetes.io/metadata.name=<name>, enforced on every write.
    private static void SetNameLabel(JsonObject obj)
    {
        var meta = ObjectMeta.Of(obj);
        if (JsonTree.Str(meta, "name") is { Length: > 0 } name)
        {
            JsonTree.EnsureObject(meta, "labels")["kubernetes.io/metadata.name"] = name;
        }
    }
}

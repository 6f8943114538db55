using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Schema;

namespace BareLb.ApiServer.Operations;

// apiextensions.k8s.io/v1 CustomResourceDefinition: validation of the parts we serve from, the status the
// real controllers would write (names accepted, established), and registration of the CRD's kinds on commit.
internal sealed class CrdStrategy(TimeProvider time) : ResourceStrategy
{
    public const string CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    private ResourceCatalog? _catalog;

    public static bool IsConditionTrue(JsonObject crd, string type) =>
        (JsonTree.Arr(crd["status"], "conditions") ?? []).OfType<JsonObject>()
        .Any(c => JsonTree.Str(c, "type") == type && JsonTree.Str(c, "status") == "True");

    /// <summary>SetCRDCondition: lastTransitionTime moves only when the status does. False when nothing changed.</summary>
    public static bool SetCondition(JsonObject crd, string type, string status, string reason, string message, DateTimeOffset now)
    {
        var conditions = JsonTree.Arr(crd["status"], "conditions");
        if (conditions is null)
        {
            conditions = [];
            JsonTree.EnsureObject(crd, "status")["conditions"] = conditions;
        }

        var existing = conditions.OfType<JsonObject>().FirstOrDefault(c => JsonTree.Str(c, "type") == type);
        if (existing is null)
        {
            conditions.Add(new JsonObject
            {
                ["type"] = type, ["status"] = status, ["lastTransitionTime"] = KubeTime.Format(now), ["reason"] = reason, ["message"] = message,
            });
            return true;
        }

        if (JsonTree.Str(existing, "status") == status && JsonTree.Str(existing, "reason") == reason && JsonTree.Str(existing, "message") == message)
        {
            return false;
        }

        if (JsonTree.Str(existing, "status") != status)
        {
            existing["lastTransitionTime"] = KubeTime.Format(now);
        }

        existing["status"] = status;
        existing["reason"] = reason;
        existing["message"] = message;
        return true;
    }

    public void Attach(ResourceCatalog catalog) => _catalog = catalog;

    public override void Normalize(ResourceKind kind, JsonObject obj, List<string> unknownFields)
    {
        var spec = JsonTree.EnsureObject(obj, "spec");
        spec["conversion"] ??= new JsonObject { ["strategy"] = "None" };
        var names = JsonTree.EnsureObject(spec, "names");
        if (JsonTree.Str(names, "kind") is { Length: > 0 } k)
        {
            names["singular"] ??= k.ToLowerInvariant();
            names["listKind"] ??= k + "List";
        }
    }

    public override void PrepareForCreate(ResourceKind kind, JsonObject obj)
    {
        var spec = (JsonObject)obj["spec"]!;
        var now = KubeTime.Format(time.GetUtcNow());
        obj["status"] = new JsonObject
        {
            ["acceptedNames"] = spec["names"]?.DeepClone(),
            ["conditions"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "NamesAccepted", ["status"] = "True", ["reason"] = "NoConflicts", ["message"] = "no conflicts found",
                    ["lastTransitionTime"] = now,
                },
                new JsonObject
                {
                    ["type"] = "Established", ["status"] = "True", ["reason"] = "InitialNamesAccepted",
                    ["message"] = "the initial names have been accepted", ["lastTransitionTime"] = now,
                }),
            ["storedVersions"] = StorageVersion(spec) is { } v ? new JsonArray(v) : new JsonArray(),
        };
    }

    public override void PrepareForUpdate(ResourceKind kind, JsonObject obj, JsonObject old)
    {
        if (obj["status"] is JsonObject status && obj["spec"] is JsonObject spec)
        {
            status["acceptedNames"] = spec["names"]?.DeepClone();
            var stored = status["storedVersions"] as JsonArray ?? [];
            if (StorageVersion(spec) is { } v && !stored.Any(s => JsonTree.AsString(s) == v))
            {
                stored = (JsonArray)stored.DeepClone();
                stored.Add(v);
                status["storedVersions"] = stored;
            }
        }
    }

    public override void Validate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = JsonTree.Obj(obj, "spec") ?? [];
        var names = JsonTree.Obj(spec, "names") ?? [];
        var group = JsonTree.Str(spec, "group") ?? "";
        var plural = JsonTree.Str(names, "plural") ?? "";
        var name = JsonTree.Str(obj["metadata"], "name") ?? "";
        if (name != plural + "." + group)
        {
            errors.Add(FieldError.Invalid("metadata.name", name, "must be spec.names.plural+\".\"+spec.group"));
        }

        if (group.Length == 0)
        {
            errors.Add(FieldError.Required("spec.group"));
        }
        else if (!group.Contains('.', StringComparison.Ordinal) || !Names.IsDns1123Subdomain(group))
        {
            errors.Add(FieldError.Invalid("spec.group", group, "should be a domain with at least one dot"));
        }

        foreach (var (field, value) in new[] { ("plural", plural), ("singular", JsonTree.Str(names, "singular") ?? "") })
        {
            if (value.Length == 0)
            {
                errors.Add(FieldError.Required("spec.names." + field));
            }
            else if (!Names.IsDns1123Label(value))
            {
                errors.Add(FieldError.Invalid("spec.names." + field, value, "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"));
            }
        }

        if (string.IsNullOrEmpty(JsonTree.Str(names, "kind")))
        {
            errors.Add(FieldError.Required("spec.names.kind"));
        }

        var scope = JsonTree.Str(spec, "scope");
        if (scope is not ("Cluster" or "Namespaced"))
        {
            errors.Add(FieldError.NotSupported("spec.scope", spec["scope"], ["Cluster", "Namespaced"]));
        }

        var versions = spec["versions"] as JsonArray ?? [];
        if (versions.Count == 0)
        {
            errors.Add(FieldError.Required("spec.versions", "must have exactly one version marked as storage version"));
        }
        else if (versions.Count(v => JsonTree.AsBool((v as JsonObject)?["storage"]) == true) != 1)
        {
            errors.Add(FieldError.Invalid("spec.versions", versions, "must have exactly one version marked as storage version"));
        }

        var seen = new HashSet<string>();
        for (var i = 0; i < versions.Count; i++)
        {
            var path = $"spec.versions[{i}]";
            if (versions[i] is not JsonObject v)
            {
                continue;
            }

            var vname = JsonTree.Str(v, "name") ?? "";
            if (!Names.IsDns1123Label(vname))
            {
                errors.Add(FieldError.Invalid(path + ".name", vname, "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"));
            }

            if (!seen.Add(vname))
            {
                errors.Add(FieldError.Duplicate(path + ".name", vname));
            }

            if (JsonTree.Obj(JsonTree.Obj(v, "schema"), "openAPIV3Schema") is not { } schema)
            {
                errors.Add(FieldError.Required(path + ".schema.openAPIV3Schema", "schemas are required"));
            }
            else
            {
                StructuralSchema.Parse(schema, path + ".schema.openAPIV3Schema", errors);
            }
        }

        if (old is not null)
        {
            var oldSpec = JsonTree.Obj(old, "spec") ?? [];
            if (JsonTree.Str(oldSpec, "scope") != scope)
            {
                errors.Add(FieldError.Invalid("spec.scope", scope ?? "", "field is immutable"));
            }

            if (JsonTree.Str(oldSpec, "group") != group)
            {
                errors.Add(FieldError.Invalid("spec.group", group, "field is immutable"));
            }
        }
    }

    public override void Committed(ResourceKind kind, JsonObject? current, JsonObject? previous)
    {
        if (current is not null && _catalog is not null)
        {
            _catalog.RegisterCrd(JsonTree.Str(current["metadata"], "name") ?? "", BuildKinds(current));
        }
    }

    /// <summary>The served versions of a (valid) CRD as kinds sharing one storage table.</summary>
    public static List<ResourceKind> BuildKinds(JsonObject crd)
    {
        var spec = (JsonObject)crd["spec"]!;
        var names = (JsonObject)spec["names"]!;
        var storage = StorageVersion(spec) ?? "";
        var kinds = new List<ResourceKind>();
        foreach (var v in (spec["versions"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (JsonTree.AsBool(v["served"]) == false)
            {
                continue;
            }

            var scratch = new List<FieldError>();
            var schemaJson = JsonTree.Obj(JsonTree.Obj(v, "schema"), "openAPIV3Schema");
            var hasStatus = JsonTree.Obj(JsonTree.Obj(v, "subresources"), "status") is not null;
            kinds.Add(new ResourceKind
            {
                Group = JsonTree.Str(spec, "group")!,
                Version = JsonTree.Str(v, "name")!,
                Plural = JsonTree.Str(names, "plural")!,
                Singular = JsonTree.Str(names, "singular") ?? JsonTree.Str(names, "kind")!.ToLowerInvariant(),
                Kind = JsonTree.Str(names, "kind")!,
                ListKind = JsonTree.Str(names, "listKind") ?? "",
                Namespaced = JsonTree.Str(spec, "scope") == "Namespaced",
                HasStatus = hasStatus,
                ResetStatusOnCreate = hasStatus,
                TracksGeneration = true,
                AllowUnconditionalUpdate = false,
                IsCustom = true,
                CrdName = JsonTree.Str(crd["metadata"], "name") ?? "",
                ShortNames = (names["shortNames"] as JsonArray ?? []).Select(s => JsonTree.AsString(s) ?? "").ToList(),
                Categories = (names["categories"] as JsonArray ?? []).Select(s => JsonTree.AsString(s) ?? "").ToList(),
                Schema = schemaJson is null ? null : StructuralSchema.Parse(schemaJson, "", scratch),
                PrinterColumns = v["additionalPrinterColumns"] as JsonArray,
                StorageVersion = storage,
                Strategy = CustomResourceStrategy.Instance,
            });
        }

        return kinds;
    }

    private static string? StorageVersion(JsonObject spec) =>
        (spec["versions"] as JsonArray ?? []).OfType<JsonObject>().Where(v => JsonTree.AsBool(v["storage"]) == true)
            .Select(v => JsonTree.Str(v, "name")).FirstOrDefault();
}

using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Schema;

namespace BareLb.ApiServer.Resources;

internal enum NameRule
{
    Dns1123Subdomain,
    Dns1123Label,
    Dns1035Label,
    PathSegment,
}

// One served group/version/resource. Several versions of a CRD share one StorageKey (one table of objects).
internal sealed class ResourceKind
{
    public required string Group { get; init; }

    public required string Version { get; init; }

    public required string Plural { get; init; }

    public required string Singular { get; init; }

    public required string Kind { get; init; }

    public required bool Namespaced { get; init; }

    public required ResourceStrategy Strategy { get; init; }

    public string ListKind { get; init; } = "";

    public bool HasStatus { get; init; }

    public bool TracksGeneration { get; init; }

    public bool AllowCreateOnUpdate { get; init; }

    public bool AllowUnconditionalUpdate { get; init; } = true;

    public bool ResetStatusOnCreate { get; init; }

    public bool IsCustom { get; init; }

    // For custom resources: the name of the CRD that defines them.
    public string CrdName { get; init; } = "";

    // DefaultGarbageCollectionPolicy Unsupported (events): deletes never add orphan/foregroundDeletion finalizers.
    public bool GarbageCollectionUnsupported { get; init; }

    // DELETE answers with the object (pods, services, namespaces) rather than a Success Status.
    public bool ReturnDeletedObject { get; init; }

    public NameRule NameRule { get; init; } = NameRule.Dns1123Subdomain;

    public IReadOnlyList<string> ShortNames { get; init; } = [];

    public IReadOnlyList<string> Categories { get; init; } = [];

    // Field selector labels beyond metadata.name / metadata.namespace, with how to read them from an object.
    public IReadOnlyDictionary<string, Func<JsonObject, string>> SelectableFields { get; init; } =
        new Dictionary<string, Func<JsonObject, string>>();

    // metav1.Time / MicroTime fields besides ObjectMeta's (built-in kinds only).
    public IReadOnlyList<TimeField> TimeFields { get; init; } = [];

    public StructuralSchema? Schema { get; init; }

    public JsonArray? PrinterColumns { get; init; }

    // For custom resources: the version objects are kept in (others are converted with the None strategy).
    // For events.k8s.io events: "v1" of the core group, whose table they share.
    public string StorageVersion { get; init; } = "";

    // Set when this resource is another group's table seen through a conversion (events.k8s.io/v1 events).
    public string? StorageGroup { get; init; }

    // Converts a stored object to this version; null when serving only rewrites apiVersion (or nothing).
    public Func<JsonObject, JsonObject>? FromStorage { get; init; }

    public string EffectiveListKind => ListKind.Length > 0 ? ListKind : Kind + "List";

    public string StorageKey => (StorageGroup ?? Group) + "/" + Plural;

    public string ApiVersion => Group.Length == 0 ? Version : Group + "/" + Version;

    public string GroupVersion => ApiVersion;

    public string QualifiedResource => Group.Length == 0 ? Plural : Plural + "." + Group;

    public string QualifiedKind => Group.Length == 0 ? Kind : Kind + "." + Group;

    public string StorageApiVersion
    {
        get
        {
            var version = StorageVersion.Length > 0 ? StorageVersion : Version;
            var group = StorageGroup ?? Group;
            return group.Length == 0 ? version : group + "/" + version;
        }
    }

    /// <summary>The stored object as this resource serves it: the object itself when nothing changes, else a new canonical object.</summary>
    public JsonObject ToServed(JsonObject stored)
    {
        if (FromStorage is not null)
        {
            return JsonTree.CanonicalObject(FromStorage(stored));
        }

        if (StorageApiVersion == ApiVersion)
        {
            return stored;
        }

        var copy = (JsonObject)stored.DeepClone();
        copy["apiVersion"] = ApiVersion;
        return copy;
    }

    public IReadOnlyList<string> Verbs { get; init; } =
        ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];
}

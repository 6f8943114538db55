using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Operations;

// metav1.ObjectMeta handling shared by every kind: known fields, validation of labels/annotations/finalizers.
internal static partial class ObjectMeta
{
    public const string OrphanFinalizer = "orphan";
    public const string ForegroundFinalizer = "foregroundDeletion";

    private static readonly HashSet<string> KnownFields =
    [
        "name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation", "creationTimestamp",
        "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations", "ownerReferences", "finalizers",
        "managedFields",
    ];

    public static JsonObject Of(JsonObject obj) => JsonTree.EnsureObject(obj, "metadata");

    public static string? DeletionTimestamp(JsonObject obj) => JsonTree.Str(obj["metadata"], "deletionTimestamp");

    public static List<string> Finalizers(JsonObject obj)
    {
        var list = new List<string>();
        if (JsonTree.Arr(obj["metadata"], "finalizers") is { } arr)
        {
            foreach (var f in arr)
            {
                if (JsonTree.AsString(f) is { } s)
                {
                    list.Add(s);
                }
            }
        }

        return list;
    }

    /// <summary>Drops unknown metadata fields (as decoding into ObjectMeta would) and checks field types.</summary>
    public static void Normalize(JsonObject meta, List<string> unknownFields)
    {
        foreach (var key in meta.Select(kv => kv.Key).ToList())
        {
            if (!KnownFields.Contains(key))
            {
                unknownFields.Add("metadata." + key);
                meta.Remove(key);
            }
        }

        foreach (var key in (string[])["name", "generateName", "namespace", "uid", "resourceVersion", "creationTimestamp", "deletionTimestamp"])
        {
            if (meta[key] is { } v && JsonTree.AsString(v) is null)
            {
                if (v.GetValueKind() == System.Text.Json.JsonValueKind.Null)
                {
                    meta.Remove(key);
                    continue;
                }

                throw ApiErrors.BadRequest($"json: cannot unmarshal {TypeName(v)} into Go struct field ObjectMeta.metadata.{key} of type string");
            }
        }

        foreach (var key in (string[])["labels", "annotations"])
        {
            if (meta[key] is null)
            {
                meta.Remove(key);
                continue;
            }

            if (meta[key] is not JsonObject map)
            {
                throw ApiErrors.BadRequest($"json: cannot unmarshal {TypeName(meta[key])} into Go struct field ObjectMeta.metadata.{key} of type map[string]string");
            }

            foreach (var kv in map)
            {
                if (JsonTree.AsString(kv.Value) is null)
                {
                    throw ApiErrors.BadRequest($"json: cannot unmarshal {TypeName(kv.Value)} into Go struct field ObjectMeta.metadata.{key} of type string");
                }
            }
        }

        if (meta["finalizers"] is { } fin)
        {
            if (fin is not JsonArray arr || arr.Any(f => JsonTree.AsString(f) is null))
            {
                throw ApiErrors.BadRequest("json: cannot unmarshal into Go struct field ObjectMeta.metadata.finalizers of type []string");
            }
        }
    }

    public static void Validate(JsonObject meta, List<FieldError> errors)
    {
        if (meta["labels"] is JsonObject labels)
        {
            foreach (var kv in labels)
            {
                ValidateQualifiedName(kv.Key, "metadata.labels", errors);
                var value = JsonTree.AsString(kv.Value) ?? "";
                if (value.Length > 63)
                {
                    errors.Add(FieldError.Invalid("metadata.labels", value, "must be no more than 63 characters"));
                }

                if (value.Length > 0 && !LabelValue().IsMatch(value))
                {
                    errors.Add(FieldError.Invalid("metadata.labels", value,
                        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
                }
            }
        }

        if (meta["annotations"] is JsonObject annotations)
        {
            long total = 0;
            foreach (var kv in annotations)
            {
                ValidateQualifiedName(kv.Key.ToLowerInvariant(), "metadata.annotations", errors);
                total += kv.Key.Length + (JsonTree.AsString(kv.Value)?.Length ?? 0);
            }

            if (total > 256 * 1024)
            {
                errors.Add(FieldError.TooLong("metadata.annotations", 256 * 1024));
            }
        }

        if (meta["ownerReferences"] is JsonArray owners)
        {
            ValidateOwnerReferences(owners, errors);
        }

        if (meta["finalizers"] is JsonArray finalizers)
        {
            for (var i = 0; i < finalizers.Count; i++)
            {
                ValidateQualifiedName(JsonTree.AsString(finalizers[i]) ?? "", $"metadata.finalizers[{i}]", errors);
            }
        }
    }

    // ValidateOwnerReferences (apimachinery pkg/api/validation/objectmeta.go): paths carry no index there.
    private static void ValidateOwnerReferences(JsonArray owners, List<FieldError> errors)
    {
        const string path = "metadata.ownerReferences";
        string? controller = null;
        foreach (var owner in owners.OfType<JsonObject>())
        {
            var apiVersion = JsonTree.Str(owner, "apiVersion") ?? "";
            var parts = apiVersion.Split('/');
            var version = parts.Length switch
            {
                1 => parts[0],
                2 => parts[1],
                _ => "",
            };
            if (version.Length == 0)
            {
                errors.Add(FieldError.Invalid(path + ".apiVersion", apiVersion, "version must not be empty"));
            }

            foreach (var field in (string[])["kind", "name", "uid"])
            {
                if (string.IsNullOrEmpty(JsonTree.Str(owner, field)))
                {
                    errors.Add(FieldError.Invalid(path + "." + field, JsonTree.Str(owner, field) ?? "", "must not be empty"));
                }
            }

            if (JsonTree.AsBool(owner["controller"]) == true)
            {
                var name = JsonTree.Str(owner, "kind") + "/" + JsonTree.Str(owner, "name");
                if (controller is not null)
                {
                    errors.Add(FieldError.Invalid(path, owners,
                        $"Only one reference can have Controller set to true. Found \"true\" in references for {controller} and {name}"));
                }
                else
                {
                    controller = name;
                }
            }
        }
    }

    public static void ValidateQualifiedName(string key, string field, List<FieldError> errors)
    {
        var slash = key.IndexOf('/', StringComparison.Ordinal);
        var name = slash < 0 ? key : key[(slash + 1)..];
        if (slash >= 0)
        {
            var prefix = key[..slash];
            if (prefix.Length == 0 || !Names.IsDns1123Subdomain(prefix))
            {
                errors.Add(FieldError.Invalid(field, key,
                    "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"));
            }
        }

        if (name.Length == 0)
        {
            errors.Add(FieldError.Invalid(field, key, "name part must be non-empty"));
        }
        else if (name.Length > 63)
        {
            errors.Add(FieldError.Invalid(field, key, "name part must be no more than 63 characters"));
        }
        else if (!QualifiedNamePart().IsMatch(name))
        {
            errors.Add(FieldError.Invalid(field, key,
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"));
        }
    }

    private static string TypeName(JsonNode? node) => JsonTree.Kind(node) switch
    {
        System.Text.Json.JsonValueKind.Number => "number",
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "bool",
        System.Text.Json.JsonValueKind.Array => "array",
        System.Text.Json.JsonValueKind.Object => "object",
        System.Text.Json.JsonValueKind.String => "string",
        _ => "null",
    };

    [GeneratedRegex("^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex QualifiedNamePart();
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using BareLb.ApiServer.Api;

namespace BareLb.ApiServer.Schema;

// A CRD version's openAPIV3Schema, parsed once when the CRD is registered. Supports the structural subset
// the real server enforces: types, properties/additionalProperties/items, required, enum, pattern, format on
// strings (see StringFormats; formats on numbers are informational, as in kube-openapi), numeric and
// length/size bounds, uniqueItems, x-kubernetes-list-type set/map, nullable, defaults,
// x-kubernetes-preserve-unknown-fields, x-kubernetes-int-or-string, x-kubernetes-embedded-resource,
// and allOf/anyOf/oneOf/not as value validations. x-kubernetes-validations (CEL) is not evaluated.
internal sealed class StructuralSchema
{
    public string? Type { get; private init; }

    public bool Nullable { get; private init; }

    public bool PreserveUnknownFields { get; private init; }

    public bool IntOrString { get; private init; }

    public bool EmbeddedResource { get; private init; }

    public Dictionary<string, StructuralSchema>? Properties { get; private init; }

    public StructuralSchema? Items { get; private init; }

    public StructuralSchema? AdditionalProperties { get; private init; }

    public bool AdditionalPropertiesAllowed { get; private init; }

    public IReadOnlyList<string> Required { get; private init; } = [];

    public JsonArray? Enum { get; private init; }

    public string? Pattern { get; private init; }

    public Regex? PatternRegex { get; private init; }

    public string? Format { get; private init; }

    public double? Minimum { get; private init; }

    public double? Maximum { get; private init; }

    public bool ExclusiveMinimum { get; private init; }

    public bool ExclusiveMaximum { get; private init; }

    public double? MultipleOf { get; private init; }

    public long? MinLength { get; private init; }

    public long? MaxLength { get; private init; }

    public long? MinItems { get; private init; }

    public long? MaxItems { get; private init; }

    public long? MinProperties { get; private init; }

    public long? MaxProperties { get; private init; }

    public bool UniqueItems { get; private init; }

    public string? ListType { get; private init; }

    public IReadOnlyList<string> ListMapKeys { get; private init; } = [];

    public JsonNode? Default { get; private init; }

    public IReadOnlyList<StructuralSchema> AllOf { get; private init; } = [];

    public IReadOnlyList<StructuralSchema> AnyOf { get; private init; } = [];

    public IReadOnlyList<StructuralSchema> OneOf { get; private init; } = [];

    public StructuralSchema? Not { get; private init; }

    public JsonObject Source { get; private init; } = [];

    /// <summary>Parses a schema; structural problems are reported against fieldPath (e.g. spec.versions[0].schema.openAPIV3Schema).</summary>
    public static StructuralSchema Parse(JsonObject node, string fieldPath, List<FieldError> errors, bool root = true, bool inValueValidation = false)
    {
        var type = JsonTree.Str(node, "type");
        var intOrString = JsonTree.AsBool(node["x-kubernetes-int-or-string"]) == true;
        var preserve = JsonTree.AsBool(node["x-kubernetes-preserve-unknown-fields"]) == true;
        var embedded = JsonTree.AsBool(node["x-kubernetes-embedded-resource"]) == true;
        if (!inValueValidation && string.IsNullOrEmpty(type) && !intOrString && !preserve)
        {
            errors.Add(FieldError.Required(fieldPath + ".type", root ? "must not be empty at the root" : "must not be empty for specified object fields"));
        }

        if (type is { Length: > 0 } && type is not ("object" or "array" or "string" or "integer" or "number" or "boolean"))
        {
            errors.Add(FieldError.NotSupported(fieldPath + ".type", type, ["array", "boolean", "integer", "number", "object", "string"]));
        }

        Dictionary<string, StructuralSchema>? properties = null;
        if (node["properties"] is JsonObject props)
        {
            properties = new Dictionary<string, StructuralSchema>(StringComparer.Ordinal);
            foreach (var kv in props)
            {
                if (kv.Value is JsonObject p)
                {
                    properties[kv.Key] = Parse(p, $"{fieldPath}.properties[{kv.Key}]", errors, false, inValueValidation);
                }
            }
        }

        StructuralSchema? additional = null;
        var additionalAllowed = false;
        switch (node["additionalProperties"])
        {
            case JsonObject ap:
                additional = Parse(ap, fieldPath + ".additionalProperties", errors, false, inValueValidation);
                additionalAllowed = true;
                if (properties is { Count: > 0 })
                {
                    errors.Add(FieldError.Forbidden(fieldPath + ".additionalProperties", "additionalProperties and properties are mutual exclusive"));
                }

                break;
            case JsonValue v when JsonTree.AsBool(v) == true:
                additionalAllowed = true;
                break;
        }

        StructuralSchema? items = null;
        if (node["items"] is JsonObject it)
        {
            items = Parse(it, fieldPath + ".items", errors, false, inValueValidation);
        }
        else if (type == "array" && !inValueValidation)
        {
            errors.Add(FieldError.Required(fieldPath + ".items", "must be specified"));
        }

        Regex? regex = null;
        var pattern = JsonTree.Str(node, "pattern");
        if (pattern is not null)
        {
            try
            {
                regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                errors.Add(FieldError.Invalid(fieldPath + ".pattern", pattern, "must be a valid regular expression, but isn't: " + e.Message));
            }
        }

        List<StructuralSchema> Many(string key)
        {
            var list = new List<StructuralSchema>();
            if (node[key] is JsonArray arr)
            {
                for (var i = 0; i < arr.Count; i++)
                {
                    if (arr[i] is JsonObject o)
                    {
                        list.Add(Parse(o, $"{fieldPath}.{key}[{i}]", errors, false, true));
                    }
                }
            }

            return list;
        }

        static double? Num(JsonNode? n) => JsonTree.TryGetDouble(n, out var d) ? d : null;
        static long? Int(JsonNode? n) => JsonTree.TryGetLong(n, out var l) ? l : null;

        return new StructuralSchema
        {
            Source = node,
            Type = string.IsNullOrEmpty(type) ? null : type,
            Nullable = JsonTree.AsBool(node["nullable"]) == true,
            PreserveUnknownFields = preserve,
            IntOrString = intOrString,
            EmbeddedResource = embedded,
            Properties = properties,
            AdditionalProperties = additional,
            AdditionalPropertiesAllowed = additionalAllowed,
            Items = items,
            Required = (node["required"] as JsonArray ?? []).Select(r => JsonTree.AsString(r) ?? "").ToList(),
            Enum = node["enum"] as JsonArray,
            Pattern = pattern,
            PatternRegex = regex,
            Format = JsonTree.Str(node, "format"),
            Minimum = Num(node["minimum"]),
            Maximum = Num(node["maximum"]),
            ExclusiveMinimum = JsonTree.AsBool(node["exclusiveMinimum"]) == true,
            ExclusiveMaximum = JsonTree.AsBool(node["exclusiveMaximum"]) == true,
            MultipleOf = Num(node["multipleOf"]),
            MinLength = Int(node["minLength"]),
            MaxLength = Int(node["maxLength"]),
            MinItems = Int(node["minItems"]),
            MaxItems = Int(node["maxItems"]),
            MinProperties = Int(node["minProperties"]),
            MaxProperties = Int(node["maxProperties"]),
            UniqueItems = JsonTree.AsBool(node["uniqueItems"]) == true,
            ListType = JsonTree.Str(node, "x-kubernetes-list-type"),
            ListMapKeys = (node["x-kubernetes-list-map-keys"] as JsonArray ?? []).Select(r => JsonTree.AsString(r) ?? "").ToList(),
            Default = node["default"],
            AllOf = Many("allOf"),
            AnyOf = Many("anyOf"),
            OneOf = Many("oneOf"),
            Not = node["not"] is JsonObject not ? Parse(not, fieldPath + ".not", errors, false, true) : null,
        };
    }

    /// <summary>Removes fields the schema does not specify (outside preserve-unknown-fields), recording their paths.</summary>
    public void Prune(JsonObject root, List<string> unknownFields) => PruneObject(root, this, "", unknownFields, isRoot: true);

    private static void PruneNode(JsonNode? node, StructuralSchema schema, string path, List<string> unknown)
    {
        switch (node)
        {
            case JsonObject obj:
                PruneObject(obj, schema, path, unknown, isRoot: schema.EmbeddedResource);
                break;
            case JsonArray arr when schema.Items is not null:
                for (var i = 0; i < arr.Count; i++)
                {
                    PruneNode(arr[i], schema.Items, $"{path}[{i}]", unknown);
                }

                break;
        }
    }

    private static void PruneObject(JsonObject obj, StructuralSchema schema, string path, List<string> unknown, bool isRoot)
    {
        foreach (var key in obj.Select(kv => kv.Key).ToList())
        {
            if (isRoot && key is "apiVersion" or "kind" or "metadata")
            {
                continue;
            }

            var childPath = path.Length == 0 ? key : path + "." + key;
            if (schema.Properties is not null && schema.Properties.TryGetValue(key, out var prop))
            {
                PruneNode(obj[key], prop, childPath, unknown);
            }
            else if (schema.AdditionalProperties is not null)
            {
                PruneNode(obj[key], schema.AdditionalProperties, childPath, unknown);
            }
            else if (!schema.PreserveUnknownFields && !schema.AdditionalPropertiesAllowed)
            {
                unknown.Add(childPath);
                obj.Remove(key);
            }
        }
    }

    /// <summary>Applies defaults top-down; null for a non-nullable field is dropped first (then defaulted).</summary>
    public void ApplyDefaults(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                if (Properties is not null)
                {
                    foreach (var (key, prop) in Properties)
                    {
                        if (obj.TryGetPropertyValue(key, out var value) && value is null && !prop.Nullable)
                        {
                            obj.Remove(key);
                        }

                        if (!obj.ContainsKey(key) && prop.Default is not null)
                        {
                            obj[key] = prop.Default.DeepClone();
                        }

                        if (obj[key] is { } child)
                        {
                            prop.ApplyDefaults(child);
                        }
                    }
                }

                if (AdditionalProperties is not null)
                {
                    foreach (var kv in obj.ToList())
                    {
                        AdditionalProperties.ApplyDefaults(kv.Value);
                    }
                }

                break;
            case JsonArray arr when Items is not null:
                for (var i = 0; i < arr.Count; i++)
                {
                    if (arr[i] is null && !Items.Nullable && Items.Default is not null)
                    {
                        arr[i] = Items.Default.DeepClone();
                    }

                    Items.ApplyDefaults(arr[i]);
                }

                break;
        }
    }

    public void Validate(JsonObject root, List<FieldError> errors) => ValidateObject(root, "", errors, isRoot: true);

    private void ValidateNode(JsonNode? node, string path, List<FieldError> errors)
    {
        if (node is null)
        {
            if (!Nullable && (Type is not null || IntOrString))
            {
                errors.Add(FieldError.TypeInvalid(path, "\"null\"", $"{path} in body must be of type {Type ?? "integer-or-string"}: \"null\""));
            }

            return;
        }

        var kind = JsonTree.Kind(node);
        if (IntOrString)
        {
            if (kind != JsonValueKind.String && !(kind == JsonValueKind.Number && JsonTree.TryGetLong(node, out _)))
            {
                errors.Add(FieldError.TypeInvalid(path, JsonTree.Quote(TypeName(node)), $"{path} in body must be of type integer-or-string: {JsonTree.Quote(TypeName(node))}"));
                return;
            }
        }
        else if (Type is not null && !TypeMatches(Type, node, kind))
        {
            errors.Add(FieldError.TypeInvalid(path, JsonTree.Quote(TypeName(node)), $"{path} in body must be of type {Type}: {JsonTree.Quote(TypeName(node))}"));
            return;
        }

        ValidateValue(node, kind, path, errors);
        switch (node)
        {
            case JsonObject obj:
                ValidateObject(obj, path, errors, EmbeddedResource);
                break;
            case JsonArray arr:
                ValidateArray(arr, path, errors);
                break;
        }
    }

    private void ValidateValue(JsonNode node, JsonValueKind kind, string path, List<FieldError> errors)
    {
        if (Enum is not null && !Enum.Any(e => JsonNode.DeepEquals(e, node)))
        {
            errors.Add(FieldError.NotSupported(path, node, Enum.Select(e => JsonTree.AsString(e) ?? JsonTree.ToJsonString(e))));
        }

        if (kind == JsonValueKind.String)
        {
            var s = node.GetValue<string>();
            var runes = s.EnumerateRunes().Count();
            if (MinLength is { } min && runes < min)
            {
                errors.Add(FieldError.Invalid(path, s, $"{path} in body should be at least {min} chars long"));
            }

            if (MaxLength is { } max && runes > max)
            {
                errors.Add(FieldError.TooLong(path, max));
            }

            if (PatternRegex is not null && !PatternRegex.IsMatch(s))
            {
                errors.Add(FieldError.Invalid(path, s, $"{path} in body should match '{Pattern}'"));
            }

            if (Format is not null && !StringFormats.IsValid(Format, s))
            {
                errors.Add(FieldError.Invalid(path, s, $"{path} in body must be of type {Format}: {JsonTree.Quote(s)}"));
            }
        }
        else if (kind == JsonValueKind.Number)
        {
            JsonTree.TryGetDouble(node, out var d);
            var rendered = JsonTree.ToJsonString(node);
            if (Minimum is { } min && (ExclusiveMinimum ? d <= min : d < min))
            {
                errors.Add(FieldError.InvalidRaw(path, rendered,
                    $"{path} in body should be greater than {(ExclusiveMinimum ? "" : "or equal to ")}{Num(min)}"));
            }

            if (Maximum is { } max && (ExclusiveMaximum ? d >= max : d > max))
            {
                errors.Add(FieldError.InvalidRaw(path, rendered,
                    $"{path} in body should be less than {(ExclusiveMaximum ? "" : "or equal to ")}{Num(max)}"));
            }

            if (MultipleOf is { } m && m > 0 && Math.Abs(Math.IEEERemainder(d, m)) > 1e-9)
            {
                errors.Add(FieldError.InvalidRaw(path, rendered, $"{path} in body should be a multiple of {Num(m)}"));
            }
        }

        foreach (var sub in AllOf)
        {
            sub.ValidateNode(node, path, errors);
        }

        if (AnyOf.Count > 0 && !AnyOf.Any(s => s.Passes(node, path)))
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body must match at least one schema in anyOf"));
        }

        if (OneOf.Count > 0 && OneOf.Count(s => s.Passes(node, path)) != 1)
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body must match exactly one schema in oneOf"));
        }

        if (Not is not null && Not.Passes(node, path))
        {
            errors.Add(FieldError.Invalid(path, node, $"{path} in body must not match the schema in not"));
        }
    }

    private bool Passes(JsonNode node, string path)
    {
        var scratch = new List<FieldError>();
        ValidateNode(node, path, scratch);
        return scratch.Count == 0;
    }

    private void ValidateObject(JsonObject obj, string path, List<FieldError> errors, bool isRoot)
    {
        foreach (var req in Required)
        {
            if (!obj.ContainsKey(req) || (obj[req] is null && !(Properties?.GetValueOrDefault(req)?.Nullable ?? false)))
            {
                errors.Add(FieldError.Required(Child(path, req)));
            }
        }

        if (MinProperties is { } minP && obj.Count < minP)
        {
            errors.Add(FieldError.InvalidRaw(path, obj.Count.ToString(CultureInfo.InvariantCulture), $"{path} in body should have at least {minP} properties"));
        }

        if (MaxProperties is { } maxP && obj.Count > maxP)
        {
            errors.Add(FieldError.InvalidRaw(path, obj.Count.ToString(CultureInfo.InvariantCulture), $"{path} in body should have at most {maxP} properties"));
        }

        foreach (var kv in obj)
        {
            if (isRoot && kv.Key is "apiVersion" or "kind" or "metadata")
            {
                continue;
            }

            if (Properties is not null && Properties.TryGetValue(kv.Key, out var prop))
            {
                prop.ValidateNode(kv.Value, Child(path, kv.Key), errors);
            }
            else
            {
                AdditionalProperties?.ValidateNode(kv.Value, Child(path, kv.Key), errors);
            }
        }
    }

    private void ValidateArray(JsonArray arr, string path, List<FieldError> errors)
    {
        if (MinItems is { } min && arr.Count < min)
        {
            errors.Add(FieldError.InvalidRaw(path, arr.Count.ToString(CultureInfo.InvariantCulture), $"{path} in body should have at least {min} items"));
        }

        if (MaxItems is { } max && arr.Count > max)
        {
            errors.Add(FieldError.TooMany(path, arr.Count, max));
        }

        if (UniqueItems || ListType == "set")
        {
            for (var i = 0; i < arr.Count; i++)
            {
                for (var j = 0; j < i; j++)
                {
                    if (JsonNode.DeepEquals(arr[i], arr[j]))
                    {
                        errors.Add(FieldError.Duplicate($"{path}[{i}]", arr[i]));
                        break;
                    }
                }
            }
        }
        else if (ListType == "map" && ListMapKeys.Count > 0)
        {
            var seen = new HashSet<string>();
            for (var i = 0; i < arr.Count; i++)
            {
                if (arr[i] is JsonObject o)
                {
                    var key = string.Join("\u0000", ListMapKeys.Select(k => JsonTree.ToJsonString(o[k])));
                    if (!seen.Add(key))
                    {
                        var dup = new JsonObject();
                        foreach (var k in ListMapKeys)
                        {
                            dup[k] = o[k]?.DeepClone();
                        }

                        errors.Add(FieldError.Duplicate($"{path}[{i}]", dup));
                    }
                }
            }
        }

        if (Items is not null)
        {
            for (var i = 0; i < arr.Count; i++)
            {
                Items.ValidateNode(arr[i], $"{path}[{i}]", errors);
            }
        }
    }

    private static string Child(string path, string key) => path.Length == 0 ? key : path + "." + key;

    private static string Num(double d) => d.ToString("G", CultureInfo.InvariantCulture);

    private static bool TypeMatches(string type, JsonNode node, JsonValueKind kind) => type switch
    {
        "object" => kind == JsonValueKind.Object,
        "array" => kind == JsonValueKind.Array,
        "string" => kind == JsonValueKind.String,
        "boolean" => kind is JsonValueKind.True or JsonValueKind.False,
        "number" => kind == JsonValueKind.Number,
        "integer" => kind == JsonValueKind.Number && JsonTree.TryGetLong(node, out _),
        _ => true,
    };

    private static string TypeName(JsonNode? node) => JsonTree.Kind(node) switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        JsonValueKind.Number => JsonTree.TryGetLong(node, out _) ? "integer" : "number",
        _ => "null",
    };
}

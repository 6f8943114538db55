using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace BareLb.Api.Tests.Support;

// The parts of the API server's CustomResourceDefinition handling the tests need, written from the Kubernetes
// documentation: structural-schema rules, and validation of values (defaults, samples, examples) against a schema
// the way the server would after pruning. Not a full OpenAPI implementation: only keywords BareLb's CRDs may use.
internal static class OpenApiSchema
{
    private static readonly HashSet<string> AllowedKeywords =
    [
        "description", "type", "format", "title", "default", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern", "maxItems", "minItems", "multipleOf", "enum", "maxProperties",
        "minProperties", "required", "items", "properties", "additionalProperties", "nullable", "example",
        "x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "x-kubernetes-embedded-resource",
        "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "x-kubernetes-validations",
    ];

    private static readonly HashSet<string> Types = ["object", "array", "string", "integer", "number", "boolean"];

    /// <summary>Structural-schema violations (apiextensions.k8s.io/v1 rules), each with its schema path.</summary>
    public static List<string> StructuralProblems(JsonObject root)
    {
        var problems = new List<string>();
        CheckNode(root, "openAPIV3Schema", problems, isRoot: true);
        return problems;
    }

    private static void CheckNode(JsonObject node, string path, List<string> problems, bool isRoot = false)
    {
        foreach (var (keyword, _) in node)
        {
            if (!AllowedKeywords.Contains(keyword))
            {
                problems.Add($"{path}: keyword \"{keyword}\" is not allowed in a CRD schema");
            }
        }

        var type = (string?)node["type"];
        var openEnded = node["x-kubernetes-int-or-string"] is not null || node["x-kubernetes-preserve-unknown-fields"] is not null;
        if (type is null && !openEnded)
        {
            problems.Add($"{path}: type is missing (structural schemas need a type on every node)");
        }
        else if (type is not null && !Types.Contains(type))
        {
            problems.Add($"{path}: unknown type \"{type}\"");
        }

        if (isRoot && type != "object")
        {
            problems.Add($"{path}: the root must be of type object");
        }

        if (node["properties"] is not null && node["additionalProperties"] is not null)
        {
            problems.Add($"{path}: properties and additionalProperties are mutually exclusive");
        }

        if (type == "array" && node["items"] is not JsonObject)
        {
            problems.Add($"{path}: an array needs an items schema");
        }

        if (node["pattern"] is JsonValue pattern)
        {
            CheckPattern((string)pattern!, path, problems);
        }

        if (node["enum"] is JsonArray values)
        {
            foreach (var value in values)
            {
                foreach (var problem in Validate(value, StripEnum(node), $"{path}.enum"))
                {
                    problems.Add(problem);
                }
            }
        }

        if (node["default"] is { } defaultValue)
        {
            if (path.Contains(".properties.metadata", StringComparison.Ordinal))
            {
                problems.Add($"{path}: defaults are not allowed under metadata");
            }

            foreach (var problem in Validate(defaultValue, node, $"{path}.default"))
            {
                problems.Add($"default is invalid: {problem}");
            }
        }

        if ((string?)node["x-kubernetes-list-type"] == "map")
        {
            var keys = node["x-kubernetes-list-map-keys"] as JsonArray;
            var required = node["items"]?["required"] as JsonArray;
            if (keys is null || keys.Count == 0)
            {
                problems.Add($"{path}: a map list needs x-kubernetes-list-map-keys");
            }
            else
            {
                foreach (var key in keys)
                {
                    if (required is null || !required.Any(r => (string?)r == (string?)key))
                    {
                        problems.Add($"{path}: map key \"{key}\" must be required in the items");
                    }
                }
            }
        }

        if (node["properties"] is JsonObject properties)
        {
            foreach (var (name, child) in properties)
            {
                var childPath = $"{path}.properties.{name}";
                if (isRoot && name == "metadata")
                {
                    var metadata = child!.AsObject();
                    if (metadata.Count != 1 || (string?)metadata["type"] != "object")
                    {
                        problems.Add($"{childPath}: at the root, metadata may only say type: object");
                    }

                    continue;
                }

                CheckNode(child!.AsObject(), childPath, problems);
            }
        }

        if (node["required"] is JsonArray requiredFields && node["properties"] is JsonObject declared)
        {
            foreach (var field in requiredFields)
            {
                if (!declared.ContainsKey((string)field!))
                {
                    problems.Add($"{path}: required field \"{field}\" is not declared");
                }
            }
        }

        if (node["additionalProperties"] is JsonObject additional)
        {
            CheckNode(additional, $"{path}.additionalProperties", problems);
        }

        if (node["items"] is JsonObject items)
        {
            CheckNode(items, $"{path}.items", problems);
        }
    }

    // The API server compiles patterns with Go's RE2, which has no lookaround, backreferences or atomic groups.
    private static void CheckPattern(string pattern, string path, List<string> problems)
    {
        if (Regex.IsMatch(pattern, @"\(\?[=!<>]|\\[1-9]"))
        {
            problems.Add($"{path}: pattern {pattern} uses a construct RE2 does not support");
        }

        try
        {
            _ = new Regex(pattern);
        }
        catch (ArgumentException e)
        {
            problems.Add($"{path}: pattern {pattern} does not compile: {e.Message}");
        }
    }

    private static JsonObject StripEnum(JsonObject node)
    {
        var copy = node.DeepClone().AsObject();
        copy.Remove("enum");
        copy.Remove("default");
        return copy;
    }

    /// <summary>
    /// What the API server would reject in <paramref name="value"/>, plus fields it would silently prune
    /// (reported as "unknown field", since losing a field is as bad as a rejection).
    /// </summary>
    public static List<string> Validate(JsonNode? value, JsonObject schema, string path)
    {
        var problems = new List<string>();
        ValidateInto(value, schema, path, problems);
        return problems;
    }

    private static void ValidateInto(JsonNode? value, JsonObject schema, string path, List<string> problems)
    {
        if (value is null)
        {
            // Without nullable: true the server prunes nulls before validating.
            return;
        }

        var type = (string?)schema["type"];
        switch (type)
        {
            case "object" when value is not JsonObject:
            case "array" when value is not JsonArray:
            case "string" when value.GetValueKind() != JsonValueKind.String:
            case "boolean" when value.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False):
            case "number" when value.GetValueKind() != JsonValueKind.Number:
                problems.Add($"{path}: expected {type}, got {value.GetValueKind()}");
                return;
            case "integer" when value.GetValueKind() != JsonValueKind.Number || !decimal.TryParse(value.ToJsonString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out _):
                problems.Add($"{path}: expected integer, got {value.ToJsonString()}");
                return;
        }

        if (schema["enum"] is JsonArray allowed && !allowed.Any(a => JsonNode.DeepEquals(a, value)))
        {
            problems.Add($"{path}: {value.ToJsonString()} is not one of {allowed.ToJsonString()}");
        }

        switch (value)
        {
            case JsonObject obj:
                ValidateObject(obj, schema, path, problems);
                break;
            case JsonArray array:
                if (schema["minItems"] is { } minItems && array.Count < (int)minItems)
                {
                    problems.Add($"{path}: fewer than {minItems} items");
                }

                if (schema["maxItems"] is { } maxItems && array.Count > (int)maxItems)
                {
                    problems.Add($"{path}: more than {maxItems} items");
                }

                for (var i = 0; i < array.Count; i++)
                {
                    ValidateInto(array[i], schema["items"]!.AsObject(), $"{path}[{i}]", problems);
                }

                break;
            default:
                ValidateScalar(value.AsValue(), schema, path, problems);
                break;
        }
    }

    private static void ValidateObject(JsonObject obj, JsonObject schema, string path, List<string> problems)
    {
        var properties = schema["properties"] as JsonObject;
        var additional = schema["additionalProperties"] as JsonObject;
        var preserve = (bool?)schema["x-kubernetes-preserve-unknown-fields"] == true;
        foreach (var (name, child) in obj)
        {
            var childPath = path.Length == 0 ? name : $"{path}.{name}";
            if (path.Length == 0 && name == "metadata")
            {
                continue;
            }

            if (properties?[name] is JsonObject childSchema)
            {
                ValidateInto(child, childSchema, childPath, problems);
            }
            else if (additional is not null)
            {
                ValidateInto(child, additional, childPath, problems);
            }
            else if (!preserve)
            {
                problems.Add($"{childPath}: unknown field (the API server would prune it)");
            }
        }

        foreach (var required in schema["required"]?.AsArray() ?? [])
        {
            if (obj[(string)required!] is null)
            {
                problems.Add($"{(path.Length == 0 ? "" : path + ".")}{required}: required");
            }
        }
    }

    private static void ValidateScalar(JsonValue value, JsonObject schema, string path, List<string> problems)
    {
        if (value.GetValueKind() == JsonValueKind.String)
        {
            var text = value.GetValue<string>();
            var length = text.EnumerateRunes().Count();
            if (schema["minLength"] is { } minLength && length < (int)minLength)
            {
                problems.Add($"{path}: \"{text}\" is shorter than {minLength}");
            }

            if (schema["maxLength"] is { } maxLength && length > (int)maxLength)
            {
                problems.Add($"{path}: \"{text}\" is longer than {maxLength}");
            }

            if (schema["pattern"] is { } pattern && !Regex.IsMatch(text, (string)pattern!))
            {
                problems.Add($"{path}: \"{text}\" does not match {pattern}");
            }

            switch ((string?)schema["format"])
            {
                case "date-time" when !DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out _):
                case "ipv4" when !(IPAddress.TryParse(text, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') == 3):
                    problems.Add($"{path}: \"{text}\" is not a valid {schema["format"]}");
                    break;
            }
        }
        else if (value.GetValueKind() == JsonValueKind.Number)
        {
            var number = decimal.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (schema["minimum"] is { } minimum && number < decimal.Parse(minimum.ToJsonString(), CultureInfo.InvariantCulture))
            {
                problems.Add($"{path}: {number} is less than {minimum}");
            }

            if (schema["maximum"] is { } maximum && number > decimal.Parse(maximum.ToJsonString(), CultureInfo.InvariantCulture))
            {
                problems.Add($"{path}: {number} is greater than {maximum}");
            }

            var (low, high) = (string?)schema["format"] switch
            {
                "int32" => ((decimal)int.MinValue, (decimal)int.MaxValue),
                "int64" => ((decimal)long.MinValue, (decimal)long.MaxValue),
                _ => (decimal.MinValue, decimal.MaxValue),
            };
            if (number < low || number > high)
            {
                problems.Add($"{path}: {number} does not fit {schema["format"]}");
            }
        }
    }

    /// <summary>The schema node a printer column's JSONPath points at, or null when the path leaves the schema.</summary>
    public static JsonObject? Resolve(JsonObject root, string jsonPath)
    {
        JsonObject? node = root;
        foreach (Match segment in Regex.Matches(jsonPath, @"\.([A-Za-z0-9_]+)|\[\*\]|\[[0-9]+\]"))
        {
            if (node is null)
            {
                return null;
            }

            if (segment.Value.StartsWith('['))
            {
                node = (string?)node["type"] == "array" ? node["items"] as JsonObject : null;
                continue;
            }

            var name = segment.Groups[1].Value;
            if (node == root && name == "metadata")
            {
                // ObjectMeta is not in a CRD's schema; the server fills it in.
                return new JsonObject { ["type"] = "object", ["x-kubernetes-preserve-unknown-fields"] = true };
            }

            node = node["properties"]?[name] as JsonObject;
        }

        return node;
    }
}

using System.Text.Json.Nodes;

namespace BareLb.ApiServer.Api;

// Mirrors k8s.io/apimachinery/pkg/util/validation/field.Error: Reason is the cause type sent in
// Status.details.causes[].reason, Detail is the text after the field path.
internal sealed record FieldError(string Field, string Reason, string Detail)
{
    public static FieldError Required(string field, string? detail = null) =>
        new(field, "FieldValueRequired", string.IsNullOrEmpty(detail) ? "Required value" : "Required value: " + detail);

    public static FieldError Invalid(string field, JsonNode? value, string detail) =>
        new(field, "FieldValueInvalid", $"Invalid value: {JsonTree.Render(value)}: {detail}");

    public static FieldError Invalid(string field, string value, string detail) =>
        new(field, "FieldValueInvalid", $"Invalid value: {JsonTree.Quote(value)}: {detail}");

    public static FieldError Invalid(string field, long value, string detail) =>
        new(field, "FieldValueInvalid", $"Invalid value: {value}: {detail}");

    public static FieldError InvalidRaw(string field, string renderedValue, string detail) =>
        new(field, "FieldValueInvalid", $"Invalid value: {renderedValue}: {detail}");

    public static FieldError TypeInvalid(string field, string renderedValue, string detail) =>
        new(field, "FieldValueTypeInvalid", $"Invalid value: {renderedValue}: {detail}");

    public static FieldError NotSupported(string field, JsonNode? value, IEnumerable<string> supported) =>
        new(field, "FieldValueNotSupported",
            $"Unsupported value: {JsonTree.Render(value)}: supported values: {string.Join(", ", supported.Select(JsonTree.Quote))}");

    public static FieldError Duplicate(string field, JsonNode? value) =>
        new(field, "FieldValueDuplicate", $"Duplicate value: {JsonTree.Render(value)}");

    public static FieldError Forbidden(string field, string detail) => new(field, "FieldValueForbidden", "Forbidden: " + detail);

    public static FieldError TooLong(string field, long max) =>
        new(field, "FieldValueTooLong", $"Too long: may not be longer than {max}");

    public static FieldError TooMany(string field, long actual, long max) =>
        new(field, "FieldValueTooMany", $"Too many: {actual}: must have at most {max} items");

    public override string ToString() => Field.Length == 0 ? Detail : $"{Field}: {Detail}";
}

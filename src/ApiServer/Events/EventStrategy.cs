using System.Text.Json.Nodes;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Operations;
using BareLb.ApiServer.Resources;

namespace BareLb.ApiServer.Events;

// Events through both APIs (pkg/registry/core/event/strategy.go, pkg/apis/core/validation/events.go). Requests to
// events.k8s.io/v1 are converted to the stored core/v1 form before validation, and validated strictly; core/v1
// requests get only the legacy checks. Field paths in errors are the core field names on both APIs, as on the real
// server (it validates the internal object).
internal sealed class EventStrategy : ResourceStrategy
{
    public static readonly EventStrategy Instance = new();

    private const int ReportingInstanceLimit = 128;
    private const int ActionLimit = 128;
    private const int ReasonLimit = 128;
    private const int NoteLimit = 1024;

    private static readonly string[] ImmutableOnStrictUpdate =
    [
        "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count", "reason", "type", "eventTime", "action",
        "related", "reportingComponent", "reportingInstance",
    ];

    public static bool IsStrict(ResourceKind kind) => kind.Group == "events.k8s.io";

    public override void Normalize(ResourceKind kind, JsonObject obj, List<string> unknownFields)
    {
        if (IsStrict(kind))
        {
            EventSchemas.V1.Prune(obj, unknownFields);
            EventConversion.ToCoreInPlace(obj);
        }
        else
        {
            EventSchemas.Core.Prune(obj, unknownFields);
        }

        EventConversion.ShapeCore(obj);
    }

    public override void Validate(ResourceKind kind, JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        ValidateLegacy(obj, errors);
        if (!IsStrict(kind))
        {
            return;
        }

        if (old is null)
        {
            ValidateStrictCreate(obj, errors);
            return;
        }

        if (!JsonNode.DeepEquals(obj["series"], old["series"]))
        {
            ValidateSeries(obj, errors);
        }

        foreach (var field in ImmutableOnStrictUpdate)
        {
            if (!JsonNode.DeepEquals(obj[field], old[field]))
            {
                errors.Add(FieldError.Invalid(Path(field), obj[field], "field is immutable"));
            }
        }
    }

    // legacyValidateEvent: every Event, whichever API wrote it.
    private static void ValidateLegacy(JsonObject e, List<FieldError> errors)
    {
        var ns = JsonTree.Str(e["metadata"], "namespace") ?? "";
        var involvedNs = JsonTree.Str(e["involvedObject"], "namespace") ?? "";
        if (e["eventTime"] is null)
        {
            var matches = involvedNs.Length == 0 ? ns is "" or "default" : ns == involvedNs;
            if (!matches)
            {
                errors.Add(FieldError.Invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
            }

            return;
        }

        if (involvedNs.Length == 0 && ns is not ("default" or "kube-system"))
        {
            errors.Add(FieldError.Invalid("involvedObject.namespace", involvedNs, "does not match event.namespace"));
        }

        var controller = JsonTree.Str(e, "reportingComponent") ?? "";
        if (controller.Length == 0)
        {
            errors.Add(FieldError.Required("reportingController"));
        }

        ObjectMeta.ValidateQualifiedName(controller, "reportingController", errors);
        RequireBounded(e, "reportingInstance", "reportingInstance", ReportingInstanceLimit, required: true, errors);
        RequireBounded(e, "action", "action", ActionLimit, required: true, errors);
        RequireBounded(e, "reason", "reason", ReasonLimit, required: true, errors);
        RequireBounded(e, "message", "message", NoteLimit, required: false, errors);
    }

    // ValidateEventCreate for events.k8s.io/v1 and later.
    private static void ValidateStrictCreate(JsonObject e, List<FieldError> errors)
    {
        ValidateSeries(e, errors);
        if (e["eventTime"] is null)
        {
            errors.Add(FieldError.Required("eventTime"));
        }

        var type = JsonTree.Str(e, "type") ?? "";
        if (type is not ("Normal" or "Warning"))
        {
            errors.Add(FieldError.Invalid("type", "", $"has invalid value: {type}"));
        }

        foreach (var field in (string[])["firstTimestamp", "lastTimestamp"])
        {
            if (e[field] is not null)
            {
                errors.Add(FieldError.Invalid(field, "", "needs to be unset"));
            }
        }

        if (e["count"] is not null)
        {
            errors.Add(FieldError.Invalid("count", "", "needs to be unset"));
        }

        if (e["source"] is JsonObject { Count: > 0 })
        {
            errors.Add(FieldError.Invalid("source", "", "needs to be unset"));
        }
    }

    private static void ValidateSeries(JsonObject e, List<FieldError> errors)
    {
        if (e["series"] is not JsonObject series)
        {
            return;
        }

        if (!JsonTree.TryGetLong(series["count"], out var count) || count < 2)
        {
            errors.Add(FieldError.Invalid("series.count", "", "should be at least 2"));
        }

        if (series["lastObservedTime"] is null)
        {
            errors.Add(FieldError.Required("series.lastObservedTime"));
        }
    }

    private static void RequireBounded(JsonObject e, string key, string path, int limit, bool required, List<FieldError> errors)
    {
        var value = JsonTree.Str(e, key) ?? "";
        if (required && value.Length == 0)
        {
            errors.Add(FieldError.Required(path));
        }

        if (System.Text.Encoding.UTF8.GetByteCount(value) > limit)
        {
            errors.Add(FieldError.Invalid(path, "", $"can have at most {limit} characters"));
        }
    }

    private static string Path(string storedField) => storedField == "reportingComponent" ? "reportingController" : storedField;
}

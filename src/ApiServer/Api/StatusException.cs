using System.Text.Json.Nodes;

namespace BareLb.ApiServer.Api;

// A failed API call, carried up to the HTTP edge where it becomes a metav1.Status body.
internal sealed class StatusException(int code, string reason, string message, JsonObject? details = null) : Exception(message)
{
    public int Code { get; } = code;

    public string Reason { get; } = reason;

    public JsonObject? Details { get; } = details;

    public JsonObject ToStatus()
    {
        var status = new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = Message,
            ["reason"] = Reason,
        };
        if (Details is not null)
        {
            status["details"] = Details.DeepClone();
        }

        status["code"] = Code;
        return status;
    }
}

internal static class ApiErrors
{
    private static JsonObject Details(string? name, string group, string kind, IReadOnlyList<FieldError>? causes = null)
    {
        var d = new JsonObject();
        if (!string.IsNullOrEmpty(name))
        {
            d["name"] = name;
        }

        if (group.Length > 0)
        {
            d["group"] = group;
        }

        d["kind"] = kind;
        if (causes is { Count: > 0 })
        {
            var arr = new JsonArray();
            foreach (var c in causes)
            {
                arr.Add(new JsonObject { ["reason"] = c.Reason, ["message"] = c.Detail, ["field"] = c.Field });
            }

            d["causes"] = arr;
        }

        return d;
    }

    public static StatusException NotFound(string group, string plural, string name) =>
        new(404, "NotFound", $"{Qualified(plural, group)} \"{name}\" not found", Details(name, group, plural));

    public static StatusException AlreadyExists(string group, string plural, string name) =>
        new(409, "AlreadyExists", $"{Qualified(plural, group)} \"{name}\" already exists", Details(name, group, plural));

    public static StatusException Conflict(string group, string plural, string name, string detail) =>
        new(409, "Conflict", $"Operation cannot be fulfilled on {Qualified(plural, group)} \"{name}\": {detail}", Details(name, group, plural));

    public const string ObjectModified =
        "the object has been modified; please apply your changes to the latest version and try again";

    public static StatusException Invalid(string group, string kind, string name, IReadOnlyList<FieldError> errors)
    {
        var qualifiedKind = group.Length == 0 ? kind : $"{kind}.{group}";
        var message = $"{qualifiedKind} \"{name}\" is invalid";
        if (errors.Count == 1)
        {
            message += ": " + errors[0];
        }
        else if (errors.Count > 1)
        {
            message += ": [" + string.Join(", ", errors) + "]";
        }

        return new StatusException(422, "Invalid", message, Details(name, group, kind, errors));
    }

    public static StatusException Forbidden(string group, string plural, string name, string detail) =>
        new(403, "Forbidden", $"{Qualified(plural, group)} \"{name}\" is forbidden: {detail}", Details(name, group, plural));

    public static StatusException BadRequest(string message) => new(400, "BadRequest", message);

    public static StatusException MethodNotAllowed() =>
        new(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");

    public static StatusException Unauthorized() => new(401, "Unauthorized", "Unauthorized");

    public static StatusException Expired(string message) => new(410, "Expired", message);

    public static StatusException NotFoundPath() =>
        new(404, "NotFound", "the server could not find the requested resource", new JsonObject());

    public static StatusException UnsupportedPatchType() =>
        new(415, "UnsupportedMediaType",
            "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json");

    public static StatusException Timeout(string message) => new(504, "Timeout", message);

    private static string Qualified(string plural, string group) => group.Length == 0 ? plural : $"{plural}.{group}";
}

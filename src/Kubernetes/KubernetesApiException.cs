using System.Net;
using k8s.Models;

namespace BareLb.Kubernetes;

/// <summary>
/// An error answer from the API server, carrying its Status body. Callers catch the subclass for the
/// reason they handle (a 409 on update is <see cref="ConflictException"/>, on create <see cref="AlreadyExistsException"/>).
/// </summary>
public class KubernetesApiException : Exception
{
    public KubernetesApiException(HttpStatusCode code, V1Status status)
        : base(FormatMessage(code, status))
    {
        Code = code;
        Status = status;
    }

    public HttpStatusCode Code { get; }
    public V1Status Status { get; }

    /// <summary>The server's <c>details.retryAfterSeconds</c> (429, some 5xx), if it gave one.</summary>
    public TimeSpan? RetryAfter => Status.Details?.RetryAfterSeconds is int s and > 0 ? TimeSpan.FromSeconds(s) : null;
    public string? Reason => Status.Reason;
    public IReadOnlyList<V1StatusCause> Causes => (IReadOnlyList<V1StatusCause>?)Status.Details?.Causes?.ToList() ?? [];

    /// <summary>Picks the subclass from the Status reason first, then from the HTTP code.</summary>
    public static KubernetesApiException From(HttpStatusCode code, V1Status status) => (status.Reason, (int)code) switch
    {
        ("AlreadyExists", _) => new AlreadyExistsException(code, status),
        ("Conflict", _) or (_, 409) => new ConflictException(code, status),
        ("NotFound", _) or (_, 404) => new NotFoundException(code, status),
        ("Gone", _) or ("Expired", _) or (_, 410) => new GoneException(code, status),
        ("Forbidden", _) or (_, 403) => new ForbiddenException(code, status),
        ("Unauthorized", _) or (_, 401) => new UnauthorizedException(code, status),
        ("Invalid", _) or (_, 422) => new InvalidException(code, status),
        ("TooManyRequests", _) or (_, 429) => new TooManyRequestsException(code, status),
        _ => new KubernetesApiException(code, status),
    };

    private static string FormatMessage(HttpStatusCode code, V1Status status)
    {
        var text = $"{(int)code} {status.Reason ?? code.ToString()}: {status.Message}";
        // The API server usually spells the causes out in the message already ("Service \"x\" is invalid:
        // spec.ports: Required value"); only add the ones it left out.
        var missing = (status.Details?.Causes ?? [])
            .Select(c => c.Field is { Length: > 0 } ? $"{c.Field}: {c.Message}" : c.Message ?? "")
            .Where(c => c.Length > 0 && status.Message?.Contains(c, StringComparison.Ordinal) != true)
            .ToArray();
        if (missing.Length > 0)
        {
            text += " (" + string.Join("; ", missing) + ")";
        }
        return text;
    }
}

public sealed class ConflictException(HttpStatusCode code, V1Status status) : KubernetesApiException(code, status);
public sealed class AlreadyExistsException(HttpStatusCode code, V1Status status) : KubernetesApiException(code, status);
public sealed class NotFoundException(HttpStatusCode code, V1Status status) : KubernetesApiException(code, status);
/// <summary>410: the resourceVersion or continue token is older than the server keeps; relist.</summary>
public sealed class GoneException(HttpStatusCode code, V1Status status) : KubernetesApiException(code, status);
public sealed class ForbiddenException(HttpStatusCode code, V1Status status) : KubernetesApiException(code, status);
public sealed class UnauthorizedException(HttpStatusCode code, V1Status status) : KubernetesApiException(code, status);
public sealed class InvalidException(HttpStatusCode code, V1Status status) : KubernetesApiException(code, status);
public sealed class TooManyRequestsException(HttpStatusCode code, V1Status status) : KubernetesApiException(code, status);

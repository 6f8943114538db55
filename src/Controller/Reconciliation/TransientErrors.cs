using BareLb.Kubernetes;
using BareLb.Kubernetes.Client;

namespace BareLb.Controller.Reconciliation;

public static class TransientErrors
{
    /// <summary>
    /// Failures of the API server or the way to it that a later attempt may not meet: any API error answer
    /// (409, 429, 5xx, and 4xx that an operator can fix, such as 403), a network error, a timeout, a response body
    /// that is not JSON or not an object our models can read. Anything else is a bug and stops the controller's
    /// term, rather than letting it limp on with unknown state.
    /// </summary>
    public static bool Is(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested &&
        e is KubernetesApiException or HttpRequestException or IOException or TimeoutException or OperationCanceledException
            or InvalidDataException or System.Text.Json.JsonException or UnreadableObjectException;

    /// <summary>
    /// An answer that says the request itself is wrong (422 Invalid, 400): retrying the same write cannot help; the
    /// next change of the object brings the item back.
    /// </summary>
    public static bool IsPermanent(Exception e) =>
        e is InvalidException || e is KubernetesApiException { Code: System.Net.HttpStatusCode.BadRequest };

    /// <summary>The wait a 429 (or a 5xx with Retry-After) asked for, if any.</summary>
    public static TimeSpan? RetryAfter(Exception e) => e is KubernetesApiException api ? api.RetryAfter : null;
}

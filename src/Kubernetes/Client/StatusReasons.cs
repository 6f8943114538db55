using System.Net;

namespace BareLb.Kubernetes.Client;

/// <summary>
/// metav1.StatusReason for a bare HTTP code, for answers without a Status body (as client-go's
/// NewGenericServerResponse does), so that the exception type does not depend on who answered.
/// </summary>
internal static class StatusReasons
{
    public static string ForCode(HttpStatusCode code) => (int)code switch
    {
        400 => "BadRequest",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        405 => "MethodNotAllowed",
        406 => "NotAcceptable",
        409 => "Conflict",
        410 => "Gone",
        413 => "RequestEntityTooLarge",
        415 => "UnsupportedMediaType",
        422 => "Invalid",
        429 => "TooManyRequests",
        500 => "InternalError",
        503 => "ServiceUnavailable",
        504 => "Timeout",
        _ => "Unknown",
    };
}

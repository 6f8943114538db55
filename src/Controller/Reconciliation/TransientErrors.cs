using System.Text.Json;
using BareLb.Kubernetes;

namespace BareLb.Controller.Reconciliation;

public static class TransientErrors
{
    /// <summary>
    /// Errors of the API or the network that a later attempt may not meet. Anything else is a bug and stops the
    /// controller (and with it the process), rather than letting it limp on with unknown state.
    /// </summary>
    public static bool Is(Exception e, CancellationToken ct) =>
        !ct.IsCancellationRequested &&
        e is KubernetesApiException or HttpRequestException or IOException or TimeoutException or OperationCanceledException or JsonException;
}

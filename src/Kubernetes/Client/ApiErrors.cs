using System.Text;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace BareLb.Kubernetes.Client;

/// <summary>Turns the package's <see cref="HttpOperationException"/> into BareLb's typed errors, from the Status body.</summary>
internal static class ApiErrors
{
    public static KubernetesApiException From(HttpOperationException e, string verb, string what)
    {
        var code = e.Response?.StatusCode ?? System.Net.HttpStatusCode.InternalServerError;
        var body = e.Response?.Content ?? "";
        V1Status? status = null;
        if (body.Length > 0)
        {
            try
            {
                status = KubernetesJson.Deserialize<V1Status>(body);
            }
            catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
            {
                // Not JSON: a proxy or load balancer answered. Synthesized below.
            }
        }
        if (status is not { Kind: "Status" })
        {
            var text = body.Length > 512 ? body[..512] : body;
            status = new V1Status
            {
                ApiVersion = "v1",
                Kind = "Status",
                Status = "Failure",
                Code = (int)code,
                Reason = StatusReasons.ForCode(code),
                Message = $"{verb} {what}: {(int)code} {e.Response?.ReasonPhrase}" + (text.Trim().Length > 0 ? $": {text.Trim()}" : ""),
            };
        }
        return KubernetesApiException.From(code, status);
    }
}

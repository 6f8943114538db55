using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace BareLb.ApiServer.Security;

// With a required token: a request needs "Authorization: Bearer <token>" or (HTTPS) a client certificate
// issued by our CA. Health endpoints stay anonymous, as on a default cluster.
internal sealed class RequestAuthenticator(string? requiredToken, CertificateAuthority? ca)
{
    private readonly byte[]? _token = requiredToken is null ? null : Encoding.UTF8.GetBytes(requiredToken);

    public async ValueTask<bool> IsAuthenticatedAsync(HttpContext context)
    {
        if (_token is null)
        {
            return true;
        }

        var path = context.Request.Path.Value ?? "";
        if (path is "/healthz" or "/livez" or "/readyz")
        {
            return true;
        }

        // Like the real union authenticator: any authenticator that succeeds is enough.
        if (ca is not null && context.Request.IsHttps)
        {
            var cert = await context.Connection.GetClientCertificateAsync(context.RequestAborted).ConfigureAwait(false);
            if (cert is not null && ca.IsValidClientCertificate(cert))
            {
                return true;
            }
        }

        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            var presented = Encoding.UTF8.GetBytes(header["Bearer ".Length..].Trim());
            return CryptographicOperations.FixedTimeEquals(presented, _token);
        }

        return false;
    }
}

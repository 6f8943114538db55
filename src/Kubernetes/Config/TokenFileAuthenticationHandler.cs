using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// Puts the token from a file (kubeconfig <c>tokenFile</c>, the in-cluster service account) on every request. A 401
/// re-reads the file at once and, if the token changed, sends the request again once: the API server may accept only
/// the rotated token before our periodic re-read comes round.
/// </summary>
internal sealed partial class TokenFileAuthenticationHandler(BearerTokenSource tokens, ILogger logger) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var token = tokens.GetToken();
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !tokens.RefreshAfterUnauthorized(token))
        {
            return response;
        }

        LogRetryWithRotatedToken(request.Method.Method, request.RequestUri?.AbsolutePath ?? "");
        response.Dispose();
        // The request's content is in memory (the package buffers bodies), so it can be sent a second time.
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.GetToken());
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "{Method} {Path} was refused with 401; the token file changed, retrying with the new token")]
    private partial void LogRetryWithRotatedToken(string method, string path);
}

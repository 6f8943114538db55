namespace BareLb.Kubernetes.RateLimiting;

/// <summary>
/// Client-side QPS/burst for every request through the official client's HTTP pipeline: each request (a watch
/// counts once, when it is opened) waits for the limiter before it is sent.
/// </summary>
public sealed class RateLimitingHandler(IRequestRateLimiter limiter) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await limiter.WaitAsync(cancellationToken).ConfigureAwait(false);
        return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }
}

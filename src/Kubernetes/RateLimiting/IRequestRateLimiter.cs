namespace BareLb.Kubernetes.RateLimiting;

/// <summary>
/// Client-side throttle consulted once before every API request (a watch counts once, when it is opened,
/// not per event). Implementations complete when the caller may send, or throw
/// <see cref="OperationCanceledException"/> when <paramref name="ct"/> fires first.
/// </summary>
public interface IRequestRateLimiter
{
    ValueTask WaitAsync(CancellationToken ct);
}

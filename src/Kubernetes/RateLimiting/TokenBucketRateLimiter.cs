

namespace BareLb.Kubernetes.RateLimiting;

/// <summary>
/// Client-side request throttle: a bucket of <see cref="Burst"/> tokens refilled at <see cref="Qps"/> per second;
/// each request takes one. A caller that finds the bucket empty reserves the next token (the bucket goes into
/// debt) and sleeps exactly until it is due, so callers are served in arrival order with one timer each and no
/// polling.
/// </summary>
/// <remarks>
/// client-go defaults to 5 QPS with a burst of 10, sized for kubectl-like tools; controllers routinely raise it
/// (kube-controller-manager runs at 20/30). BareLb's controller issues a burst of lists and watches at start and
/// one status write per Service change, so the defaults here are 50/100: high enough not to delay a full
/// resync of a few hundred Services, low enough that a reconcile loop gone wrong cannot flood the API server.
/// </remarks>
public sealed class TokenBucketRateLimiter : IRequestRateLimiter
{
    public const double DefaultQps = 50;
    public const int DefaultBurst = 100;

    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private double _tokens;
    private long _lastRefill;

    public TokenBucketRateLimiter(double qps = DefaultQps, int burst = DefaultBurst, TimeProvider? timeProvider = null)
    {
        if (!double.IsFinite(qps) || qps <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(qps), qps, "qps must be a positive finite number of requests per second");
        }
        if (burst < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(burst), burst, "burst must be at least 1 request");
        }

        Qps = qps;
        Burst = burst;
        _time = timeProvider ?? TimeProvider.System;
        _tokens = burst;
        _lastRefill = _time.GetTimestamp();
    }

    public double Qps { get; }
    public int Burst { get; }

    public ValueTask WaitAsync(CancellationToken ct)
    {
        if (ct.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(ct);
        }

        TimeSpan wait;
        lock (_gate)
        {
            Refill();
            _tokens -= 1;
            if (_tokens >= 0)
            {
                return ValueTask.CompletedTask;
            }
            wait = TimeSpan.FromSeconds(-_tokens / Qps);
        }

        return WaitForReservationAsync(wait, ct);
    }

    private async ValueTask WaitForReservationAsync(TimeSpan wait, CancellationToken ct)
    {
        try
        {
            await Task.Delay(wait, _time, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Hand the reserved token back so an abandoned wait does not slow down the callers behind it.
            lock (_gate)
            {
                Refill();
                _tokens = Math.Min(_tokens + 1, Burst);
            }
            throw;
        }
    }

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_lastRefill, now);
        _lastRefill = now;
        if (elapsed > TimeSpan.Zero)
        {
            _tokens = Math.Min(_tokens + elapsed.TotalSeconds * Qps, Burst);
        }
    }
}

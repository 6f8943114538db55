namespace BareLb.Kubernetes.Informers;

/// <summary>
/// Exponential backoff with jitter: the n-th consecutive failure waits a uniformly random time in
/// [base/2, base], base = min(initial × 2^n, max). The jitter spreads the reconnects of many informers (and
/// many replicas) after an API server restart; the lower bound keeps the exponential growth meaningful.
/// </summary>
public sealed class ReconnectBackoff
{
    private readonly Random _random;
    private int _failures;

    public ReconnectBackoff(TimeSpan initial, TimeSpan max, Random? random = null)
    {
        if (initial <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(initial), initial, "initial backoff must be positive");
        }
        if (max < initial)
        {
            throw new ArgumentOutOfRangeException(nameof(max), max, $"maximum backoff must be at least the initial backoff ({initial})");
        }

        Initial = initial;
        Max = max;
        _random = random ?? Random.Shared;
    }

    public TimeSpan Initial { get; }
    public TimeSpan Max { get; }

    /// <summary>Consecutive failures since the last <see cref="Reset"/>.</summary>
    public int Failures => _failures;

    public TimeSpan Next()
    {
        var baseDelay = BaseDelay(_failures);
        if (_failures < 62)
        {
            _failures++;
        }
        return baseDelay * (0.5 + 0.5 * _random.NextDouble());
    }

    public void Reset() => _failures = 0;

    private TimeSpan BaseDelay(int failures)
    {
        // Doubling in ticks would overflow long before 62 doublings; stop doubling once past the cap.
        var ticks = Initial.Ticks;
        for (var i = 0; i < failures && ticks < Max.Ticks; i++)
        {
            ticks *= 2;
        }
        return TimeSpan.FromTicks(Math.Min(ticks, Max.Ticks));
    }
}

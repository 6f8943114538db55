namespace BareLb.Kubernetes.Informers;

public sealed class ResourceInformerOptions
{
    /// <summary>Null: all namespaces (and the only choice for cluster-scoped kinds).</summary>
    public string? Namespace { get; set; }

    public string? LabelSelector { get; set; }

    public string? FieldSelector { get; set; }

    /// <summary>Items per list page; the API server's own default maximum is 500.</summary>
    public int PageSize { get; set; } = 500;

    /// <summary>
    /// A watch that delivers nothing (no change, no bookmark) for this long is assumed dead and reopened. The API
    /// server sends a bookmark about once a minute, so a healthy watch is never this quiet; and the default is longer
    /// than the longest server-side watch lifetime (2 × MinWatchTimeout), so that a quiet but healthy watch ends by
    /// its own timeout rather than being cut and logged as silent.
    /// </summary>
    public TimeSpan WatchdogTimeout { get; set; } = TimeSpan.FromMinutes(11);

    /// <summary>
    /// Server-side watch lifetime is drawn from [MinWatchTimeout, 2 × MinWatchTimeout) for each watch (as client-go
    /// does), so that watches of many clients do not all end and reconnect at once.
    /// </summary>
    public TimeSpan MinWatchTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A watch that delivered at least one event, or stayed open this long, counts as healthy: the backoff is
    /// reset, and if the server then ends it cleanly it is reopened at once.
    /// </summary>
    public TimeSpan HealthyWatchDuration { get; set; } = TimeSpan.FromSeconds(10);

    internal void Validate()
    {
        if (PageSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(PageSize), PageSize, "PageSize must be at least 1");
        }
        if (WatchdogTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(WatchdogTimeout), WatchdogTimeout, "WatchdogTimeout must be positive");
        }
        if (MinWatchTimeout < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(MinWatchTimeout), MinWatchTimeout, "MinWatchTimeout must be at least one second (the API takes whole seconds)");
        }
        if (InitialBackoff <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(InitialBackoff), InitialBackoff, "InitialBackoff must be positive");
        }
        if (MaxBackoff < InitialBackoff)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxBackoff), MaxBackoff, $"MaxBackoff must be at least InitialBackoff ({InitialBackoff})");
        }
        if (HealthyWatchDuration < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(HealthyWatchDuration), HealthyWatchDuration, "HealthyWatchDuration must not be negative");
        }
    }
}

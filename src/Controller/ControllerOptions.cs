namespace BareLb.Controller;

public sealed class ControllerOptions
{
    /// <summary>Where the IPAddressPools live (and the leader-election Lease).</summary>
    public string Namespace { get; set; } = "barelb-system";

    /// <summary>Null: serve Services without spec.loadBalancerClass. Set: serve only that class.</summary>
    public string? LoadBalancerClass { get; set; }

    /// <summary>
    /// Pool status is written at most this often per burst of changes (the first change of a quiet cluster at once),
    /// so that a burst of Service changes costs one status write per pool rather than one per Service.
    /// </summary>
    public TimeSpan PoolStatusInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Service writes in flight at once (each Service has at most one).</summary>
    public int MaxConcurrentWrites { get; set; } = 16;

    /// <summary>An item that failed on an API error is retried after this long, doubling with each consecutive failure up to <see cref="MaxRetryDelay"/>.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// A watch that delivers nothing for this long is taken for dead (a half-open connection) and reopened.
    /// kube-apiserver sends a bookmark about once a minute on a watch that asks for them, so a healthy watch is
    /// never this quiet.
    /// </summary>
    public TimeSpan WatchdogTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The longest wait between attempts to reopen a failed watch: after an API outage the caches catch up within
    /// this long of the API's return.
    /// </summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(5);
}

namespace BareLb.Controller;

public sealed class ControllerOptions
{
    /// <summary>Where the IPAddressPools live (and the leader-election Lease).</summary>
    public string Namespace { get; set; } = "barelb-system";

    /// <summary>Null: serve Services without spec.loadBalancerClass. Set: serve only that class.</summary>
    public string? LoadBalancerClass { get; set; }

    /// <summary>
    /// Pool status is written when the queue is idle, and at least this often under sustained load, so that a
    /// burst of Service changes costs one status write per pool rather than one per Service.
    /// </summary>
    public TimeSpan PoolStatusInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Service status and annotation writes in flight at once (each Service's own writes stay in order).</summary>
    public int MaxConcurrentWrites { get; set; } = 16;

    /// <summary>A reconcile or write that failed on an API error is retried after this long, doubling with each consecutive failure up to a minute.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);
}

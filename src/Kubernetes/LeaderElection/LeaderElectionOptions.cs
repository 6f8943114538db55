namespace BareLb.Kubernetes.LeaderElection;

/// <summary>Timing of leader election; the defaults are client-go's.</summary>
public sealed class LeaderElectionOptions
{
    /// <summary>
    /// How long a standby waits, from the moment it last saw the Lease change, before taking it over. Written to
    /// the Lease as whole seconds (rounded up).
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The leader steps down when it has not renewed for this long; shorter than the lease, so it stops before anyone may take over.</summary>
    public TimeSpan RenewDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval between the leader's renewals and between a standby's attempts to acquire.</summary>
    public TimeSpan RetryPeriod { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>On shutdown, give the Lease up so a standby takes over at its next attempt instead of after LeaseDuration.</summary>
    public bool ReleaseOnCancel { get; set; } = true;

    internal int LeaseDurationSeconds => (int)Math.Ceiling(LeaseDuration.TotalSeconds);

    internal void Validate()
    {
        if (LeaseDuration < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(LeaseDuration), LeaseDuration, "LeaseDuration must be at least one second (the Lease stores whole seconds)");
        }
        if (RenewDeadline <= TimeSpan.Zero || RenewDeadline >= LeaseDuration)
        {
            throw new ArgumentOutOfRangeException(nameof(RenewDeadline), RenewDeadline, $"RenewDeadline must be positive and shorter than LeaseDuration ({LeaseDuration})");
        }
        if (RetryPeriod <= TimeSpan.Zero || RetryPeriod >= RenewDeadline)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryPeriod), RetryPeriod, $"RetryPeriod must be positive and shorter than RenewDeadline ({RenewDeadline})");
        }
    }
}

public sealed class LeaderElectionCallbacks
{
    /// <summary>
    /// Runs when this candidate becomes leader. The token is cancelled when leadership ends (lost, renew deadline
    /// passed, or shutdown); the elector waits for the returned task before it releases the Lease, so work never
    /// overlaps with the next leader's.
    /// </summary>
    public Func<CancellationToken, Task>? OnStartedLeading { get; init; }

    /// <summary>Runs after the work started by <see cref="OnStartedLeading"/> has finished.</summary>
    public Action? OnStoppedLeading { get; init; }

    /// <summary>Runs when the observed holder changes to a new non-empty identity (this candidate's included).</summary>
    public Action<string>? OnNewLeader { get; init; }
}

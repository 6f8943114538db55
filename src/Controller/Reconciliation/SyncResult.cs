namespace BareLb.Controller.Reconciliation;

/// <summary>What the loop does after an item (MetalLB's SyncState).</summary>
public enum SyncState
{
    /// <summary>Done; any backoff the item had is forgotten.</summary>
    Success,
    /// <summary>Failed on something that may pass later (an API error): the item is retried with its backoff.</summary>
    ErrorRetry,
    /// <summary>Done, and what it changed concerns every Service: all held and waiting Services are reconciled again.</summary>
    ReprocessAll,
    /// <summary>Failed in a way a retry cannot fix; the item waits for its object to change.</summary>
    ErrorNoRetry,
}

public readonly record struct SyncResult(SyncState State, Exception? Error = null)
{
    public static SyncResult Success { get; } = new(SyncState.Success);

    public static SyncResult ReprocessAll { get; } = new(SyncState.ReprocessAll);

    public static SyncResult Retry(Exception error) => new(SyncState.ErrorRetry, error);

    public static SyncResult NoRetry(Exception error) => new(SyncState.ErrorNoRetry, error);
}

namespace BareLb.Kubernetes.Informers;

/// <summary>The part of an informer that does not depend on its kind, so that informers of different kinds can be awaited together.</summary>
public interface IResourceInformer
{
    /// <summary>What the informer watches, for logs: "services.v1 in ns" style.</summary>
    string Name { get; }

    /// <summary>True once the first full list is in the cache and every handler has been given all of it.</summary>
    bool HasSynced { get; }

    Task WaitForSyncAsync(CancellationToken ct);

    /// <summary>Lists, watches and delivers changes until <paramref name="ct"/> is cancelled, then returns.</summary>
    Task RunAsync(CancellationToken ct);
}

public static class InformerSync
{
    /// <summary>Completes when every informer has synced; throws <see cref="OperationCanceledException"/> if <paramref name="ct"/> fires first.</summary>
    public static Task WaitAllAsync(IEnumerable<IResourceInformer> informers, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(informers);
        return Task.WhenAll(informers.Select(i => i.WaitForSyncAsync(ct)));
    }
}

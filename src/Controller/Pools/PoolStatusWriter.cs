using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Informers;
using BareLb.Controller.Reconciliation;
using BareLb.Kubernetes;
using k8s;

namespace BareLb.Controller.Pools;

/// <summary>
/// Writes pool status (counts per family, conditions) for the pools marked dirty, only where it changed, and at
/// most once per <see cref="ControllerOptions.PoolStatusInterval"/>: a burst of allocations costs one status write
/// per pool, not one per Service. A quiet cluster's first change is written at once.
/// </summary>
public sealed class PoolStatusWriter(
    IKubernetesClient client,
    ControllerOptions options,
    PoolReconciler pools,
    ControllerInformers informers,
    WriteEchoes echoes,
    TimeProvider time,
    Action<WorkItem> enqueue,
    ControllerActivity activity)
{
    private readonly HashSet<string> _dirty = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private long? _lastFlush;
    private bool _scheduled;
    private ITimer? _timer;

    public void MarkDirty(string? pool)
    {
        if (pool is null)
        {
            return;
        }
        lock (_lock)
        {
            _dirty.Add(pool);
            ScheduleLocked();
        }
    }

    public void MarkAllDirty()
    {
        foreach (var pool in informers.Pools.List())
        {
            MarkDirty(pool.Metadata.Name);
        }
    }

    /// <summary>The PoolStatus item: writes every dirty pool whose status differs from what the API shows.</summary>
    public async Task<SyncResult> FlushAsync(CancellationToken ct)
    {
        List<string> names;
        lock (_lock)
        {
            names = [.. _dirty.Order(StringComparer.Ordinal)];
            _dirty.Clear();
            _scheduled = false;
            _lastFlush = time.GetTimestamp();
        }
        var now = time.GetUtcNow();
        for (var i = 0; i < names.Count; i++)
        {
            if (!informers.Pools.TryGet(options.Namespace, names[i], out var pool))
            {
                continue;
            }
            var status = pools.DesiredStatus(pool, now);
            if (PoolReconciler.StatusEquals(pool.Status, status))
            {
                continue;
            }
            var patch = new JsonObject { ["status"] = JsonNode.Parse(KubernetesJson.Serialize(status)) };
            try
            {
                var written = await client.PatchAsync(BareLbResources.IPAddressPools, options.Namespace, names[i], patch, status: true, ct).ConfigureAwait(false);
                echoes.Expect(BareLbResources.IPAddressPools.Kind, written.Metadata.Key(), written.Metadata.ResourceVersion);
            }
            catch (NotFoundException)
            {
            }
            catch (Exception e) when (TransientErrors.Is(e, ct))
            {
                // What is left stays dirty; the item's backoff brings it back (a timer of ours would not back off).
                lock (_lock)
                {
                    foreach (var left in names.Skip(i))
                    {
                        _dirty.Add(left);
                    }
                    _scheduled = true;
                }
                return SyncResult.Retry(e);
            }
        }
        return SyncResult.Success;
    }

    /// <summary>Stops the pending flush timer (the loop is ending).</summary>
    public void Stop()
    {
        lock (_lock)
        {
            if (_timer is not null)
            {
                _timer.Dispose();
                _timer = null;
                activity.End();
            }
        }
    }

    private void ScheduleLocked()
    {
        if (_scheduled)
        {
            return;
        }
        _scheduled = true;
        var wait = _lastFlush is { } last ? options.PoolStatusInterval - time.GetElapsedTime(last) : TimeSpan.Zero;
        if (wait <= TimeSpan.Zero)
        {
            enqueue(WorkItem.PoolStatus);
            return;
        }
        activity.Begin();
        _timer = time.CreateTimer(_ =>
        {
            lock (_lock)
            {
                if (_timer is null)
                {
                    return;
                }
                _timer.Dispose();
                _timer = null;
            }
            enqueue(WorkItem.PoolStatus);
            activity.End();
        }, null, wait, Timeout.InfiniteTimeSpan);
    }
}

using BareLb.Kubernetes.Informers;
using k8s;
using k8s.Models;

namespace BareLb.Kubernetes.Tests.Support;

/// <summary>Records every change a handler receives as "add ns/name@rv", "update ns/name@old->new", "delete ns/name@rv".</summary>
internal sealed class RecordingHandler<T>(Func<bool>? hasSynced = null) : IResourceEventHandler<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly Lock _gate = new();
    private readonly List<string> _changes = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

    /// <summary>When set, the first delivery blocks the informer's dispatcher until the task completes.</summary>
    public Task? HoldFirstDelivery { get; set; }

    /// <summary>HasSynced as the informer reported it during each delivery.</summary>
    public List<bool> HasSyncedDuringDelivery { get; } = [];

    public IReadOnlyList<string> Changes
    {
        get
        {
            lock (_gate)
            {
                return [.. _changes];
            }
        }
    }

    public void OnAdd(T obj) => Record($"add {Key(obj)}@{obj.Metadata.ResourceVersion}");

    public void OnUpdate(T oldObj, T newObj) =>
        Record($"update {Key(newObj)}@{oldObj.Metadata.ResourceVersion}->{newObj.Metadata.ResourceVersion}");

    public void OnDelete(T obj) => Record($"delete {Key(obj)}@{obj.Metadata.ResourceVersion}");

    /// <summary>Completes once <paramref name="count"/> changes have been delivered in all.</summary>
    public Task WaitForCountAsync(int count)
    {
        lock (_gate)
        {
            if (_changes.Count >= count)
            {
                return Task.CompletedTask;
            }
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, done));
            return done.Task.WaitAsync(Wait.Patience);
        }
    }

    private void Record(string change)
    {
        if (HoldFirstDelivery is { } hold)
        {
            HoldFirstDelivery = null;
            hold.Wait(Wait.Patience);
        }

        List<TaskCompletionSource> done = [];
        lock (_gate)
        {
            HasSyncedDuringDelivery.Add(hasSynced?.Invoke() ?? false);
            _changes.Add(change);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_changes.Count >= _waiters[i].Count)
                {
                    done.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }
        done.ForEach(d => d.TrySetResult());
    }

    private static string Key(T obj) => $"{obj.Metadata.NamespaceProperty}/{obj.Metadata.Name}";
}

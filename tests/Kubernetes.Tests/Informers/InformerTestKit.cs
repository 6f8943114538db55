using BareLb.Kubernetes.Informers;
using BareLb.Kubernetes.Models;

namespace BareLb.Kubernetes.Tests.Informers;

/// <summary>Records every change a handler receives as "add ns/name@rv", "update ns/name@old->new", "delete ns/name@rv".</summary>
internal sealed class RecordingHandler : IResourceEventHandler<Service>
{
    private readonly object _gate = new();
    private readonly List<string> _changes = [];
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];
    private readonly Func<bool> _hasSynced;

    public RecordingHandler(Func<bool>? hasSynced = null)
    {
        _hasSynced = hasSynced ?? (() => false);
    }

    /// <summary>When set, the first delivery blocks the dispatcher until it completes.</summary>
    public Task? HoldFirstDelivery { get; set; }

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

    public void OnAdd(Service obj) => Record($"add {Key(obj)}@{obj.Metadata.ResourceVersion}");

    public void OnUpdate(Service oldObj, Service newObj) =>
        Record($"update {Key(newObj)}@{oldObj.Metadata.ResourceVersion}->{newObj.Metadata.ResourceVersion}");

    public void OnDelete(Service obj) => Record($"delete {Key(obj)}@{obj.Metadata.ResourceVersion}");

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
            return done.Task.WaitAsync(InformerTestKit.Patience);
        }
    }

    private void Record(string change)
    {
        if (HoldFirstDelivery is { } hold)
        {
            HoldFirstDelivery = null;
            hold.Wait(InformerTestKit.Patience);
        }

        List<TaskCompletionSource> done = [];
        lock (_gate)
        {
            HasSyncedDuringDelivery.Add(_hasSynced());
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

    private static string Key(Service s) => $"{s.Metadata.NamespaceProperty}/{s.Metadata.Name}";
}

internal static class InformerTestKit
{
    /// <summary>Real-time safety net for waiting on events; never a sleep.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static Service Service(string ns, string name, string? loadBalancerIp = null) => new()
    {
        Metadata = new ObjectMeta { NamespaceProperty = ns, Name = name },
        Spec = new ServiceSpec
        {
            Type = "LoadBalancer",
            LoadBalancerIP = loadBalancerIp,
            Ports = [new ServicePort { Name = "http", Protocol = "TCP", Port = 80 }],
        },
    };

    public static Task<T> Within<T>(this Task<T> task) => task.WaitAsync(Patience);

    public static Task Within(this Task task) => task.WaitAsync(Patience);
}

using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Reconciliation;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using BareLb.Kubernetes.Informers;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller.Informers;

/// <summary>
/// The controller's three caches (Services in all namespaces, Namespaces, IPAddressPools in its own namespace) and
/// what their changes put on the queue. A pool change that touches neither spec, deletion nor finalizers (the
/// controller's own status writes) queues nothing: only what could change an allocation starts a pool pass.
/// </summary>
public sealed class ControllerInformers
{
    private readonly ControllerOptions _options;
    private readonly EventRecorder _events;
    private readonly WriteEchoes _echoes;
    private readonly Action<WorkItem> _enqueue;
    private volatile bool _ownNamespaceGone;

    public ControllerInformers(IKubernetesClient client, ControllerOptions options, EventRecorder events, WriteEchoes echoes,
        Action<WorkItem> enqueue, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _options = options;
        _events = events;
        _echoes = echoes;
        _enqueue = enqueue;
        ResourceInformerOptions Options(string? ns) => new()
        {
            Namespace = ns,
            WatchdogTimeout = options.WatchdogTimeout,
            MaxBackoff = options.MaxReconnectDelay,
        };
        Services = new ResourceInformer<V1Service>(client, CoreResources.Services, Options(null),
            loggerFactory.CreateLogger<ResourceInformer<V1Service>>(), time);
        Namespaces = new ResourceInformer<V1Namespace>(client, CoreResources.Namespaces, Options(null),
            loggerFactory.CreateLogger<ResourceInformer<V1Namespace>>(), time);
        Pools = new ResourceInformer<IPAddressPool>(client, BareLbResources.IPAddressPools, Options(options.Namespace),
            loggerFactory.CreateLogger<ResourceInformer<IPAddressPool>>(), time);

        Services.AddEventHandler(new ResourceEventHandler<V1Service>(
            onAdd: s => OnService(s, deleted: false),
            onUpdate: (_, s) => OnService(s, deleted: false),
            onDelete: s => OnService(s, deleted: true)));
        Namespaces.AddEventHandler(new ResourceEventHandler<V1Namespace>(
            onAdd: n => OnNamespace(null, n),
            onUpdate: OnNamespace,
            onDelete: n =>
            {
                if (n.Metadata.Name == _options.Namespace)
                {
                    _ownNamespaceGone = true;
                    _enqueue(WorkItem.PoolFinalizers);
                }
                _echoes.Seen(CoreResources.Namespaces.Kind, n.Metadata.Key(), n.Metadata.ResourceVersion, deleted: true);
            }));
        Pools.AddEventHandler(new ResourceEventHandler<IPAddressPool>(
            onAdd: p => OnPool(null, p, deleted: false),
            onUpdate: (old, p) => OnPool(old, p, deleted: false),
            onDelete: p => OnPool(null, p, deleted: true)));
        Services.AddUnreadableHandler(ReportUnreadable);
        Pools.AddUnreadableHandler(ReportUnreadable);
    }

    public ResourceInformer<V1Service> Services { get; }

    public ResourceInformer<V1Namespace> Namespaces { get; }

    public ResourceInformer<IPAddressPool> Pools { get; }

    private IResourceInformer[] All => [Services, Namespaces, Pools];

    public Task[] Start(CancellationToken ct) => [Services.RunAsync(ct), Namespaces.RunAsync(ct), Pools.RunAsync(ct)];

    public Task WaitForSyncAsync(CancellationToken ct) => InformerSync.WaitAllAsync(All, ct);

    /// <summary>The namespace's labels, or null when it is not in the cache (yet).</summary>
    public IReadOnlyDictionary<string, string>? NamespaceLabels(string? ns) =>
        ns is not null && Namespaces.TryGet(null, ns, out var found) ? found.Metadata.LabelsOrEmpty() : null;

    public bool HasNamespace(string ns) => Namespaces.TryGet(null, ns, out _);

    /// <summary>True once the controller's own namespace is being deleted (or was deleted): BareLb is being uninstalled.</summary>
    public bool OwnNamespaceDeleting =>
        _ownNamespaceGone || (Namespaces.TryGet(null, _options.Namespace, out var own) && own.Metadata.DeletionTimestamp is not null);

    private void OnService(V1Service service, bool deleted)
    {
        _enqueue(WorkItem.ForService(service.Metadata.NamespaceProperty ?? "default", service.Metadata.Name ?? ""));
        _echoes.Seen(CoreResources.Services.Kind, service.Metadata.Key(), service.Metadata.ResourceVersion, deleted);
    }

    private void OnNamespace(V1Namespace? old, V1Namespace now)
    {
        var name = now.Metadata.Name ?? "";
        if (old is null || !LabelsEqual(old.Metadata.LabelsOrEmpty(), now.Metadata.LabelsOrEmpty()))
        {
            _enqueue(WorkItem.ForNamespace(name));
        }
        if (name == _options.Namespace && now.Metadata.DeletionTimestamp is not null && old?.Metadata.DeletionTimestamp is null)
        {
            _enqueue(WorkItem.PoolFinalizers);
        }
        _echoes.Seen(CoreResources.Namespaces.Kind, now.Metadata.Key(), now.Metadata.ResourceVersion);
    }

    private void OnPool(IPAddressPool? old, IPAddressPool now, bool deleted)
    {
        if (old is null || AllocationRelevantChange(old, now))
        {
            _enqueue(WorkItem.Pools);
        }
        _echoes.Seen(BareLbResources.IPAddressPools.Kind, now.Metadata.Key(), now.Metadata.ResourceVersion, deleted);
    }

    /// <summary>
    /// Spec edits (metadata.generation; the spec itself when the server keeps no generation), deletion and
    /// finalizers. Status and labels (pool labels only select pools for advertisements, the speaker's concern) do not
    /// change what the controller allocates.
    /// </summary>
    public static bool AllocationRelevantChange(IPAddressPool old, IPAddressPool now)
    {
        var spec = old.Metadata.Generation is null || now.Metadata.Generation is null
            ? KubernetesJson.Serialize(old.Spec) != KubernetesJson.Serialize(now.Spec)
            : old.Metadata.Generation != now.Metadata.Generation;
        return spec ||
            old.Metadata.DeletionTimestamp != now.Metadata.DeletionTimestamp ||
            !(old.Metadata.Finalizers ?? []).SequenceEqual(now.Metadata.Finalizers ?? []);
    }

    private void ReportUnreadable(UnreadableObject bad)
    {
        if (string.IsNullOrEmpty(bad.Metadata.Name))
        {
            return;
        }
        _events.Record(new V1ObjectReference
        {
            ApiVersion = bad.ApiVersion,
            Kind = bad.Kind,
            NamespaceProperty = bad.Metadata.NamespaceProperty,
            Name = bad.Metadata.Name,
            Uid = bad.Metadata.Uid,
            ResourceVersion = bad.Metadata.ResourceVersion,
        }, EventType.Warning, "Unreadable", $"{bad.Error}; the controller ignores this version of the object until it is fixed");
    }

    private static bool LabelsEqual(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);
}

using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Controller.Informers;
using BareLb.Controller.Reconciliation;
using BareLb.Kubernetes;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller.Pools;

/// <summary>
/// The <c>barelb.io/pool-protection</c> finalizer: on every pool while the controller runs, so that deleting a pool
/// drains it (Services keep their addresses and move when they can) instead of silently orphaning its addresses;
/// removed once nothing holds the pool's addresses. It never outlives an uninstall: once the controller's namespace
/// or the IPAddressPool CRD is being deleted, it is taken off every pool at once, whatever Services still hold, so
/// that the namespace and the CRD can go.
/// </summary>
public sealed partial class PoolFinalizers(
    IKubernetesClient client,
    ControllerOptions options,
    PoolReconciler pools,
    ControllerInformers informers,
    WriteEchoes echoes,
    ILogger logger)
{
    /// <summary>The IPAddressPool CRD, read to tell an uninstall from an operator deleting pools.</summary>
    public static ResourceType<V1CustomResourceDefinition> CustomResourceDefinitions { get; } =
        new("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", namespaced: false);

    public static string PoolCrdName => $"{BareLbResources.IPAddressPools.Plural}.{BareLbResources.ApiGroup}";

    private readonly ILogger _logger = logger;
    private string _checkedDeleting = "";
    private bool _crdDeleting;

    /// <summary>True once an uninstall was seen; it cannot be undone, so it is never checked again.</summary>
    public bool Uninstalling { get; private set; }

    /// <summary>The PoolFinalizers item.</summary>
    public async Task<SyncResult> SyncAsync(CancellationToken ct)
    {
        var all = informers.Pools.List();
        try
        {
            if (!Uninstalling && (informers.OwnNamespaceDeleting || await CrdDeletingAsync(all, ct).ConfigureAwait(false)))
            {
                Uninstalling = true;
                LogUninstalling(options.Namespace);
            }
            foreach (var pool in all.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal))
            {
                var has = PoolReconciler.HasFinalizer(pool);
                if (Uninstalling || pools.CanRelease(pool))
                {
                    if (has)
                    {
                        await SetAsync(pool, add: false, ct).ConfigureAwait(false);
                    }
                }
                else if (!has && pool.Metadata.DeletionTimestamp is null)
                {
                    await SetAsync(pool, add: true, ct).ConfigureAwait(false);
                }
            }
            return SyncResult.Success;
        }
        catch (Exception e) when (TransientErrors.Is(e, ct))
        {
            return SyncResult.Retry(e);
        }
    }

    /// <summary>
    /// On a graceful stop: if BareLb is being uninstalled (the namespace or the CRD is being deleted, read fresh from
    /// the API because the caches may lag), takes the finalizer off every pool. Bounded by <paramref name="ct"/>.
    /// </summary>
    public static async Task ReleaseIfUninstallingAsync(IKubernetesClient client, string ns, ILogger logger, CancellationToken ct)
    {
        try
        {
            var uninstalling = false;
            try
            {
                var own = await client.GetAsync(CoreResources.Namespaces, null, ns, ct).ConfigureAwait(false);
                uninstalling = own.Metadata.DeletionTimestamp is not null;
            }
            catch (NotFoundException)
            {
                uninstalling = true;
            }
            if (!uninstalling)
            {
                try
                {
                    var crd = await client.GetAsync(CustomResourceDefinitions, null, PoolCrdName, ct).ConfigureAwait(false);
                    uninstalling = crd.Metadata.DeletionTimestamp is not null;
                }
                catch (NotFoundException)
                {
                    uninstalling = true;
                }
            }
            if (!uninstalling)
            {
                return;
            }
            var list = await client.ListAsync(BareLbResources.IPAddressPools, ns, null, ct).ConfigureAwait(false);
            foreach (var pool in list.Items.Where(PoolReconciler.HasFinalizer))
            {
                try
                {
                    await PatchAsync(client, pool, add: false, ct).ConfigureAwait(false);
                }
                catch (ConflictException)
                {
                    // Changed since the list; a controller that runs again, or the fallback in docs/operations.md, finishes it.
                }
            }
            LogReleasedOnStop(logger, ns, list.Items.Count);
        }
        catch (Exception e) when (TransientErrors.Is(e, CancellationToken.None))
        {
            LogReleaseOnStopFailed(logger, ns, e);
        }
    }

    /// <summary>
    /// Whether the IPAddressPool CRD is being deleted: read only when the set of pools being deleted changes (a CRD
    /// deletion deletes every pool), so a quiet cluster makes no such request.
    /// </summary>
    private async Task<bool> CrdDeletingAsync(IReadOnlyList<IPAddressPool> all, CancellationToken ct)
    {
        var deleting = string.Join(",", all.Where(p => p.Metadata.DeletionTimestamp is not null)
            .Select(p => p.Metadata.Name).Order(StringComparer.Ordinal));
        if (deleting.Length == 0 || deleting == _checkedDeleting)
        {
            return _crdDeleting && deleting.Length > 0;
        }
        try
        {
            var crd = await client.GetAsync(CustomResourceDefinitions, null, PoolCrdName, ct).ConfigureAwait(false);
            _crdDeleting = crd.Metadata.DeletionTimestamp is not null;
        }
        catch (NotFoundException)
        {
            _crdDeleting = true;
        }
        catch (ForbiddenException e)
        {
            // Without read access to the CRD only the namespace tells of an uninstall.
            LogCrdForbidden(PoolCrdName, e.Message);
            _crdDeleting = false;
        }
        _checkedDeleting = deleting;
        return _crdDeleting;
    }

    private async Task SetAsync(IPAddressPool pool, bool add, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            IPAddressPool? written;
            try
            {
                written = await PatchAsync(client, pool, add, ct).ConfigureAwait(false);
            }
            catch (ConflictException) when (attempt < 3)
            {
                // Our cache is behind (often our own status write): read the pool again and decide on it.
                try
                {
                    pool = await client.GetAsync(BareLbResources.IPAddressPools, pool.Metadata.NamespaceProperty, pool.Metadata.Name!, ct).ConfigureAwait(false);
                }
                catch (NotFoundException)
                {
                    return;
                }
                if (PoolReconciler.HasFinalizer(pool) == add || (add && pool.Metadata.DeletionTimestamp is not null))
                {
                    return;
                }
                continue;
            }
            if (written is not null)
            {
                echoes.Expect(BareLbResources.IPAddressPools.Kind, written.Metadata.Key(), written.Metadata.ResourceVersion);
                if (!add)
                {
                    LogReleased(pool.Metadata.Name, Uninstalling ? "BareLb is being uninstalled" : "no Service holds its addresses");
                }
            }
            return;
        }
    }

    /// <summary>Adds or removes the finalizer, guarded by the resourceVersion we read; null when the pool is gone.</summary>
    private static async Task<IPAddressPool?> PatchAsync(IKubernetesClient client, IPAddressPool pool, bool add, CancellationToken ct)
    {
        var finalizers = (pool.Metadata.Finalizers ?? []).Where(f => f != Finalizers.PoolProtection).ToList();
        if (add)
        {
            finalizers.Add(Finalizers.PoolProtection);
        }
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["resourceVersion"] = pool.Metadata.ResourceVersion,
                ["finalizers"] = new JsonArray([.. finalizers.Select(f => (JsonNode)JsonValue.Create(f))]),
            },
        };
        try
        {
            return await client.PatchAsync(BareLbResources.IPAddressPools, pool.Metadata.NamespaceProperty, pool.Metadata.Name!, patch, status: false, ct)
                .ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "IPAddressPool {Pool}: finalizer removed ({Why})")]
    private partial void LogReleased(string? pool, string why);

    [LoggerMessage(2, LogLevel.Warning, "Namespace {Namespace} or the IPAddressPool CRD is being deleted: removing the pool-protection finalizer from every pool")]
    private partial void LogUninstalling(string @namespace);

    [LoggerMessage(3, LogLevel.Warning, "Cannot read CRD {Crd} ({Reason}); an uninstall is recognised by the namespace's deletion only")]
    private partial void LogCrdForbidden(string crd, string reason);

    [LoggerMessage(4, LogLevel.Information, "Stopping during an uninstall: pool-protection finalizer removed from the {Count} pools of {Namespace}")]
    private static partial void LogReleasedOnStop(ILogger logger, string @namespace, int count);

    [LoggerMessage(5, LogLevel.Warning, "Stopping during an uninstall of {Namespace}: could not remove the pool-protection finalizers")]
    private static partial void LogReleaseOnStopFailed(ILogger logger, string @namespace, Exception e);
}

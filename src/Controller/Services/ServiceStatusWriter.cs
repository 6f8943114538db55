using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using BareLb.Allocator;
using BareLb.Api;
using BareLb.Controller.Reconciliation;
using BareLb.Kubernetes;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller.Services;

/// <summary>
/// Writes decisions to Services: <c>status.loadBalancer.ingress</c> and the pool annotation. Decisions are made one
/// at a time on the controller's loop (the allocator needs no locks); writing them is I/O and runs alongside, up to
/// a limit at once, so the API round trips of one Service do not hold up the next decision. One Service's writes
/// land in decision order: a newer one never races an older one's 409 retry.
/// </summary>
public sealed partial class ServiceStatusWriter(IKubernetesClient client, int maxConcurrentWrites, ILogger logger)
{
    private readonly ConcurrentDictionary<ServiceKey, Task> _writes = new();
    private readonly SemaphoreSlim _slots = new(Math.Max(1, maxConcurrentWrites));
    private readonly ILogger _logger = logger;

    /// <summary>
    /// Starts the write once this Service's previous write is done and a slot is free; returns when it has started.
    /// Exactly one of the callbacks runs when it ends, unless cancelled; neither ever throws into the loop.
    /// </summary>
    public async Task WriteAsync(ServiceKey key, V1Service service, IReadOnlyList<IPAddress> addresses, string? pool,
        Action onSuccess, Action<Exception> onFailure, CancellationToken ct)
    {
        if (_writes.TryGetValue(key, out var pending))
        {
            await pending.ConfigureAwait(false);
        }
        await _slots.WaitAsync(ct).ConfigureAwait(false);
        var write = Task.Run(async () =>
        {
            try
            {
                await WriteIngressAsync(service, addresses, ct).ConfigureAwait(false);
                await WritePoolAnnotationAsync(service, pool, ct).ConfigureAwait(false);
                onSuccess();
            }
            catch (Exception e) when (TransientErrors.Is(e, ct))
            {
                onFailure(e);
            }
            catch (OperationCanceledException)
            {
            }
            catch (Exception e)
            {
                // Not the API's fault; still, one Service's write must never stop the loop (the next write for this
                // Service awaits this task).
                LogWriteFailed(key.ToString(), e);
                onFailure(e);
            }
            finally
            {
                _slots.Release();
            }
        }, CancellationToken.None);
        _writes[key] = write;
        _ = write.ContinueWith(t => _writes.TryRemove(new KeyValuePair<ServiceKey, Task>(key, t)), TaskScheduler.Default);
    }

    /// <summary>Completes when every write in flight has ended.</summary>
    public Task DrainAsync() => Task.WhenAll(_writes.Values);

    /// <summary>
    /// A merge patch of <c>status.loadBalancer.ingress</c> on /status, carrying the resourceVersion we read, so a
    /// concurrent writer is never overwritten and no other field of the Service is touched (the models would drop
    /// fields they do not know on a full PUT); on 409 we read the Service again and retry. Only the IPs are compared:
    /// the API server may add fields such as ipMode.
    /// </summary>
    private async Task WriteIngressAsync(V1Service cached, IReadOnlyList<IPAddress> addresses, CancellationToken ct)
    {
        var wanted = addresses.Select(a => a.ToString()).ToList();
        var service = cached;
        for (var attempt = 0; ; attempt++)
        {
            var current = (service.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip).ToList();
            if (current.SequenceEqual(wanted))
            {
                return;
            }
            var ingress = wanted.Count == 0 ? null : new JsonArray([.. wanted.Select(ip => (JsonNode)new JsonObject { ["ip"] = ip })]);
            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject { ["resourceVersion"] = service.Metadata.ResourceVersion },
                ["status"] = new JsonObject { ["loadBalancer"] = new JsonObject { ["ingress"] = ingress } },
            };
            try
            {
                await client.PatchAsync(CoreResources.Services, service.Metadata.NamespaceProperty, service.Metadata.Name, patch, status: true, ct).ConfigureAwait(false);
                return;
            }
            catch (ConflictException) when (attempt < 5)
            {
                service = await client.GetAsync(CoreResources.Services, cached.Metadata.NamespaceProperty, cached.Metadata.Name!, ct).ConfigureAwait(false);
                if (service.Metadata.Uid != cached.Metadata.Uid)
                {
                    return;
                }
            }
            catch (NotFoundException)
            {
                return;
            }
        }
    }

    private async Task WritePoolAnnotationAsync(V1Service service, string? pool, CancellationToken ct)
    {
        string? current = null;
        service.Metadata.Annotations?.TryGetValue(Annotations.IPAllocatedFromPool, out current);
        if (current == pool)
        {
            return;
        }
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject
            {
                ["annotations"] = new JsonObject { [Annotations.IPAllocatedFromPool] = pool is null ? null : JsonValue.Create(pool) },
            },
        };
        try
        {
            await client.PatchAsync(CoreResources.Services, service.Metadata.NamespaceProperty, service.Metadata.Name!, patch, status: false, ct).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
        }
    }

    [LoggerMessage(1, LogLevel.Error, "Writing the status of Service {Service} failed unexpectedly; retrying")]
    private partial void LogWriteFailed(string service, Exception e);
}

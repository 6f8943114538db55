using System.Text.Json.Nodes;
using BareLb.Allocator;
using BareLb.Api;
using BareLb.Controller.Informers;
using BareLb.Controller.Reconciliation;
using BareLb.Kubernetes;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller.Services;

/// <summary>What one Service should show: its ingress addresses and the pool annotation (null: none).</summary>
/// <param name="Ticket">The decision this state comes from; its reservations end when the write lands.</param>
/// <param name="Service">The Service as the decision saw it.</param>
/// <param name="Base">The object the patch starts from (its resourceVersion makes the patch conditional); null: <paramref name="Service"/>.</param>
public sealed record ServiceWrite(ServiceKey Key, long Ticket, V1Service Service, IReadOnlyList<string> Ingress, string? Pool, V1Service? Base = null);

public enum WriteResult
{
    /// <summary>The API now shows the state (after one or more requests).</summary>
    Written,
    /// <summary>The API already showed the state; no request was made.</summary>
    NotNeeded,
    /// <summary>The Service is gone (deleted, or replaced by a new object of the same name).</summary>
    Gone,
    /// <summary>
    /// The Service's request changed since the decision (found on a 409): writing the old decision could show an
    /// address the new request may not hold, so nothing was written; the change's own reconcile decides again.
    /// </summary>
    Stale,
    /// <summary>The write failed; <see cref="WriteOutcome.Error"/> says why.</summary>
    Failed,
}

public sealed record WriteOutcome(ServiceKey Key, long Ticket, WriteResult Result, Exception? Error = null);

/// <summary>
/// Writes Service state: <c>status.loadBalancer.ingress</c> and the <c>barelb.io/ip-allocated-from-pool</c>
/// annotation, in one merge patch on <c>/status</c> carrying the resourceVersion that was read. kube-apiserver's
/// Service status strategy resets only the spec on that subresource, so the annotation lands in the same atomic
/// write as the status; where a server drops metadata on <c>/status</c> (the returned object shows the old
/// annotation) a second, conditional patch on the Service writes it.
/// </summary>
/// <remarks>
/// Decisions are made one at a time on the controller's loop; writing them is I/O and runs alongside, up to a limit
/// at once. One Service has at most one write in flight; a newer state submitted meanwhile replaces any older one
/// still waiting and starts from the object the in-flight write returned. <see cref="Submit"/> never blocks the
/// loop; outcomes are collected with <see cref="TakeCompleted"/> after the <c>completed</c> callback.
/// </remarks>
public sealed partial class ServiceStatusWriter(
    IKubernetesClient client,
    int maxConcurrentWrites,
    WriteEchoes echoes,
    ControllerActivity activity,
    Action completed,
    ILogger logger,
    CancellationToken stopping)
{
    private const int MaxConflictRetries = 5;
    private readonly Lock _lock = new();
    private readonly HashSet<ServiceKey> _inFlight = [];
    private readonly Dictionary<ServiceKey, ServiceWrite> _waiting = [];
    private readonly List<WriteOutcome> _completed = [];
    // What our last landed write left each Service showing: the informer's copy lags behind our own writes, and a
    // decision made on that copy must not write again what is already there (nor trip over its stale version).
    private readonly Dictionary<ServiceKey, Shown> _shown = [];
    private readonly List<Task> _tasks = [];
    private readonly SemaphoreSlim _slots = new(Math.Max(1, maxConcurrentWrites));
    private readonly ILogger _logger = logger;

    /// <summary>True while a write of the Service is in flight or waiting: what the API will show is not known yet.</summary>
    public bool IsBusy(ServiceKey key)
    {
        lock (_lock)
        {
            return _inFlight.Contains(key);
        }
    }

    public void Submit(ServiceWrite write)
    {
        lock (_lock)
        {
            activity.Begin();
            if (_inFlight.Contains(write.Key))
            {
                if (_waiting.Remove(write.Key, out _))
                {
                    // Superseded before it started: the newer write says everything it would have said.
                    activity.End();
                }
                _waiting[write.Key] = write;
                return;
            }
            _inFlight.Add(write.Key);
            StartLocked(write);
        }
    }

    /// <summary>The Service is gone: forget what it showed.</summary>
    public void Forget(ServiceKey key)
    {
        lock (_lock)
        {
            _shown.Remove(key);
        }
    }

    /// <summary>Outcomes of writes that ended since the last call, in the order they ended.</summary>
    public IReadOnlyList<WriteOutcome> TakeCompleted()
    {
        lock (_lock)
        {
            var taken = _completed.ToList();
            _completed.Clear();
            return taken;
        }
    }

    /// <summary>Completes when every write started so far has ended.</summary>
    public Task DrainAsync()
    {
        lock (_lock)
        {
            return Task.WhenAll(_tasks.ToList());
        }
    }

    private void StartLocked(ServiceWrite write)
    {
        var task = Task.Run(() => RunAsync(write), CancellationToken.None);
        _tasks.Add(task);
        _ = task.ContinueWith(t =>
        {
            lock (_lock)
            {
                _tasks.Remove(t);
            }
        }, TaskScheduler.Default);
    }

    private async Task RunAsync(ServiceWrite write)
    {
        WriteOutcome outcome;
        V1Service? returned = null;
        var slot = false;
        try
        {
            await _slots.WaitAsync(stopping).ConfigureAwait(false);
            slot = true;
            (outcome, returned) = await WriteAsync(write).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            if (!TransientErrors.Is(e, stopping))
            {
                LogWriteFailed(write.Key.ToString(), e);
            }
            outcome = new WriteOutcome(write.Key, write.Ticket, WriteResult.Failed, e);
        }
        catch (OperationCanceledException e)
        {
            outcome = new WriteOutcome(write.Key, write.Ticket, WriteResult.Failed, e);
        }
        finally
        {
            if (slot)
            {
                _slots.Release();
            }
        }

        lock (_lock)
        {
            _completed.Add(outcome);
            if (_waiting.Remove(write.Key, out var next))
            {
                if (outcome.Result == WriteResult.Gone)
                {
                    _completed.Add(new WriteOutcome(next.Key, next.Ticket, WriteResult.Gone));
                    _inFlight.Remove(write.Key);
                    activity.End();
                }
                else
                {
                    // The in-flight write's answer is the freshest object we know; starting from the older one
                    // the decision saw could skip a write the API still needs.
                    StartLocked(returned is not null ? next with { Base = returned } : next);
                }
            }
            else
            {
                _inFlight.Remove(write.Key);
            }
        }
        completed();
        activity.End();
    }

    private async Task<(WriteOutcome, V1Service?)> WriteAsync(ServiceWrite write)
    {
        var service = write.Base ?? write.Service;
        if (write.Base is { } newer && ServiceRequestParser.RequestVersion(newer) != ServiceRequestParser.RequestVersion(write.Service))
        {
            // The write before this one already saw a newer request than this decision did: this decision is stale.
            return (new WriteOutcome(write.Key, write.Ticket, WriteResult.Stale), newer);
        }
        var requests = 0;
        Shown? shown;
        lock (_lock)
        {
            _shown.TryGetValue(write.Key, out shown);
        }
        if (shown is not null && shown.Uid == service.Metadata.Uid && Newer(shown.ResourceVersion, service.Metadata.ResourceVersion) &&
            shown.Ingress.SequenceEqual(write.Ingress) && shown.Pool == write.Pool)
        {
            return (new WriteOutcome(write.Key, write.Ticket, WriteResult.NotNeeded), null);
        }
        for (var attempt = 0; ; attempt++)
        {
            if (attempt > MaxConflictRetries + 2)
            {
                throw new InvalidDataException($"Service {write.Key}: the API server answered every write with a different state than written");
            }
            var ingressDiffers = !Ingress(service).SequenceEqual(write.Ingress);
            var annotationDiffers = ServiceRequestParser.RecordedPool(service) != write.Pool;
            if (!ingressDiffers && !annotationDiffers)
            {
                if (requests > 0)
                {
                    lock (_lock)
                    {
                        _shown[write.Key] = new Shown(service.Metadata.Uid, service.Metadata.ResourceVersion ?? "", write.Ingress, write.Pool);
                    }
                }
                return (new WriteOutcome(write.Key, write.Ticket, requests == 0 ? WriteResult.NotNeeded : WriteResult.Written), service);
            }
            try
            {
                requests++;
                if (ingressDiffers || attempt == 0)
                {
                    service = await PatchAsync(service, ingressDiffers ? write.Ingress : null, annotationDiffers, write.Pool, status: true).ConfigureAwait(false);
                    if (ServiceRequestParser.RecordedPool(service) == write.Pool)
                    {
                        continue;
                    }
                }
                // The server kept the old annotation on /status: write it on the Service itself.
                service = await PatchAsync(service, null, annotation: true, write.Pool, status: false).ConfigureAwait(false);
            }
            catch (ConflictException) when (attempt < MaxConflictRetries)
            {
                var fresh = await client.GetAsync(CoreResources.Services, write.Key.Namespace, write.Key.Name, stopping).ConfigureAwait(false);
                if (fresh.Metadata.Uid != write.Service.Metadata.Uid)
                {
                    return (new WriteOutcome(write.Key, write.Ticket, WriteResult.Gone), null);
                }
                if (ServiceRequestParser.RequestVersion(fresh) != ServiceRequestParser.RequestVersion(write.Service))
                {
                    return (new WriteOutcome(write.Key, write.Ticket, WriteResult.Stale), fresh);
                }
                service = fresh;
            }
            catch (NotFoundException)
            {
                return (new WriteOutcome(write.Key, write.Ticket, WriteResult.Gone), null);
            }
        }
    }

    /// <summary>
    /// A merge patch carrying the resourceVersion we read (a concurrent writer is never overwritten; on 409 we read
    /// again) and only the fields we own; the models would drop fields they do not know on a full PUT.
    /// </summary>
    private async Task<V1Service> PatchAsync(V1Service service, IReadOnlyList<string>? ingress, bool annotation, string? pool, bool status)
    {
        var metadata = new JsonObject { ["resourceVersion"] = service.Metadata.ResourceVersion };
        if (annotation)
        {
            metadata["annotations"] = new JsonObject { [Annotations.IPAllocatedFromPool] = pool is null ? null : JsonValue.Create(pool) };
        }
        var patch = new JsonObject { ["metadata"] = metadata };
        if (ingress is not null)
        {
            patch["status"] = new JsonObject
            {
                ["loadBalancer"] = new JsonObject
                {
                    ["ingress"] = ingress.Count == 0 ? null : new JsonArray([.. ingress.Select(ip => (JsonNode)new JsonObject { ["ip"] = ip })]),
                },
            };
        }
        var written = await client.PatchAsync(CoreResources.Services, service.Metadata.NamespaceProperty, service.Metadata.Name!, patch, status, stopping)
            .ConfigureAwait(false);
        echoes.Expect(CoreResources.Services.Kind, written.Metadata.Key(), written.Metadata.ResourceVersion);
        return written;
    }

    private static bool Newer(string a, string? b) =>
        long.TryParse(a, out var x) && long.TryParse(b, out var y) && x > y;

    private sealed record Shown(string? Uid, string ResourceVersion, IReadOnlyList<string> Ingress, string? Pool);

    /// <summary>Only the IPs are compared: the API server may add fields such as ipMode.</summary>
    private static IEnumerable<string?> Ingress(V1Service service) =>
        (service.Status?.LoadBalancer?.Ingress ?? []).Select(i => i.Ip);

    [LoggerMessage(1, LogLevel.Error, "Writing the status of Service {Service} failed unexpectedly; retrying")]
    private partial void LogWriteFailed(string service, Exception e);
}

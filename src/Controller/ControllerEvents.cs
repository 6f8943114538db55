using System.Text.Json.Nodes;
using BareLb.Controller.Reconciliation;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Events;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Controller;

/// <summary>The controller's event recorder: the shared <see cref="EventRecorder"/>, with its writes retried on transient API errors.</summary>
public static class ControllerEvents
{
    public const string Component = "barelb-controller";

    public static EventRecorder CreateRecorder(IKubernetesClient client, string? host, ILogger logger, TimeProvider? time = null,
        int queueCapacity = 1000)
    {
        var options = new EventRecorderOptions { Component = Component, Host = host, QueueCapacity = queueCapacity };
        return new EventRecorder(new RetryingEventWrites(client, time ?? TimeProvider.System), options, logger, time);
    }
}

/// <summary>
/// Passes every call through; creates and patches of Events that fail on a transient API error (429, 5xx, a
/// timeout, a garbled answer) are tried again, a few times with a doubling delay and never sooner than a 429 asked,
/// so that an API hiccup does not lose an event. <see cref="EventRecorder"/> writes one event at a time, so the
/// attempts are bounded (about 15 s in all) to keep later events from waiting long.
/// </summary>
internal sealed class RetryingEventWrites(IKubernetesClient inner, TimeProvider time) : IKubernetesClient
{
    private const int Attempts = 5;
    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(500);

    public Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        inner.GetAsync(type, ns, name, ct);

    public Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        inner.ListAsync(type, ns, options, ct);

    public Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        type.Kind == CoreResources.Events.Kind ? RetryAsync(() => inner.CreateAsync(type, obj, ct), ct) : inner.CreateAsync(type, obj, ct);

    public Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        type.Kind == CoreResources.Events.Kind
            ? RetryAsync(() => inner.PatchAsync(type, ns, name, mergePatch, status, ct), ct)
            : inner.PatchAsync(type, ns, name, mergePatch, status, ct);

    public Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        inner.DeleteAsync(type, ns, name, options, ct);

    public IAsyncEnumerable<WatchEvent<T>> WatchAsync<T>(ResourceType<T> type, string? ns, WatchOptions options, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta> =>
        inner.WatchAsync(type, ns, options, ct);

    private async Task<T> RetryAsync<T>(Func<Task<T>> write, CancellationToken ct)
    {
        var delay = FirstDelay;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write().ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < Attempts && TransientErrors.Is(e, ct) && !TransientErrors.IsPermanent(e)
                && e is not (AlreadyExistsException or NotFoundException or ConflictException))
            {
                var wait = TransientErrors.RetryAfter(e) is { } asked && asked > delay ? asked : delay;
                await Task.Delay(wait, time, ct).ConfigureAwait(false);
                delay *= 2;
            }
        }
    }
}

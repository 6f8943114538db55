using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using BareLb.Kubernetes;
using BareLb.TestSupport;
using k8s;
using k8s.Models;

namespace BareLb.Controller.Tests.Support;

/// <summary>
/// Counts the requests that pass through, by verb and kind ("patch Service/status", "create Event", ...). The
/// fixture's barrier Event (reason TestBarrier) is the test's, not the controller's, and is not counted.
/// </summary>
public sealed class CountingClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
{
    private readonly ConcurrentDictionary<string, int> _counts = new();
    private readonly ConcurrentDictionary<string, bool> _barrierEvents = new();

    public IReadOnlyDictionary<string, int> Snapshot() => new Dictionary<string, int>(_counts);

    /// <summary>Requests other than watches (a watch is one long request, not a per-change cost).</summary>
    public int Requests => _counts.Values.Sum();

    public int Writes => _counts.Where(kv => !kv.Key.StartsWith("get ", StringComparison.Ordinal) && !kv.Key.StartsWith("list ", StringComparison.Ordinal)).Sum(kv => kv.Value);

    public static string Describe(IReadOnlyDictionary<string, int> counts) =>
        string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}: {kv.Value}"));

    private void Count(string verb, string kind, bool status = false) => _counts.AddOrUpdate($"{verb} {kind}{(status ? "/status" : "")}", 1, (_, n) => n + 1);

    public override Task<T> GetAsync<T>(ResourceType<T> type, string? ns, string name, CancellationToken ct)
    {
        Count("get", type.Kind);
        return base.GetAsync(type, ns, name, ct);
    }

    public override Task<ResourceList<T>> ListAsync<T>(ResourceType<T> type, string? ns, ListOptions? options, CancellationToken ct)
    {
        Count("list", type.Kind);
        return base.ListAsync(type, ns, options, ct);
    }

    public override Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct)
    {
        if (obj is Corev1Event { Reason: "TestBarrier" } barrier)
        {
            _barrierEvents[barrier.Metadata.Name] = true;
        }
        else
        {
            Count("create", type.Kind);
        }
        return base.CreateAsync(type, obj, ct);
    }

    public override Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
    {
        if (!(type.Kind == "Event" && _barrierEvents.ContainsKey(name)))
        {
            Count("patch", type.Kind, status);
        }
        return base.PatchAsync(type, ns, name, mergePatch, status, ct);
    }

    public override Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct)
    {
        Count("delete", type.Kind);
        return base.DeleteAsync(type, ns, name, options, ct);
    }
}

/// <summary>Holds the status writes of chosen Services until the test opens the gate.</summary>
public sealed class GateClient(IKubernetesClient inner) : DelegatingKubernetesClient(inner)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _gates = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _held = new();

    /// <summary>From now on, status writes of ns/name wait until <see cref="Open"/>.</summary>
    public void Close(string ns, string name)
    {
        _gates[$"{ns}/{name}"] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _held[$"{ns}/{name}"] = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Completes once a status write of ns/name is being held.</summary>
    public Task HeldAsync(string ns, string name) => _held[$"{ns}/{name}"].Task.WaitAsync(ControllerFixture.Timeout);

    public void Open(string ns, string name)
    {
        if (_gates.TryRemove($"{ns}/{name}", out var gate))
        {
            gate.TrySetResult();
        }
    }

    public override async Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct)
    {
        if (type.Kind == "Service" && _gates.TryGetValue($"{ns}/{name}", out var gate))
        {
            _held[$"{ns}/{name}"].TrySetResult();
            await gate.Task.WaitAsync(ct);
        }
        return await Inner.PatchAsync(type, ns, name, mergePatch, status, ct);
    }
}

/// <summary>
/// Lets the controller's writes through until the chosen one: that write and every later one fail as if the
/// process had died just before sending it (nothing of them reaches the API server).
/// </summary>
public sealed class CrashClient(IKubernetesClient inner, int crashAtWrite) : DelegatingKubernetesClient(inner)
{
    private int _writes;

    /// <summary>Writes that reached the API server.</summary>
    public int Landed => Math.Min(Volatile.Read(ref _writes), crashAtWrite - 1);

    public TaskCompletionSource Crashed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private bool Dead(string kind)
    {
        if (kind == "Event")
        {
            return Crashed.Task.IsCompleted;
        }
        if (Interlocked.Increment(ref _writes) >= crashAtWrite)
        {
            Crashed.TrySetResult();
        }
        return Crashed.Task.IsCompleted;
    }

    public override Task<T> CreateAsync<T>(ResourceType<T> type, T obj, CancellationToken ct) =>
        Dead(type.Kind) ? Task.FromException<T>(new IOException("crashed")) : base.CreateAsync(type, obj, ct);

    public override Task<T> PatchAsync<T>(ResourceType<T> type, string? ns, string name, JsonNode mergePatch, bool status, CancellationToken ct) =>
        Dead(type.Kind) ? Task.FromException<T>(new IOException("crashed")) : base.PatchAsync(type, ns, name, mergePatch, status, ct);

    public override Task DeleteAsync<T>(ResourceType<T> type, string? ns, string name, DeleteOptions? options, CancellationToken ct) =>
        Dead(type.Kind) ? Task.FromException(new IOException("crashed")) : base.DeleteAsync(type, ns, name, options, ct);
}

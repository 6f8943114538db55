using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Informers;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker.Status;

/// <summary>One status object this node should show for one Service: its status body.</summary>
public sealed record StatusEntry(string ServiceNamespace, string ServiceName, JsonObject Status);

/// <summary>
/// Keeps this node's announcement status objects (ServiceL2Status or ServiceBGPStatus) equal to what it announces:
/// one per announced Service, created when it starts announcing and deleted when it stops. It also deletes the
/// statuses a dead speaker left for a Service this node has taken over, since their writer cannot. Writes happen in
/// the background with a backoff; announcing never waits for the API.
/// </summary>
public sealed partial class AnnouncementStatusWriter<T>(
    IKubernetesClient client,
    ResourceType<T> type,
    string prefix,
    string ns,
    string node,
    ResourceInformer<T> informer,
    Func<T, object?> statusOf,
    Func<T> create,
    TimeProvider time,
    ILogger logger) where T : CustomResource
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _signal = new(0, 1);
    // One pass or RemoveAllAsync at a time, so a pass that read the old desired state cannot write after RemoveAllAsync.
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly object _gate = new();
    private IReadOnlyDictionary<string, StatusEntry> _desired = new Dictionary<string, StatusEntry>();
    private IReadOnlySet<string> _deadNodes = new HashSet<string>();
    // Until the speaker has said what it announces, nothing is known to be stale: the statuses of a previous run stay
    // (HasOwnStatuses tells the speaker it restarted).
    private bool _desiredKnown;
    // Our last status write per object: the version it was based on and the status written. Only passes touch it.
    private readonly Dictionary<string, (string? Before, JsonObject Status)> _written = new(StringComparer.Ordinal);

    /// <summary>Sets what this node announces, and which other nodes are known dead (their statuses for our Services go).</summary>
    public void SetDesired(IEnumerable<StatusEntry> entries, IReadOnlySet<string> deadNodes)
    {
        lock (_gate)
        {
            _desired = entries.ToDictionary(e => NameFor(prefix, node, e.ServiceNamespace, e.ServiceName));
            _deadNodes = deadNodes;
            _desiredKnown = true;
        }
        Signal();
    }

    public void Signal()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>True when this node wrote statuses of this kind before (found at start): a restart of its speaker.</summary>
    public bool HasOwnStatuses => informer.List().Any(s => s.Metadata.LabelsOrEmpty().GetValueOrDefault(StatusLabels.Node) == node);

    public async Task RunAsync(CancellationToken ct)
    {
        var backoff = MinBackoff;
        while (!ct.IsCancellationRequested)
        {
            await _signal.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                await ReconcileAsync(ct).ConfigureAwait(false);
                backoff = MinBackoff;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                LogWriteFailed(type.Kind, backoff, e.Message);
                await Task.Delay(backoff, time, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                Signal();
            }
        }
    }

    /// <summary>
    /// Deletes every status this node wrote (graceful stop): the next owner writes its own. From then on this node
    /// announces nothing as far as the writer knows, so a pass still running (woken by these deletions) does not
    /// write them again.
    /// </summary>
    public async Task RemoveAllAsync(CancellationToken ct)
    {
        lock (_gate)
        {
            _desired = new Dictionary<string, StatusEntry>();
            _deadNodes = new HashSet<string>();
            _desiredKnown = true;
        }
        await _writing.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            foreach (var existing in informer.List().Where(s => s.Metadata.LabelsOrEmpty().GetValueOrDefault(StatusLabels.Node) == node))
            {
                await DeleteAsync(existing.Metadata.Name, ct).ConfigureAwait(false);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task ReconcileAsync(CancellationToken ct)
    {
        await _writing.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await ReconcileOnceAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    private async Task ReconcileOnceAsync(CancellationToken ct)
    {
        IReadOnlyDictionary<string, StatusEntry> desired;
        IReadOnlySet<string> dead;
        lock (_gate)
        {
            if (!_desiredKnown)
            {
                return;
            }
            desired = _desired;
            dead = _deadNodes;
        }
        var existing = informer.List().ToDictionary(s => s.Metadata.Name, StringComparer.Ordinal);
        var announced = desired.Values.Select(e => (e.ServiceNamespace, e.ServiceName)).ToHashSet();

        foreach (var (name, entry) in desired)
        {
            if (!existing.TryGetValue(name, out var current))
            {
                await CreateAsync(name, entry, ct).ConfigureAwait(false);
            }
            else if (!SameStatus(statusOf(current), entry.Status) && !CacheBehindOwnWrite(name, current, entry))
            {
                await PatchStatusAsync(name, entry, current.Metadata.ResourceVersion, ct).ConfigureAwait(false);
            }
        }
        foreach (var name in _written.Keys.Where(n => !desired.ContainsKey(n)).ToList())
        {
            _written.Remove(name);
        }

        foreach (var (name, status) in existing)
        {
            var labels = status.Metadata.LabelsOrEmpty();
            var writer = labels.GetValueOrDefault(StatusLabels.Node);
            var service = (labels.GetValueOrDefault(StatusLabels.ServiceNamespace) ?? "", labels.GetValueOrDefault(StatusLabels.ServiceName) ?? "");
            var mineButStale = writer == node && !desired.ContainsKey(name);
            var leftByDeadOwner = writer != node && writer is not null && dead.Contains(writer) && announced.Contains(service);
            if (mineButStale || leftByDeadOwner)
            {
                await DeleteAsync(name, ct).ConfigureAwait(false);
            }
        }
    }

    // An object without status (just created, or its status write failed) differs from every desired status; the
    // client's serializer cannot take null.
    private static bool SameStatus(object? current, JsonObject desired) =>
        current is not null && JsonNode.DeepEquals(JsonNode.Parse(KubernetesJson.Serialize(current)), desired);

    // The cache still shows the version our last write was based on, and we wrote this very status: the informer has
    // not caught up with our own write (each create is followed by a pass that sees the object without status).
    private bool CacheBehindOwnWrite(string name, T current, StatusEntry entry) =>
        _written.TryGetValue(name, out var written) && written.Before is not null &&
        written.Before == current.Metadata.ResourceVersion && JsonNode.DeepEquals(written.Status, entry.Status);

    private async Task CreateAsync(string name, StatusEntry entry, CancellationToken ct)
    {
        var status = create();
        status.Kind = type.Kind;
        status.Metadata = new V1ObjectMeta
        {
            Name = name,
            NamespaceProperty = ns,
            Labels = new Dictionary<string, string>
            {
                [StatusLabels.Node] = node,
                [StatusLabels.ServiceName] = entry.ServiceName,
                [StatusLabels.ServiceNamespace] = entry.ServiceNamespace,
            },
        };
        string? created = null;
        try
        {
            created = (await client.CreateAsync(type, status, ct).ConfigureAwait(false)).Metadata.ResourceVersion;
        }
        catch (AlreadyExistsException)
        {
            // Created by an earlier run of this speaker that the cache has not shown yet; the status patch settles it.
        }
        // With the status subresource, status in a create is ignored by the API server: it is written separately.
        await PatchStatusAsync(name, entry, created, ct).ConfigureAwait(false);
    }

    private async Task PatchStatusAsync(string name, StatusEntry entry, string? before, CancellationToken ct)
    {
        _written.Remove(name);
        await client.PatchAsync(type, ns, name, new JsonObject { ["status"] = entry.Status.DeepClone() }, status: true, ct).ConfigureAwait(false);
        _written[name] = (before, (JsonObject)entry.Status.DeepClone());
    }

    private async Task DeleteAsync(string name, CancellationToken ct)
    {
        try
        {
            _written.Remove(name);
            await client.DeleteAsync(type, ns, name, null, ct).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
        }
    }

    /// <summary>A stable, valid object name per (kind, node, Service): the readable parts are in the labels.</summary>
    public static string NameFor(string prefix, string node, string serviceNamespace, string serviceName)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{node}\0{serviceNamespace}\0{serviceName}"), hash);
        return prefix + "-" + Convert.ToHexStringLower(hash[..10]);
    }

    [LoggerMessage(1, LogLevel.Warning, "Writing {Kind} objects failed, retrying in {Backoff}: {Reason}")]
    private partial void LogWriteFailed(string kind, TimeSpan backoff, string reason);
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using BareLb.Api;
using BareLb.Api.Models;
using BareLb.Kubernetes;
using BareLb.Kubernetes.Informers;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace BareLb.Speaker.Status;

/// <summary>One ServiceL2Status this node should show: the Service it announces and on which interfaces.</summary>
public sealed record L2StatusEntry(string ServiceNamespace, string ServiceName, IReadOnlyList<string> Interfaces);

/// <summary>
/// Keeps this node's ServiceL2Status objects equal to what it announces: one per announced Service, created when it
/// starts announcing and deleted when it stops. It also deletes the statuses that a dead speaker left for a Service this
/// node has taken over, since their writer can no longer do it. Writes happen in the background with a backoff; the
/// answering path never waits for the API.
/// </summary>
public sealed partial class ServiceL2StatusWriter(
    IKubernetesClient client,
    string ns,
    string node,
    ResourceInformer<ServiceL2Status> informer,
    TimeProvider time,
    ILogger logger)
{
    private static readonly TimeSpan MinBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly object _gate = new();
    private IReadOnlyDictionary<string, L2StatusEntry> _desired = new Dictionary<string, L2StatusEntry>();
    private IReadOnlySet<string> _deadNodes = new HashSet<string>();

    /// <summary>Sets what this node announces, and which other nodes are known dead (their statuses for our Services go).</summary>
    public void SetDesired(IEnumerable<L2StatusEntry> entries, IReadOnlySet<string> deadNodes)
    {
        lock (_gate)
        {
            _desired = entries.ToDictionary(e => NameFor(node, e.ServiceNamespace, e.ServiceName));
            _deadNodes = deadNodes;
        }
        Signal();
    }

    public void Signal()
    {
        if (_signal.CurrentCount == 0)
        {
            try
            {
                _signal.Release();
            }
            catch (SemaphoreFullException)
            {
            }
        }
    }

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
                LogWriteFailed(backoff, e.Message);
                await Task.Delay(backoff, time, ct).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                Signal();
            }
        }
    }

    /// <summary>Deletes every status this node wrote (graceful stop): the next owner writes its own.</summary>
    public async Task RemoveAllAsync(CancellationToken ct)
    {
        foreach (var existing in informer.List().Where(s => s.Metadata.LabelsOrEmpty().GetValueOrDefault(StatusLabels.Node) == node))
        {
            await DeleteAsync(existing.Metadata.Name, ct).ConfigureAwait(false);
        }
    }

    private async Task ReconcileAsync(CancellationToken ct)
    {
        IReadOnlyDictionary<string, L2StatusEntry> desired;
        IReadOnlySet<string> dead;
        lock (_gate)
        {
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
            else if (!Matches(current.Status, entry))
            {
                await PatchStatusAsync(name, entry, ct).ConfigureAwait(false);
            }
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

    private async Task CreateAsync(string name, L2StatusEntry entry, CancellationToken ct)
    {
        var status = new ServiceL2Status
        {
            Kind = BareLbResources.ServiceL2Statuses.Kind,
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = ns,
                Labels = new Dictionary<string, string>
                {
                    [StatusLabels.Node] = node,
                    [StatusLabels.ServiceName] = entry.ServiceName,
                    [StatusLabels.ServiceNamespace] = entry.ServiceNamespace,
                },
            },
            Spec = new AnnouncementSpec(),
        };
        try
        {
            await client.CreateAsync(BareLbResources.ServiceL2Statuses, status, ct).ConfigureAwait(false);
        }
        catch (AlreadyExistsException)
        {
            // Created by an earlier run of this speaker that the cache has not shown yet; the status patch below settles it.
        }
        // With the status subresource, status in a create is ignored by the API server: it is written separately.
        await PatchStatusAsync(name, entry, ct).ConfigureAwait(false);
    }

    private Task PatchStatusAsync(string name, L2StatusEntry entry, CancellationToken ct)
    {
        var patch = new JsonObject
        {
            ["status"] = new JsonObject
            {
                ["node"] = node,
                ["serviceName"] = entry.ServiceName,
                ["serviceNamespace"] = entry.ServiceNamespace,
                ["interfaces"] = new JsonArray([.. entry.Interfaces.Select(i => (JsonNode)new JsonObject { ["name"] = i })]),
            },
        };
        return client.PatchAsync(BareLbResources.ServiceL2Statuses, ns, name, patch, status: true, ct);
    }

    private async Task DeleteAsync(string name, CancellationToken ct)
    {
        try
        {
            await client.DeleteAsync(BareLbResources.ServiceL2Statuses, ns, name, null, ct).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
        }
    }

    private bool Matches(L2AnnouncementStatus? status, L2StatusEntry entry) =>
        status is not null && status.Node == node && status.ServiceName == entry.ServiceName &&
        status.ServiceNamespace == entry.ServiceNamespace &&
        (status.Interfaces ?? []).Select(i => i.Name).SequenceEqual(entry.Interfaces);

    /// <summary>A stable, valid object name per (node, Service): the readable parts are in the labels.</summary>
    public static string NameFor(string node, string serviceNamespace, string serviceName)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{node}\0{serviceNamespace}\0{serviceName}"), hash);
        return "l2-" + Convert.ToHexStringLower(hash[..10]);
    }

    [LoggerMessage(1, LogLevel.Warning, "Writing ServiceL2Status objects failed, retrying in {Backoff}: {Reason}")]
    private partial void LogWriteFailed(TimeSpan backoff, string reason);
}

using System.Globalization;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace BareLb.Kubernetes.LeaderElection;

/// <summary>The coordination.k8s.io/v1 Lease that candidates named <see cref="Identity"/> compete for.</summary>
public sealed class LeaseLock
{
    private readonly IKubernetesClient _client;

    public LeaseLock(IKubernetesClient client, string ns, string name, string identity)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (string.IsNullOrWhiteSpace(ns))
        {
            throw new ArgumentException("the Lease namespace must not be empty", nameof(ns));
        }
        if (string.IsNullOrWhiteSpace(name))
        {
            throw new ArgumentException("the Lease name must not be empty", nameof(name));
        }
        if (string.IsNullOrWhiteSpace(identity))
        {
            throw new ArgumentException("the candidate identity must not be empty (an empty holderIdentity means 'released')", nameof(identity));
        }

        _client = client;
        Namespace = ns;
        Name = name;
        Identity = identity;
    }

    public string Namespace { get; }
    public string Name { get; }
    public string Identity { get; }

    public override string ToString() => $"{Namespace}/{Name}";

    /// <summary>Null when the Lease does not exist.</summary>
    internal async Task<V1Lease?> GetAsync(CancellationToken ct)
    {
        try
        {
            return await _client.GetAsync(CoreResources.Leases, Namespace, Name, ct).ConfigureAwait(false);
        }
        catch (NotFoundException)
        {
            return null;
        }
    }

    /// <summary>Throws <see cref="AlreadyExistsException"/> when another candidate created it first.</summary>
    internal Task<V1Lease> CreateAsync(V1LeaseSpec spec, CancellationToken ct) =>
        _client.CreateAsync(CoreResources.Leases, new V1Lease
        {
            Metadata = new V1ObjectMeta { NamespaceProperty = Namespace, Name = Name },
            Spec = spec,
        }, ct);

    /// <summary>
    /// Writes the election fields of <paramref name="spec"/> onto the Lease last read or written
    /// (<paramref name="observed"/>), as a merge patch conditional on its resourceVersion: other fields of the Lease,
    /// including ones this client's model does not know, are left alone. <see cref="ConflictException"/> means someone
    /// else wrote the Lease since.
    /// </summary>
    internal Task<V1Lease> WriteSpecAsync(V1Lease observed, V1LeaseSpec spec, CancellationToken ct)
    {
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = observed.Metadata.ResourceVersion },
            ["spec"] = new JsonObject
            {
                ["holderIdentity"] = spec.HolderIdentity,
                ["leaseDurationSeconds"] = spec.LeaseDurationSeconds,
                ["acquireTime"] = MicroTime(spec.AcquireTime),
                ["renewTime"] = MicroTime(spec.RenewTime),
                ["leaseTransitions"] = spec.LeaseTransitions,
            },
        };
        return _client.PatchAsync(CoreResources.Leases, Namespace, Name, patch, status: false, ct);
    }

    /// <summary>metav1.MicroTime: RFC 3339 in UTC with six fractional digits.</summary>
    private static string? MicroTime(DateTime? time) =>
        time?.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}

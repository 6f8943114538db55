using BareLb.Kubernetes.Models;

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
    internal async Task<Lease?> GetAsync(CancellationToken ct)
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
    internal Task<Lease> CreateAsync(LeaseSpec spec, CancellationToken ct) =>
        _client.CreateAsync(CoreResources.Leases, new Lease
        {
            ApiVersion = CoreResources.Leases.ApiVersion,
            Kind = CoreResources.Leases.Kind,
            Metadata = new ObjectMeta { Namespace = Namespace, Name = Name },
            Spec = spec,
        }, ct);

    /// <summary>
    /// Writes <paramref name="lease"/> (the copy read or written last, spec changed by the caller) carrying its
    /// resourceVersion; <see cref="ConflictException"/> means someone else wrote the Lease since.
    /// </summary>
    internal Task<Lease> UpdateAsync(Lease lease, CancellationToken ct) => _client.UpdateAsync(CoreResources.Leases, lease, ct);
}

using System.Net;

namespace BareLb.Layer2;

/// <summary>An address this node owns, and the interfaces its advertisements name (null or empty: all allowed interfaces).</summary>
public sealed record OwnedAddress(IPAddress Address, IReadOnlyList<string>? Interfaces = null);

/// <summary>Where an owned address is actually answered and announced. No interface: no allowed interface qualifies.</summary>
public sealed record AddressAnnouncement(IPAddress Address, IReadOnlyList<string> Interfaces)
{
    public bool NoAllowedInterface => Interfaces.Count == 0;

    public bool Equals(AddressAnnouncement? other) =>
        other is not null && Address.Equals(other.Address) && Interfaces.SequenceEqual(other.Interfaces, StringComparer.Ordinal);

    public override int GetHashCode() => Address.GetHashCode();

    public override string ToString() => $"{Address} on {(NoAllowedInterface ? "no allowed interface" : string.Join(",", Interfaces))}";
}

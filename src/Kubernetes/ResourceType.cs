using k8s;
using k8s.Models;

namespace BareLb.Kubernetes;

/// <summary>
/// Where a kind lives in the API (group, version, plural, scope). Built-in kinds use the package's models
/// (<see cref="CoreResources"/>); custom resources declare theirs next to their own types (see src/Api).
/// </summary>
public sealed class ResourceType<T> where T : class, IKubernetesObject<V1ObjectMeta>
{
    public ResourceType(string group, string version, string kind, string plural, bool namespaced)
    {
        Group = group;
        Version = version;
        Kind = kind;
        Plural = plural;
        Namespaced = namespaced;
    }

    /// <summary>Empty for the core group.</summary>
    public string Group { get; }
    public string Version { get; }
    public string Kind { get; }
    public string Plural { get; }
    public bool Namespaced { get; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public override string ToString() => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}

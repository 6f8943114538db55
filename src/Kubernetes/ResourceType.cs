using System.Text.Json.Serialization.Metadata;
using BareLb.Kubernetes.Models;

namespace BareLb.Kubernetes;

/// <summary>
/// Where a kind lives in the API (group, version, plural, scope) and how to (de)serialize it.
/// Custom resources declare theirs next to their types (see src/Api).
/// </summary>
public sealed class ResourceType<T> where T : class, IKubernetesObject
{
    public ResourceType(string group, string version, string kind, string plural, bool namespaced,
        JsonTypeInfo<T> typeInfo, JsonTypeInfo<KubernetesList<T>> listTypeInfo)
    {
        Group = group;
        Version = version;
        Kind = kind;
        Plural = plural;
        Namespaced = namespaced;
        TypeInfo = typeInfo;
        ListTypeInfo = listTypeInfo;
    }

    /// <summary>Empty for the core group.</summary>
    public string Group { get; }
    public string Version { get; }
    public string Kind { get; }
    public string Plural { get; }
    public bool Namespaced { get; }
    public JsonTypeInfo<T> TypeInfo { get; }
    public JsonTypeInfo<KubernetesList<T>> ListTypeInfo { get; }

    public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

    public override string ToString() => Group.Length == 0 ? Plural : $"{Plural}.{Group}";
}

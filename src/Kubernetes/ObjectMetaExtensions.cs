using k8s.Models;

namespace BareLb.Kubernetes;

/// <summary>Read-only views of the official models' metadata maps, which are null when empty.</summary>
public static class ObjectMetaExtensions
{
    private static readonly IReadOnlyDictionary<string, string> Empty = new Dictionary<string, string>();

    public static IReadOnlyDictionary<string, string> LabelsOrEmpty(this V1ObjectMeta? metadata) => View(metadata?.Labels);

    public static IReadOnlyDictionary<string, string> AnnotationsOrEmpty(this V1ObjectMeta? metadata) => View(metadata?.Annotations);

    /// <summary>"namespace/name", or "name" for cluster-scoped objects.</summary>
    public static string Key(this V1ObjectMeta metadata) =>
        string.IsNullOrEmpty(metadata.NamespaceProperty) ? metadata.Name : $"{metadata.NamespaceProperty}/{metadata.Name}";

    private static IReadOnlyDictionary<string, string> View(IDictionary<string, string>? map) => map switch
    {
        null => Empty,
        IReadOnlyDictionary<string, string> readOnly => readOnly,
        _ => new Dictionary<string, string>(map),
    };
}

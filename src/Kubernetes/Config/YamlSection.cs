using System.Globalization;
using YamlDotNet.RepresentationModel;

namespace BareLb.Kubernetes.Config;

/// <summary>
/// A YAML mapping that knows which file it came from and its path in that file, so that every error names
/// both ("kubeconfig /x: clusters[0].cluster.server: missing").
/// </summary>
internal sealed class YamlSection
{
    private readonly YamlMappingNode _node;

    public YamlSection(string file, string path, YamlMappingNode node)
    {
        File = file;
        Path = path;
        _node = node;
    }

    public string File { get; }

    /// <summary>Dotted path from the document root; empty for the root.</summary>
    public string Path { get; }

    /// <summary>Relative file references are resolved against this folder, as kubectl does.</summary>
    public string Directory => System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(File)) ?? "/";

    public string FieldPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    public KubernetesConfigurationException Error(string key, string reason) =>
        new($"kubeconfig {File}: {FieldPath(key)}: {reason}");

    public KubernetesConfigurationException Error(string key, string reason, Exception inner) =>
        new($"kubeconfig {File}: {FieldPath(key)}: {reason}", inner);

    /// <summary>True when the key holds a non-empty value (an empty string counts as unset, as in clientcmd).</summary>
    public bool Has(string key) => Find(key) switch
    {
        null => false,
        YamlScalarNode scalar => !IsNull(scalar) && scalar.Value is { Length: > 0 },
        _ => true,
    };

    /// <summary>A scalar's text, or null when the key is absent or null.</summary>
    public string? GetString(string key)
    {
        switch (Find(key))
        {
            case null:
                return null;
            case YamlScalarNode scalar:
                return IsNull(scalar) ? null : scalar.Value;
            default:
                throw Error(key, "expected a string");
        }
    }

    public string GetRequiredString(string key) =>
        GetString(key) is { Length: > 0 } value ? value : throw Error(key, "missing");

    public bool GetBool(string key)
    {
        var text = GetString(key);
        if (text is null)
        {
            return false;
        }
        // sigs.k8s.io/yaml goes through YAML 1.1, where yes/no/on/off are booleans too.
        return text.ToLowerInvariant() switch
        {
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => throw Error(key, $"expected true or false, got \"{text}\""),
        };
    }

    public YamlSection? GetSection(string key) => Find(key) switch
    {
        null => null,
        YamlScalarNode scalar when IsNull(scalar) => null,
        YamlMappingNode mapping => new YamlSection(File, FieldPath(key), mapping),
        _ => throw Error(key, "expected a mapping"),
    };

    /// <summary>Each element of a sequence of mappings, with its index in the path ("clusters[2]").</summary>
    public IEnumerable<YamlSection> GetSequence(string key)
    {
        switch (Find(key))
        {
            case null:
                yield break;
            case YamlScalarNode scalar when IsNull(scalar):
                yield break;
            case YamlSequenceNode sequence:
                for (var i = 0; i < sequence.Children.Count; i++)
                {
                    var path = string.Create(CultureInfo.InvariantCulture, $"{FieldPath(key)}[{i}]");
                    yield return sequence.Children[i] is YamlMappingNode item
                        ? new YamlSection(File, path, item)
                        : throw new KubernetesConfigurationException($"kubeconfig {File}: {path}: expected a mapping");
                }
                break;
            default:
                throw Error(key, "expected a list");
        }
    }

    private YamlNode? Find(string key) =>
        _node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static bool IsNull(YamlScalarNode scalar) =>
        scalar.Style == YamlDotNet.Core.ScalarStyle.Plain && scalar.Value is null or "" or "~" or "null" or "Null" or "NULL";
}

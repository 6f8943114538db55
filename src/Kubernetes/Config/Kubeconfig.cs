using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace BareLb.Kubernetes.Config;

/// <summary>A named cluster, user or context: the list item (for its path) and its body mapping.</summary>
internal sealed record KubeconfigEntry(string Name, YamlSection Item, YamlSection? Body);

/// <summary>
/// One kubeconfig, or several merged the way kubectl merges $KUBECONFIG: the first file that defines a cluster,
/// user or context name wins, and the first file that sets current-context wins.
/// </summary>
internal sealed class Kubeconfig
{
    private Kubeconfig(IReadOnlyList<string> files, string? currentContext,
        Dictionary<string, KubeconfigEntry> clusters, Dictionary<string, KubeconfigEntry> users,
        Dictionary<string, KubeconfigEntry> contexts)
    {
        Files = files;
        CurrentContext = currentContext;
        Clusters = clusters;
        Users = users;
        Contexts = contexts;
    }

    public IReadOnlyList<string> Files { get; }
    public string? CurrentContext { get; }
    public IReadOnlyDictionary<string, KubeconfigEntry> Clusters { get; }
    public IReadOnlyDictionary<string, KubeconfigEntry> Users { get; }
    public IReadOnlyDictionary<string, KubeconfigEntry> Contexts { get; }

    public string Description => Files.Count == 1 ? $"kubeconfig {Files[0]}" : $"kubeconfig {string.Join(Path.PathSeparator, Files)}";

    public static Kubeconfig Load(IReadOnlyList<string> paths)
    {
        var parsed = new List<Kubeconfig>(paths.Count);
        foreach (var path in paths)
        {
            string text;
            try
            {
                text = File.ReadAllText(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new KubernetesConfigurationException($"kubeconfig {path}: cannot read: {e.Message}", e);
            }
            parsed.Add(Parse(path, text));
        }
        return Merge(parsed);
    }

    public static Kubeconfig Parse(string file, string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new KubernetesConfigurationException(
                $"kubeconfig {file}: not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
        }

        var empty = new Dictionary<string, KubeconfigEntry>(StringComparer.Ordinal);
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            // kubectl accepts an empty file as an empty config.
            return new Kubeconfig([file], null, empty, new(empty), new(empty));
        }
        if (stream.Documents.Count > 1)
        {
            throw new KubernetesConfigurationException($"kubeconfig {file}: holds {stream.Documents.Count} YAML documents, expected one");
        }
        if (stream.Documents[0].RootNode is not YamlMappingNode rootNode)
        {
            throw new KubernetesConfigurationException($"kubeconfig {file}: expected a mapping at the top level");
        }

        var root = new YamlSection(file, "", rootNode);
        if (root.GetString("kind") is { } kind && kind != "Config")
        {
            throw root.Error("kind", $"expected Config, got {kind}");
        }
        return new Kubeconfig([file], root.GetString("current-context"),
            ReadEntries(root, "clusters", "cluster"),
            ReadEntries(root, "users", "user"),
            ReadEntries(root, "contexts", "context"));
    }

    public static Kubeconfig Merge(IReadOnlyList<Kubeconfig> configs)
    {
        if (configs.Count == 1)
        {
            return configs[0];
        }
        var clusters = new Dictionary<string, KubeconfigEntry>(StringComparer.Ordinal);
        var users = new Dictionary<string, KubeconfigEntry>(StringComparer.Ordinal);
        var contexts = new Dictionary<string, KubeconfigEntry>(StringComparer.Ordinal);
        string? currentContext = null;
        foreach (var config in configs)
        {
            currentContext ??= config.CurrentContext;
            foreach (var (name, entry) in config.Clusters) clusters.TryAdd(name, entry);
            foreach (var (name, entry) in config.Users) users.TryAdd(name, entry);
            foreach (var (name, entry) in config.Contexts) contexts.TryAdd(name, entry);
        }
        return new Kubeconfig(configs.SelectMany(c => c.Files).ToArray(), currentContext, clusters, users, contexts);
    }

    private static Dictionary<string, KubeconfigEntry> ReadEntries(YamlSection root, string listKey, string bodyKey)
    {
        var entries = new Dictionary<string, KubeconfigEntry>(StringComparer.Ordinal);
        foreach (var item in root.GetSequence(listKey))
        {
            var name = item.GetRequiredString("name");
            // clientcmd rejects a duplicate name within one file rather than picking one.
            if (!entries.TryAdd(name, new KubeconfigEntry(name, item, item.GetSection(bodyKey))))
            {
                throw item.Error("name", $"duplicate {bodyKey} name \"{name}\" (also at {entries[name].Item.Path})");
            }
        }
        return entries;
    }
}

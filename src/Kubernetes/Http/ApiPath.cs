using System.Globalization;
using System.Text;
using BareLb.Kubernetes.Models;

namespace BareLb.Kubernetes.Http;

/// <summary>
/// REST paths: /api/v1/... for the core group, /apis/{group}/{version}/... otherwise, then
/// namespaces/{ns}/{plural}[/{name}[/{subresource}]]. Segments and query values are percent-encoded.
/// </summary>
internal static class ApiPath
{
    public static string Collection<T>(ResourceType<T> type, string? ns) where T : class, IKubernetesObject
    {
        if (!type.Namespaced && ns is not null)
        {
            throw new ArgumentException($"{type} is cluster-scoped; the namespace must be null, not \"{ns}\"", nameof(ns));
        }
        if (ns is { Length: 0 })
        {
            throw new ArgumentException($"{type}: the namespace must be null (all namespaces) or non-empty", nameof(ns));
        }
        var path = new StringBuilder(64);
        if (type.Group.Length == 0)
        {
            path.Append("/api/").Append(type.Version);
        }
        else
        {
            path.Append("/apis/").Append(type.Group).Append('/').Append(type.Version);
        }
        if (ns is not null)
        {
            path.Append("/namespaces/").Append(Uri.EscapeDataString(ns));
        }
        return path.Append('/').Append(type.Plural).ToString();
    }

    public static string Item<T>(ResourceType<T> type, string? ns, string? name, string? subresource = null)
        where T : class, IKubernetesObject
    {
        if (type.Namespaced && string.IsNullOrEmpty(ns))
        {
            throw new ArgumentException($"{type} is namespaced; a namespace is required", nameof(ns));
        }
        if (string.IsNullOrEmpty(name))
        {
            throw new ArgumentException($"{type}: a name is required", nameof(name));
        }
        var path = Collection(type, ns) + "/" + Uri.EscapeDataString(name);
        return subresource is null ? path : path + "/" + subresource;
    }
}

/// <summary>Appends "?a=b&amp;c=d" with escaped values, skipping unset ones.</summary>
internal struct QueryBuilder(string path)
{
    private readonly StringBuilder _text = new(path);
    private bool _first = true;

    public QueryBuilder Add(string name, string? value)
    {
        if (value is null)
        {
            return this;
        }
        _text.Append(_first ? '?' : '&').Append(name).Append('=').Append(Uri.EscapeDataString(value));
        _first = false;
        return this;
    }

    public QueryBuilder Add(string name, int? value) =>
        value is { } v ? Add(name, v.ToString(CultureInfo.InvariantCulture)) : this;

    public override readonly string ToString() => _text.ToString();
}

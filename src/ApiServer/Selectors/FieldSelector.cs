using System.Text;
using BareLb.ApiServer.Api;
using BareLb.ApiServer.Resources;
using BareLb.ApiServer.Storage;

namespace BareLb.ApiServer.Selectors;

internal sealed record FieldRequirement(string Field, bool Equal, string Value);

// fields.ParseSelector: comma-separated `field=value`, `field==value`, `field!=value`, with `\,` `\=` `\\` escapes.
internal sealed class FieldSelector
{
    private readonly IReadOnlyList<FieldRequirement> _requirements;
    private readonly ResourceKind _kind;

    private FieldSelector(ResourceKind kind, IReadOnlyList<FieldRequirement> requirements)
    {
        _kind = kind;
        _requirements = requirements;
    }

    public bool IsEmpty => _requirements.Count == 0;

    public IReadOnlyList<FieldRequirement> Requirements => _requirements;

    public bool Matches(StoredObject obj)
    {
        foreach (var r in _requirements)
        {
            var actual = r.Field switch
            {
                "metadata.name" => obj.Name,
                "metadata.namespace" => obj.Namespace,
                _ => _kind.SelectableFields[r.Field](obj.Object),
            };
            if ((actual == r.Value) != r.Equal)
            {
                return false;
            }
        }

        return true;
    }

    public static FieldSelector Parse(string? text, ResourceKind kind)
    {
        var requirements = new List<FieldRequirement>();
        if (string.IsNullOrEmpty(text))
        {
            return new FieldSelector(kind, requirements);
        }

        foreach (var term in SplitTerms(text))
        {
            if (term.Length == 0)
            {
                continue;
            }

            var (field, equal, value) = SplitTerm(term)
                ?? throw ApiErrors.BadRequest($"invalid selector: '{text}'; can't understand '{term}'");
            if (field is not ("metadata.name" or "metadata.namespace") && !kind.SelectableFields.ContainsKey(field))
            {
                throw ApiErrors.BadRequest($"field label not supported: {field}");
            }

            requirements.Add(new FieldRequirement(field, equal, Unescape(value)));
        }

        return new FieldSelector(kind, requirements);
    }

    private static IEnumerable<string> SplitTerms(string text)
    {
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\')
            {
                i++;
                continue;
            }

            if (text[i] == ',')
            {
                yield return text[start..i];
                start = i + 1;
            }
        }

        yield return text[start..];
    }

    private static (string Field, bool Equal, string Value)? SplitTerm(string term)
    {
        for (var i = 0; i < term.Length; i++)
        {
            if (term[i] == '\\')
            {
                i++;
                continue;
            }

            if (term[i] == '!' && i + 1 < term.Length && term[i + 1] == '=')
            {
                return (term[..i], false, term[(i + 2)..]);
            }

            if (term[i] == '=')
            {
                var skip = i + 1 < term.Length && term[i + 1] == '=' ? 2 : 1;
                return (term[..i], true, term[(i + skip)..]);
            }
        }

        return null;
    }

    private static string Unescape(string value)
    {
        if (!value.Contains('\\', StringComparison.Ordinal))
        {
            return value;
        }

        var sb = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] == '\\' && i + 1 < value.Length)
            {
                i++;
            }

            sb.Append(value[i]);
        }

        return sb.ToString();
    }
}

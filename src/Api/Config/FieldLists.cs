using BareLb.Api.Models;
using BareLb.Allocator;
using k8s;
using k8s.Models;

namespace BareLb.Api.Config;

// The list shapes every kind repeats: lists of names and lists of selectors, each entry checked and duplicates
// reported at the later index.
internal static class FieldLists
{
    public static List<string> Names(List<string>? items, string field, Func<string, string?> check, List<ValidationError> errors)
    {
        var result = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < (items?.Count ?? 0); i++)
        {
            var item = items![i];
            var entry = $"{field}[{i}]";
            if (item is null)
            {
                errors.Add(new(entry, "must be a string, not null"));
            }
            else if (check(item) is { } reason)
            {
                errors.Add(new(entry, reason));
            }
            else if (seen.TryGetValue(item, out var first))
            {
                errors.Add(new(entry, $"\"{item}\" is listed twice (also {field}[{first}])"));
            }
            else
            {
                seen[item] = i;
                result.Add(item);
            }
        }

        return result;
    }

    public static List<LabelMatcher> Selectors(List<LabelSelector>? selectors, string field, List<ValidationError> errors)
    {
        var result = new List<LabelMatcher>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < (selectors?.Count ?? 0); i++)
        {
            var entry = $"{field}[{i}]";
            var selector = selectors![i];
            if (LabelSelectors.Convert(selector, entry, errors) is not { } matcher)
            {
                continue;
            }

            var canonical = LabelSelectors.Canonical(selector);
            if (seen.TryGetValue(canonical, out var first))
            {
                errors.Add(new(entry, $"duplicates {field}[{first}]"));
                continue;
            }

            seen[canonical] = i;
            result.Add(matcher);
        }

        return result;
    }

    // Nodes, pools: an empty list of selectors selects everything.
    public static bool AnyMatches(IReadOnlyList<LabelMatcher> selectors, IReadOnlyDictionary<string, string> labels) =>
        selectors.Count == 0 || selectors.Any(selector => selector.Matches(labels));
}

using BareLb.Api.Models;
using System.Text;
using BareLb.Allocator;
using k8s;
using k8s.Models;

namespace BareLb.Api.Config;

// metav1.LabelSelector → the allocator's LabelMatcher, with the checks the API server applies to selectors in
// built-in kinds (LabelSelectorAsSelector), which a CRD schema cannot express.
internal static class LabelSelectors
{
    public static LabelMatcher? Convert(LabelSelector? selector, string field, List<ValidationError> errors)
    {
        if (selector is null)
        {
            errors.Add(new(field, "must be a label selector object, not null"));
            return null;
        }

        var before = errors.Count;
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in selector.MatchLabels ?? [])
        {
            var entry = $"{field}.matchLabels[\"{key}\"]";
            if (KubernetesNames.CheckLabelKey(key) is { } keyError)
            {
                errors.Add(new(entry, keyError));
            }
            else if (value is null)
            {
                errors.Add(new(entry, "value must be a string, not null"));
            }
            else if (KubernetesNames.CheckLabelValue(value) is { } valueError)
            {
                errors.Add(new(entry, valueError));
            }
            else
            {
                labels[key] = value;
            }
        }

        var requirements = new List<LabelRequirement>();
        var expressions = selector.MatchExpressions ?? [];
        for (var i = 0; i < expressions.Count; i++)
        {
            if (ConvertRequirement(expressions[i], $"{field}.matchExpressions[{i}]", errors) is { } requirement)
            {
                requirements.Add(requirement);
            }
        }

        return errors.Count == before ? new LabelMatcher(labels, requirements) : null;
    }

    private static LabelRequirement? ConvertRequirement(LabelSelectorRequirement? expression, string field, List<ValidationError> errors)
    {
        if (expression is null)
        {
            errors.Add(new(field, "must be a requirement object, not null"));
            return null;
        }

        var before = errors.Count;
        if (KubernetesNames.CheckLabelKey(expression.Key ?? "") is { } keyError)
        {
            errors.Add(new($"{field}.key", keyError));
        }

        LabelOperator? op = expression.Operator switch
        {
            "In" => LabelOperator.In,
            "NotIn" => LabelOperator.NotIn,
            "Exists" => LabelOperator.Exists,
            "DoesNotExist" => LabelOperator.DoesNotExist,
            _ => null,
        };
        var values = expression.Values ?? [];
        if (op is null)
        {
            errors.Add(new($"{field}.operator", $"unknown operator \"{expression.Operator}\"; expected In, NotIn, Exists or DoesNotExist"));
        }
        else if (op is LabelOperator.In or LabelOperator.NotIn && values.Count == 0)
        {
            errors.Add(new($"{field}.values", $"{op} needs at least one value"));
        }
        else if (op is LabelOperator.Exists or LabelOperator.DoesNotExist && values.Count > 0)
        {
            errors.Add(new($"{field}.values", $"{op} takes no values"));
        }

        for (var j = 0; j < values.Count; j++)
        {
            if (values[j] is null)
            {
                errors.Add(new($"{field}.values[{j}]", "must be a string, not null"));
            }
            else if (KubernetesNames.CheckLabelValue(values[j]) is { } valueError)
            {
                errors.Add(new($"{field}.values[{j}]", valueError));
            }
        }

        return errors.Count == before ? new LabelRequirement(expression.Key!, op!.Value, [.. values]) : null;
    }

    // Equal selectors written twice are almost always a copy-paste slip (MetalLB rejects them too). Two selectors
    // count as equal when they have the same labels and the same requirements in the same order.
    public static string Canonical(LabelSelector selector)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in (selector.MatchLabels ?? []).OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            text.Append(key).Append('=').Append(value).Append(';');
        }

        text.Append('|');
        foreach (var expression in selector.MatchExpressions ?? [])
        {
            text.Append(expression?.Key).Append(' ').Append(expression?.Operator).Append(" (");
            text.AppendJoin(',', (expression?.Values ?? []).Order(StringComparer.Ordinal)).Append(");");
        }

        return text.ToString();
    }
}

using static BareLb.Allocator.Tests.TestData;

namespace BareLb.Allocator.Tests;

public sealed class LabelMatcherTests
{
    public static TheoryData<string, LabelMatcher, bool> Cases
    {
        get
        {
            var none = new Dictionary<string, string>();
            return new()
            {
                { "empty matcher matches everything", new LabelMatcher(none, []), true },
                { "matchLabels present", Labels(("team", "web")), true },
                { "matchLabels wrong value", Labels(("team", "db")), false },
                { "matchLabels missing key", Labels(("tier", "front")), false },
                { "In with value", Expr("team", LabelOperator.In, "db", "web"), true },
                { "In without value", Expr("team", LabelOperator.In, "db"), false },
                { "In on missing key", Expr("tier", LabelOperator.In, "front"), false },
                { "NotIn with other value", Expr("team", LabelOperator.NotIn, "db"), true },
                { "NotIn with listed value", Expr("team", LabelOperator.NotIn, "web"), false },
                { "NotIn on missing key matches", Expr("tier", LabelOperator.NotIn, "front"), true },
                { "Exists", Expr("team", LabelOperator.Exists), true },
                { "Exists on missing key", Expr("tier", LabelOperator.Exists), false },
                { "DoesNotExist on missing key", Expr("tier", LabelOperator.DoesNotExist), true },
                { "DoesNotExist on present key", Expr("team", LabelOperator.DoesNotExist), false },
                {
                    "labels and expressions are ANDed",
                    new LabelMatcher(Dict(("team", "web")), [new LabelRequirement("env", LabelOperator.In, ["dev"])]),
                    false
                },
            };
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Matches_ServiceLabelsTeamWebEnvProd_FollowsKubernetesSelectorSemantics(string name, LabelMatcher matcher, bool expected)
    {
        var labels = Dict(("team", "web"), ("env", "prod"));
        Assert.True(expected == matcher.Matches(labels), name);
    }

    private static LabelMatcher Expr(string key, LabelOperator op, params string[] values) =>
        new(new Dictionary<string, string>(), [new LabelRequirement(key, op, values)]);
}

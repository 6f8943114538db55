using BareLb.Api.Models;

namespace BareLb.Api.Tests;

public sealed class StatusConditionsTests
{
    private static readonly DateTimeOffset T0 = new(2024, 5, 6, 7, 8, 9, 500, TimeSpan.Zero);

    [Fact]
    public void Set_NewCondition_IsAddedWithEveryRequiredField()
    {
        var conditions = new List<Condition>();

        Assert.True(StatusConditions.Set(conditions, PoolConditions.Valid, true, ConfigConditions.ReasonValid, "", 4, T0));

        var condition = Assert.Single(conditions);
        Assert.Equal(("Valid", "True", "Valid", "", 4L), (condition.Type, condition.Status, condition.Reason, condition.Message, condition.ObservedGeneration!.Value));
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero), condition.LastTransitionTime);
    }

    [Fact]
    public void Set_SameStatusAgain_KeepsTheTransitionTimeAndReportsNoChange()
    {
        var conditions = new List<Condition>();
        StatusConditions.Set(conditions, PoolConditions.Conflicting, false, PoolConditions.ReasonNoOverlap, "", 1, T0);

        Assert.False(StatusConditions.Set(conditions, PoolConditions.Conflicting, false, PoolConditions.ReasonNoOverlap, "", 1, T0.AddMinutes(5)));
        Assert.Equal(T0.AddMilliseconds(-500), conditions[0].LastTransitionTime);
    }

    [Fact]
    public void Set_MessageOrGenerationChange_KeepsTheTransitionTime()
    {
        var conditions = new List<Condition>();
        StatusConditions.Set(conditions, PoolConditions.Valid, false, ConfigConditions.ReasonInvalidSpec, "spec.addresses: a", 1, T0);

        Assert.True(StatusConditions.Set(conditions, PoolConditions.Valid, false, ConfigConditions.ReasonInvalidSpec, "spec.addresses: b", 2, T0.AddMinutes(1)));
        Assert.Equal(("spec.addresses: b", 2L), (conditions[0].Message, conditions[0].ObservedGeneration!.Value));
        Assert.Equal(T0.AddMilliseconds(-500), conditions[0].LastTransitionTime);
    }

    [Fact]
    public void Set_StatusFlip_MovesTheTransitionTime()
    {
        var conditions = new List<Condition>();
        StatusConditions.Set(conditions, PoolConditions.Draining, false, PoolConditions.ReasonNotDeleted, "", 1, T0);

        Assert.True(StatusConditions.Set(conditions, PoolConditions.Draining, true, PoolConditions.ReasonPoolDeleted, "2 services hold addresses", 1, T0.AddMinutes(1)));

        Assert.True(StatusConditions.IsTrue(conditions, PoolConditions.Draining));
        Assert.Equal(T0.AddMinutes(1).AddMilliseconds(-500), conditions[0].LastTransitionTime);
        Assert.False(StatusConditions.IsTrue(conditions, PoolConditions.Valid));
        Assert.Null(StatusConditions.Find(conditions, PoolConditions.Valid));
    }
}

namespace BareLb.Allocator.Tests;

public sealed class AddressRunsTests
{
    private static AddressRuns With(params int[] values)
    {
        var runs = new AddressRuns();
        foreach (var value in values)
        {
            runs.Add((UInt128)value);
        }

        return runs;
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3 }, 1)]
    [InlineData(new[] { 3, 1, 2 }, 1)]
    [InlineData(new[] { 1, 3 }, 2)]
    [InlineData(new[] { 1, 3, 2, 5, 4 }, 1)]
    [InlineData(new[] { 5, 5, 5 }, 1)]
    public void Add_Values_MergesAdjacentIntoMaximalRuns(int[] values, int runCount)
    {
        Assert.Equal(runCount, With(values).RunCount);
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3, 4, 5 }, 3, 2)]
    [InlineData(new[] { 1, 2, 3, 4, 5 }, 1, 1)]
    [InlineData(new[] { 1, 2, 3, 4, 5 }, 5, 1)]
    [InlineData(new[] { 1 }, 1, 0)]
    public void Remove_Value_SplitsRun(int[] values, int removed, int runCount)
    {
        var runs = With(values);

        Assert.True(runs.Remove((UInt128)removed));
        Assert.False(runs.Contains((UInt128)removed));
        Assert.Equal(runCount, runs.RunCount);
        Assert.False(runs.Remove((UInt128)removed));
    }

    [Theory]
    [InlineData(new[] { 1, 2, 3 }, 0, 10, 0)]
    [InlineData(new[] { 1, 2, 3 }, 1, 10, 4)]
    [InlineData(new[] { 1, 2, 3 }, 2, 10, 4)]
    [InlineData(new[] { 1, 2, 3, 5 }, 1, 10, 4)]
    [InlineData(new[] { 1, 2, 3 }, 1, 3, -1)]
    [InlineData(new[] { 1, 2, 3 }, 5, 4, -1)]
    public void FirstAbsent_Window_ReturnsLowestValueNotInSet(int[] values, int from, int to, int expected)
    {
        var absent = With(values).FirstAbsent((UInt128)from, (UInt128)to);

        Assert.Equal(expected < 0 ? null : (UInt128)expected, absent);
    }

    [Theory]
    [InlineData(new[] { 4, 5 }, 5, 9, "5-5")]
    [InlineData(new[] { 1, 2, 3, 7, 8, 9, 12 }, 2, 8, "2-3 7-8")]
    [InlineData(new[] { 1, 2, 3 }, 4, 9, "")]
    [InlineData(new[] { 5, 6, 7 }, 5, 5, "5-5")]
    [InlineData(new[] { 5, 6, 7 }, 0, 100, "5-7")]
    public void Within_Window_ClipsRunsToIt(int[] values, int from, int to, string expected)
    {
        var runs = With(values).Within((UInt128)from, (UInt128)to);

        Assert.Equal(expected, string.Join(" ", runs.Select(r => $"{r.First}-{r.Last}")));
    }

    [Fact]
    public void Add_AtTopOfUInt128_DoesNotOverflow()
    {
        var runs = new AddressRuns();
        runs.Add(UInt128.MaxValue);
        runs.Add(UInt128.MaxValue - 1);

        Assert.Equal(1, runs.RunCount);
        Assert.Null(runs.FirstAbsent(UInt128.MaxValue - 1, UInt128.MaxValue));
    }
}

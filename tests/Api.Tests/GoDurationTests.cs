using BareLb.Api.Config;

namespace BareLb.Api.Tests;

public sealed class GoDurationTests
{
    [Theory]
    [InlineData("0", 0L)]
    [InlineData("0s", 0L)]
    [InlineData("90s", 90 * TimeSpan.TicksPerSecond)]
    [InlineData("9m0s", 540 * TimeSpan.TicksPerSecond)]
    [InlineData("1h2m3s", 3723 * TimeSpan.TicksPerSecond)]
    [InlineData("1.5h", 5400 * TimeSpan.TicksPerSecond)]
    [InlineData("300ms", 300 * TimeSpan.TicksPerMillisecond)]
    [InlineData("10us", 100L)]
    [InlineData("10µs", 100L)]
    [InlineData("10μs", 100L)]
    [InlineData("250ns", 2L)]
    [InlineData("-1m", -60 * TimeSpan.TicksPerSecond)]
    [InlineData("+2s", 2 * TimeSpan.TicksPerSecond)]
    [InlineData(".5s", 5 * TimeSpan.TicksPerSecond / 10)]
    public void TryParse_GoSyntax_Parses(string text, long ticks)
    {
        Assert.True(GoDuration.TryParse(text, out var value, out var error), error);
        Assert.Equal(TimeSpan.FromTicks(ticks), value);
    }

    [Theory]
    [InlineData("", "empty duration; expected Go syntax such as \"90s\" or \"1m30s\"")]
    [InlineData("s", "\"s\" is not a duration: expected a number at \"s\"")]
    [InlineData("10", "\"10\" is not a duration: \"10\" has no unit (ns, us, ms, s, m or h)")]
    [InlineData("10d", "\"10d\" is not a duration: unknown unit \"d\" (ns, us, ms, s, m or h)")]
    [InlineData("1s2", "\"1s2\" is not a duration: \"2\" has no unit (ns, us, ms, s, m or h)")]
    [InlineData(".s", "\".s\" is not a duration: expected a number at \".s\"")]
    [InlineData("-", "\"-\" is not a duration")]
    [InlineData("3000000h", "\"3000000h\" is too long a duration")]
    public void TryParse_Invalid_SaysWhy(string text, string expected)
    {
        Assert.False(GoDuration.TryParse(text, out _, out var error));
        Assert.Equal(expected, error);
    }
}

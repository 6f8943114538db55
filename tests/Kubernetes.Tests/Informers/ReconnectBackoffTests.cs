using BareLb.Kubernetes.Informers;

namespace BareLb.Kubernetes.Tests.Informers;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void Next_ConsecutiveFailures_DoublesWithinJitterUpToCap()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(800), TimeSpan.FromSeconds(30), new Random(3));
        var expectedBase = new[] { 0.8, 1.6, 3.2, 6.4, 12.8, 25.6, 30, 30, 30, 30 };
        foreach (var seconds in expectedBase)
        {
            var baseDelay = TimeSpan.FromSeconds(seconds);
            Assert.InRange(backoff.Next(), baseDelay / 2, baseDelay);
        }
        Assert.Equal(expectedBase.Length, backoff.Failures);
    }

    [Fact]
    public void Next_ManyFailures_NeverOverflowsOrExceedsCap()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5), new Random(5));
        for (var i = 0; i < 200; i++)
        {
            Assert.InRange(backoff.Next(), TimeSpan.FromSeconds(0.5), TimeSpan.FromMinutes(5));
        }
    }

    [Fact]
    public void Next_ManySamples_SpreadOverTheJitterRange()
    {
        var delays = Enumerable.Range(0, 200).Select(_ =>
        {
            var b = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), new Random(Random.Shared.Next()));
            return b.Next().TotalSeconds;
        }).ToList();
        Assert.True(delays.Min() < 0.6, $"lowest delay {delays.Min()}");
        Assert.True(delays.Max() > 0.9, $"highest delay {delays.Max()}");
    }

    [Fact]
    public void Reset_AfterFailures_StartsFromInitialAgain()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(9));
        for (var i = 0; i < 6; i++)
        {
            backoff.Next();
        }
        backoff.Reset();
        Assert.InRange(backoff.Next(), TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData(0, 10, "initial")]
    [InlineData(-1, 10, "initial")]
    [InlineData(5, 4, "max")]
    public void Constructor_BadDurations_ThrowsNamingParameter(int initialSeconds, int maxSeconds, string parameter)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new ReconnectBackoff(TimeSpan.FromSeconds(initialSeconds), TimeSpan.FromSeconds(maxSeconds)));
        Assert.Equal(parameter, ex.ParamName);
    }
}

using BareLb.TestSupport;

namespace BareLb.Kubernetes.Tests.Support;

public sealed class FakeTimeProviderTests
{
    [Fact]
    public void GetTimestamp_OddFrequency_ConvertsExactlyThroughGetElapsedTime()
    {
        var time = new FakeTimeProvider();
        Assert.NotEqual(TimeSpan.TicksPerSecond, time.TimestampFrequency);
        Assert.NotEqual(System.Diagnostics.Stopwatch.Frequency, time.TimestampFrequency);
        var start = time.GetTimestamp();
        var wallStart = time.GetUtcNow();

        time.Advance(TimeSpan.FromMilliseconds(1234.5678));

        Assert.Equal(TimeSpan.FromMilliseconds(1234.5678), time.GetElapsedTime(start));
        Assert.Equal(TimeSpan.FromMilliseconds(1234.5678), time.GetUtcNow() - wallStart);
        Assert.Equal(time.TimestampFrequency * 12345678 / 10_000_000, time.GetTimestamp() - start);
    }

    [Fact]
    public async Task Advance_PastSeveralTimers_FiresEachAtItsDueTimeInOrder()
    {
        var time = new FakeTimeProvider();
        var fired = new List<(string, TimeSpan)>();
        using var late = time.CreateTimer(_ => fired.Add(("late", time.Elapsed)), null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using var periodic = time.CreateTimer(_ => fired.Add(("periodic", time.Elapsed)), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        var delay = Task.Delay(TimeSpan.FromSeconds(2), time);

        time.Advance(TimeSpan.FromSeconds(3.5));

        await delay.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(
            [("periodic", TimeSpan.FromSeconds(1)), ("periodic", TimeSpan.FromSeconds(2)), ("late", TimeSpan.FromSeconds(3)), ("periodic", TimeSpan.FromSeconds(3))],
            fired);
        Assert.Equal(TimeSpan.FromSeconds(3.5), time.Elapsed);
    }

    [Fact]
    public void Change_DisposedOrRearmed_FiresOnlyAsLastArmed()
    {
        var time = new FakeTimeProvider();
        var count = 0;
        var timer = time.CreateTimer(_ => count++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        timer.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(0, count);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, count);

        timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        timer.Dispose();
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(1, count);
        Assert.False(timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public async Task CancellationTokenSource_WithFakeTime_CancelsOnAdvance()
    {
        var time = new FakeTimeProvider();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(1), time);
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(cts.IsCancellationRequested);
        var waiter = time.WaitForTimerAsync(d => d == TimeSpan.FromSeconds(30), default);
        Assert.False(waiter.IsCompleted);
        using var other = time.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(30), Timeout.InfiniteTimeSpan);
        Assert.Equal(TimeSpan.FromSeconds(30), await waiter.WaitAsync(TimeSpan.FromSeconds(20)));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(cts.IsCancellationRequested);
    }
}

using BareLb.Kubernetes.RateLimiting;
using BareLb.TestSupport;

namespace BareLb.Kubernetes.Tests.RateLimiting;

public sealed class TokenBucketRateLimiterTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task WaitAsync_BurstThenSteadyRate_EachCallerWaitsForItsOwnToken()
    {
        var time = new FakeTimeProvider();
        var limiter = new TokenBucketRateLimiter(qps: 2, burst: 3, time);

        for (var i = 0; i < 3; i++)
        {
            Assert.True(limiter.WaitAsync(default).IsCompletedSuccessfully, $"burst request {i} waited");
        }

        var fourth = limiter.WaitAsync(default).AsTask();
        var fifth = limiter.WaitAsync(default).AsTask();
        var sixth = limiter.WaitAsync(default).AsTask();
        // One timer per waiter, due when its token is: 0.5 s apart at 2 QPS. No polling timers.
        Assert.Equal([TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1.5)], time.PendingTimers);

        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(fourth.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await fourth.WaitAsync(Patience);
        Assert.False(fifth.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(fifth, sixth).WaitAsync(Patience);
        Assert.Empty(time.PendingTimers);
    }

    [Fact]
    public async Task WaitAsync_LongIdle_RefillsOnlyUpToBurst()
    {
        var time = new FakeTimeProvider();
        var limiter = new TokenBucketRateLimiter(qps: 10, burst: 5, time);
        for (var i = 0; i < 5; i++)
        {
            await limiter.WaitAsync(default);
        }

        time.Advance(TimeSpan.FromHours(1));

        for (var i = 0; i < 5; i++)
        {
            Assert.True(limiter.WaitAsync(default).IsCompletedSuccessfully);
        }
        var sixth = limiter.WaitAsync(default).AsTask();
        Assert.Equal([TimeSpan.FromMilliseconds(100)], time.PendingTimers);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await sixth.WaitAsync(Patience);
    }

    [Fact]
    public async Task WaitAsync_SteadyLoad_AdmitsQpsPerSecondAfterBurst()
    {
        var time = new FakeTimeProvider();
        var limiter = new TokenBucketRateLimiter(qps: 50, burst: 100, time);
        var admitted = 0;
        var pending = new List<Task>();
        for (var i = 0; i < 600; i++)
        {
            pending.Add(limiter.WaitAsync(default).AsTask().ContinueWith(_ => Interlocked.Increment(ref admitted), TaskContinuationOptions.ExecuteSynchronously));
        }

        Assert.Equal(100, Volatile.Read(ref admitted));
        for (var second = 1; second <= 10; second++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAll(pending.Take(100 + 50 * second)).WaitAsync(Patience);
            Assert.Equal(100 + 50 * second, Volatile.Read(ref admitted));
        }
    }

    [Fact]
    public async Task WaitAsync_CancelledWhileWaiting_ThrowsAndReturnsTheToken()
    {
        var time = new FakeTimeProvider();
        var limiter = new TokenBucketRateLimiter(qps: 1, burst: 1, time);
        await limiter.WaitAsync(default);
        using var cts = new CancellationTokenSource();
        var abandoned = limiter.WaitAsync(cts.Token).AsTask();

        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => abandoned.WaitAsync(Patience));

        // The abandoned reservation was handed back: the next caller waits 1 s, not 2 s.
        var next = limiter.WaitAsync(default).AsTask();
        Assert.Equal([TimeSpan.FromSeconds(1)], time.PendingTimers);
        time.Advance(TimeSpan.FromSeconds(1));
        await next.WaitAsync(Patience);
    }

    [Fact]
    public void WaitAsync_AlreadyCancelled_DoesNotTakeAToken()
    {
        var limiter = new TokenBucketRateLimiter(qps: 1, burst: 1, new FakeTimeProvider());
        Assert.True(limiter.WaitAsync(new CancellationToken(canceled: true)).IsCanceled);
        Assert.True(limiter.WaitAsync(default).IsCompletedSuccessfully);
    }

    [Fact]
    public void Constructor_Defaults_Are50QpsBurst100()
    {
        var limiter = new TokenBucketRateLimiter();
        Assert.Equal(50, limiter.Qps);
        Assert.Equal(100, limiter.Burst);
    }

    [Theory]
    [InlineData(0, 10, "qps")]
    [InlineData(-1, 10, "qps")]
    [InlineData(double.NaN, 10, "qps")]
    [InlineData(double.PositiveInfinity, 10, "qps")]
    [InlineData(5, 0, "burst")]
    public void Constructor_InvalidSettings_ThrowsNamingParameter(double qps, int burst, string parameter)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new TokenBucketRateLimiter(qps, burst));
        Assert.Equal(parameter, ex.ParamName);
    }
}

namespace BareLb.Layer2.Tests;

public sealed class AnnouncementScheduleTests
{
    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public void Queue_DefaultBurst_DueAtEachOffsetThenDone()
    {
        var clock = new ManualClock();
        var queue = new AnnouncementQueue<string>(AnnouncementSchedule.Default, clock);
        var sentAt = new List<TimeSpan>();
        var due = new List<string>();

        queue.Start("198.51.100.10@eth0");
        for (var step = 0; step < 100 && queue.NextDue() is { } wait; step++)
        {
            clock.Advance(wait);
            due.Clear();
            queue.TakeDue(due);
            Assert.Equal(["198.51.100.10@eth0"], due);
            sentAt.Add(clock.Now);
        }

        Assert.Equal([Ms(0), Ms(50), Ms(200), Ms(500), Ms(1000), Ms(2000), Ms(4000)], sentAt);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Queue_LateTimer_SendsOnceAndSkipsMissedSteps()
    {
        var clock = new ManualClock();
        var queue = new AnnouncementQueue<int>(AnnouncementSchedule.Default, clock);
        var due = new List<int>();
        queue.Start(1);
        queue.TakeDue(due);

        clock.Advance(Ms(700));
        due.Clear();
        queue.TakeDue(due);

        Assert.Equal([1], due);
        Assert.Equal(Ms(300), queue.NextDue());
    }

    [Fact]
    public void Queue_NotYetDue_TakesNothing()
    {
        var clock = new ManualClock();
        var queue = new AnnouncementQueue<int>(AnnouncementSchedule.Default, clock);
        var due = new List<int>();
        queue.Start(1);
        queue.TakeDue(due);
        clock.Advance(Ms(49));
        due.Clear();

        queue.TakeDue(due);

        Assert.Empty(due);
        Assert.Equal(Ms(1), queue.NextDue());
    }

    [Fact]
    public void Queue_Restart_BeginsTheBurstAgain()
    {
        var clock = new ManualClock();
        var queue = new AnnouncementQueue<int>(AnnouncementSchedule.Default, clock);
        var due = new List<int>();
        queue.Start(1);
        queue.TakeDue(due);
        clock.Advance(Ms(3000));

        queue.Start(1);

        Assert.Equal(TimeSpan.Zero, queue.NextDue());
        due.Clear();
        queue.TakeDue(due);
        Assert.Equal(Ms(50), queue.NextDue());
    }

    [Fact]
    public void Queue_Stop_RemovesPending()
    {
        var clock = new ManualClock();
        var queue = new AnnouncementQueue<int>(AnnouncementSchedule.Default, clock);
        queue.Start(1);
        queue.Start(2);

        queue.Stop(1);

        var due = new List<int>();
        queue.TakeDue(due);
        Assert.Equal([2], due);
    }

    [Fact]
    public void NextAfter_WithRefresh_PeriodicAfterTheBurst()
    {
        var schedule = new AnnouncementSchedule([TimeSpan.Zero, Ms(100)], refresh: TimeSpan.FromSeconds(30));

        Assert.Equal(Ms(100), schedule.NextAfter(TimeSpan.Zero));
        Assert.Equal(Ms(30_100), schedule.NextAfter(Ms(100)));
        Assert.Equal(Ms(60_100), schedule.NextAfter(Ms(30_100)));
        Assert.Equal(Ms(60_100), schedule.NextAfter(Ms(45_000)));
    }

    [Fact]
    public void NextAfter_WithoutRefresh_NullAfterTheBurst() =>
        Assert.Null(AnnouncementSchedule.Default.NextAfter(TimeSpan.FromSeconds(4)));

    [Theory]
    [InlineData(new double[0])]
    [InlineData(new double[] { 0, 50, 50 })]
    [InlineData(new double[] { -1, 50 })]
    public void Constructor_BadBurst_Throws(double[] offsets) =>
        Assert.Throws<ArgumentException>(() => new AnnouncementSchedule(offsets.Select(Ms).ToArray()));
}

using CongressWorkflow.Integrity;

namespace CongressWorkflow.EventStore.Tests;

/// <summary>Which checkpoints the archive keeps as they age (no database: the policy alone).</summary>
public sealed class keeping_checkpoints_as_they_age
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 2, 30, 0, TimeSpan.Zero);

    private static List<DateTimeOffset> Hourly(DateTimeOffset from, DateTimeOffset until)
    {
        var taken = new List<DateTimeOffset>();
        for (var at = from; at <= until; at = at.AddHours(1))
        {
            taken.Add(at);
        }

        return taken;
    }

    [Fact]
    public void every_one_of_the_last_day_then_the_last_of_each_day_for_a_month_then_the_last_of_each_month()
    {
        var taken = Hourly(new DateTimeOffset(2026, 8, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 25, 2, 0, 0, TimeSpan.Zero));

        var removed = CheckpointRetention.Default.Removable(taken, t => t, Now);
        var kept = taken.Except(removed).ToList();

        var lastDay = Hourly(new DateTimeOffset(2026, 11, 24, 3, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 25, 2, 0, 0, TimeSpan.Zero));
        // The day and month windows are counted back from now (02:30): 25 October is the last day within 31 days.
        var lastOfEachDay = Enumerable.Range(0, 30).Select(d => new DateTimeOffset(2026, 10, 25, 23, 0, 0, TimeSpan.Zero).AddDays(d)).ToList();
        var lastOfEachMonth = new[] { new DateTimeOffset(2026, 8, 31, 23, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 9, 30, 23, 0, 0, TimeSpan.Zero) };
        Assert.Equal([.. lastOfEachMonth, .. lastOfEachDay, .. lastDay], kept);
        Assert.Equal(taken.Count - kept.Count, removed.Count);
        Assert.Equal(removed.Order(), removed);
    }

    [Fact]
    public void the_newest_is_kept_however_old_and_a_day_keeps_its_last_past_the_first_window()
    {
        var old = new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var today = Hourly(new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 11, 25, 2, 0, 0, TimeSpan.Zero));
        var nothingWhole = new CheckpointRetention(TimeSpan.Zero, TimeSpan.FromDays(31));

        Assert.Empty(CheckpointRetention.Default.Removable([old], t => t, Now));
        Assert.Equal([old], CheckpointRetention.Default.Removable([old.AddHours(1), old], t => t, Now));
        Assert.Equal(today.SkipLast(1), nothingWhole.Removable(today, t => t, Now));
        Assert.Empty(CheckpointRetention.Default.Removable(today, t => t, Now));
    }
}

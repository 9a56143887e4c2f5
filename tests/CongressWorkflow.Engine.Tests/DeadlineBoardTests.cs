using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Engine.Tests;

public sealed class the_deadlines_board_as_known_at_a_moment(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        await new DemoCampaign(db.DataSource).LoadIfEmptyAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private DeadlineBoardAsKnown AsKnown => new(db.Store, db.Tree, db.DataSource);

    private static object Comparable(DeadlineRow r) =>
        (r.CongressId, r.Milestone, r.DueOn, r.ResponsibleId, r.PlanDocument, r.IsMet, r.MetOn, r.DaysLeft, r.LastStepOn, r.OrganizationName);

    [Theory]
    [InlineData("2020-01-10", 30, false)]
    [InlineData("2020-03-15", 30, false)]
    [InlineData("2020-04-23", 60, false)]
    [InlineData("2020-06-30", 10, true)]
    [InlineData("2020-10-01", 366, true)]
    public async Task with_everything_known_it_is_the_live_board(string day, int days, bool includeMet)
    {
        var on = DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture);

        var live = await db.Deadlines.BoardAsync(DemoCampaign.CampaignId, DemoCampaign.Central, on, days, includeMet, limit: 5000);
        var folded = await AsKnown.BoardAsync(DemoCampaign.CampaignId, DemoCampaign.Central, on, days, includeMet, DateTimeOffset.MaxValue, limit: 5000);

        Assert.NotEmpty(live);
        Assert.Equal(live.Select(Comparable), folded.Select(Comparable));
    }

    [Fact]
    public async Task before_12_KH_was_recorded_the_branches_were_due_on_31_03_and_after_it_on_03_05()
    {
        var day = new DateOnly(2020, 4, 1);

        var before = await AsKnown.BoardAsync(DemoCampaign.CampaignId, DemoCampaign.ThaiBinh, day, 30, false, new DateTimeOffset(2020, 3, 11, 23, 0, 0, TimeSpan.Zero));
        var live = await db.Deadlines.BoardAsync(DemoCampaign.CampaignId, DemoCampaign.ThaiBinh, day, 60, false);

        var overdue = before.Where(r => r.Milestone == "congress-held").ToList();
        Assert.Equal(3, overdue.Count);
        Assert.All(overdue, r => Assert.Equal((new DateOnly(2020, 3, 31), -1, "11-KH/ĐU"), (r.DueOn, r.DaysLeft, r.PlanDocument)));
        Assert.Equal(3, live.Count(r => r.Milestone == "congress-held" && r.DueOn == new DateOnly(2020, 5, 3) && r.PlanDocument == "12-KH/ĐU"));
        Assert.DoesNotContain(live, r => r.DueOn == new DateOnly(2020, 3, 31));
    }
}

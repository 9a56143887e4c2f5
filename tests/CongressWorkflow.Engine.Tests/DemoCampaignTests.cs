using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Engine.Tests;

public sealed class loading_the_demo_campaign(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task it_replays_the_sources_on_their_dates_once()
    {
        var loaded = await new DemoCampaign(db.DataSource).LoadIfEmptyAsync();
        var again = await new DemoCampaign(db.DataSource).LoadIfEmptyAsync();

        Assert.True(loaded);
        Assert.False(again);
        var thaiBinh = Congress.StreamId(DemoCampaign.CampaignId, DemoCampaign.ThaiBinh);
        var (state, _) = await db.Congresses.LoadAsync(thaiBinh);
        Assert.Equal(new DateOnly(2020, 5, 28), state.Convened!.ConvenedOn);
        Assert.Equal(0, state.Convened.DaysLate);
        Assert.Equal(18.18m, state.PersonnelPlan!.SurplusPercent);
        Assert.Equal("12-KH/ĐU", state.Convened.PlanInForce);
        Assert.Equal(12L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM congress.congresses c JOIN congress.organizations o USING (organization_id)
            WHERE o.parent_id = $1 AND c.convened_on BETWEEN '2020-01-16' AND '2020-05-03'
            """, DemoCampaign.ThaiBinh));
        var (ministry, _) = await db.Congresses.LoadAsync(Congress.StreamId(DemoCampaign.CampaignId, DemoCampaign.Ministry));
        Assert.Equal((299, 300), (ministry.Convened!.DelegatesPresent, ministry.Convened.DelegatesExpected));
        Assert.Equal(34, ministry.Elections!.ExecutiveCommittee);
        Assert.Equal(new DateOnly(2020, 6, 30), await db.ScalarAsync<DateOnly>("""
            SELECT max(c.convened_on) FROM congress.congresses c JOIN congress.organizations o USING (organization_id)
            WHERE o.path <@ (SELECT path FROM congress.organizations WHERE organization_id = $1) AND o.organization_id <> $1
            """, DemoCampaign.Ministry));
        Assert.Equal(new DateTime(2020, 10, 28, 2, 0, 0, DateTimeKind.Utc), await db.ScalarAsync<DateTime>(
            "SELECT max(recorded_at) FROM event_store.events WHERE event_type = 'congress.convened'"));
    }
}

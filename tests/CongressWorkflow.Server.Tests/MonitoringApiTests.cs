using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Server.Tests;

public sealed class the_monitoring_api(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private static readonly string Progress = $"/api/campaigns/{DemoCampaign.CampaignId}/progress";

    [Fact]
    public async Task progress_of_a_subtree_on_a_past_day()
    {
        var report = await fixture.Http.GetFromJsonAsync<JsonElement>($"{Progress}/{DemoCampaign.ThaiBinh}?asOf=2020-03-31");

        var branches = report.GetProperty("levels").EnumerateArray().Single(l => l.GetProperty("level").GetString() == "branch");
        Assert.Equal(9, branches.GetProperty("held").GetInt32());
        Assert.Equal(12, branches.GetProperty("total").GetInt32());
        Assert.Equal(75.00m, branches.GetProperty("percent").GetDecimal());
        Assert.Equal(3, branches.GetProperty("notYetDue").GetInt32());
    }

    [Fact]
    public async Task the_audit_trail_and_deadline_lists_come_over_http()
    {
        var audit = await fixture.Http.GetFromJsonAsync<JsonElement[]>($"{Progress}/{DemoCampaign.ThaiBinh}/audit?from=2020-05-01&to=2020-05-31");
        var overdue = await fixture.Http.GetFromJsonAsync<JsonElement[]>($"{Progress}/{DemoCampaign.ThaiBinh}/overdue?asOf=2020-04-01");
        var overdueBefore12KH = await fixture.Http.GetFromJsonAsync<JsonElement[]>(
            $"{Progress}/{DemoCampaign.ThaiBinh}/overdue?asOf=2020-04-01&knownAt=2020-03-11T00:00:00Z");
        var timeline = await fixture.Http.GetFromJsonAsync<JsonElement[]>($"{Progress}/{DemoCampaign.ThaiBinh}/timeline?from=2020-01-01&to=2020-06-30&level=branch");

        Assert.Equal(["submitted", "approved"], audit!.Select(a => a.GetProperty("action").GetString()));
        Assert.Equal((DemoCampaign.ProvincialBloc, "95-QĐ/ĐUK", "2020-05-15"), (audit![1].GetProperty("byOrganization").GetString(),
            audit[1].GetProperty("document").GetString(), audit[1].GetProperty("occurredOn").GetString()));
        Assert.Empty(overdue!);
        Assert.Equal(3, overdueBefore12KH!.Length);
        Assert.Equal(182, timeline!.Length);
        Assert.Equal(12, timeline[^1].GetProperty("completed").GetInt32());
    }

    /// <summary>Before anything was recorded of it, a congress is not planned, and still the congress asked for (its ids were blank).</summary>
    [Fact]
    public async Task a_congress_known_at_a_moment_before_its_first_event_is_not_planned_with_its_own_ids()
    {
        var congress = await fixture.Http.GetFromJsonAsync<JsonElement>(
            $"/api/campaigns/{DemoCampaign.CampaignId}/congresses/{DemoCampaign.ThaiBinh}?knownAt=2019-01-01T00:00:00Z");

        Assert.Equal(0, congress.GetProperty("version").GetInt64());
        var state = congress.GetProperty("state");
        Assert.Equal("not-planned", state.GetProperty("stage").GetString());
        Assert.Equal(DemoCampaign.CampaignId, state.GetProperty("campaignId").GetString());
        Assert.Equal(DemoCampaign.ThaiBinh, state.GetProperty("organizationId").GetString());
    }

    [Fact]
    public async Task the_deadlines_board_and_the_ledger_answer_as_recorded_by_a_moment()
    {
        var campaign = $"/api/campaigns/{DemoCampaign.CampaignId}";
        var board = await fixture.Http.GetFromJsonAsync<JsonElement[]>($"{campaign}/deadlines/{DemoCampaign.ThaiBinh}?asOf=2020-04-01");
        var boardBefore12KH = await fixture.Http.GetFromJsonAsync<JsonElement[]>(
            $"{campaign}/deadlines/{DemoCampaign.ThaiBinh}?asOf=2020-04-01&knownAt=2020-03-11T23:00:00Z");
        var ledger = await fixture.Http.GetFromJsonAsync<JsonElement[]>($"{campaign}/notifications/{DemoCampaign.Central}?subtree=true");
        var ledgerByNewYear = await fixture.Http.GetFromJsonAsync<JsonElement[]>($"{campaign}/notifications/{DemoCampaign.Central}?subtree=true&knownAt=2020-01-01");

        Assert.DoesNotContain(board!, d => d.GetProperty("dueOn").GetString() == "2020-03-31");
        Assert.Equal(3, boardBefore12KH!.Count(d => d.GetProperty("milestone").GetString() == "congress-held" && d.GetProperty("dueOn").GetString() == "2020-03-31"));
        Assert.NotEmpty(ledgerByNewYear!);
        Assert.True(ledgerByNewYear!.Length < ledger!.Length);
        Assert.All(ledgerByNewYear!, n => Assert.True(DateOnly.Parse(n.GetProperty("onDay").GetString()!, System.Globalization.CultureInfo.InvariantCulture) <= new DateOnly(2020, 1, 1)));
    }

    [Fact]
    public async Task units_are_found_over_http_by_a_name_typed_without_diacritics()
    {
        var page = await fixture.Http.GetFromJsonAsync<JsonElement>(
            $"{Progress}/{DemoCampaign.Central}/units?q=cong%20doan%20cong%20thuong&level=grassroots&asOf=2020-05-15");

        var unit = Assert.Single(page.GetProperty("units").EnumerateArray());
        Assert.Equal(1, page.GetProperty("total").GetInt32());
        Assert.Equal(("dang-bo-cong-doan-cong-thuong", "grassroots", "Đảng bộ Bộ Công Thương"),
            (unit.GetProperty("organizationId").GetString(), unit.GetProperty("level").GetString(), unit.GetProperty("parentName").GetString()));
    }

    [Theory]
    [InlineData("/progress/dang-bo-bo-cong-thuong/units?level=village", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/dang-bo-bo-cong-thuong/units?sector=farming", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/dang-bo-bo-cong-thuong/units?limit=0", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/dang-bo-bo-cong-thuong/units?pilot=maybe", HttpStatusCode.BadRequest, "malformed-request")]
    [InlineData("/progress/dang-bo-bo-cong-thuong/units?q=a%00b", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/deadlines/dang-bo-so-cong-thuong-thai-binh?knownAt=last-week", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/notifications/dang-bo-so-cong-thuong-thai-binh?knownAt=2020-02-30", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/dang-bo-so-cong-thuong-thai-binh?asOf=31-03-2020", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/dang-bo-so-cong-thuong-thai-binh/upcoming?days=0", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/dang-bo-so-cong-thuong-thai-binh/timeline?from=2020-06-01&to=2020-01-01", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/dang-bo-so-cong-thuong-thai-binh/timeline?level=village", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/khong-ton-tai", HttpStatusCode.NotFound, "not-found")]
    [InlineData("/progress/dang-bo-so-cong-thuong-thai-binh/upcoming?asOf=9999-12-31", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/progress/dang-bo-so-cong-thuong-thai-binh?knownAt=yesterday", HttpStatusCode.BadRequest, "invalid-query")]
    [InlineData("/congresses/dang-bo-so-cong-thuong-thai-binh?knownAt=2020-13-45", HttpStatusCode.BadRequest, "invalid-query")]
    public async Task bad_queries_get_problems(string path, HttpStatusCode status, string code)
    {
        var response = await fixture.Http.GetAsync($"/api/campaigns/{DemoCampaign.CampaignId}{path}");

        Assert.Equal(status, response.StatusCode);
        Assert.Equal(code, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task projections_report_their_position_and_an_unknown_one_is_not_found()
    {
        var projections = await fixture.Http.GetFromJsonAsync<JsonElement[]>("/api/projections");
        var unknown = await fixture.Http.PostAsync("/api/projections/no-such/rebuild", null);

        Assert.Equal(["approval-audit", "progress"], projections!.Select(p => p.GetProperty("name").GetString()));
        Assert.All(projections!, p => Assert.Equal(p.GetProperty("headPosition").GetInt64(), p.GetProperty("position").GetInt64()));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("unknown-projection", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
    }
}

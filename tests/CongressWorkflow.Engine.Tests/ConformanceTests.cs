using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Engine.Audit;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Engine.Tests;

public sealed class replaying_the_history_against_the_rules(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    private const string BaoCongThuong = "dang-bo-bao-cong-thuong";
    private const string Branch12 = DemoCampaign.ThaiBinh + "-chi-bo-12";
    private const string Branch01 = DemoCampaign.ThaiBinh + "-chi-bo-01";
    private const string Branch10 = DemoCampaign.ThaiBinh + "-chi-bo-10";

    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        await new DemoCampaign(db.DataSource).LoadIfEmptyAsync();
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private ConformanceService Conformance => new(db.Store, db.Tree);

    private static string CongressOf(string organizationId) => Congress.StreamId(DemoCampaign.CampaignId, organizationId);

    [Fact]
    public async Task on_the_demo_it_reports_only_the_deadlines_the_deadline_rules_see_missed_and_breaks_no_rule()
    {
        var report = (await Conformance.RunAsync(DemoCampaign.CampaignId, DemoCampaign.Central))!;

        Assert.Equal(37, report.Organizations);
        // The one entry made late: Thái Bình's last branch congress of 03/05/2020, entered on 12/05.
        var backDated = Assert.Single(report.Findings, f => f.Code == ConformanceReplay.BackDated);
        Assert.Equal((Branch12, new DateOnly(2020, 5, 12)), (backDated.OrganizationId, backDated.On));
        Assert.Contains("9 days later", backDated.Message, StringComparison.Ordinal);
        Assert.All(report.Findings.Where(f => f != backDated), f => Assert.Equal(ConformanceReplay.DeadlineMissed, f.Code));
        // The Ministry's decisions on its units' documents came 21 days after submission, against 15 in the policy.
        Assert.Contains(report.Findings, f => f.OrganizationId == BaoCongThuong && f.Message.StartsWith("SubmissionDecided", StringComparison.Ordinal)
            && f.Message.Contains("6 days late", StringComparison.Ordinal) && f.Message.Contains("responsible: " + DemoCampaign.Ministry, StringComparison.Ordinal));
        // Each finding names the event that met the deadline late.
        Assert.All(report.Findings, f => Assert.Contains(f.Evidence, e => e.StreamId == CongressOf(f.OrganizationId)));
        // A subtree sees its own only.
        var ministry = (await Conformance.RunAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry))!;
        Assert.NotEmpty(ministry.Findings);
        Assert.All(ministry.Findings, m => Assert.Contains((m.Code, m.OrganizationId, m.Message), report.Findings.Select(f => (f.Code, f.OrganizationId, f.Message))));
        Assert.DoesNotContain(ministry.Findings, f => f.OrganizationId.StartsWith(DemoCampaign.ThaiBinh, StringComparison.Ordinal));
        Assert.Null(await Conformance.RunAsync(DemoCampaign.CampaignId, "no-such-unit"));
    }

    [Fact]
    public async Task each_kind_of_violation_planted_through_sql_is_caught_with_the_events_that_show_it()
    {
        // An approval by an organisation that is not the direct superior (actor and decision rewritten).
        var forgedApproval = await VersionOfAsync(BaoCongThuong, "congress.submission-approved");
        await db.ExecuteAsync("""
            UPDATE event_store.events SET actor_org = $3, data = jsonb_set(data, '{approvedByOrganization}', to_jsonb($3::text))
            WHERE stream_id = $1 AND stream_version = $2
            """, CongressOf(BaoCongThuong), forgedApproval, DemoCampaign.ThaiBinh);

        // A congress convened before one of its branches: the branch's convening and all after it are gone.
        var branchConvened = await VersionOfAsync(Branch12, "congress.convened");
        await db.ExecuteAsync("DELETE FROM event_store.events WHERE stream_id = $1 AND stream_version >= $2", CongressOf(Branch12), branchConvened);

        // A plan window reaching past the window the superior's plan gives its subordinates.
        await db.ExecuteAsync("""
            UPDATE event_store.events SET data = jsonb_set(data, '{terms,window,end}', '"2021-12-31"')
            WHERE stream_id = $1 AND event_type = 'congress.plan-issued'
            """, CongressOf(Branch01));

        // Recognition recorded before the elections it recognises (their positions swapped).
        var elected = await PositionOfAsync(DemoCampaign.Ministry, "congress.elections-recorded");
        var recognised = await PositionOfAsync(DemoCampaign.Ministry, "congress.results-recognised");
        await db.ExecuteAsync("UPDATE event_store.events SET global_position = -1 WHERE global_position = $1", elected);
        await db.ExecuteAsync("UPDATE event_store.events SET global_position = $1 WHERE global_position = $2", elected, recognised);
        await db.ExecuteAsync("UPDATE event_store.events SET global_position = $1 WHERE global_position = -1", recognised);

        // An approval dated 40 days later than it happened (past the decision deadline), and an entry recorded long after its date.
        var lateApproval = await VersionOfAsync("dang-bo-cong-doan-cong-thuong", "congress.submission-approved");
        await db.ExecuteAsync("""
            UPDATE event_store.events SET data = jsonb_set(data, '{approvedOn}', to_jsonb(((data->>'approvedOn')::date + 40)::text)),
                recorded_at = recorded_at + interval '40 days'
            WHERE stream_id = $1 AND stream_version = $2
            """, CongressOf("dang-bo-cong-doan-cong-thuong"), lateApproval);
        var backDated = await VersionOfAsync("dang-bo-cong-ty-cp-dien-may", "congress.submitted");
        await db.ExecuteAsync("UPDATE event_store.events SET recorded_at = recorded_at + interval '10 days' WHERE stream_id = $1 AND stream_version = $2",
            CongressOf("dang-bo-cong-ty-cp-dien-may"), backDated);

        // A plan recorded as following the superior's 12-KH/ĐU, with a planned date that window does not give.
        var followed = await VersionOfAsync(Branch10, "congress.plan-amended");
        await db.ExecuteAsync("""
            UPDATE event_store.events SET data = jsonb_set(data, '{terms,plannedDate}', '"2020-04-30"') WHERE stream_id = $1 AND stream_version = $2
            """, CongressOf(Branch10), followed);

        var findings = (await Conformance.RunAsync(DemoCampaign.CampaignId, DemoCampaign.Central))!.Findings;

        AssertFound(findings, CongressErrors.NotDirectSuperior, BaoCongThuong, CongressOf(BaoCongThuong), forgedApproval);
        Assert.Contains(findings, f => f.Code == CongressErrors.NotDirectSuperior && f.Evidence.Any(e => e.StreamId == "org-" + BaoCongThuong));
        var thaiBinhConvened = await VersionOfAsync(DemoCampaign.ThaiBinh, "congress.convened");
        AssertFound(findings, CongressErrors.SubordinatesIncomplete, DemoCampaign.ThaiBinh, CongressOf(DemoCampaign.ThaiBinh), thaiBinhConvened);
        Assert.Contains(Branch12, findings.Single(f => f.Code == CongressErrors.SubordinatesIncomplete).Message, StringComparison.Ordinal);
        AssertFound(findings, CongressErrors.WindowOutsideSuperior, Branch01, CongressOf(Branch01), 1);
        AssertFound(findings, CongressErrors.WrongStage, DemoCampaign.Ministry, CongressOf(DemoCampaign.Ministry),
            await VersionOfAsync(DemoCampaign.Ministry, "congress.results-recognised"));
        Assert.Contains(findings, f => f.Code == ConformanceReplay.DeadlineMissed && f.OrganizationId == "dang-bo-cong-doan-cong-thuong"
            && f.Message.Contains("46 days late", StringComparison.Ordinal) && f.Evidence.Any(e => e.Version == lateApproval));
        AssertFound(findings, ConformanceReplay.BackDated, "dang-bo-cong-ty-cp-dien-may", CongressOf("dang-bo-cong-ty-cp-dien-may"), backDated);
        AssertFound(findings, ConformanceReplay.NotDerived, Branch10, CongressOf(Branch10), followed);
    }

    private static void AssertFound(IReadOnlyList<ConformanceFinding> findings, string code, string organizationId, string streamId, long version) =>
        Assert.True(findings.Any(f => f.Code == code && f.OrganizationId == organizationId && f.Evidence.Any(e => e.StreamId == streamId && e.Version == version)),
            $"no {code} for {organizationId} at {streamId}@{version}; found: " + string.Join(" | ", findings.Select(f => $"{f.Code} {f.OrganizationId} {f.Message}")));

    private Task<long> VersionOfAsync(string organizationId, string eventType) => db.ScalarAsync<long>(
        "SELECT min(stream_version) FROM event_store.events WHERE stream_id = $1 AND event_type = $2", CongressOf(organizationId), eventType);

    private Task<long> PositionOfAsync(string organizationId, string eventType) => db.ScalarAsync<long>(
        "SELECT min(global_position) FROM event_store.events WHERE stream_id = $1 AND event_type = $2", CongressOf(organizationId), eventType);
}

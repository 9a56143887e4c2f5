using System.Text.Json;
using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Engine.Import;
using CongressWorkflow.Engine.Monitoring;
using CongressWorkflow.EventStore.Projections;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Engine.Tests;

public sealed class monitoring_progress_as_of_any_date(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    private const string Campaign = "xiii";
    private const string Bloc = "dang-bo-khoi-cqtw";
    private static readonly DateOnly ReportDay = new(2020, 5, 15);

    public Task InitializeAsync() => db.ResetAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private ProjectionDaemon Daemon() => new(db.DataSource, db.Store, [new ProgressProjection(), new ApprovalAuditProjection()],
        new ProjectionDaemonOptions { BatchSize = 1000, PollInterval = TimeSpan.FromMilliseconds(20) });

    private async Task CatchUpAsync(ProjectionDaemon daemon)
    {
        var head = await db.Store.ReadHeadPositionAsync();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while ((await ProjectionDaemon.StatusAsync(db.DataSource)) is var statuses
               && (statuses.Count < daemon.Projections.Count || statuses.Any(s => s.Position < head || s.State != ProjectionState.Running)))
        {
            Assert.True(DateTime.UtcNow < deadline, string.Join("; ", statuses));
            Assert.DoesNotContain(statuses, s => s.State == ProjectionState.Failed);
            await Task.Delay(50);
        }
    }

    /// <summary>Loads the demo campaign and returns a running daemon whose projections have caught up with it.</summary>
    private async Task<ProjectionDaemon> ProjectTheDemoAsync()
    {
        await new DemoCampaign(db.DataSource).LoadIfEmptyAsync();
        var daemon = Daemon();
        daemon.Start();
        await CatchUpAsync(daemon);
        return daemon;
    }

    private static DocumentReference Doc(string text) => DocumentReference.Parse(text);

    private static DateWindow W(DateOnly start, DateOnly end) => new(start, end);

    /// <summary>
    /// A subordinate with no plan yet is neither overdue nor due in the drill-down read from the day-by-day counts (a
    /// null "overdue" answered 500 once), and every row is what reading each unit of the subtree gives.
    /// </summary>
    [Fact]
    public async Task a_subordinate_without_a_plan_counts_as_not_overdue_in_the_drill_down_from_the_counts()
    {
        await using var daemon = await ProjectTheDemoAsync();
        await db.Organizations.RegisterAsync("dang-bo-vien-moi", "Đảng bộ Viện mới thành lập", OrganizationLevel.Grassroots, Sector.PublicServiceUnit,
            DemoCampaign.Ministry, db.As(DemoCampaign.Central, Roles.Admin));
        await CatchUpAsync(daemon);
        var queries = new ProgressQueries(db.DataSource);

        foreach (var day in new[] { new DateOnly(2020, 1, 20), ReportDay, new DateOnly(2020, 8, 1) })
        {
            var fromCounts = await queries.SubordinatesAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry, day);
            var fromUnits = await queries.SubordinatesAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry, day, DateTimeOffset.MaxValue.AddDays(-1));

            var unplanned = Assert.Single(fromCounts, r => r.OrganizationId == "dang-bo-vien-moi");
            Assert.Equal((1, 0, 0, null), (unplanned.Units, unplanned.Held, unplanned.Overdue, unplanned.HeldOn));
            Assert.Equal(fromUnits, fromCounts);
            var reportFromUnits = (await queries.RollupAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry, day, DateTimeOffset.MaxValue.AddDays(-1)))!;
            var reportFromCounts = (await queries.RollupAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry, day))!;
            Assert.Equal(reportFromUnits.Levels, reportFromCounts.Levels);
            Assert.Equal((reportFromUnits.Subordinates, reportFromUnits.Completion), (reportFromCounts.Subordinates, reportFromCounts.Completion));
        }
    }

    /// <summary>
    /// An amendment issued later but effective earlier than the one before it wins from its effective day on, as the
    /// domain has it (the latest issued plan that has taken effect): the lists and the timeline say the same.
    /// </summary>
    [Fact]
    public async Task the_plan_in_force_is_the_latest_issued_one_that_has_taken_effect_in_every_report()
    {
        await Subtree.BuildTreeAsync(db);
        await db.Congresses.HandleAsync(Subtree.Plan(db, Subtree.Bloc, "155-KH/ĐUK", new(2020, 3, 1), W(new(2020, 1, 1), new(2020, 3, 31)), null));
        var congress = Subtree.CongressOf(Subtree.Bloc);
        Subtree.MoveClockTo(db, new DateOnly(2020, 1, 20));
        await db.Congresses.HandleAsync(new AmendPlan(congress, Doc("160-KH/ĐUK"), new(2020, 2, 10), new(2020, 4, 1), W(new(2020, 1, 1), new(2020, 4, 30)),
            null, [], null, db.As(Subtree.Bloc)));
        await db.Congresses.HandleAsync(new AmendPlan(congress, Doc("161-KH/ĐUK"), new(2020, 2, 5), new(2020, 5, 1), W(new(2020, 1, 1), new(2020, 5, 31)),
            null, [], null, db.As(Subtree.Bloc)));
        await using var daemon = Daemon();
        daemon.Start();
        await CatchUpAsync(daemon);
        var day = new DateOnly(2020, 2, 20);

        var inForce = (await db.Congresses.LoadAsync(congress)).State.PlanInForce(day)!;
        var upcoming = Assert.Single(await new ProgressQueries(db.DataSource).UpcomingAsync(Subtree.Campaign, Subtree.Central, day, 120),
            u => u.OrganizationId == Subtree.Bloc);
        var timeline = await new ProgressQueries(db.DataSource).TimelineAsync(Subtree.Campaign, Subtree.Central, new(2020, 2, 1), new(2020, 6, 30), OrganizationLevel.Bloc);

        Assert.Equal("161-KH/ĐUK", inForce.Document);
        Assert.Equal(inForce.PlannedDate, upcoming.PlannedDate);
        // Planned (counted from the plan in force's planned date): not yet on 30/04 under 161-KH/ĐUK, though 160-KH/ĐUK planned 01/04.
        Assert.Equal(0, timeline.Single(p => p.Day == new DateOnly(2020, 4, 30)).Planned);
        Assert.Equal(1, timeline.Single(p => p.Day == new DateOnly(2020, 5, 1)).Planned);
    }

    /// <summary>
    /// Submissions, approvals and congresses held that come to the projection in one batch are written by one statement
    /// per kind: every congress keeps its own days, and one submitted, returned and submitted again keeps its first
    /// submission's.
    /// </summary>
    [Fact]
    public async Task congress_steps_projected_together_keep_each_congress_its_own_days_and_the_first_submission()
    {
        await Subtree.BuildTreeAsync(db);
        await Subtree.PlanAllAsync(db);
        Subtree.MoveClockTo(db, new DateOnly(2020, 2, 1));
        await Subtree.PrepareAndSubmitAsync(db, Subtree.Branch1);
        Subtree.MoveClockTo(db, new DateOnly(2020, 2, 3));
        await Subtree.PrepareAndSubmitAsync(db, Subtree.Branch2);
        Subtree.MoveClockTo(db, new DateOnly(2020, 2, 5));
        await db.Congresses.HandleAsync(new ReturnSubmission(Subtree.CongressOf(Subtree.Branch1), "Bổ sung", db.As(Subtree.Centre, "standing-committee")));
        Subtree.MoveClockTo(db, new DateOnly(2020, 2, 7));
        await db.Congresses.HandleAsync(new SubmitToSuperior(Subtree.CongressOf(Subtree.Branch1), db.As(Subtree.Branch1)));
        Subtree.MoveClockTo(db, new DateOnly(2020, 2, 10));
        await Subtree.Approve(db, Subtree.Branch2, Subtree.Centre, "20-QĐ/ĐU");
        Subtree.MoveClockTo(db, new DateOnly(2020, 2, 12));
        await Subtree.Approve(db, Subtree.Branch1, Subtree.Centre, "21-QĐ/ĐU");
        Subtree.MoveClockTo(db, new DateOnly(2020, 3, 2));
        await db.Congresses.HandleAsync(Subtree.Convene(db, Subtree.Branch2, new DateOnly(2020, 2, 28)));
        await db.Congresses.HandleAsync(Subtree.Convene(db, Subtree.Branch1, new DateOnly(2020, 3, 2)));

        // Projected after the fact: every step above comes to the projection in one batch.
        await using var daemon = Daemon();
        daemon.Start();
        await CatchUpAsync(daemon);

        Assert.Equal(
            [
                "chi-bo-phong-bao-chi 2020-02-03 2020-02-10 2020-02-28 -2",
                "chi-bo-phong-tin-hoc 2020-02-01 2020-02-12 2020-03-02 1",
            ],
            await db.ScalarAsync<string[]>("""
                SELECT array_agg(concat_ws(' ', organization_id, submitted_on, approved_on, held_on, days_late) ORDER BY organization_id)
                FROM congress.rollup_congresses WHERE organization_id IN ('chi-bo-phong-bao-chi', 'chi-bo-phong-tin-hoc')
                """));
    }

    /// <summary>
    /// A change to a congress rewrites only the segments of days it changes: the unit's membership stays the row it was
    /// (the counts move by the difference alone), the plan's segments are cut again.
    /// </summary>
    [Fact]
    public async Task a_plan_amendment_rewrites_only_the_segments_it_changes()
    {
        await Subtree.BuildTreeAsync(db);
        await db.Congresses.HandleAsync(Subtree.Plan(db, Subtree.Bloc, "155-KH/ĐUK", new(2020, 3, 1), W(new(2020, 1, 1), new(2020, 3, 31)), null));
        await using var daemon = Daemon();
        daemon.Start();
        await CatchUpAsync(daemon);
        var before = await SegmentsAsync(Subtree.Bloc);

        Subtree.MoveClockTo(db, new DateOnly(2020, 1, 20));
        await db.Congresses.HandleAsync(new AmendPlan(Subtree.CongressOf(Subtree.Bloc), Doc("160-KH/ĐUK"), new(2020, 2, 10), new(2020, 4, 1),
            W(new(2020, 1, 1), new(2020, 4, 30)), null, [], null, db.As(Subtree.Bloc)));
        await CatchUpAsync(daemon);
        var after = await SegmentsAsync(Subtree.Bloc);

        Assert.Equal(before.Where(s => s.Status == 0), after.Where(s => s.Status == 0));
        Assert.Equal(["1 2019-10-01 2020-04-01", "2 2020-04-01 "], before.Where(s => s.Status > 0).Select(s => s.Days));
        Assert.Equal(["1 2019-10-01 2020-02-10", "1 2020-02-10 2020-05-01", "2 2020-05-01 "], after.Where(s => s.Status > 0).Select(s => s.Days));
        Assert.DoesNotContain(after.Where(s => s.Status > 0), s => before.Any(b => b.Version == s.Version));
    }

    /// <summary>A unit's segments: the transaction that wrote each row (xmin), its status and its days.</summary>
    private async Task<List<(string Version, short Status, string Days)>> SegmentsAsync(string organizationId)
    {
        await using var command = db.DataSource.CreateCommand("""
            SELECT xmin::text, status, concat_ws(' ', status, starts, coalesce(ends::text, '')) FROM congress.rollup_segments
            WHERE organization_id = $1 ORDER BY status, starts
            """);
        command.Parameters.AddWithValue(organizationId);
        var segments = new List<(string, short, string)>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            segments.Add((reader.GetString(0), reader.GetInt16(1), reader.GetString(2)));
        }

        return segments;
    }

    [Fact]
    public async Task the_reports_answer_on_both_axes_what_was_true_on_a_day_and_what_had_been_recorded_by_then()
    {
        await Subtree.BuildTreeAsync(db);
        await Subtree.PlanAllAsync(db);
        Subtree.MoveClockTo(db, new DateOnly(2020, 1, 20));
        await Subtree.PrepareAndSubmitAsync(db, Subtree.Branch1);
        Subtree.MoveClockTo(db, new DateOnly(2020, 2, 3));
        await Subtree.Approve(db, Subtree.Branch1, Subtree.Centre, "15-QĐ/ĐU");
        // The branch's congress of 10/02 is recorded ten days later.
        Subtree.MoveClockTo(db, new DateOnly(2020, 2, 20));
        await db.Congresses.HandleAsync(Subtree.Convene(db, Subtree.Branch1, new DateOnly(2020, 2, 10)));
        await using var daemon = Daemon();
        daemon.Start();
        await CatchUpAsync(daemon);
        var queries = new ProgressQueries(db.DataSource);
        var day = new DateOnly(2020, 2, 15);
        var endOfDay = new DateTimeOffset(2020, 2, 15, 23, 59, 59, TimeSpan.Zero);

        int HeldBranches(ProgressReport report) => report.Levels.Single(l => l.Level == OrganizationLevel.Branch).Held;
        var wasTrue = (await queries.RollupAsync(Subtree.Campaign, Subtree.Centre, day))!;
        var wasKnown = (await queries.RollupAsync(Subtree.Campaign, Subtree.Centre, day, endOfDay))!;
        var trueTimeline = await queries.TimelineAsync(Subtree.Campaign, Subtree.Centre, day, day);
        var knownTimeline = await queries.TimelineAsync(Subtree.Campaign, Subtree.Centre, day, day, knownAt: endOfDay);
        var knownSubordinates = await queries.SubordinatesAsync(Subtree.Campaign, Subtree.Centre, day, endOfDay);

        Assert.Equal(1, HeldBranches(wasTrue));
        Assert.Equal(0, HeldBranches(wasKnown));
        Assert.Equal((1, 0), (trueTimeline.Single().Completed, knownTimeline.Single().Completed));
        Assert.Null(knownSubordinates.Single(s => s.OrganizationId == Subtree.Branch1).HeldOn);
        Assert.Equal(1, HeldBranches((await queries.RollupAsync(Subtree.Campaign, Subtree.Centre, day, new DateTimeOffset(2020, 2, 20, 23, 0, 0, TimeSpan.Zero)))!));
    }

    /// <summary>
    /// The Central Agencies Bloc of the report of 15/05/2020: 61 committees, 1,068 grassroots organisations and 5,408
    /// branches. By that day the branches of the first 26 committees have all met (2,408), 1,532 more branches of the
    /// other 35 committees have met (none of those committees complete), and 118 grassroots organisations of the first
    /// 26 committees have met. 100 more branches meet on 10/06/2020, after the report.
    /// </summary>
    [Fact]
    public async Task the_bloc_report_of_15_may_2020_is_reproduced_by_the_projections()
    {
        db.Clock.SetUtcNow(new DateTimeOffset(2019, 12, 1, 2, 0, 0, TimeSpan.Zero));
        var (committees, grassroots, branches) = BuildTree();
        var import = await db.Import.ImportAsync(JsonSerializer.Serialize(new { organizations = ImportRows(committees, grassroots, branches) }),
            ImportFormat.Json, db.As("trung-uong"));
        Assert.True(import.Succeeded, string.Join("; ", import.Errors.Take(5)));
        await db.Campaigns.StartAsync(new StartCampaign(Campaign, "Đại hội XIII", Doc("35-CT/TW"), 2020, 2025, 2022, db.As("trung-uong")));

        var heldBranches = new Dictionary<string, DateOnly>();
        var committeeBranches = committees.Select(c => branches.Where(b => grassroots[b.Parent].Parent == c).Select(b => b.Id).ToList()).ToList();
        for (var c = 0; c < 61; c++)
        {
            var quota = c < 26 ? committeeBranches[c].Count : 43 + (c - 26 < 27 ? 1 : 0);
            foreach (var branch in committeeBranches[c].Take(quota))
            {
                heldBranches[branch] = new DateOnly(2020, 2, 1).AddDays(heldBranches.Count % 90);
            }
        }

        var lateBranches = committeeBranches.Skip(27).SelectMany(b => b.Skip(45)).Take(100).ToHashSet();
        var heldGrassroots = grassroots.Values.Where(g => committees.IndexOf(g.Parent) < 26).Select(g => g.Id).Take(118).ToList();

        db.Clock.SetUtcNow(new DateTimeOffset(2020, 6, 30, 2, 0, 0, TimeSpan.Zero));
        var bulk = new BulkCongresses(db.Pipeline);
        foreach (var branch in branches)
        {
            var held = heldBranches.TryGetValue(branch.Id, out var on) ? on : lateBranches.Contains(branch.Id) ? new DateOnly(2020, 6, 10) : (DateOnly?)null;
            bulk.Add(Lifecycle(branch.Id, branch.Parent, new DateOnly(2020, 4, 15), W(new(2020, 1, 1), new(2020, 6, 15)), null,
                W(new(2020, 1, 1), new(2020, 6, 15)), held));
        }

        foreach (var (g, i) in grassroots.Values.Select((g, i) => (g, i)))
        {
            var index = heldGrassroots.IndexOf(g.Id);
            bulk.Add(Lifecycle(g.Id, g.Parent, new DateOnly(2020, 6, 20), W(new(2020, 4, 1), new(2020, 7, 31)), W(new(2020, 1, 1), new(2020, 6, 15)),
                W(new(2020, 1, 1), new(2020, 7, 31)), index >= 0 ? new DateOnly(2020, 5, 5).AddDays(index % 11) : null));
        }

        await bulk.FlushAsync(db.As(Bloc));

        await using var daemon = Daemon();
        daemon.Start();
        await CatchUpAsync(daemon);
        var queries = new ProgressQueries(db.DataSource);
        var report = (await queries.RollupAsync(Campaign, Bloc, ReportDay))!;
        var now = (await queries.RollupAsync(Campaign, Bloc, new DateOnly(2020, 6, 30)))!;
        var lateInJuly = await queries.OverdueAsync(Campaign, Bloc, new DateOnly(2020, 7, 1), limit: 10_000);

        var branchLevel = report.Levels.Single(l => l.Level == OrganizationLevel.Branch);
        var grassrootsLevel = report.Levels.Single(l => l.Level == OrganizationLevel.Grassroots);
        Assert.Equal((3940, 5408, 72.86m), (branchLevel.Held, branchLevel.Total, branchLevel.Percent));
        Assert.Equal((118, 1068, 11.05m), (grassrootsLevel.Held, grassrootsLevel.Total, grassrootsLevel.Percent));
        Assert.Equal(new SubordinateCompletion(26, 61), report.Subordinates);
        Assert.Equal(branchLevel.Held, branchLevel.Early + branchLevel.OnTime + branchLevel.Late);
        Assert.Equal(5408 - 3940, branchLevel.NotYetDue);
        Assert.Equal(0, branchLevel.Overdue);
        Assert.Equal(4040, now.Levels.Single(l => l.Level == OrganizationLevel.Branch).Held);
        Assert.Equal(5408 - 4040, lateInJuly.Count(i => i.Level == OrganizationLevel.Branch));
        Assert.All(lateInJuly, i => Assert.Equal(new DateOnly(2020, 6, 15), i.Deadline));
    }

    [Fact]
    public async Task the_ministry_cascade_shows_as_14_days_early_and_the_audit_trail_names_who_approved_what()
    {
        await using var daemon = await ProjectTheDemoAsync();
        var queries = new ProgressQueries(db.DataSource);

        var ministry = (await queries.RollupAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry, new DateOnly(2020, 7, 31)))!;
        var beforeTheLast = (await queries.RollupAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry, new DateOnly(2020, 6, 29)))!;
        var audit = await queries.AuditAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry);
        var centre = audit.Where(a => a.OrganizationId == "dang-bo-trung-tam-thong-tin-cntm").ToList();

        Assert.Equal(new SubtreeCompletion(new DateOnly(2020, 6, 30), new DateOnly(2020, 7, 14), 14), ministry.Completion);
        Assert.Null(beforeTheLast.Completion.CompletedOn);
        Assert.Equal(["submitted", "returned", "submitted", "approved", "results-recognised"], centre.Select(a => a.Action));
        var approval = centre.Single(a => a.Action == "approved");
        Assert.Equal((DemoCampaign.Ministry, "151-QĐ/ĐUB", 2), (approval.ByOrganization, approval.Document, approval.Round));
        Assert.Contains("cán bộ nữ", centre.Single(a => a.Action == "returned").Comments, StringComparison.Ordinal);
        var stored = await db.Store.ReadStreamAsync(approval.StreamId, new EventStore.StreamReadOptions(UpToVersion: approval.StreamVersion));
        Assert.Equal(approval.EventId, stored[^1].EventId);
        Assert.Equal(approval.GlobalPosition, stored[^1].GlobalPosition);
    }

    [Fact]
    public async Task an_approval_recorded_days_after_the_date_it_states_is_flagged_in_the_trail()
    {
        await new DemoCampaign(db.DataSource).LoadIfEmptyAsync();
        // As if the Ministry's approval of the Centre's documents had been entered ten days late (planted before projecting).
        var approval = await db.ScalarAsync<long>("""
            SELECT global_position FROM event_store.events
            WHERE stream_id = $1 AND event_type = 'congress.submission-approved'
            """, Congress.StreamId(DemoCampaign.CampaignId, "dang-bo-trung-tam-thong-tin-cntm"));
        await db.ExecuteAsync("UPDATE event_store.events SET recorded_at = recorded_at + interval '10 days' WHERE global_position = $1", approval);
        await using var daemon = Daemon();
        daemon.Start();
        await CatchUpAsync(daemon);

        var trail = await new ProgressQueries(db.DataSource).AuditAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry);

        Assert.Equal([approval], trail.Where(a => a.BackDated).Select(a => a.GlobalPosition));
    }

    [Fact]
    public async Task units_are_found_by_name_without_diacritics_and_narrowed_by_level_sector_pilot_and_overdue()
    {
        await using var daemon = await ProjectTheDemoAsync();
        var queries = new ProgressQueries(db.DataSource);
        Task<UnitPage> Find(UnitFilter filter, DateOnly? day = null, DateTimeOffset? knownAt = null, int limit = 50) =>
            queries.UnitsAsync(DemoCampaign.CampaignId, DemoCampaign.Central, day ?? new DateOnly(2020, 5, 10), filter, limit, knownAt: knownAt);

        var byName = await Find(new UnitFilter("so cong thuong thai"));
        var grassroots = await Find(new UnitFilter(Level: OrganizationLevel.Grassroots));
        var pilots = await Find(new UnitFilter(PilotsOnly: true));
        var enterprises = await Find(new UnitFilter(Sector: Sector.Enterprise));
        var overdueAsShown = await Find(new UnitFilter(OverdueOnly: true), knownAt: new DateTimeOffset(2020, 5, 10, 23, 0, 0, TimeSpan.Zero));
        var wildcard = await Find(new UnitFilter("100%_"));
        var firstPage = await Find(new UnitFilter(Level: OrganizationLevel.Branch), limit: 5);

        Assert.Equal([DemoCampaign.ThaiBinh], byName.Units.Select(u => u.OrganizationId));
        Assert.Equal(("Đảng bộ Khối các cơ quan tỉnh Thái Bình", false), (byName.Units[0].ParentName, byName.Units[0].IsOverdue));
        Assert.All(grassroots.Units, u => Assert.Equal(OrganizationLevel.Grassroots, u.Level));
        Assert.Equal(grassroots.Total, grassroots.Units.Count);
        Assert.Equal(3, pilots.Total);
        Assert.All(enterprises.Units, u => Assert.Equal(Sector.Enterprise, u.Sector));
        Assert.NotEmpty(enterprises.Units);
        Assert.Contains(DemoCampaign.ThaiBinh + "-chi-bo-12", overdueAsShown.Units.Select(u => u.OrganizationId));
        Assert.DoesNotContain(DemoCampaign.ThaiBinh + "-chi-bo-12", (await Find(new UnitFilter(OverdueOnly: true))).Units.Select(u => u.OrganizationId));
        Assert.All(overdueAsShown.Units, u => Assert.True(u.IsOverdue && u.HeldOn is null));
        Assert.Equal(0, wildcard.Total);
        Assert.Equal(5, firstPage.Units.Count);
        Assert.True(firstPage.Total > 5);
    }

    [Fact]
    public async Task a_past_days_timeline_counts_the_units_of_that_day_whatever_the_range_or_what_came_later()
    {
        await using var daemon = await ProjectTheDemoAsync();
        var queries = new ProgressQueries(db.DataSource);
        var day = new DateOnly(2020, 3, 15);
        Task<IReadOnlyList<TimelinePoint>> Timeline(DateOnly from, DateOnly to) =>
            queries.TimelineAsync(DemoCampaign.CampaignId, DemoCampaign.ThaiBinh, from, to, OrganizationLevel.Branch);
        var before = (await Timeline(new(2020, 1, 1), new(2020, 6, 30))).Single(p => p.Day == day);

        // In 2021 the first branch (its congress held on 16/01/2020) is dissolved.
        db.Clock.Advance(new DateTimeOffset(2021, 1, 4, 2, 0, 0, TimeSpan.Zero) - db.Clock.GetUtcNow());
        await db.Organizations.DissolveAsync(DemoCampaign.ThaiBinh + "-chi-bo-01", "sáp nhập", db.As(DemoCampaign.ThaiBinh));
        await CatchUpAsync(daemon);
        var longRange = await Timeline(new(2020, 1, 1), new(2021, 6, 30));
        var shortRange = await Timeline(new(2020, 3, 1), new(2020, 3, 31));

        // 12-KH/ĐU of 12/03 gave the last three branches until 03/05: by 15/03 nine of nine due had been held.
        Assert.Equal((9, 9), (before.Completed, before.Planned));
        Assert.Equal(before, longRange.Single(p => p.Day == day));
        Assert.Equal(before, shortRange.Single(p => p.Day == day));
        Assert.Equal(12, longRange.Single(p => p.Day == new DateOnly(2021, 1, 3)).Completed);
        Assert.Equal(11, longRange.Single(p => p.Day == new DateOnly(2021, 1, 4)).Completed);
    }

    [Fact]
    public async Task a_unit_moved_and_renamed_later_counts_under_its_parent_and_by_its_name_of_the_day_asked_about()
    {
        await using var daemon = await ProjectTheDemoAsync();
        var queries = new ProgressQueries(db.DataSource);
        const string centre = "dang-bo-trung-tam-thong-tin-cntm";
        var (campaign, ministry, province) = (DemoCampaign.CampaignId, DemoCampaign.Ministry, DemoCampaign.ProvincialBloc);
        async Task<string> Reports(DateOnly day) => JsonSerializer.Serialize(new object[]
        {
            (await queries.RollupAsync(campaign, ministry, day))!.Levels, (await queries.RollupAsync(campaign, province, day))!.Levels,
            (await queries.SubordinatesAsync(campaign, ministry, day)).Select(s => (s.OrganizationId, s.Name, s.Units, s.Held)),
            await queries.TimelineAsync(campaign, ministry, new DateOnly(2020, 1, 1), new DateOnly(2020, 12, 31)),
            await queries.OverdueAsync(campaign, ministry, day),
        });
        var before = await Reports(ReportDay);
        var oldName = (await queries.SubordinatesAsync(campaign, ministry, ReportDay)).Single(s => s.OrganizationId == centre).Name;

        // On 04/01/2021 the Centre and its branches move to the provincial bloc, and the Centre takes a new name.
        db.Clock.Advance(new DateTimeOffset(2021, 1, 4, 2, 0, 0, TimeSpan.Zero) - db.Clock.GetUtcNow());
        await db.Organizations.MoveAsync(centre, province, db.As(DemoCampaign.Central, "organisation-department"));
        await db.Organizations.RenameAsync(centre, "Đảng bộ Trung tâm Thông tin (mới)", db.As(DemoCampaign.Central, "organisation-department"));
        await CatchUpAsync(daemon);

        // As of 15/05/2020 nothing changed: the Centre still counts under the Ministry, by its name of the day, with today's alongside.
        Assert.Equal(before, await Reports(ReportDay));
        var then = (await queries.SubordinatesAsync(campaign, ministry, ReportDay)).Single(s => s.OrganizationId == centre);
        Assert.Equal((oldName, "Đảng bộ Trung tâm Thông tin (mới)"), (then.Name, then.CurrentName));
        // From the day of the move, its four units count under the provincial bloc and no longer under the Ministry.
        var after = new DateOnly(2021, 1, 4);
        var moved = (await queries.SubordinatesAsync(campaign, province, after)).Single(s => s.OrganizationId == centre);
        Assert.Equal(("Đảng bộ Trung tâm Thông tin (mới)", 4), (moved.Name, moved.Units));
        Assert.DoesNotContain(await queries.SubordinatesAsync(campaign, ministry, after), s => s.OrganizationId == centre);
        Assert.Equal(
            (await queries.RollupAsync(campaign, ministry, ReportDay))!.Levels.Sum(l => l.Total) - 4,
            (await queries.RollupAsync(campaign, ministry, after))!.Levels.Sum(l => l.Total));
        // What had been recorded before the move still shows the tree of then, whatever the day asked about.
        var knownBefore = await queries.SubordinatesAsync(campaign, ministry, after, new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Contains(knownBefore, s => s.OrganizationId == centre && s.Name == oldName);
        // The timeline of the Ministry keeps the Centre's units up to the day before the move.
        var timeline = await queries.TimelineAsync(campaign, ministry, new DateOnly(2021, 1, 3), new DateOnly(2021, 1, 4));
        Assert.Equal(4, timeline[0].Completed - timeline[1].Completed);
    }

    [Fact]
    public async Task drill_down_timeline_and_deadline_lists_answer_for_a_past_day()
    {
        await using var daemon = await ProjectTheDemoAsync();
        var queries = new ProgressQueries(db.DataSource);
        var day = new DateOnly(2020, 4, 30);

        var subordinates = await queries.SubordinatesAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry, day);
        var timeline = await queries.TimelineAsync(DemoCampaign.CampaignId, DemoCampaign.ThaiBinh, new DateOnly(2020, 1, 1), new DateOnly(2020, 6, 30),
            OrganizationLevel.Branch);
        var upcoming = await queries.UpcomingAsync(DemoCampaign.CampaignId, DemoCampaign.Ministry, day, 30);
        var overdueThaiBinh = await queries.OverdueAsync(DemoCampaign.CampaignId, DemoCampaign.ThaiBinh, new DateOnly(2020, 4, 1));
        var overdueBefore12KH = await queries.OverdueAsync(DemoCampaign.CampaignId, DemoCampaign.ThaiBinh, new DateOnly(2020, 4, 1),
            new DateTimeOffset(2020, 3, 11, 0, 0, 0, TimeSpan.Zero));
        var thaiBinhBranches = await queries.SubordinatesAsync(DemoCampaign.CampaignId, DemoCampaign.ThaiBinh, new DateOnly(2020, 5, 3));

        Assert.Equal(5, subordinates.Count);
        var centre = subordinates.Single(s => s.OrganizationId == "dang-bo-trung-tam-thong-tin-cntm");
        Assert.Equal((4, 3), (centre.Units, centre.Held));
        Assert.Null(centre.HeldOn);
        Assert.Equal(12, timeline[^1].Completed);
        Assert.Equal(0, timeline.Single(p => p.Day == new DateOnly(2020, 1, 15)).Completed);
        Assert.Equal(1, timeline.Single(p => p.Day == new DateOnly(2020, 1, 16)).Completed);
        var next = Assert.Single(upcoming);
        Assert.Equal(("dang-bo-cong-ty-cp-dien-may", new DateOnly(2020, 5, 4), 4), (next.OrganizationId, next.PlannedDate, next.Days));

        // The branches' deadline of 31/03 (11-KH/ĐU) followed 12-KH/ĐU to 03/05: none was overdue on 01/04, though what was
        // recorded before 12-KH/ĐU showed three; held on 25/04, 29/04 and 03/05 they were early or on time, not late.
        Assert.Empty(overdueThaiBinh);
        Assert.Equal(3, overdueBefore12KH.Count);
        Assert.All(overdueBefore12KH, o => Assert.Equal(("Đảng bộ Sở Công Thương Thái Bình", new DateOnly(2020, 3, 31)), (o.ParentName, o.Deadline)));
        Assert.Equal([-8, -4, 0], thaiBinhBranches.Where(b => b.HeldOn >= new DateOnly(2020, 4, 1)).OrderBy(b => b.HeldOn).Select(b => b.DaysLate!.Value));
    }

    [Fact]
    public async Task rebuilding_the_projections_gives_byte_for_byte_the_same_read_models()
    {
        await using var daemon = await ProjectTheDemoAsync();
        var live = await DumpAsync();

        await ProjectionDaemon.RequestRebuildAsync(db.DataSource, ProgressProjection.ProjectionName);
        await ProjectionDaemon.RequestRebuildAsync(db.DataSource, ApprovalAuditProjection.ProjectionName);
        await WaitUntilRebuiltAsync();
        await CatchUpAsync(daemon);

        Assert.Equal(live, await DumpAsync());
        Assert.True(live.Length > 10_000, "the dump should hold the demo's rows");
        // Caught up, the rebuilt tables were analyzed: the planner knows their size and uses the path index.
        Assert.True(await db.ScalarAsync<bool>("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE schemaname = 'congress' AND relname = 'rollup_units'"));
    }

    private async Task WaitUntilRebuiltAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await db.ScalarAsync<long>("SELECT count(*) FROM event_store.projection_checkpoints WHERE rebuild_requested")) > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the rebuild was not picked up");
            await Task.Delay(20);
        }
    }

    private async Task<string> DumpAsync()
    {
        var parts = new List<string>();
        foreach (var table in new[] { "rollup_units", "rollup_segments", "rollup_congresses", "rollup_plans", "approval_audit", "audit_congresses" })
        {
            parts.Add(await db.ScalarAsync<string>($"SELECT coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') FROM congress.{table} t"));
        }

        return string.Join("\n---\n", parts);
    }

    private IEnumerable<CongressCommand> Lifecycle(
        string organizationId, string superiorId, DateOnly planned, DateWindow window, DateWindow? subordinates, DateWindow superiorWindow, DateOnly? heldOn)
    {
        var id = Congress.StreamId(Campaign, organizationId);
        var me = new CommandContext("secretary@" + organizationId, "secretary", organizationId, db.Clock.GetUtcNow());
        yield return new IssuePlan(id, Campaign, organizationId, superiorId, Doc("01-KH/ĐU"), null, new DateOnly(2019, 12, 15), planned, window, subordinates,
            [], false, superiorWindow, me);
        if (heldOn is not { } day)
        {
            yield break;
        }

        // Each step on its own day, in the order the rules require: prepared and submitted two weeks before, approved one week before.
        var preparing = me with { Now = new DateTimeOffset(day.AddDays(-14).ToDateTime(new TimeOnly(2, 0)), TimeSpan.Zero) };
        yield return new PrepareDraft(id, DraftKind.PoliticalReport, preparing);
        yield return new PrepareDraft(id, DraftKind.ReviewReport, preparing);
        yield return new PreparePersonnelPlan(id, 3, 3, 1, 1, preparing);
        yield return new SubmitToSuperior(id, preparing);
        yield return new ApproveSubmission(id, Doc("10-QĐ/ĐU"), preparing with
        {
            OrganizationId = superiorId, UserId = "standing@" + superiorId, Now = preparing.Now.AddDays(7),
        });
        yield return new ConveneCongress(id, day, 10, 10, 1, 10, [], me);
    }

    private sealed record Node(string Id, string Parent);

    private static (List<string> Committees, Dictionary<string, Node> Grassroots, List<Node> Branches) BuildTree()
    {
        var committees = Enumerable.Range(0, 61).Select(c => $"dang-bo-{c:00}").ToList();
        var grassroots = new Dictionary<string, Node>();
        var branches = new List<Node>();
        var g = 0;
        for (var c = 0; c < 61; c++)
        {
            for (var k = 0; k < 17 + (c < 31 ? 1 : 0); k++, g++)
            {
                var id = $"co-so-{g:0000}";
                grassroots[id] = new Node(id, committees[c]);
                for (var b = 0; b < 5 + (g < 68 ? 1 : 0); b++)
                {
                    branches.Add(new Node($"{id}-chi-bo-{b}", id));
                }
            }
        }

        return (committees, grassroots, branches);
    }

    private static IEnumerable<object> ImportRows(List<string> committees, Dictionary<string, Node> grassroots, List<Node> branches) =>
    [
        new { id = "trung-uong", name = "Trung ương", level = "central" },
        new { id = Bloc, name = "Đảng bộ Khối các cơ quan Trung ương", level = "bloc", parentId = "trung-uong" },
        .. committees.Select(c => new { id = c, name = $"Đảng bộ {c}", level = "ministry", parentId = Bloc }),
        .. grassroots.Values.Select(g => new { id = g.Id, name = $"Đảng bộ cơ sở {g.Id}", level = "grassroots", parentId = g.Parent }),
        .. branches.Select(b => new { id = b.Id, name = $"Chi bộ {b.Id}", level = "branch", parentId = b.Parent }),
    ];
}

using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.EventStore;
using CongressWorkflow.Testing;
using static CongressWorkflow.Engine.Tests.Subtree;

namespace CongressWorkflow.Engine.Tests;

public sealed class running_a_three_level_subtree_through_the_store(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        await BuildTreeAsync(db);
        await PlanAllAsync(db);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task the_whole_cascade_goes_bottom_up_with_a_returned_round_a_postponement_and_early_and_late_congresses()
    {
        MoveClockTo(db, D(2020, 1, 20));
        await PrepareAndSubmitAsync(db, Branch1);
        await PrepareAndSubmitAsync(db, Branch2);
        await PrepareAndSubmitAsync(db, Centre);

        // Approval round trip: the Centre returns branch 1's documents, the branch resubmits, the Centre approves.
        await db.Congresses.HandleAsync(new ReturnSubmission(CongressOf(Branch1), "Bổ sung cơ cấu cán bộ trẻ", db.As(Centre, "standing-committee")));
        await db.Congresses.HandleAsync(new SubmitToSuperior(CongressOf(Branch1), db.As(Branch1)));
        await Approve(db, Branch1, Centre, "15-QĐ/ĐU");
        await Approve(db, Branch2, Centre, "16-QĐ/ĐU");
        await Approve(db, Centre, Ministry, "120-QĐ/ĐUB");

        // The Centre may not convene before its branches.
        var gate = await Assert.ThrowsAsync<CommandRejectedException>(() => db.Congresses.HandleAsync(Convene(db, Centre, D(2020, 5, 14))));
        Assert.Equal(CongressErrors.SubordinatesIncomplete, gate.Code);
        Assert.Contains(Branch1, gate.Message, StringComparison.Ordinal);
        Assert.Contains(Branch2, gate.Message, StringComparison.Ordinal);

        // Branch 1 meets 10 days before its planned 01/03 (2020 is a leap year); branch 2 is postponed by COVID-19 and meets 19 days late.
        MoveClockTo(db, D(2020, 2, 20));
        await db.Congresses.HandleAsync(Convene(db, Branch1, D(2020, 2, 20)));
        await db.Congresses.HandleAsync(new ScheduleCongress(CongressOf(Branch2), new(D(2020, 3, 1), D(2020, 3, 1)), db.As(Branch2)));
        await db.Congresses.HandleAsync(new PostponeCongress(CongressOf(Branch2), "COVID-19: giãn cách xã hội", db.As(Branch2)));
        var postponed = await Assert.ThrowsAsync<CommandRejectedException>(() => db.Congresses.HandleAsync(Convene(db, Branch2, D(2020, 3, 5))));
        await db.Congresses.HandleAsync(new RescheduleCongress(CongressOf(Branch2), new(D(2020, 3, 20), D(2020, 3, 20)), "hết giãn cách", db.As(Branch2)));
        MoveClockTo(db, D(2020, 3, 20));
        await db.Congresses.HandleAsync(Convene(db, Branch2, D(2020, 3, 20)));

        // Now the Centre convenes: 14 days before its planned 28/05/2020.
        MoveClockTo(db, D(2020, 5, 14));
        var held = await db.Congresses.HandleAsync(Convene(db, Centre, D(2020, 5, 14)));

        Assert.Equal(CongressErrors.Postponed, postponed.Code);
        var (branch1, _) = await db.Congresses.LoadAsync(CongressOf(Branch1));
        var (branch2, _) = await db.Congresses.LoadAsync(CongressOf(Branch2));
        var centre = Assert.IsType<CongressConvened>(Assert.Single(held.Events));
        Assert.Equal(-10, branch1.Convened!.DaysLate);
        Assert.Equal(2, branch1.SubmissionRound);
        Assert.Equal(19, branch2.Convened!.DaysLate);
        Assert.Equal(-14, centre.DaysLate);
        Assert.False(centre.Exempted);
        Assert.Equal(-14, await db.ScalarAsync<int>("SELECT days_late FROM congress.congresses WHERE organization_id = $1", Centre));
        Assert.Equal("Convened", await db.ScalarAsync<string>("SELECT stage FROM congress.congresses WHERE organization_id = $1", Centre));
    }

    [Fact]
    public async Task a_sequence_of_steps_is_written_all_or_none_each_decided_on_the_state_the_one_before_left()
    {
        MoveClockTo(db, D(2020, 1, 20));
        var congress = CongressOf(Branch1);
        var me = db.As(Branch1);
        var (_, before) = await db.Congresses.LoadAsync(congress);

        // The comments are on a draft the sequence has not prepared: the last step is refused, and with it the first two.
        var refused = await Assert.ThrowsAsync<CommandRejectedException>(() => db.Congresses.HandleSequenceAsync(
        [
            new FormSubcommittee(congress, SubcommitteeKind.Documents, "Nguyễn Văn A", 5, me),
            new PrepareDraft(congress, DraftKind.PoliticalReport, me),
            new CollectComments(congress, DraftKind.ReviewReport, 12, 57, me),
        ]));
        var (_, afterRefusal) = await db.Congresses.LoadAsync(congress);
        var written = await db.Congresses.HandleSequenceAsync(
        [
            new FormSubcommittee(congress, SubcommitteeKind.Documents, "Nguyễn Văn A", 5, me),
            new PrepareDraft(congress, DraftKind.PoliticalReport, me),
            new CollectComments(congress, DraftKind.PoliticalReport, 12, 57, me),
        ]);
        var (state, version) = await db.Congresses.LoadAsync(congress);
        var mixed = await Assert.ThrowsAsync<ArgumentException>(() => db.Congresses.HandleSequenceAsync(
            [new PrepareDraft(congress, DraftKind.ReviewReport, me), new PrepareDraft(CongressOf(Branch2), DraftKind.ReviewReport, db.As(Branch2))]));

        Assert.Equal(CongressErrors.IncompletePreparation, refused.Code);
        Assert.Equal(before, afterRefusal);
        Assert.Equal(before + 3, written.Version);
        Assert.Equal(3, written.Events.Count);
        Assert.Equal((before + 3, true), (version, state.CommentedDrafts.Contains(DraftKind.PoliticalReport)));
        Assert.Contains("one congress's, by one actor", mixed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task notices_reach_the_inboxes_with_the_events_that_cause_them_delivered_at_once()
    {
        MoveClockTo(db, D(2020, 1, 20));
        await PrepareAndSubmitAsync(db, Branch1);
        await db.Congresses.HandleAsync(new ReturnSubmission(CongressOf(Branch1), "Bổ sung", db.As(Centre, "standing-committee")));

        var kinds = await db.ScalarAsync<string>("SELECT string_agg(kind || '>' || organization_id, ',' ORDER BY seq) FROM congress.inbox");

        Assert.Equal($"approval-requested>{Centre},submission-returned>{Branch1}", kinds);
        Assert.Equal([$"inbox {Branch1} delivered", $"inbox {Centre} delivered"],
            (await db.Deadlines.DeliveriesAsync(null)).Select(d => $"{d.Channel} {d.Target} {d.Status}").Order());
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.outbox"));
    }

    [Fact]
    public async Task a_congress_recorded_before_the_events_were_partitioned_goes_on_in_the_shared_partition()
    {
        MoveClockTo(db, D(2020, 1, 20));
        // As the upgrade leaves a congress planned before it: its stream and events in the shared partition.
        var congress = CongressOf(Branch1);
        await db.ExecuteAsync("UPDATE event_store.streams SET partition_key = '' WHERE stream_id = $1", congress);
        await db.ExecuteAsync("UPDATE event_store.events SET partition_key = '' WHERE stream_id = $1", congress);

        await PrepareAndSubmitAsync(db, Branch1);
        var batch = await db.Congresses.HandleBatchAsync([[new ApproveSubmission(congress, Doc("9-QĐ/ĐU"), db.As(Centre, "standing-committee"))]]);

        Assert.Null(batch[0].Refusal);
        Assert.Equal(["event_store.events_shared"], await db.ScalarAsync<string[]>(
            "SELECT array_agg(DISTINCT tableoid::regclass::text) FROM event_store.events WHERE stream_id = $1", congress));
        Assert.Equal("Approved", await db.ScalarAsync<string>("SELECT stage FROM congress.congresses WHERE congress_id = $1", congress));
    }

    [Fact]
    public async Task commands_give_their_events_ids_that_grow_with_time()
    {
        MoveClockTo(db, D(2020, 1, 20));
        await PrepareAndSubmitAsync(db, Branch1);

        // UUID version 7 (the version digit is the 13th hex digit): new ids go to the end of the event id index.
        var ids = await db.ScalarAsync<string[]>(
            "SELECT array_agg(event_id::text ORDER BY global_position) FROM event_store.events WHERE stream_id = $1", CongressOf(Branch1));
        Assert.True(ids.Length > 3);
        Assert.All(ids, id => Assert.Equal('7', id[14]));
        // Their first 48 bits are the time in milliseconds (ids drawn in the same millisecond differ in random bits).
        var times = ids.Select(id => id[..13]).ToList();
        Assert.Equal(times.Order(StringComparer.Ordinal), times);
    }

    [Fact]
    public async Task after_a_move_the_new_parent_is_the_direct_superior_who_hears_of_and_decides_on_the_submission()
    {
        const string newCentre = "dang-bo-vu-moi";
        await db.Organizations.RegisterAsync(newCentre, "Đảng bộ Vụ mới", Domain.Organizations.OrganizationLevel.Grassroots, null, Ministry, db.As(Central));
        MoveClockTo(db, D(2020, 1, 20));

        await db.Organizations.MoveAsync(Branch1, newCentre, db.As(Central, "organisation-department"));
        await PrepareAndSubmitAsync(db, Branch1);
        var byOld = await Assert.ThrowsAsync<CommandRejectedException>(() => Approve(db, Branch1, Centre, "1-QĐ/ĐU"));
        await Approve(db, Branch1, newCentre, "2-QĐ/ĐU");

        Assert.Equal(CongressErrors.NotDirectSuperior, byOld.Code);
        var (branch, _) = await db.Congresses.LoadAsync(CongressOf(Branch1));
        Assert.Equal((newCentre, CongressStage.Approved), (branch.SuperiorOrganizationId, branch.Stage));
        var changed = (await db.Store.ReadStreamAsync(CongressOf(Branch1))).Select(e => e.Data).OfType<CongressSuperiorChanged>().Single();
        Assert.Equal((Centre, newCentre), (changed.FromSuperiorId, changed.ToSuperiorId));
        Assert.Equal(newCentre, await db.ScalarAsync<string>("SELECT superior_organization_id FROM congress.congresses WHERE organization_id = $1", Branch1));
        Assert.Equal(newCentre, await db.ScalarAsync<string>(
            "SELECT organization_id FROM congress.inbox WHERE kind = 'approval-requested' ORDER BY seq DESC LIMIT 1"));
    }

    [Fact]
    public async Task only_the_direct_superior_approves_and_a_rejection_writes_nothing()
    {
        MoveClockTo(db, D(2020, 1, 20));
        await PrepareAndSubmitAsync(db, Branch1);
        var before = await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events");

        var error = await Assert.ThrowsAsync<CommandRejectedException>(() => Approve(db, Branch1, Ministry, "1-QĐ/ĐUB"));

        Assert.Equal(CongressErrors.NotDirectSuperior, error.Code);
        Assert.Equal(before, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal("AwaitingApproval", await db.ScalarAsync<string>("SELECT stage FROM congress.congresses WHERE organization_id = $1", Branch1));
    }

    [Fact]
    public async Task an_amended_window_cascades_down_to_every_plan_not_yet_held_in_the_same_transaction()
    {
        // The Bloc's amendment (effective 12/03/2020) ends its subordinates' window on 20/05 instead of 31/08. The Ministry's
        // plan is derived again (its own window no longer fits: it takes the Bloc's), which pulls its date in and ends its
        // subordinates' window on 20/05, so the Centre follows in turn; the branches' window (16/01–03/05) still fits.
        MoveClockTo(db, D(2020, 3, 12));
        var amended = await db.Congresses.HandleAsync(new AmendPlan(CongressOf(Bloc), Doc("160-KH/ĐUK"), D(2020, 3, 12), D(2020, 10, 28),
            new(D(2020, 10, 1), D(2020, 10, 31)), new(D(2020, 1, 1), D(2020, 5, 20)), [], null, db.As(Bloc)));

        var (ministry, _) = await db.Congresses.LoadAsync(CongressOf(Ministry));
        var (centre, _) = await db.Congresses.LoadAsync(CongressOf(Centre));
        var (branch, branchVersion) = await db.Congresses.LoadAsync(CongressOf(Branch1));
        Assert.Equal(("160-KH/ĐUK", D(2020, 5, 20), new Domain.Common.DateWindow(D(2020, 1, 1), D(2020, 5, 20))),
            (ministry.Plans[^1].Document, ministry.Plans[^1].PlannedDate, ministry.Plans[^1].SubordinateWindow));
        Assert.Equal((D(2020, 5, 20), new Domain.Common.DateWindow(D(2020, 4, 1), D(2020, 5, 20))), (centre.Plans[^1].PlannedDate, centre.Plans[^1].Window));
        Assert.Equal((1, 1L), (branch.Plans.Count, branchVersion));
        Assert.Empty(await db.Congresses.FindWindowConflictsAsync(Campaign, Bloc));

        // Each follower's amendment is in its own stream, names the superior it follows, and shares the command's correlation.
        var bloc = (await db.Store.ReadStreamAsync(amended.StreamId))[^1];
        foreach (var (follower, superior) in new[] { (Ministry, Bloc), (Centre, Ministry) })
        {
            var last = (await db.Store.ReadStreamAsync(CongressOf(follower)))[^1];
            Assert.Equal(CongressOf(superior), Assert.IsType<CongressPlanAmended>(last.Data).FollowsSuperior);
            Assert.Equal(bloc.Metadata.CorrelationId, last.Metadata.CorrelationId);
            Assert.True(last.GlobalPosition > bloc.GlobalPosition);
        }

        Assert.Equal(D(2020, 5, 20), await db.ScalarAsync<DateOnly>(
            "SELECT due_on FROM congress.deadlines WHERE congress_id = $1 AND milestone = 'congress-held' AND effective_until IS NULL", CongressOf(Centre)));
    }

    [Fact]
    public async Task a_congress_held_before_its_superior_narrowed_the_window_is_a_conflict_with_its_nearest_planned_superior_only()
    {
        // Branch 1 meets on 20/02 inside the Centre's window for branches (16/01–03/05); on 25/02 the Centre narrows it to
        // 01/03–03/05. Branch 2, not yet held, follows; branch 1, held, keeps its window and no longer fits the Centre's. It
        // still fits the Ministry's (01/01–30/06), so only the nearest planned superior tells.
        MoveClockTo(db, D(2020, 1, 20));
        await PrepareAndSubmitAsync(db, Branch1);
        await Approve(db, Branch1, Centre, "15-QĐ/ĐU");
        MoveClockTo(db, D(2020, 2, 20));
        await db.Congresses.HandleAsync(Convene(db, Branch1, D(2020, 2, 20)));
        MoveClockTo(db, D(2020, 2, 25));
        await db.Congresses.HandleAsync(new AmendPlan(CongressOf(Centre), Doc("12-KH/ĐU"), D(2020, 2, 25), D(2020, 5, 28), new(D(2020, 4, 1), D(2020, 6, 30)),
            new(D(2020, 3, 1), D(2020, 5, 3)), [], null, db.As(Centre)));

        var conflict = Assert.Single(await db.Congresses.FindWindowConflictsAsync(Campaign, Bloc));
        Assert.Equal(new WindowConflict(Branch1, new(D(2020, 1, 16), D(2020, 5, 3)), Centre, new(D(2020, 3, 1), D(2020, 5, 3))), conflict);
        Assert.Equal(conflict, Assert.Single(await db.Congresses.FindWindowConflictsAsync(Campaign, Centre)));
        // Asked for the branch's own subtree, its superior is outside it: nothing to compare with.
        Assert.Empty(await db.Congresses.FindWindowConflictsAsync(Campaign, Branch1));
        var (branch2, _) = await db.Congresses.LoadAsync(CongressOf(Branch2));
        Assert.Equal(new Domain.Common.DateWindow(D(2020, 3, 1), D(2020, 5, 3)), branch2.Plans[^1].Window);
    }

    [Fact]
    public async Task a_plan_outside_the_inherited_window_names_both_windows()
    {
        await db.Organizations.RegisterAsync("chi-bo-moi", "Chi bộ mới", Domain.Organizations.OrganizationLevel.Branch, null, Centre, db.As(Central));

        var error = await Assert.ThrowsAsync<CommandRejectedException>(() => db.Congresses.HandleAsync(
            Plan(db, "chi-bo-moi", "03-KH/CB", D(2020, 5, 10), new(D(2020, 5, 1), D(2020, 5, 20)), null)));

        Assert.Equal(CongressErrors.WindowOutsideSuperior, error.Code);
        Assert.Contains("01/05/2020–20/05/2020", error.Message, StringComparison.Ordinal);
        Assert.Contains("16/01/2020–03/05/2020", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A unit whose direct superior has not planned is held to the next superior up that has: here the ministry's.</summary>
    [Fact]
    public async Task a_plan_under_a_superior_without_one_is_held_to_the_nearest_planned_superiors_window()
    {
        var admin = db.As(Central, "organisation-department");
        await db.Organizations.RegisterAsync("dang-bo-moi", "Đảng bộ mới", Domain.Organizations.OrganizationLevel.Grassroots, null, Ministry, admin);
        await db.Organizations.RegisterAsync("chi-bo-cua-dang-bo-moi", "Chi bộ của Đảng bộ mới", Domain.Organizations.OrganizationLevel.Branch, null, "dang-bo-moi", admin);

        var error = await Assert.ThrowsAsync<CommandRejectedException>(() => db.Congresses.HandleAsync(
            Plan(db, "chi-bo-cua-dang-bo-moi", "04-KH/CB", D(2020, 7, 10), new(D(2020, 7, 1), D(2020, 7, 20)), null)));
        await db.Congresses.HandleAsync(Plan(db, "chi-bo-cua-dang-bo-moi", "05-KH/CB", D(2020, 6, 10), new(D(2020, 6, 1), D(2020, 6, 20)), null));

        Assert.Equal(CongressErrors.WindowOutsideSuperior, error.Code);
        Assert.Contains("01/01/2020–30/06/2020", error.Message, StringComparison.Ordinal);
        Assert.Equal(CongressStage.Preparing, (await db.Congresses.LoadAsync(CongressOf("chi-bo-cua-dang-bo-moi"))).State.Stage);
    }

    [Fact]
    public async Task the_state_on_any_past_date_is_answerable()
    {
        MoveClockTo(db, D(2020, 1, 20));
        await PrepareAndSubmitAsync(db, Branch1);
        MoveClockTo(db, D(2020, 2, 3));
        await Approve(db, Branch1, Centre, "15-QĐ/ĐU");

        var (onFeb1, versionOnFeb1) = await db.Congresses.LoadAsOfAsync(CongressOf(Branch1), D(2020, 2, 1), null);
        var (now, versionNow) = await db.Congresses.LoadAsync(CongressOf(Branch1));

        Assert.Equal(CongressStage.AwaitingApproval, onFeb1.Stage);
        Assert.Equal(CongressStage.Approved, now.Stage);
        Assert.Equal(versionNow - 1, versionOnFeb1);

        // A convening dated 10/02 but recorded on 20/02: on 15/02 it was true, but not yet known.
        MoveClockTo(db, D(2020, 2, 20));
        await db.Congresses.HandleAsync(Convene(db, Branch1, D(2020, 2, 10)));
        var (trueOn15, _) = await db.Congresses.LoadAsOfAsync(CongressOf(Branch1), D(2020, 2, 15), null);
        var (knownOn15, _) = await db.Congresses.LoadAsOfAsync(CongressOf(Branch1), D(2020, 2, 15), new DateTimeOffset(2020, 2, 15, 23, 59, 59, TimeSpan.Zero));
        var (trueOn9, _) = await db.Congresses.LoadAsOfAsync(CongressOf(Branch1), D(2020, 2, 9), null);

        Assert.Equal(CongressStage.Convened, trueOn15.Stage);
        Assert.Equal(CongressStage.Approved, knownOn15.Stage);
        Assert.Equal(CongressStage.Approved, trueOn9.Stage);
    }

    [Fact]
    public async Task a_stale_expected_version_is_a_conflict_and_writes_nothing()
    {
        var (_, version) = await db.Congresses.LoadAsync(CongressOf(Branch1));

        var error = await Assert.ThrowsAsync<ConcurrencyException>(() => db.Congresses.HandleAsync(
            new PrepareDraft(CongressOf(Branch1), DraftKind.PoliticalReport, db.As(Branch1)), expectedVersion: version - 1));

        Assert.Equal(version, error.ActualVersion);
        Assert.Equal(version, (await db.Congresses.LoadAsync(CongressOf(Branch1))).Version);
    }
}

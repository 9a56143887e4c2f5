using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Testing;
using static CongressWorkflow.Engine.Tests.Subtree;

namespace CongressWorkflow.Engine.Tests;

/// <summary>
/// <see cref="Congresses.CongressService.HandleBatchAsync"/>: many congresses' steps decided together in one
/// transaction must come out exactly as the same steps handled one by one, and a refused sequence must leave the
/// others written and itself not at all.
/// </summary>
public sealed class handling_congress_commands_in_batches(EngineDatabase db) : IClassFixture<EngineDatabase>
{
    /// <summary>A campaign of the subtree in rounds; the sequences of a round concern different congresses.</summary>
    private static IEnumerable<(DateOnly Day, IReadOnlyList<IReadOnlyList<CongressCommand>> Round)> Campaign(EngineDatabase db)
    {
        static IReadOnlyList<IReadOnlyList<CongressCommand>> Round(params IReadOnlyList<CongressCommand>[] sequences) => sequences;
        var day = D(2019, 10, 1);
        yield return (day, Round([Plan(db, Bloc, "155-KH/ĐUK", D(2020, 10, 28), new(D(2020, 10, 1), D(2020, 10, 31)), new(D(2020, 1, 1), D(2020, 8, 31)))]));
        yield return (day, Round([Plan(db, Ministry, "681-KH/ĐUB", D(2020, 7, 28), new(D(2020, 7, 1), D(2020, 7, 31)), new(D(2020, 1, 1), D(2020, 6, 30)))]));
        yield return (day, Round([Plan(db, Centre, "10-KH/ĐU", D(2020, 5, 28), new(D(2020, 4, 1), D(2020, 6, 30)), new(D(2020, 1, 16), D(2020, 5, 3)))]));
        yield return (day, Round(
            [Plan(db, Branch1, "01-KH/CB", D(2020, 3, 1), new(D(2020, 1, 16), D(2020, 5, 3)), null)],
            [Plan(db, Branch2, "02-KH/CB", D(2020, 3, 1), new(D(2020, 1, 16), D(2020, 5, 3)), null)]));

        // The Ministry narrows its window for subordinates: the Centre's plan follows (the cascade, in the batch's transaction).
        day = D(2020, 1, 20);
        yield return (day, Round([MinistryNarrowsItsWindow(db, day)]));
        yield return (day, Round(Preparation(db, Branch1), Preparation(db, Branch2), Preparation(db, Centre)));
        yield return (day, Round([new ReturnSubmission(CongressOf(Branch1), "Bổ sung cơ cấu cán bộ trẻ", db.As(Centre, "standing-committee"))]));
        yield return (day, Round([new SubmitToSuperior(CongressOf(Branch1), db.As(Branch1))]));
        yield return (day, Round(
            [new ApproveSubmission(CongressOf(Branch1), Doc("15-QĐ/ĐU"), db.As(Centre, "standing-committee"))],
            [new ApproveSubmission(CongressOf(Branch2), Doc("16-QĐ/ĐU"), db.As(Centre, "standing-committee"))],
            [new ApproveSubmission(CongressOf(Centre), Doc("120-QĐ/ĐUB"), db.As(Ministry, "standing-committee"))]));

        day = D(2020, 2, 20);
        yield return (day, Round(
            [Convene(db, Branch1, day), new RecordElections(CongressOf(Branch1), new(3, 0, "Bí thư", 1, 0, null, 2, 0), db.As(Branch1))],
            [new ScheduleCongress(CongressOf(Branch2), new(D(2020, 3, 1), D(2020, 3, 1)), db.As(Branch2)),
             new PostponeCongress(CongressOf(Branch2), "COVID-19: giãn cách xã hội", db.As(Branch2))]));
        day = D(2020, 3, 20);
        yield return (day, Round([new RescheduleCongress(CongressOf(Branch2), new(day, day), "hết giãn cách", db.As(Branch2)), Convene(db, Branch2, day)]));
        day = D(2020, 5, 14);
        yield return (day, Round(
            [Convene(db, Centre, day), new RecordElections(CongressOf(Centre), new(11, 3, "Bí thư", 1, 3, "Chủ nhiệm UBKT", 2, 0), db.As(Centre))],
            [new RecogniseResults(CongressOf(Branch1), Doc("21-QĐ/ĐU"), db.As(Centre, "standing-committee"))]));
    }

    /// <summary>The Ministry's amendment (700-KH/ĐUB): its subordinates' window now ends on 20/06/2020, its own congress unchanged.</summary>
    private static AmendPlan MinistryNarrowsItsWindow(EngineDatabase db, DateOnly day) =>
        new(CongressOf(Ministry), Doc("700-KH/ĐUB"), day, D(2020, 7, 28), new(D(2020, 7, 1), D(2020, 7, 31)), new(D(2020, 1, 1), D(2020, 6, 20)),
            [new Deadline(Milestone.CongressHeld, D(2020, 7, 31))], null, db.As(Ministry));

    private static IReadOnlyList<CongressCommand> Preparation(EngineDatabase db, string organizationId)
    {
        var (congress, me) = (CongressOf(organizationId), db.As(organizationId));
        return
        [
            new FormSubcommittee(congress, SubcommitteeKind.Documents, "Nguyễn Văn A", 5, me),
            new FormSubcommittee(congress, SubcommitteeKind.Personnel, "Trần Thị B", 3, me),
            new PrepareDraft(congress, DraftKind.PoliticalReport, me),
            new PrepareDraft(congress, DraftKind.ReviewReport, me),
            new CollectComments(congress, DraftKind.PoliticalReport, 12, 57, me),
            new PreparePersonnelPlan(congress, 11, 13, 3, 1, me),
            new SubmitToSuperior(congress, me),
        ];
    }

    /// <summary>What the commands left: every congress event, the congress and deadline rows, who was told what, and the snapshots.</summary>
    private Task<string> WrittenAsync() => db.ScalarAsync<string>("""
        SELECT string_agg(line, E'\n' ORDER BY line) FROM (
            SELECT format('%s %s %s %s %s', stream_id, stream_version, event_type, actor_id, data) AS line FROM event_store.events WHERE stream_id LIKE 'congress-%'
            UNION ALL SELECT format('%s', c) FROM congress.congresses c
            UNION ALL SELECT format('%s', d) FROM congress.deadlines d
            UNION ALL SELECT format('%s > %s: %s %s %s', kind, organization_id, title, body, congress_id) FROM congress.inbox
            UNION ALL SELECT format('%s > %s', message_type, payload->>'organizationId') FROM event_store.outbox
            UNION ALL SELECT format('%s %s %s %s', stream_id, shape, version, state) FROM event_store.snapshots) lines
        """);

    private async Task StartAsync()
    {
        await db.ResetAsync();
        await BuildTreeAsync(db);
    }

    [Fact]
    public async Task a_campaign_handled_in_batches_writes_exactly_what_the_same_steps_write_one_by_one()
    {
        await StartAsync();
        foreach (var (day, round) in Campaign(db))
        {
            MoveClockTo(db, day);
            foreach (var sequence in round)
            {
                await db.Congresses.HandleSequenceAsync(sequence);
            }
        }

        var oneByOne = await WrittenAsync();
        Assert.True(await SnapshotChecks.AssertEveryCongressSnapshotIsItsWholeFoldAsync(db) > 0);

        await StartAsync();
        foreach (var (day, round) in Campaign(db))
        {
            MoveClockTo(db, day);
            var outcomes = await db.Congresses.HandleBatchAsync(round);
            Assert.All(outcomes, o => Assert.Null(o.Refusal));
        }

        var batched = await WrittenAsync();
        Assert.Contains("congress.plan-amended", oneByOne, StringComparison.Ordinal);
        Assert.Contains("FollowsSuperior".ToLowerInvariant(), oneByOne.ToLowerInvariant(), StringComparison.Ordinal);
        Assert.Equal(oneByOne, batched);
        var integrity = await new EventStore.Integrity.IntegrityVerifier(db.DataSource).VerifyAllAsync();
        Assert.True(integrity.IsIntact, string.Join("; ", integrity.Violations.Take(3)));
    }

    [Fact]
    public async Task a_refused_sequence_writes_nothing_and_the_rest_of_its_batch_is_written()
    {
        await StartAsync();
        await PlanAllAsync(db);
        MoveClockTo(db, D(2020, 1, 20));
        var before = await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events");
        var (_, centreBefore) = await db.Congresses.LoadAsync(CongressOf(Centre));

        var outcomes = await db.Congresses.HandleBatchAsync(
        [
            Preparation(db, Branch1),
            // The Centre's preparation stops at its last step: comments on a draft it has not prepared.
            [.. Preparation(db, Centre).Take(3), new CollectComments(CongressOf(Centre), DraftKind.ReviewReport, 1, 1, db.As(Centre))],
            // An organisation nobody registered.
            [Plan(db, "chi-bo-moi", "03-KH/CB", D(2020, 3, 1), new(D(2020, 1, 16), D(2020, 5, 3)), null)],
        ]);

        Assert.Null(outcomes[0].Refusal);
        Assert.Equal(7, outcomes[0].Result!.Events.Count);
        Assert.Equal(CongressErrors.IncompletePreparation, outcomes[1].Refusal?.Code);
        Assert.Equal(Domain.Organizations.OrganizationErrors.NotRegistered, outcomes[2].Refusal?.Code);
        Assert.Equal(before + 7, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events"));
        Assert.Equal("AwaitingApproval", await db.ScalarAsync<string>("SELECT stage FROM congress.congresses WHERE organization_id = $1", Branch1));
        Assert.Equal((centreBefore, 0), (await db.ScalarAsync<long>("SELECT version FROM congress.congresses WHERE organization_id = $1", Centre),
            await db.ScalarAsync<long>("SELECT count(*) FROM congress.congresses WHERE organization_id = 'chi-bo-moi'")));
        Assert.Equal($"approval-requested > {Centre}", await db.ScalarAsync<string>("SELECT string_agg(kind || ' > ' || organization_id, ',') FROM congress.inbox"));
    }

    [Fact]
    public async Task facts_read_for_a_batch_hold_a_plan_to_its_superiors_window_and_a_committee_to_its_subordinates_congresses()
    {
        await StartAsync();
        await PlanAllAsync(db);
        await db.Organizations.RegisterAsync("chi-bo-moi", "Chi bộ mới", Domain.Organizations.OrganizationLevel.Branch, Domain.Organizations.Sector.PublicServiceUnit,
            Centre, db.As(Central, "organisation-department"));

        MoveClockTo(db, D(2020, 1, 20));
        await PrepareAndSubmitAsync(db, Centre);
        await Approve(db, Centre, Ministry, "120-QĐ/ĐUB");

        // The Centre sets its branches 16/01-03/05/2020; the Centre may not convene before its branches have.
        var outcomes = await db.Congresses.HandleBatchAsync(
        [
            [Plan(db, "chi-bo-moi", "03-KH/CB", D(2020, 6, 1), new(D(2020, 5, 20), D(2020, 6, 10)), null)],
            [Convene(db, Centre, D(2020, 1, 20))],
        ]);
        var twice = await Assert.ThrowsAsync<ArgumentException>(() => db.Congresses.HandleBatchAsync(
            [[new PrepareDraft(CongressOf(Branch1), DraftKind.ReviewReport, db.As(Branch1))], [new PrepareDraft(CongressOf(Branch1), DraftKind.PoliticalReport, db.As(Branch1))]]));

        Assert.Equal(CongressErrors.WindowOutsideSuperior, outcomes[0].Refusal?.Code);
        Assert.Equal(CongressErrors.SubordinatesIncomplete, outcomes[1].Refusal?.Code);
        Assert.Contains(Branch1, outcomes[1].Refusal!.Message, StringComparison.Ordinal);
        Assert.Contains(Branch2, outcomes[1].Refusal!.Message, StringComparison.Ordinal);
        Assert.Contains("chi-bo-moi", outcomes[1].Refusal!.Message, StringComparison.Ordinal);
        Assert.Contains("one command per stream", twice.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_amendment_whose_cascade_reaches_a_congress_written_in_the_same_batch_follows_it_as_it_now_is()
    {
        await StartAsync();
        await PlanAllAsync(db);
        var day = D(2020, 1, 20);
        MoveClockTo(db, day);

        var outcomes = await db.Congresses.HandleBatchAsync(
        [
            Preparation(db, Centre),
            [MinistryNarrowsItsWindow(db, day)],
        ]);

        Assert.All(outcomes, o => Assert.Null(o.Refusal));
        var centre = await db.Store.ReadStreamAsync(CongressOf(Centre));
        var followed = Assert.IsType<CongressPlanAmended>(centre[^1].Data);
        Assert.Equal(CongressOf(Ministry), followed.FollowsSuperior);
        Assert.Equal(new DateOnly(2020, 6, 20), followed.Terms.Window.End);
        Assert.IsType<CongressSubmitted>(centre[^2].Data);
        Assert.Equal(centre[^1].StreamVersion, await db.ScalarAsync<long>("SELECT version FROM congress.congresses WHERE organization_id = $1", Centre));
    }

    /// <summary>Two committees amend in one batch: each cascade reaches its own followers (read for both at once), with its own change.</summary>
    [Fact]
    public async Task amendments_of_two_committees_in_one_batch_each_reach_their_own_followers()
    {
        await StartAsync();
        await PlanAllAsync(db);
        var day = D(2020, 1, 20);
        MoveClockTo(db, day);

        var outcomes = await db.Congresses.HandleBatchAsync(
        [
            [MinistryNarrowsItsWindow(db, day)],
            [new AmendPlan(CongressOf(Centre), Doc("12-KH/ĐU"), day, D(2020, 5, 28), new(D(2020, 4, 1), D(2020, 6, 30)), new(D(2020, 1, 16), D(2020, 4, 30)),
                [new Deadline(Milestone.CongressHeld, D(2020, 6, 30))], null, db.As(Centre))],
        ]);

        Assert.All(outcomes, o => Assert.Null(o.Refusal));
        var centre = Assert.IsType<CongressPlanAmended>((await db.Store.ReadStreamAsync(CongressOf(Centre)))[^1].Data);
        Assert.Equal((CongressOf(Ministry), D(2020, 6, 20)), (centre.FollowsSuperior, centre.Terms.Window.End));
        foreach (var branch in new[] { Branch1, Branch2 })
        {
            var amendments = (await db.Store.ReadStreamAsync(CongressOf(branch))).Select(e => e.Data).OfType<CongressPlanAmended>().ToList();
            var followed = Assert.Single(amendments);
            Assert.Equal((CongressOf(Centre), D(2020, 4, 30)), (followed.FollowsSuperior, followed.Terms.Window.End));
        }
    }
}

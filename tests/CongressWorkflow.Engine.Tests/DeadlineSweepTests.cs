using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Time;
using CongressWorkflow.EventStore;
using CongressWorkflow.Testing;
using static CongressWorkflow.Engine.Tests.Subtree;

namespace CongressWorkflow.Engine.Tests;

/// <summary>
/// The Centre's congress is due by 30/06/2020 (its plan's window end): the sweep runs once a simulated day, and the
/// ledger must hold each step on its day, to the right organisation, once.
/// </summary>
public sealed class sweeping_deadlines_day_by_day(EngineDatabase db) : IClassFixture<EngineDatabase>, IAsyncLifetime
{
    private static readonly DateOnly Due = D(2020, 6, 30);

    public async Task InitializeAsync()
    {
        await db.ResetAsync();
        await BuildTreeAsync(db);
        await db.Congresses.HandleAsync(Plan(db, Centre, "10-KH/ĐU", D(2020, 5, 28), new(D(2020, 4, 1), Due), null));
    }

    public Task DisposeAsync() => Task.CompletedTask;

    /// <summary>Sweeps every day from tomorrow to the last day given, as Hangfire would every few minutes.</summary>
    private async Task SweepDailyUntilAsync(DateOnly last)
    {
        for (var day = DateOnly.FromDateTime(db.Clock.GetUtcNow().UtcDateTime).AddDays(1); day <= last; day = day.AddDays(1))
        {
            MoveClockTo(db, day);
            await db.Sweep.RunAsync();
        }
    }

    private async Task<List<(string Step, DateOnly On, string Status, string Recipients, DateOnly Due)>> LedgerAsync(Milestone milestone = Milestone.CongressHeld)
    {
        var rows = await db.Deadlines.LedgerAsync(Campaign, Central, subtree: true, null, null);
        return [.. rows.Where(r => r.Milestone == DeadlineReadModel.Name(milestone) && r.CongressId == CongressOf(Centre))
            .OrderBy(r => r.OnDay).ThenBy(r => r.ScheduledOn)
            .Select(r => (r.StepKey, r.OnDay, r.Status, string.Join(",", r.Recipients), r.DueOn))];
    }

    [Fact]
    public async Task each_reminder_the_overdue_alert_and_the_two_step_escalation_go_out_on_their_days_to_the_right_committee()
    {
        await SweepDailyUntilAsync(D(2020, 7, 31));

        Assert.Equal(
            [
                ("reminder-30", D(2020, 5, 31), "sent", Centre, Due), ("reminder-7", D(2020, 6, 23), "sent", Centre, Due),
                ("reminder-1", D(2020, 6, 29), "sent", Centre, Due), ("overdue", D(2020, 7, 1), "sent", Centre, Due),
                ("escalation", D(2020, 7, 8), "sent", Ministry, Due), ("further-escalation", D(2020, 7, 22), "sent", Bloc, Due),
            ],
            await LedgerAsync());
        var ledger = await db.Store.ReadStreamAsync(DeadlineSweep.LedgerStreamId(Campaign, Centre));
        Assert.Equal(6, ledger.Count(e => e.Data is NotificationRecorded { Milestone: Milestone.CongressHeld }));
        Assert.All(ledger, e => Assert.Equal(((NotificationRecorded)e.Data).NotificationId, e.EventId));
    }

    /// <summary>The Centre's plan amended on 10/06: its congress is due by 31/07 instead of 30/06.</summary>
    private Task AmendToTheEndOfJulyAsync() => db.Congresses.HandleAsync(new AmendPlan(CongressOf(Centre), Doc("12-KH/ĐU"), D(2020, 6, 10), D(2020, 7, 20),
        new(D(2020, 4, 1), D(2020, 7, 31)), null, [new Deadline(Milestone.CongressHeld, D(2020, 7, 31))], null, db.As(Centre)));

    /// <summary>The replaced due date (30/06): its last day in force and its next step.</summary>
    private Task<string> ReplacedDueDateAsync() => db.ScalarAsync<string>(
        "SELECT effective_until || ' ' || coalesce(next_step_on::text, 'none') FROM congress.deadlines WHERE congress_id = $1 AND milestone = 'congress-held' AND due_on = $2",
        CongressOf(Centre), Due);

    [Fact]
    public async Task an_amendment_moves_the_remaining_steps_to_the_new_due_date()
    {
        await SweepDailyUntilAsync(D(2020, 6, 10));
        await AmendToTheEndOfJulyAsync();
        await SweepDailyUntilAsync(D(2020, 8, 1));

        var ledger = await LedgerAsync();
        Assert.Equal([("reminder-30", D(2020, 5, 31), "sent", Centre, Due)], ledger.Where(l => l.Due == Due));
        Assert.Equal(
            [("reminder-30", D(2020, 7, 1)), ("reminder-7", D(2020, 7, 24)), ("reminder-1", D(2020, 7, 30)), ("overdue", D(2020, 8, 1))],
            ledger.Where(l => l.Due == D(2020, 7, 31)).Select(l => (l.Step, l.On)));
        // The replaced due date has no step left to look at: no sweep keeps passing over it.
        Assert.Equal("2020-06-09 none", await ReplacedDueDateAsync());
    }

    [Fact]
    public async Task a_postponement_without_a_new_date_is_chased_and_escalated_until_the_congress_is_rescheduled()
    {
        MoveClockTo(db, D(2020, 4, 10));
        await db.Congresses.HandleAsync(new ScheduleCongress(CongressOf(Centre), new(D(2020, 4, 27), D(2020, 4, 27)), db.As(Centre)));
        MoveClockTo(db, D(2020, 4, 15));
        await db.Congresses.HandleAsync(new PostponeCongress(CongressOf(Centre), "COVID-19: giãn cách xã hội", db.As(Centre)));
        await SweepDailyUntilAsync(D(2020, 4, 23));
        await db.Congresses.HandleAsync(new RescheduleCongress(CongressOf(Centre), new(D(2020, 5, 8), D(2020, 5, 8)), "hết giãn cách", db.As(Centre)));
        await SweepDailyUntilAsync(D(2020, 5, 20));

        Assert.Equal([("overdue", D(2020, 4, 16), "sent", Centre, D(2020, 4, 15)), ("escalation", D(2020, 4, 23), "sent", Ministry, D(2020, 4, 15))],
            await LedgerAsync(Milestone.NewDateSet));
        var board = await db.Deadlines.BoardAsync(Campaign, Centre, D(2020, 5, 20), 30, includeMet: true);
        Assert.True(board.Single(d => d.Milestone == "new-date-set").IsMet);
    }

    [Fact]
    public async Task holding_the_congress_cancels_the_steps_still_to_come()
    {
        await SweepDailyUntilAsync(D(2020, 6, 24));
        await PrepareAndSubmitAsync(db, Centre);
        await Approve(db, Centre, Ministry, "150-QĐ/ĐUB");
        await db.Congresses.HandleAsync(new GrantBottomUpExemption(CongressOf(Centre), Doc("748-CV/ĐUB"), "đại hội điểm", db.As(Ministry, "standing-committee")));
        await db.Congresses.HandleAsync(Convene(db, Centre, D(2020, 6, 24)) with { DelegatesPresent = 98, DelegatesExpected = 100 });
        await SweepDailyUntilAsync(D(2020, 7, 31));

        Assert.Equal(["reminder-30", "reminder-7"], (await LedgerAsync()).Select(l => l.Step));
        var held = (await db.Deadlines.BoardAsync(Campaign, Centre, D(2020, 7, 31), 30, includeMet: true)).Single(d => d.Milestone == "congress-held");
        Assert.Equal((true, D(2020, 6, 24), (DateOnly?)null), (held.IsMet, held.MetOn, held.NextStepOn));
    }

    [Fact]
    public async Task after_three_weeks_of_downtime_one_sweep_sends_one_late_step_per_deadline_and_records_the_skipped_ones()
    {
        await SweepDailyUntilAsync(D(2020, 6, 20));
        MoveClockTo(db, D(2020, 7, 11));
        var report = await db.Sweep.RunAsync();

        var ledger = await db.Deadlines.LedgerAsync(Campaign, Centre, subtree: false, D(2020, 7, 11), D(2020, 7, 11));
        var sent = Assert.Single(ledger, l => l.Status == "sent");
        Assert.Equal(("escalation", true, Ministry), (sent.StepKey, sent.Late, sent.Recipients.Single()));
        Assert.Equal(["overdue", "reminder-1", "reminder-7"], ledger.Where(l => l.Status == "skipped").Select(l => l.StepKey).Order());
        Assert.All(ledger.Where(l => l.Status == "skipped"), l => Assert.Contains("only the step due now is sent", l.Reason, StringComparison.Ordinal));
        Assert.Equal((1, 1, 3), (report.Deadlines, report.Sent, report.Skipped));
    }

    [Fact]
    public async Task two_nodes_sweeping_at_once_and_a_repeated_sweep_record_each_step_once()
    {
        MoveClockTo(db, D(2020, 5, 31));
        await using var otherNode = Npgsql.NpgsqlDataSource.Create(db.ConnectionString);
        var nodes = new[] { db.Sweep, new DeadlineSweep(new PostgresEventStore(otherNode, DomainEventTypes.CreateRegistry(), db.Clock), otherNode, db.Clock) };

        var reports = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => nodes[i % 2].RunAsync())));
        var again = await db.Sweep.RunAsync();

        Assert.Equal(1, reports.Sum(r => r.Sent));
        Assert.Equal(0, again.Sent);
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.events WHERE event_type = 'notification.recorded'"));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM congress.inbox"));
        var step = Assert.Single(await db.Deadlines.LedgerAsync(Campaign, Centre, subtree: false, null, null), r => r.Status == "sent");
        Assert.Equal([("inbox", Centre, "delivered")], step.Deliveries.Select(d => (d.Channel, d.Target, d.Status)));
    }

    /// <summary>
    /// A command that rewrites a deadline (here an amendment that keeps the due date and names the new plan) reads the row,
    /// then a sweep records a step on it and commits, then the command writes. The row is held locked meanwhile, so the
    /// order is forced: the sweep queues first, the command's write second. The command must not put back the step as it
    /// read it: the next sweep would decide the same step again, and the store refuses its id, so every sweep after would
    /// fail on that batch.
    /// </summary>
    [Fact]
    public async Task a_command_writing_a_deadline_a_sweep_has_just_moved_on_keeps_the_sweeps_step_and_the_next_sweep_goes_on()
    {
        await SweepDailyUntilAsync(D(2020, 5, 30));
        MoveClockTo(db, D(2020, 5, 31));
        await using var holder = new Npgsql.NpgsqlConnection(db.ConnectionString);
        await holder.OpenAsync();
        await using var hold = await holder.BeginTransactionAsync();
        await using (var lockRow = new Npgsql.NpgsqlCommand(
            "SELECT 1 FROM congress.deadlines WHERE congress_id = $1 AND milestone = 'congress-held' FOR UPDATE", holder, hold))
        {
            lockRow.Parameters.AddPositional(CongressOf(Centre));
            await lockRow.ExecuteScalarAsync();
        }

        var sweep = Task.Run(() => db.Sweep.RunAsync());
        await WaitForLockWaitersAsync(1);
        var amendment = Task.Run(() => db.Congresses.HandleAsync(new AmendPlan(CongressOf(Centre), Doc("11-KH/ĐU"), D(2020, 5, 31), D(2020, 6, 20),
            new(D(2020, 4, 1), Due), null, [new Deadline(Milestone.CongressHeld, Due)], null, db.As(Centre))));
        await WaitForLockWaitersAsync(2);
        await hold.RollbackAsync();
        Assert.Equal(1, (await sweep).Sent);
        Assert.Contains((await amendment).Events, e => e is CongressPlanAmended);

        Assert.Equal("2020-05-31 2020-06-23 11-KH/ĐU", await db.ScalarAsync<string>(
            "SELECT coalesce(last_step_on::text, 'none') || ' ' || coalesce(next_step_on::text, 'none') || ' ' || plan_document FROM congress.deadlines WHERE congress_id = $1 AND milestone = 'congress-held'",
            CongressOf(Centre)));
        await SweepDailyUntilAsync(D(2020, 6, 23));
        Assert.Equal([("reminder-30", D(2020, 5, 31)), ("reminder-7", D(2020, 6, 23))], (await LedgerAsync()).Select(l => (l.Step, l.On)));
    }

    /// <summary>
    /// A deadline whose row lost track of a step already recorded (its last step put back, as the race above once did):
    /// the sweep that decides that step again finds its id taken. It passes over it and moves the deadline on, instead
    /// of failing on that batch at every sweep from then on.
    /// </summary>
    [Fact]
    public async Task a_sweep_that_decides_a_step_already_recorded_passes_over_it_and_the_deadline_moves_on()
    {
        await SweepDailyUntilAsync(D(2020, 5, 31));
        await db.ExecuteAsync("UPDATE congress.deadlines SET last_step_on = NULL, next_step_on = '2020-05-31' WHERE congress_id = $1 AND milestone = 'congress-held'",
            CongressOf(Centre));

        MoveClockTo(db, D(2020, 6, 1));
        var report = await db.Sweep.RunAsync();

        Assert.Equal((1, 0, 0), (report.Deadlines, report.Sent, report.Skipped));
        Assert.Equal("2020-05-31 2020-06-23", await db.ScalarAsync<string>(
            "SELECT last_step_on || ' ' || next_step_on FROM congress.deadlines WHERE congress_id = $1 AND milestone = 'congress-held'", CongressOf(Centre)));
        await SweepDailyUntilAsync(D(2020, 6, 23));
        Assert.Equal([("reminder-30", D(2020, 5, 31)), ("reminder-7", D(2020, 6, 23))], (await LedgerAsync()).Select(l => (l.Step, l.On)));
        Assert.Equal(1L, await db.ScalarAsync<long>("""
            SELECT count(*) FROM congress.inbox
            WHERE notification_id IN (SELECT notification_id FROM congress.notifications WHERE milestone = 'congress-held' AND step_key = 'reminder-30')
            """));
    }

    /// <summary>A dissolution closes the unit's open deadlines; after a move, the decision on its submission falls to the new superior.</summary>
    [Fact]
    public async Task a_move_hands_the_decision_to_the_new_superior_and_a_dissolution_closes_the_units_deadlines()
    {
        await PrepareAndSubmitAsync(db, Centre);
        await db.Congresses.HandleAsync(Plan(db, Branch1, "01-KH/CB", D(2020, 3, 1), new(D(2020, 1, 16), D(2020, 5, 3)), null));
        await db.Organizations.RegisterAsync("bo-2", "Bộ 2", Domain.Organizations.OrganizationLevel.Ministry, null, Bloc, db.As(Central));

        await db.Organizations.MoveAsync(Centre, "bo-2", db.As(Central));
        await db.Organizations.DissolveAsync(Branch1, "sáp nhập", db.As(Central));

        Assert.Equal("bo-2", await db.ScalarAsync<string>(
            "SELECT responsible_id FROM congress.deadlines WHERE congress_id = $1 AND milestone = 'submission-decided'", CongressOf(Centre)));
        Assert.Equal("organization-dissolved none", await db.ScalarAsync<string>(
            "SELECT string_agg(DISTINCT closed_reason || ' ' || coalesce(next_step_on::text, 'none'), ',') FROM congress.deadlines WHERE congress_id = $1",
            CongressOf(Branch1)));
    }

    /// <summary>Waits until this many sessions of the test database wait for a lock (its own: nothing else runs on it).</summary>
    private async Task WaitForLockWaitersAsync(int count)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await db.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") < count)
        {
            await Task.Delay(20, limit.Token);
        }
    }

    [Fact]
    public async Task a_step_is_in_the_recipients_inbox_when_the_sweep_commits_without_passing_through_the_outbox()
    {
        MoveClockTo(db, D(2020, 5, 31));

        var report = await db.Sweep.RunAsync();

        Assert.Equal(1, report.Sent);
        var item = await db.ScalarAsync<string>("SELECT organization_id || ' ' || kind FROM congress.inbox");
        Assert.Equal($"{Centre} reminder", item);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM event_store.outbox WHERE destination = 'notify.inbox'"));
    }

    [Fact]
    public async Task an_inbox_item_is_its_own_delivery_record_read_as_delivered_in_the_ledger_and_the_deliveries_list()
    {
        MoveClockTo(db, D(2020, 5, 31));

        await db.Sweep.RunAsync();

        var item = Assert.Single(await db.Deadlines.InboxAsync(Centre, 0, unreadOnly: false));
        var step = Assert.Single(await db.Deadlines.LedgerAsync(Campaign, Centre, subtree: false, null, null));
        var delivery = Assert.Single(step.Deliveries);
        Assert.Equal((item.ItemId, step.NotificationId, "inbox", Centre, "delivered", 1), (delivery.DeliveryId, delivery.NotificationId, delivery.Channel,
            delivery.Target, delivery.Status, delivery.Attempts));
        Assert.Equal(item.CreatedAt, delivery.DeliveredAt);
        Assert.Equal([delivery], await db.Deadlines.DeliveriesAsync("delivered"));
        Assert.Equal([delivery], await db.Deadlines.DeliveriesAsync(null));
        Assert.Empty(await db.Deadlines.DeliveriesAsync("dead-lettered"));
        // Written once: no delivery row repeats the item.
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM congress.deliveries"));
    }

    [Fact]
    public async Task a_sweep_with_more_deadlines_due_than_a_batch_takes_records_each_step_once_and_leaves_none_due()
    {
        // 2,500 branches under the Centre, all due with it: more than a batch (500) in every share, so a share's later
        // batches start after the last deadline its previous batch took.
        var branches = Enumerable.Range(1, 2_500).Select(i => $"chi-bo-so-{i}").ToList();
        var csv = "id,name,level,sector,parent_id\n" + string.Concat(branches.Select(b => $"{b},Chi bộ {b},branch,public-service-unit,{Centre}\n"));
        Assert.True((await db.Import.ImportAsync(csv, Import.ImportFormat.Csv, db.As(Central))).Succeeded);
        foreach (var part in branches.Chunk(1_000))
        {
            var outcomes = await db.Congresses.HandleBatchAsync([.. part.Select(b => (IReadOnlyList<CongressCommand>)[Plan(db, b, "01-KH/CB", D(2020, 5, 28), new(D(2020, 4, 1), Due), null)])]);
            Assert.All(outcomes, o => Assert.Null(o.Refusal));
        }

        MoveClockTo(db, D(2020, 5, 31));
        var first = await db.Sweep.RunAsync();
        var again = await db.Sweep.RunAsync();

        Assert.Equal((2_501, 0), (first.Sent, again.Sent));
        Assert.Equal((2_501L, 2_501L), (
            await db.ScalarAsync<long>("SELECT count(*) FROM congress.notifications WHERE step_key = 'reminder-30' AND status = 'sent'"),
            await db.ScalarAsync<long>("SELECT count(DISTINCT congress_id) FROM congress.notifications WHERE step_key = 'reminder-30'")));
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM congress.deadlines WHERE next_step_on <= '2020-05-31'"));
    }

    [Fact]
    public async Task a_policy_change_re_times_the_open_deadlines()
    {
        await db.Policies.SetAsync(Campaign, DeadlinePolicy.Default with { ReminderDaysBefore = [14, 2] }, "Hướng dẫn mới", db.As(Central));
        await SweepDailyUntilAsync(D(2020, 6, 30));

        Assert.Equal([("reminder-14", D(2020, 6, 16)), ("reminder-2", D(2020, 6, 28))], (await LedgerAsync()).Select(l => (l.Step, l.On)));
    }

    [Fact]
    public async Task a_policy_change_whose_new_step_has_passed_makes_it_due_that_day_and_the_next_sweep_sends_it()
    {
        await SweepDailyUntilAsync(D(2020, 6, 20));
        await db.Policies.SetAsync(Campaign, DeadlinePolicy.Default with { ReminderDaysBefore = [14, 2] }, "Hướng dẫn mới", db.As(Central));

        // Its reminder-14 fell on 16/06, before the change: written as due on 20/06, not on a day below where the next
        // sweep starts (19/06, the day before the last sweep's).
        Assert.Equal(D(2020, 6, 20), await NextStepAsync(Centre));
        await SweepDailyUntilAsync(D(2020, 6, 30));
        Assert.Equal([("reminder-30", D(2020, 5, 31)), ("reminder-14", D(2020, 6, 21)), ("reminder-2", D(2020, 6, 28))],
            (await LedgerAsync()).Select(l => (l.Step, l.On)));
    }

    [Fact]
    public async Task a_policy_change_gives_a_replaced_due_date_no_step_to_look_at_even_one_that_fell_while_it_was_in_force()
    {
        await SweepDailyUntilAsync(D(2020, 6, 10));
        await AmendToTheEndOfJulyAsync();
        MoveClockTo(db, D(2020, 6, 20));
        // 30/06 was replaced from 10/06; the new reminder-26 of 30/06 fell on 04/06, while it was in force, and is past.
        await db.Policies.SetAsync(Campaign, DeadlinePolicy.Default with { ReminderDaysBefore = [26] }, "Hướng dẫn mới", db.As(Central));

        Assert.Equal("2020-06-09 none", await ReplacedDueDateAsync());
    }

    [Fact]
    public async Task an_inbox_item_an_older_version_wrote_under_its_former_id_is_still_read_as_the_steps_delivery()
    {
        MoveClockTo(db, D(2020, 5, 31));
        await db.Sweep.RunAsync();
        var step = Assert.Single(await db.Deadlines.LedgerAsync(Campaign, Centre, subtree: false, null, null));
        // Before 2026-11-24 an item's id was the plain hash of its name, with nothing of the step's id in front.
        Assert.Equal(1, await db.ExecuteAsync("UPDATE congress.inbox SET item_id = $2 WHERE item_id = $1",
            InboxItems.NotificationItemId(step.NotificationId, Centre), Domain.Common.DeterministicId.From($"delivery|{step.NotificationId}|inbox|{Centre}")));

        var read = Assert.Single(await db.Deadlines.LedgerAsync(Campaign, Centre, subtree: false, null, null));

        Assert.Equal([("inbox", Centre, "delivered")], read.Deliveries.Select(d => (d.Channel, d.Target, d.Status)));
    }

    /// <summary>Plans the two branches (due with the Centre) and sweeps 31/05, their reminder-30: each looks next on 23/06.</summary>
    private async Task SweepTheBranchesReminderAsync()
    {
        foreach (var branch in new[] { Branch1, Branch2 })
        {
            await db.Congresses.HandleAsync(Plan(db, branch, "01-KH/CB", D(2020, 5, 28), new(D(2020, 4, 1), Due), null));
        }

        MoveClockTo(db, D(2020, 5, 31));
        Assert.Equal(3, (await db.Sweep.RunAsync()).Sent);
    }

    private Task SetNextStepAsync(string organizationId, DateOnly day) => db.ExecuteAsync(
        "UPDATE congress.deadlines SET next_step_on = $2 WHERE congress_id = $1 AND milestone = 'congress-held'", CongressOf(organizationId), day);

    private Task<DateOnly> NextStepAsync(string organizationId) => db.ScalarAsync<DateOnly>(
        "SELECT next_step_on FROM congress.deadlines WHERE congress_id = $1 AND milestone = 'congress-held'", CongressOf(organizationId));

    [Fact]
    public async Task a_sweep_reads_the_due_deadlines_from_the_day_before_the_last_complete_sweep()
    {
        await SweepTheBranchesReminderAsync();
        // Days no writer of this version writes (each writes no day before its own), as a node of an older version could.
        await SetNextStepAsync(Branch1, D(2020, 5, 30));
        await SetNextStepAsync(Branch2, D(2020, 5, 29));

        MoveClockTo(db, D(2020, 6, 1));
        var report = await db.Sweep.RunAsync();

        // 30/05, the day before the last sweep's, is read (and retimed to the next step); 29/05 is below where it starts.
        Assert.Equal((1, 0), (report.Deadlines, report.Sent));
        Assert.Equal((D(2020, 6, 23), D(2020, 5, 29)), (await NextStepAsync(Branch1), await NextStepAsync(Branch2)));
    }

    [Fact]
    public async Task a_sweep_with_the_clock_behind_the_last_one_reads_the_due_deadlines_from_the_first_day()
    {
        await SweepTheBranchesReminderAsync();
        await SetNextStepAsync(Branch2, D(2020, 5, 1));

        // Another node's clock, behind this one's (a simulation's clock only moves forward).
        var behind = new DeadlineSweep(db.Store, db.DataSource, new ManualTimeProvider(new DateTimeOffset(2020, 5, 20, 2, 0, 0, TimeSpan.Zero)));
        var report = await behind.RunAsync();

        Assert.Equal(1, report.Deadlines);
        Assert.Equal(D(2020, 6, 23), await NextStepAsync(Branch2));
    }
}

public sealed class delivery_ids
{
    [Fact]
    public void a_steps_deliveries_are_the_same_on_every_run_and_sort_beside_the_step()
    {
        var step = NotificationSchedule.NotificationId(CongressOf(Centre), Milestone.CongressHeld, D(2020, 6, 30), "reminder-7");
        var nextDays = NotificationSchedule.NotificationId(CongressOf(Centre), Milestone.CongressHeld, D(2020, 7, 1), "reminder-7");

        var item = InboxItems.NotificationItemId(step, Centre);

        Assert.Equal(item, InboxItems.NotificationItemId(step, Centre));
        Assert.NotEqual(item, InboxItems.NotificationItemId(step, Ministry));
        Assert.Equal(step.ToByteArray(bigEndian: true)[..4], item.ToByteArray(bigEndian: true)[..4]);
        // In PostgreSQL's order of uuids (by their bytes), before the steps due a day later.
        Assert.True(string.CompareOrdinal(Convert.ToHexString(item.ToByteArray(bigEndian: true)), Convert.ToHexString(nextDays.ToByteArray(bigEndian: true))) < 0);
    }
}

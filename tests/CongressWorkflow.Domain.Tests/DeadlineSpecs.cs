using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using static CongressWorkflow.Domain.Tests.Spec;

namespace CongressWorkflow.Domain.Tests;

public sealed class notification_schedule
{
    private static readonly DateOnly Due = new(2020, 6, 30);
    private static readonly DateOnly Known = new(2020, 1, 1);

    [Fact]
    public void the_default_schedule_is_three_reminders_an_overdue_alert_and_two_escalations()
    {
        var steps = NotificationSchedule.For(Due, DeadlinePolicy.Default);

        Assert.Equal(
            [("reminder-30", new DateOnly(2020, 5, 31)), ("reminder-7", new DateOnly(2020, 6, 23)), ("reminder-1", new DateOnly(2020, 6, 29)),
             ("overdue", new DateOnly(2020, 7, 1)), ("escalation", new DateOnly(2020, 7, 8)), ("further-escalation", new DateOnly(2020, 7, 22))],
            steps.Select(s => (s.Key, s.On)));
    }

    [Theory]
    [InlineData("2020-05-31", null, "reminder-30")]
    [InlineData("2020-06-23", "2020-05-31", "reminder-7")]
    [InlineData("2020-06-29", "2020-06-23", "reminder-1")]
    [InlineData("2020-07-01", "2020-06-29", "overdue")]
    [InlineData("2020-07-08", "2020-07-01", "escalation")]
    [InlineData("2020-07-22", "2020-07-08", "further-escalation")]
    public void each_step_goes_out_on_its_day_and_not_late(string today, string? last, string expected)
    {
        var decision = NotificationSchedule.Decide(Due, Known, null, last is null ? null : DateOnly.Parse(last, System.Globalization.CultureInfo.InvariantCulture),
            DeadlinePolicy.Default, DateOnly.Parse(today, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(expected, decision.Send?.Key);
        Assert.False(decision.Late);
        Assert.Empty(decision.Skipped);
    }

    [Fact]
    public void nothing_is_due_between_steps_and_the_next_look_is_the_next_step()
    {
        var decision = NotificationSchedule.Decide(Due, Known, null, new DateOnly(2020, 5, 31), DeadlinePolicy.Default, new DateOnly(2020, 6, 10));

        Assert.Null(decision.Send);
        Assert.Equal(new DateOnly(2020, 6, 23), decision.NextOn);
    }

    [Fact]
    public void after_three_weeks_down_only_the_step_due_now_goes_out_late_and_the_others_are_skipped_with_a_reason()
    {
        var decision = NotificationSchedule.Decide(Due, Known, null, new DateOnly(2020, 5, 31), DeadlinePolicy.Default, new DateOnly(2020, 7, 9));

        Assert.Equal("escalation", decision.Send!.Key);
        Assert.True(decision.Late);
        Assert.Equal(["reminder-7", "reminder-1", "overdue"], decision.Skipped.Select(s => s.Step.Key));
        Assert.All(decision.Skipped, s => Assert.Contains("only the step due now is sent", s.Reason, StringComparison.Ordinal));
        Assert.Equal(new DateOnly(2020, 7, 22), decision.NextOn);
    }

    [Fact]
    public void a_quiet_day_holds_a_step_back_to_the_next_working_day_without_calling_it_late()
    {
        var sundays = DeadlinePolicy.Default with { QuietWeekdays = [DayOfWeek.Sunday] };
        var sunday = new DateOnly(2020, 5, 31);

        var onSunday = NotificationSchedule.Decide(Due, Known, null, null, sundays, sunday);
        var onMonday = NotificationSchedule.Decide(Due, Known, null, null, sundays, sunday.AddDays(1));

        Assert.Equal(DayOfWeek.Sunday, sunday.DayOfWeek);
        Assert.Null(onSunday.Send);
        Assert.Equal(sunday.AddDays(1), onSunday.NextOn);
        Assert.Equal("reminder-30", onMonday.Send!.Key);
        Assert.False(onMonday.Late);
    }

    [Fact]
    public void steps_before_the_deadline_existed_never_happen()
    {
        // A decision due 15 days after a submission has no 30-day reminder to send or skip.
        var submitted = new DateOnly(2020, 6, 15);

        var decision = NotificationSchedule.Decide(Due, submitted, null, null, DeadlinePolicy.Default, submitted);

        Assert.Null(decision.Send);
        Assert.Empty(decision.Skipped);
        Assert.Equal(new DateOnly(2020, 6, 23), decision.NextOn);
    }

    [Fact]
    public void steps_after_a_later_plan_version_replaced_the_deadline_never_happen()
    {
        // An amendment taking effect on 24/06 ends this due date's time in force on 23/06: its 7-day reminder is the last.
        var endsOn = new DateOnly(2020, 6, 23);

        var onItsLastDay = NotificationSchedule.Decide(Due, Known, endsOn, new DateOnly(2020, 5, 31), DeadlinePolicy.Default, endsOn);
        var afterwards = NotificationSchedule.Decide(Due, Known, endsOn, new DateOnly(2020, 6, 23), DeadlinePolicy.Default, new DateOnly(2020, 7, 9));

        Assert.Equal("reminder-7", onItsLastDay.Send!.Key);
        Assert.Null(onItsLastDay.NextOn);
        Assert.Null(afterwards.Send);
        Assert.Empty(afterwards.Skipped);
        Assert.Null(afterwards.NextOn);
    }

    [Fact]
    public void a_step_has_the_same_ledger_id_on_every_node_and_every_run()
    {
        var a = NotificationSchedule.NotificationId(CongressId, Milestone.CongressHeld, Due, "reminder-7");
        var b = NotificationSchedule.NotificationId(CongressId, Milestone.CongressHeld, Due, "reminder-7");
        var other = NotificationSchedule.NotificationId(CongressId, Milestone.CongressHeld, Due.AddDays(1), "reminder-7");

        Assert.Equal(a, b);
        Assert.NotEqual(a, other);
        Assert.Equal(8, a.Version);
    }

    [Fact]
    public void steps_due_on_one_day_have_ids_that_sort_together_before_those_of_the_next_day()
    {
        var steps = new[] { "reminder-30", "reminder-7", "reminder-1", "overdue", "escalation" };
        var ids = Enumerable.Range(0, 40).SelectMany(day => Enumerable.Range(0, 50).SelectMany(unit => steps.Select(step =>
            (Day: day, Id: NotificationSchedule.NotificationId($"congress-xiii-chi-bo-{unit}", Milestone.CongressHeld, Due.AddDays(day), step))))).ToList();

        // PostgreSQL orders uuids by their bytes, most significant first: as the days, whatever the congress or step.
        var sorted = ids.OrderBy(i => Convert.ToHexString(i.Id.ToByteArray(bigEndian: true)), StringComparer.Ordinal).Select(i => i.Day).ToList();
        Assert.Equal(ids.Select(i => i.Day).Order(), sorted);
        Assert.Equal(ids.Count, ids.Select(i => i.Id).Distinct().Count());
        Assert.All(ids, i => Assert.Equal((8, 0x80), (i.Id.Version, i.Id.ToByteArray(bigEndian: true)[8] & 0xC0)));
    }
}

public sealed class deadline_policy
{
    private static readonly CommandContext Admin = new("ban-to-chuc", Roles.Admin, "trung-uong", At(new DateOnly(2019, 6, 1)));

    [Theory]
    [InlineData(new[] { 0 }, 7, 14, 15, "reminders")]
    [InlineData(new[] { 7, 7 }, 7, 14, 15, "reminders")]
    [InlineData(new[] { 30 }, 0, 14, 15, "escalateAfterDays")]
    [InlineData(new[] { 30 }, 7, 400, 15, "escalateFurtherAfterDays")]
    [InlineData(new[] { 30 }, 7, 14, -1, "decisionDays")]
    public void unsound_numbers_are_refused_with_the_field_named(int[] reminders, int escalate, int further, int decision, string field)
    {
        var policy = DeadlinePolicy.Default with
        {
            ReminderDaysBefore = reminders, EscalateAfterDays = escalate, EscalateFurtherAfterDays = further, DecisionDays = decision,
        };

        var error = ThenRejected(CampaignDeadlinePolicy.Decide(new SetDeadlinePolicy(Campaign, policy, "26-HD/TW", true, Admin), CampaignDeadlinePolicy.None),
            DeadlineErrors.InvalidPolicy);
        Assert.Contains(field, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void a_week_of_quiet_days_an_unknown_role_or_no_reason_is_refused()
    {
        var allWeek = DeadlinePolicy.Default with { QuietWeekdays = Enum.GetValues<DayOfWeek>() };
        var unknownRole = DeadlinePolicy.Default with { EscalationRoles = ["chairman"] };

        ThenRejected(CampaignDeadlinePolicy.Decide(new SetDeadlinePolicy(Campaign, allWeek, "x", true, Admin), CampaignDeadlinePolicy.None), DeadlineErrors.InvalidPolicy);
        ThenRejected(CampaignDeadlinePolicy.Decide(new SetDeadlinePolicy(Campaign, unknownRole, "x", true, Admin), CampaignDeadlinePolicy.None),
            DeadlineErrors.InvalidPolicy);
        ThenRejected(CampaignDeadlinePolicy.Decide(new SetDeadlinePolicy(Campaign, DeadlinePolicy.Default, " ", true, Admin), CampaignDeadlinePolicy.None),
            DeadlineErrors.ReasonRequired);
        ThenRejected(CampaignDeadlinePolicy.Decide(new SetDeadlinePolicy(Campaign, DeadlinePolicy.Default, "x", false, Admin), CampaignDeadlinePolicy.None),
            Campaigns.CampaignErrors.NotStarted);
    }

    [Fact]
    public void a_policy_is_recorded_with_who_and_why_and_setting_it_again_changes_nothing()
    {
        var policy = DeadlinePolicy.Default with { ReminderDaysBefore = [1, 30, 7], QuietWeekdays = [DayOfWeek.Sunday] };

        var set = Assert.IsType<DeadlinePolicySet>(Assert.Single(ThenAccepted(
            CampaignDeadlinePolicy.Decide(new SetDeadlinePolicy(Campaign, policy, "Hướng dẫn 26-HD/TW", true, Admin), CampaignDeadlinePolicy.None))));
        var state = CampaignDeadlinePolicy.Evolve(CampaignDeadlinePolicy.None, set);
        var again = ThenAccepted(CampaignDeadlinePolicy.Decide(new SetDeadlinePolicy(Campaign, policy, "again", true, Admin), state));

        Assert.Equal([30, 7, 1], set.Policy.ReminderDaysBefore);
        Assert.Equal(("ban-to-chuc", "Hướng dẫn 26-HD/TW"), (set.SetBy, set.Reason));
        Assert.Empty(again);
    }
}

public sealed class deriving_a_congress_deadlines
{
    private static readonly IssuePlan IssuedPlan = new(CongressId, Campaign, Centre, Ministry, Doc("10-KH/ĐU"), null, PlanDate, PlannedDate, Window, null,
        [new Deadline(Milestone.SubmittedToSuperior, new DateOnly(2020, 5, 7))], false, MinistryWindowForSubordinates, Secretary(PlanDate));

    private static Congress Planned() => Given(ThenAccepted(CongressDecider.Decide(IssuedPlan, Congress.None)).ToArray());

    private static IReadOnlyList<DerivedDeadline> Open(Congress state) =>
        [.. CongressDeadlines.Derive(state, Ministry, DeadlinePolicy.Default).Where(d => !d.IsMet)];

    [Fact]
    public void a_plan_dates_its_milestones_and_the_congress_is_due_by_the_window_end()
    {
        var deadlines = Open(Planned());

        Assert.Equal([(Milestone.SubmittedToSuperior, new DateOnly(2020, 5, 7)), (Milestone.CongressHeld, Window.End)],
            deadlines.Select(d => (d.Milestone, d.Due)));
        Assert.All(deadlines, d => Assert.Equal(("10-KH/ĐU", PlanDate, Centre), (d.PlanDocument, d.EffectiveFrom, d.ResponsibleOrganizationId)));
    }

    [Fact]
    public void an_amendment_moves_the_deadline_from_its_effective_date_on()
    {
        var amendedOn = new DateOnly(2020, 3, 12);
        var state = Congress.Evolve(Planned(), new CongressPlanAmended(CongressId, "10-KH/ĐU",
            new PlanTerms("12-KH/ĐU", amendedOn, PlannedDate, new DateWindow(Window.Start, new DateOnly(2020, 7, 15)), null, []), "u"));

        var held = CongressDeadlines.Derive(state, Ministry, DeadlinePolicy.Default).Where(d => d.Milestone == Milestone.CongressHeld).ToList();

        Assert.Equal([(Window.End, PlanDate, (DateOnly?)amendedOn.AddDays(-1), "10-KH/ĐU"), (new DateOnly(2020, 7, 15), amendedOn, null, "12-KH/ĐU")],
            held.Select(d => (d.Due, d.EffectiveFrom, d.EffectiveUntil, d.PlanDocument)));
    }

    [Fact]
    public void a_postponement_opens_a_deadline_for_a_new_date_that_a_reschedule_meets()
    {
        var postponedOn = new DateOnly(2020, 4, 15);
        var postponed = Congress.Evolve(Congress.Evolve(Planned(), new CongressScheduled(CongressId, new DateWindow(new DateOnly(2020, 4, 27), new DateOnly(2020, 4, 27)))),
            new CongressPostponed(CongressId, "COVID-19", postponedOn));
        var rescheduled = Congress.Evolve(postponed, new CongressRescheduled(CongressId, new DateWindow(new DateOnly(2020, 5, 8), new DateOnly(2020, 5, 8)), "hết giãn cách"));

        var newDate = Assert.Single(Open(postponed), d => d.Milestone == Milestone.NewDateSet);
        Assert.Equal(postponedOn, newDate.Due);
        Assert.DoesNotContain(Open(rescheduled), d => d.Milestone == Milestone.NewDateSet);
    }

    [Fact]
    public void a_submission_makes_the_superior_owe_a_decision_and_holding_the_congress_meets_its_deadline()
    {
        var submittedOn = new DateOnly(2020, 4, 20);
        var submitted = Congress.Evolve(Planned(), new CongressSubmitted(CongressId, 1, Ministry, "u", submittedOn));
        var held = Congress.Evolve(Congress.Evolve(submitted, new SubmissionApproved(CongressId, 1, Ministry, "u", "150-QĐ/ĐUB", submittedOn.AddDays(5))),
            new CongressConvened(CongressId, PlannedDate, 98, 100, 12, 180, "10-KH/ĐU", PlannedDate, 0, false));

        var decision = Assert.Single(Open(submitted), d => d.Milestone == Milestone.SubmissionDecided);
        Assert.Equal((submittedOn.AddDays(15), Ministry), (decision.Due, decision.ResponsibleOrganizationId));
        Assert.DoesNotContain(Open(submitted), d => d.Milestone == Milestone.SubmittedToSuperior);
        Assert.Empty(Open(held));
        Assert.Equal(PlannedDate, CongressDeadlines.Derive(held, Ministry, DeadlinePolicy.Default).Single(d => d.Milestone == Milestone.CongressHeld).MetOn);
    }

    [Fact]
    public void at_the_top_there_is_no_superior_to_submit_to()
    {
        var deadlines = CongressDeadlines.Derive(Planned(), null, DeadlinePolicy.Default);

        Assert.Equal([Milestone.CongressHeld], deadlines.Select(d => d.Milestone));
    }
}

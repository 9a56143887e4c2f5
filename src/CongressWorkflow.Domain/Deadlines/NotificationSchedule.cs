using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;

namespace CongressWorkflow.Domain.Deadlines;

public enum NotificationStep
{
    /// <summary>Nhắc hạn: some days before the deadline, to the organisation that must act.</summary>
    Reminder,

    /// <summary>Quá hạn: the day after a missed deadline.</summary>
    Overdue,

    /// <summary>Báo cáo cấp trên: to the direct superior committee, some days overdue.</summary>
    Escalation,

    /// <summary>To the level above the superior, more days overdue still.</summary>
    FurtherEscalation,
}

/// <summary>One step of a deadline's schedule and the day it falls due.</summary>
public sealed record ScheduledStep(NotificationStep Step, int DaysBefore, DateOnly On)
{
    /// <summary>Stable name of the step within a deadline: reminder-30, overdue, escalation, further-escalation.</summary>
    public string Key => Step switch
    {
        NotificationStep.Reminder => $"reminder-{DaysBefore}",
        NotificationStep.Overdue => "overdue",
        NotificationStep.Escalation => "escalation",
        _ => "further-escalation",
    };
}

/// <summary>What a sweep does with one deadline today: the step to send (if any), the steps it passes over, and when to look again.</summary>
public sealed record StepDecision(ScheduledStep? Send, bool Late, IReadOnlyList<(ScheduledStep Step, string Reason)> Skipped, DateOnly? NextOn);

/// <summary>
/// The schedule of a deadline's notifications and the sweep's rule: of the steps that have fallen due since the last
/// one recorded, only the latest goes out (marked late if its day had passed), the others are recorded as skipped with
/// the reason, so a sweep after a long downtime sends one message per deadline, not a flood.
/// </summary>
public static class NotificationSchedule
{
    public static IReadOnlyList<ScheduledStep> For(DateOnly due, DeadlinePolicy policy)
    {
        var steps = policy.ReminderDaysBefore.OrderDescending().Select(d => new ScheduledStep(NotificationStep.Reminder, d, due.AddDays(-d))).ToList();
        var overdue = due.AddDays(1);
        if (policy.OverdueAlert)
        {
            steps.Add(new ScheduledStep(NotificationStep.Overdue, -1, overdue));
        }

        var escalation = overdue.AddDays(policy.EscalateAfterDays);
        steps.Add(new ScheduledStep(NotificationStep.Escalation, -1 - policy.EscalateAfterDays, escalation));
        var further = escalation.AddDays(policy.EscalateFurtherAfterDays);
        steps.Add(new ScheduledStep(NotificationStep.FurtherEscalation, -1 - policy.EscalateAfterDays - policy.EscalateFurtherAfterDays, further));
        return steps;
    }

    /// <summary>
    /// The steps still to come: while the deadline is in force (a 30-day reminder of a 15-day period never was; nor is
    /// one after a later plan version has replaced it), and after the last recorded.
    /// </summary>
    public static IReadOnlyList<ScheduledStep> Pending(DateOnly due, DateOnly startsOn, DateOnly? endsOn, DateOnly? lastStepOn, DeadlinePolicy policy) =>
        [.. For(due, policy).Where(s => s.On >= startsOn && (endsOn is null || s.On <= endsOn) && (lastStepOn is null || s.On > lastStepOn))];

    /// <param name="startsOn">The day the deadline came into force (its plan's effective date, or the day its period began).</param>
    /// <param name="endsOn">Its last day in force (the day before a later plan version takes effect); null while no later one has.</param>
    /// <param name="lastStepOn">The day of the last step recorded for this deadline (sent or skipped); null before any.</param>
    public static StepDecision Decide(DateOnly due, DateOnly startsOn, DateOnly? endsOn, DateOnly? lastStepOn, DeadlinePolicy policy, DateOnly today)
    {
        var pending = Pending(due, startsOn, endsOn, lastStepOn, policy);
        var fallen = pending.Where(s => s.On <= today).ToList();
        if (fallen.Count == 0 || policy.IsQuiet(today))
        {
            return new StepDecision(null, false, [], pending.Count == 0 ? null : fallen.Count > 0 ? today.AddDays(1) : pending[0].On);
        }

        var send = fallen[^1];
        var skipped = fallen.Take(fallen.Count - 1)
            .Select(s => (s, $"its day {s.On:dd/MM/yyyy} had passed when the {send.Key} step fell due on {today:dd/MM/yyyy}: only the step due now is sent"))
            .ToList();
        var next = pending.FirstOrDefault(s => s.On > send.On);
        return new StepDecision(send, today > policy.FirstWorkingDayFrom(send.On), skipped, next?.On);
    }

    /// <summary>
    /// The ledger id of a step: the same deadline, due date and step always give the same id, on every node and every
    /// run. It starts with the due date, so a day's steps (all due within weeks of it) are stored near each other.
    /// </summary>
    public static Guid NotificationId(string congressId, Milestone milestone, DateOnly due, string stepKey) =>
        DeterministicId.From($"notification|{congressId}|{milestone}|{due:yyyy-MM-dd}|{stepKey}", due);
}

[StoredAs("notification.recorded")]
public sealed record NotificationRecorded(
    Guid NotificationId, string CampaignId, string CongressId, string OrganizationId, Milestone Milestone, DateOnly DueOn, NotificationStep Step,
    string StepKey, DateOnly ScheduledOn, DateOnly SentOn, bool Late, int DaysLeft, string? PlanDocument, IReadOnlyList<string> Recipients);

[StoredAs("notification.skipped")]
public sealed record NotificationSkipped(
    Guid NotificationId, string CampaignId, string CongressId, string OrganizationId, Milestone Milestone, DateOnly DueOn, string StepKey,
    DateOnly ScheduledOn, DateOnly SkippedOn, string Reason);

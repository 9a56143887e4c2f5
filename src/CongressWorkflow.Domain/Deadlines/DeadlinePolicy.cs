using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Deadlines;

/// <summary>
/// How a campaign chases its deadlines: reminders before each one, an alert the day after it is missed, escalation to
/// the direct superior committee after some days overdue and to the level above after more; days on which nothing is
/// sent; which roles of the recipient organisation are written to at each step; and the periods that set the deadlines
/// the plans do not date themselves (a superior's decision, recognition of results, dissemination, a new date after a
/// postponement).
/// </summary>
public sealed record DeadlinePolicy(
    IReadOnlyList<int> ReminderDaysBefore,
    bool OverdueAlert,
    int EscalateAfterDays,
    int EscalateFurtherAfterDays,
    IReadOnlyList<DayOfWeek> QuietWeekdays,
    IReadOnlyList<DateOnly> QuietDates,
    IReadOnlyList<string> ReminderRoles,
    IReadOnlyList<string> OverdueRoles,
    IReadOnlyList<string> EscalationRoles,
    int DecisionDays,
    int RecognitionDays,
    int DisseminationDays,
    int RescheduleDays)
{
    public static DeadlinePolicy Default { get; } = new(
        [30, 7, 1], true, 7, 14, [], [], [Roles.Secretariat], [Roles.Secretariat, Roles.Committee], [Roles.Committee],
        DecisionDays: 15, RecognitionDays: 15, DisseminationDays: 30, RescheduleDays: 0);

    /// <summary>Nothing is sent on a quiet day; what falls due then goes out on the next day that is not quiet.</summary>
    public bool IsQuiet(DateOnly day) => QuietWeekdays.Contains(day.DayOfWeek) || QuietDates.Contains(day);

    /// <summary>The first day on or after <paramref name="day"/> that is not quiet (validation keeps two weekdays open).</summary>
    public DateOnly FirstWorkingDayFrom(DateOnly day)
    {
        while (IsQuiet(day))
        {
            day = day.AddDays(1);
        }

        return day;
    }

    /// <summary>The roles written to at a step.</summary>
    public IReadOnlyList<string> RolesFor(NotificationStep step) => step switch
    {
        NotificationStep.Reminder => ReminderRoles,
        NotificationStep.Overdue => OverdueRoles,
        _ => EscalationRoles,
    };

    /// <summary>The first rule the policy breaks, or null when it is sound.</summary>
    public DomainError? Validate()
    {
        static DomainError Invalid(string message) => new(DeadlineErrors.InvalidPolicy, message);

        if (ReminderDaysBefore is null || QuietWeekdays is null || QuietDates is null || ReminderRoles is null || OverdueRoles is null || EscalationRoles is null)
        {
            return Invalid("every list of the policy must be given (it may be empty where that is allowed)");
        }

        if (ReminderDaysBefore.Count > 10 || ReminderDaysBefore.Any(d => d is < 1 or > 365) || ReminderDaysBefore.Distinct().Count() != ReminderDaysBefore.Count)
        {
            return Invalid("reminders are at most ten distinct numbers of days before a deadline, each from 1 to 365");
        }

        foreach (var (name, days, min) in new[]
        {
            ("escalateAfterDays", EscalateAfterDays, 1), ("escalateFurtherAfterDays", EscalateFurtherAfterDays, 1),
            ("decisionDays", DecisionDays, 1), ("recognitionDays", RecognitionDays, 1), ("disseminationDays", DisseminationDays, 1),
            ("rescheduleDays", RescheduleDays, 0),
        })
        {
            if (days < min || days > 365)
            {
                return Invalid($"{name} must be from {min} to 365 days, not {days}");
            }
        }

        if (QuietWeekdays.Any(d => !Enum.IsDefined(d)) || QuietWeekdays.Distinct().Count() != QuietWeekdays.Count || QuietWeekdays.Count > 5)
        {
            return Invalid("quiet weekdays are distinct days of the week, at most five: notifications need two days a week to go out");
        }

        if (QuietDates.Count > 366 || QuietDates.Any(d => d.Year is < 2000 or > 2100))
        {
            return Invalid("quiet dates are at most 366 days between the years 2000 and 2100");
        }

        foreach (var (name, roles) in new[] { ("reminderRoles", ReminderRoles), ("overdueRoles", OverdueRoles), ("escalationRoles", EscalationRoles) })
        {
            if (roles.Count == 0 || roles.Any(r => !Roles.IsKnown(r)) || roles.Distinct(StringComparer.Ordinal).Count() != roles.Count)
            {
                return Invalid($"{name} names at least one of the roles {string.Join(", ", Roles.All)}, each once");
            }
        }

        return null;
    }

    /// <summary>Value equality over the lists too: setting the same policy again changes nothing.</summary>
    public bool SameAs(DeadlinePolicy other) =>
        ReminderDaysBefore.SequenceEqual(other.ReminderDaysBefore) && OverdueAlert == other.OverdueAlert
        && EscalateAfterDays == other.EscalateAfterDays && EscalateFurtherAfterDays == other.EscalateFurtherAfterDays
        && QuietWeekdays.SequenceEqual(other.QuietWeekdays) && QuietDates.SequenceEqual(other.QuietDates)
        && ReminderRoles.SequenceEqual(other.ReminderRoles) && OverdueRoles.SequenceEqual(other.OverdueRoles)
        && EscalationRoles.SequenceEqual(other.EscalationRoles) && DecisionDays == other.DecisionDays
        && RecognitionDays == other.RecognitionDays && DisseminationDays == other.DisseminationDays && RescheduleDays == other.RescheduleDays;
}

public static class DeadlineErrors
{
    public const string InvalidPolicy = "deadline-policy-invalid";
    public const string ReasonRequired = "deadline-policy-reason-required";
}

[StoredAs("deadline-policy.set")]
public sealed record DeadlinePolicySet(string CampaignId, DeadlinePolicy Policy, string Reason, string SetBy, DateTimeOffset SetAt);

/// <param name="CampaignExists">A fact the engine gathers.</param>
public sealed record SetDeadlinePolicy(string CampaignId, DeadlinePolicy Policy, string Reason, bool CampaignExists, CommandContext Context);

/// <summary>A campaign's deadline policy as its events leave it: the default until someone sets one.</summary>
public sealed record CampaignDeadlinePolicy(string CampaignId, DeadlinePolicy Policy, bool IsSet)
{
    public static CampaignDeadlinePolicy None { get; } = new(string.Empty, DeadlinePolicy.Default, false);

    public static string StreamId(string campaignId) => "deadline-policy-" + campaignId;

    public static Decision Decide(SetDeadlinePolicy c, CampaignDeadlinePolicy state) =>
        !c.CampaignExists ? Decision.Reject(CampaignErrors.NotStarted, $"there is no campaign '{c.CampaignId}'")
        : c.Policy.Validate() is { } error ? Decision.Reject(error.Code, error.Message)
        : string.IsNullOrWhiteSpace(c.Reason) ? Decision.Reject(DeadlineErrors.ReasonRequired, "say why the policy changes (e.g. the guidance that sets it)")
        : c.Reason.Length > 2000 || c.Reason.Any(ch => char.IsControl(ch) && ch is not ('\n' or '\r' or '\t'))
            ? Decision.Reject(DeadlineErrors.InvalidPolicy, "the reason is plain text of at most 2,000 characters")
        : state.IsSet && state.Policy.SameAs(Normalise(c.Policy)) ? Decision.Accept()
        : Decision.Accept(new DeadlinePolicySet(c.CampaignId, Normalise(c.Policy), c.Reason.Trim(), c.Context.UserId, c.Context.Now));

    public static CampaignDeadlinePolicy Evolve(CampaignDeadlinePolicy state, object @event) => @event switch
    {
        DeadlinePolicySet e => new CampaignDeadlinePolicy(e.CampaignId, e.Policy, true),
        _ => throw new InvalidOperationException($"a deadline policy cannot apply {@event.GetType().Name}"),
    };

    /// <summary>Reminders latest-first and quiet days in order, so equal policies are stored alike.</summary>
    private static DeadlinePolicy Normalise(DeadlinePolicy p) => p with
    {
        ReminderDaysBefore = [.. p.ReminderDaysBefore.OrderDescending()],
        QuietWeekdays = [.. p.QuietWeekdays.Order()],
        QuietDates = [.. p.QuietDates.Order()],
    };
}

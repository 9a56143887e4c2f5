using CongressWorkflow.Integrity;
using System.Reflection;
using CongressWorkflow.Contracts;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Audit;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Congresses;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.Engine.Import;
using CongressWorkflow.Engine.Monitoring;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Integrity;
using CongressWorkflow.EventStore.Projections;
using CongressWorkflow.EventStore.Serialization;
using Microsoft.AspNetCore.Http.Metadata;

// The API's own response types: what the wire promises, mapped from the domain's and the engine's records, so
// renaming a field there cannot change the API by accident (the OpenAPI document is generated from these).
namespace CongressWorkflow.Server.Api;

public sealed record CommandAnswer(string StreamId, long Version, IReadOnlyList<string> Events);

public sealed record WindowConflictView(string OrganizationId, WindowDto Window, string SuperiorOrganizationId, WindowDto SuperiorWindow)
{
    public static WindowConflictView From(WindowConflict c) => new(c.OrganizationId, WindowDto.From(c.Window), c.SuperiorOrganizationId, WindowDto.From(c.SuperiorWindow));
}

public sealed record AmendmentAnswer(string StreamId, long Version, IReadOnlyList<WindowConflictView> WindowConflicts);

public sealed record SubscriptionCreated(string Id, string? Secret, long Version);

public sealed record DeadlineView(Milestone Milestone, DateOnly Due);

public sealed record PlanView(string Document, DateOnly EffectiveOn, DateOnly PlannedDate, WindowDto Window, WindowDto? SubordinateWindow, IReadOnlyList<DeadlineView> Deadlines)
{
    public static PlanView From(PlanTerms p) => new(p.Document, p.EffectiveOn, p.PlannedDate, WindowDto.From(p.Window),
        p.SubordinateWindow is null ? null : WindowDto.From(p.SubordinateWindow), [.. p.Deadlines.Select(d => new DeadlineView(d.Milestone, d.Due))]);
}

public sealed record PersonnelPlanView(int Seats, int Candidates, decimal SurplusPercent, int Women, int Youth, DateOnly PreparedOn);

public sealed record ConveningView(DateOnly ConvenedOn, int DelegatesPresent, int DelegatesExpected, int UnitsRepresented, int MembersRepresented,
    string PlanInForce, DateOnly PlannedDate, int DaysLate, bool Exempted);

public sealed record ElectionsView(int ExecutiveCommittee, int StandingCommittee, string Secretary, int DeputySecretaries, int InspectionCommittee,
    string? InspectionChair, int Delegates, int AlternateDelegates);

/// <summary>A congress's state as the API shows it.</summary>
public sealed record CongressStateView(
    CongressStage Stage, string CampaignId, string OrganizationId, string? SuperiorOrganizationId, bool IsPilot, IReadOnlyList<PlanView> Plans,
    IReadOnlyList<SubcommitteeKind> Subcommittees, IReadOnlyList<DraftKind> Drafts, IReadOnlyList<DraftKind> CommentedDrafts,
    PersonnelPlanView? PersonnelPlan, int SubmissionRound, int ReturnedRounds, WindowDto? Schedule, bool IsPostponed, string? Exemption,
    ConveningView? Convened, ElectionsView? Elections, string? RecognisedBy, string? Resolution, string? ActionProgramme, int UnitsReached,
    IReadOnlyDictionary<string, DateOnly> Reached, DateOnly? SubmittedOn, DateOnly? DecidedOn, DateOnly? PostponedOn, DateOnly? ElectedOn,
    DateOnly? RecognisedOn, DateOnly? ResolvedOn, DateOnly? DisseminatedOn)
{
    public static CongressStateView From(Congress s) => new(
        s.Stage, s.CampaignId, s.OrganizationId, s.SuperiorOrganizationId, s.IsPilot, [.. s.Plans.Select(PlanView.From)],
        [.. s.Subcommittees.Order()], [.. s.Drafts.Order()], [.. s.CommentedDrafts.Order()],
        s.PersonnelPlan is { } p ? new PersonnelPlanView(p.Seats, p.Candidates, p.SurplusPercent, p.Women, p.Youth, p.PreparedOn) : null,
        s.SubmissionRound, s.ReturnedRounds, s.Schedule is null ? null : WindowDto.From(s.Schedule), s.IsPostponed, s.Exemption,
        s.Convened is { } c ? new ConveningView(c.ConvenedOn, c.DelegatesPresent, c.DelegatesExpected, c.UnitsRepresented, c.MembersRepresented,
            c.PlanInForce, c.PlannedDate, c.DaysLate, c.Exempted) : null,
        s.Elections is { } e ? new ElectionsView(e.ExecutiveCommittee, e.StandingCommittee, e.Secretary, e.DeputySecretaries, e.InspectionCommittee,
            e.InspectionChair, e.Delegates, e.AlternateDelegates) : null,
        s.RecognisedBy, s.Resolution, s.ActionProgramme, s.UnitsReached,
        s.Reached.OrderBy(r => r.Key).ToDictionary(r => Wire.Name(r.Key), r => r.Value),
        s.SubmittedOn, s.DecidedOn, s.PostponedOn, s.ElectedOn, s.RecognisedOn, s.ResolvedOn, s.DisseminatedOn);
}

public sealed record CongressView(string CongressId, long Version, DateOnly? AsOf, DateTimeOffset? KnownAt, PlanView? PlanInForce, CongressStateView State);

public sealed record OrganizationView(string Id, string Name, OrganizationLevel Level, Sector? Sector, string? ParentId, bool IsDissolved, long Version)
{
    public static OrganizationView From(OrganizationNode n) => new(n.Id, n.Name, n.Level, n.Sector, n.ParentId, n.IsDissolved, n.Version);
}

public sealed record ImportErrorView(int Line, string? OrganizationId, string Reason);

public sealed record ImportAnswer(int Registered, int Renamed, int Moved, int Unchanged, int ContactsChanged, IReadOnlyList<ImportErrorView> Errors)
{
    public static ImportAnswer From(ImportReport r) => new(r.Registered, r.Renamed, r.Moved, r.Unchanged, r.ContactsChanged,
        [.. r.Errors.Select(e => new ImportErrorView(e.Line, e.OrganizationId, e.Reason))]);
}

public sealed record CampaignView(string Id, string Name, string Directive, int TermStart, int TermEnd, int BranchTermEnd)
{
    public static CampaignView From(CampaignInfo c) => new(c.Id, c.Name, c.Directive, c.TermStart, c.TermEnd, c.BranchTermEnd);
}

/// <summary>The monitoring reports as the wire carries them (the records live in CongressWorkflow.Contracts, shared with the CLI).</summary>
public static class ProgressViews
{
    public static ProgressView Of(ProgressReport r) => new(r.CampaignId, r.OrganizationId, r.Name, r.CurrentName, r.AsOf,
        [.. r.Levels.Select(l => new LevelProgressView(l.Level, l.Total, l.Held, l.Percent, l.Early, l.OnTime, l.Late, l.Overdue, l.NotYetDue, l.NotPlanned))],
        new SubordinateCompletionView(r.Subordinates.Completed, r.Subordinates.Total),
        new CompletionView(r.Completion.CompletedOn, r.Completion.Deadline, r.Completion.DaysEarly));

    public static SubordinateProgressView Of(SubordinateProgress s) => new(s.OrganizationId, s.Name, s.CurrentName, s.Level, s.Units, s.Held, s.Percent, s.Overdue, s.HeldOn, s.DaysLate);

    public static DueCongressView Of(DeadlineItem d) => new(d.OrganizationId, d.Name, d.CurrentName, d.Level, d.ParentName, d.PlannedDate, d.Deadline, d.Days);
}

/// <summary>A unit found in a subtree, with its congress on the day asked about.</summary>
public sealed record UnitStatusView(
    string OrganizationId, string Name, string CurrentName, OrganizationLevel Level, Sector? Sector, string? ParentName, bool IsPilot, DateOnly? PlannedDate,
    DateOnly? Deadline, DateOnly? HeldOn, int? DaysLate, bool IsOverdue)
{
    public static UnitStatusView From(UnitStatus u) => new(u.OrganizationId, u.Name, u.CurrentName, u.Level, u.Sector, u.ParentName, u.IsPilot, u.PlannedDate,
        u.Deadline, u.HeldOn, u.DaysLate, u.IsOverdue);
}

/// <summary>A page of units, and how many match in all.</summary>
public sealed record UnitPageView(int Total, IReadOnlyList<UnitStatusView> Units);

public sealed record ConformanceEvidenceView(string StreamId, long Version, long GlobalPosition, string What, DateOnly? On);

public sealed record ConformanceFindingView(string Code, string OrganizationId, DateOnly On, string Message, IReadOnlyList<ConformanceEvidenceView> Evidence);

public sealed record ConformanceReportView(string CampaignId, string RootOrganizationId, int Organizations, int EventsReplayed, int Violations,
    IReadOnlyList<ConformanceFindingView> Findings)
{
    public static ConformanceReportView From(ConformanceReport r) => new(r.CampaignId, r.RootOrganizationId, r.Organizations, r.EventsReplayed,
        r.Findings.Count(f => f.Code is not (ConformanceReplay.DeadlineMissed or ConformanceReplay.BackDated)),
        [.. r.Findings.Select(f => new ConformanceFindingView(f.Code, f.OrganizationId, f.On, f.Message,
            [.. f.Evidence.Select(e => new ConformanceEvidenceView(e.StreamId, e.Version, e.GlobalPosition, e.What, e.On))]))]);
}

public sealed record TrailEntryView(long GlobalPosition, Guid EventId, string StreamId, long StreamVersion, string CampaignId, string OrganizationId, string Action,
    int? Round, string ByOrganization, string ByUser, string ByRole, string? Document, string? Comments, DateOnly OccurredOn, DateTimeOffset RecordedAt,
    bool BackDated, string Hash)
{
    public static TrailEntryView From(AuditEntry a) => new(a.GlobalPosition, a.EventId, a.StreamId, a.StreamVersion, a.CampaignId, a.OrganizationId, a.Action,
        a.Round, a.ByOrganization, a.ByUser, a.ByRole, a.Document, a.Comments, a.OccurredOn, a.RecordedAt, a.BackDated, a.Hash);
}

/// <summary>
/// The trail as CSV (RFC 4180): every entry with its stream, version, global position and hash. A cell that a
/// spreadsheet would run as a formula (starting with =, +, -, @, tab or carriage return) is prefixed with a quote.
/// </summary>
public static class TrailCsv
{
    private static readonly string[] Header =
    [
        "occurred_on", "action", "organization_id", "round", "by_organization", "by_user", "by_role", "document", "comments", "stream_id",
        "stream_version", "global_position", "event_id", "recorded_at", "back_dated", "hash",
    ];

    public static string Write(IReadOnlyList<TrailEntryView> entries)
    {
        var csv = new System.Text.StringBuilder();
        csv.AppendJoin(',', Header).Append("\r\n");
        foreach (var e in entries)
        {
            csv.AppendJoin(',', new[]
            {
                e.OccurredOn.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), e.Action, e.OrganizationId,
                e.Round?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? string.Empty, e.ByOrganization, e.ByUser, e.ByRole,
                e.Document ?? string.Empty, e.Comments ?? string.Empty, e.StreamId, e.StreamVersion.ToString(System.Globalization.CultureInfo.InvariantCulture),
                e.GlobalPosition.ToString(System.Globalization.CultureInfo.InvariantCulture), e.EventId.ToString(),
                e.RecordedAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture), e.BackDated ? "true" : "false", e.Hash,
            }.Select(Cell)).Append("\r\n");
        }

        return csv.ToString();
    }

    private static string Cell(string value)
    {
        var safe = value.Length > 0 && value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' ? "'" + value : value;
        return safe.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + safe.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : safe;
    }
}

public sealed record DeadlinePolicyView(IReadOnlyList<int> ReminderDaysBefore, bool OverdueAlert, int EscalateAfterDays, int EscalateFurtherAfterDays,
    IReadOnlyList<DayOfWeek> QuietWeekdays, IReadOnlyList<DateOnly> QuietDates, IReadOnlyList<string> ReminderRoles, IReadOnlyList<string> OverdueRoles,
    IReadOnlyList<string> EscalationRoles, int DecisionDays, int RecognitionDays, int DisseminationDays, int RescheduleDays);

public sealed record PolicyInForceView(string CampaignId, DeadlinePolicyView Policy, bool IsDefault, string? Reason, string? SetBy, DateTimeOffset? SetAt)
{
    public static PolicyInForceView From(PolicyInForce p) => new(p.CampaignId, new DeadlinePolicyView(p.Policy.ReminderDaysBefore, p.Policy.OverdueAlert,
        p.Policy.EscalateAfterDays, p.Policy.EscalateFurtherAfterDays, p.Policy.QuietWeekdays, p.Policy.QuietDates, p.Policy.ReminderRoles,
        p.Policy.OverdueRoles, p.Policy.EscalationRoles, p.Policy.DecisionDays, p.Policy.RecognitionDays, p.Policy.DisseminationDays,
        p.Policy.RescheduleDays), p.IsDefault, p.Reason, p.SetBy, p.SetAt);
}

public sealed record OpenDeadlineView(string CongressId, string OrganizationId, string OrganizationName, string Milestone, DateOnly DueOn, string ResponsibleId,
    string? PlanDocument, bool IsMet, DateOnly? MetOn, string? ClosedReason, int DaysLeft, DateOnly? LastStepOn, DateOnly? NextStepOn)
{
    public static OpenDeadlineView From(DeadlineRow d) => new(d.CongressId, d.OrganizationId, d.OrganizationName, d.Milestone, d.DueOn, d.ResponsibleId,
        d.PlanDocument, d.IsMet, d.MetOn, d.ClosedReason, d.DaysLeft, d.LastStepOn, d.NextStepOn);
}

public sealed record DeliveryView(Guid DeliveryId, Guid? NotificationId, string Channel, string Target, string Status, int Attempts, string? LastError,
    DateTimeOffset UpdatedAt, DateTimeOffset? DeliveredAt)
{
    public static DeliveryView From(DeliveryRow d) => new(d.DeliveryId, d.NotificationId, d.Channel, d.Target, d.Status, d.Attempts, d.LastError, d.UpdatedAt, d.DeliveredAt);
}

public sealed record NotificationView(Guid NotificationId, string CampaignId, string CongressId, string OrganizationId, string OrganizationName, string Milestone,
    DateOnly DueOn, string StepKey, string? Step, string Status, DateOnly ScheduledOn, DateOnly OnDay, bool Late, int? DaysLeft, string? PlanDocument,
    IReadOnlyList<string> Recipients, string? Reason, string StreamId, IReadOnlyList<DeliveryView> Deliveries)
{
    public static NotificationView From(NotificationRow n) => new(n.NotificationId, n.CampaignId, n.CongressId, n.OrganizationId, n.OrganizationName,
        n.Milestone, n.DueOn, n.StepKey, n.Step, n.Status, n.ScheduledOn, n.OnDay, n.Late, n.DaysLeft, n.PlanDocument, n.Recipients, n.Reason, n.StreamId,
        [.. n.Deliveries.Select(DeliveryView.From)]);
}

public sealed record InboxItemView(Guid ItemId, long Sequence, string OrganizationId, Guid? NotificationId, string Kind, string Title, string Body,
    string? CongressId, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt)
{
    public static InboxItemView From(InboxItem i) => new(i.ItemId, i.Sequence, i.OrganizationId, i.NotificationId, i.Kind, i.Title, i.Body, i.CongressId,
        i.CreatedAt, i.ReadAt);
}

public sealed record InboxView(int Unread, IReadOnlyList<InboxItemView> Items);

public sealed record SubscriptionView(string Id, string Channel, string RootOrganizationId, string? Url, string CreatedBy, DateTimeOffset CreatedAt,
    DateTimeOffset? RemovedAt)
{
    public static SubscriptionView From(SubscriptionInfo s) => new(s.Id, s.Channel, s.RootOrganizationId, s.Url, s.CreatedBy, s.CreatedAt, s.RemovedAt);
}

public sealed record ContactView(string Role, string Email, string? Name, string Language)
{
    public static ContactView From(Contact c) => new(c.Role, c.Email, c.Name, c.Language);
}

public sealed record SweepView(DateOnly Day, bool Ran, int Deadlines, int Sent, int Skipped, int Deliveries, double TookMilliseconds)
{
    public static SweepView From(SweepReport r) => new(r.Day, r.Ran, r.Deadlines, r.Sent, r.Skipped, r.Deliveries, r.Took.TotalMilliseconds);
}

public sealed record QueuedView(string What, string Id);

public sealed record DatabaseView(string Mode, string? DataDirectory, int Port);

/// <summary>Where the monitoring reports read: the replica (when configured), whether it is a standby, how far behind it is.</summary>
public sealed record ReplicaView(bool Configured, bool InRecovery, double? SecondsBehind, string? ReplayedTo);

public sealed record StoreStatusView(long Streams, long Events, long HeadPosition, int SchemaVersion, DatabaseView Database, IReadOnlyList<PartitionView> Partitions);

/// <summary>
/// A partition of the events table ('' the shared one, otherwise a campaign's), with its events as PostgreSQL's statistics
/// estimate them (null until the table is first analysed).
/// </summary>
public sealed record PartitionView(string Key, string Table, long? EstimatedEvents)
{
    public static PartitionView From(PartitionInfo p) => new(p.Key, p.Table, p.EstimatedEvents);
}

public sealed record ViolationView(string StreamId, long StreamVersion, long? GlobalPosition, string Reason)
{
    public static ViolationView From(IntegrityViolation v) => new(v.StreamId, v.StreamVersion, v.GlobalPosition, v.Reason);
}

public sealed record VerificationView(bool IsIntact, long StreamsChecked, long EventsChecked, int CheckpointsChecked, ViolationView? FirstViolation,
    IReadOnlyList<ViolationView> Violations)
{
    public static VerificationView From(IntegrityReport r, int checkpoints) => new(r.IsIntact, r.StreamsChecked, r.EventsChecked, checkpoints,
        r.FirstViolation is null ? null : ViolationView.From(r.FirstViolation), [.. r.Violations.Select(ViolationView.From)]);
}

public sealed record CheckpointView(DateTimeOffset TakenAt, long HeadPosition, int Streams, string Root, string File)
{
    public static CheckpointView From(StoreCheckpoint c, string file) => new(c.TakenAt, c.HeadPosition, c.Streams.Count, c.Root, Path.GetFileName(file));

    public static CheckpointView From(CheckpointSummary c, string file) => new(c.TakenAt, c.HeadPosition, c.Streams, c.Root, Path.GetFileName(file));
}

public sealed record CheckpointListView(string PublicKey, string Folder, IReadOnlyList<CheckpointView> Checkpoints);

public sealed record ProjectionView(string Name, long Position, long HeadPosition, long Lag, string State, string? Error, long? FailedPosition, string? Owner,
    DateTimeOffset UpdatedAt)
{
    public static ProjectionView From(ProjectionStatus s) => new(s.Name, s.Position, s.HeadPosition, s.Lag, s.State.ToString().ToLowerInvariant(), s.Error,
        s.FailedPosition, s.Owner, s.UpdatedAt);
}

/// <summary>Enum values as the wire spells them (kebab-case names), for dictionary keys.</summary>
public static class Wire
{
    public static string Name<TEnum>(TEnum value)
        where TEnum : struct, Enum =>
        System.Text.Json.JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());
}

/// <summary>What a command did, as the API answers it: 200 (201 for something new) with the stream's version as the ETag.</summary>
public sealed class CommandAnswered(CommandAnswer answer, int statusCode) : IResult, IValueHttpResult, IValueHttpResult<CommandAnswer>, IStatusCodeHttpResult,
    IEndpointMetadataProvider
{
    public object Value => answer;

    CommandAnswer? IValueHttpResult<CommandAnswer>.Value => answer;

    public int? StatusCode => statusCode;

    public static CommandAnswered From(HttpContext http, CommandResult result, int statusCode = StatusCodes.Status200OK)
    {
        var registry = http.RequestServices.GetRequiredService<EventTypeRegistry>();
        return new CommandAnswered(new CommandAnswer(result.StreamId, result.Version, [.. result.Events.Select(e => registry.Describe(e.GetType()).Name)]), statusCode);
    }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers.ETag = $"\"{answer.Version}\"";
        return TypedResults.Json(answer, statusCode: statusCode).ExecuteAsync(httpContext);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(CommandAnswer), ["application/json"]));
    }
}

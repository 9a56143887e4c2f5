using CongressWorkflow.Domain.Organizations;

namespace CongressWorkflow.Contracts;

public sealed record LevelProgressView(OrganizationLevel Level, int Total, int Held, decimal Percent, int Early, int OnTime, int Late, int Overdue, int NotYetDue, int NotPlanned);

public sealed record SubordinateCompletionView(int Completed, int Total);

public sealed record CompletionView(DateOnly? CompletedOn, DateOnly? Deadline, int? DaysEarly);

/// <summary>How far a subtree's congresses had got on a day, level by level.</summary>
/// <param name="Name">The name on the day asked about; <paramref name="CurrentName"/> is today's.</param>
public sealed record ProgressView(string CampaignId, string OrganizationId, string Name, string CurrentName, DateOnly AsOf, IReadOnlyList<LevelProgressView> Levels,
    SubordinateCompletionView Subordinates, CompletionView Completion);

public sealed record SubordinateProgressView(string OrganizationId, string Name, string CurrentName, OrganizationLevel Level, int Units, int Held, decimal Percent, int Overdue,
    DateOnly? HeldOn, int? DaysLate);

public sealed record TimelinePointView(DateOnly Day, int Completed, int Planned);

/// <summary>A congress due (upcoming) or past its deadline (overdue) on a day.</summary>
public sealed record DueCongressView(string OrganizationId, string Name, string CurrentName, OrganizationLevel Level, string? ParentName, DateOnly PlannedDate, DateOnly Deadline, int Days);

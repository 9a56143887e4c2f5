using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Congresses;

/// <summary>A command on one congress (one organisation in one campaign), carrying who and when.</summary>
public abstract record CongressCommand(string CongressId, CommandContext Context);

/// <param name="SuperiorSubordinateWindow">The window the superior's plan in force sets for its subordinates; null at the top.</param>
public sealed record IssuePlan(
    string CongressId, string CampaignId, string OrganizationId, string? SuperiorOrganizationId, DocumentReference Plan,
    DocumentReference? CitesDocument, DateOnly IssuedOn, DateOnly PlannedDate, DateWindow Window, DateWindow? SubordinateWindow,
    IReadOnlyList<Deadline> Deadlines, bool IsPilot, DateWindow? SuperiorSubordinateWindow, CommandContext Context)
    : CongressCommand(CongressId, Context);

public sealed record AmendPlan(
    string CongressId, DocumentReference Amendment, DateOnly EffectiveOn, DateOnly PlannedDate, DateWindow Window, DateWindow? SubordinateWindow,
    IReadOnlyList<Deadline> Deadlines, DateWindow? SuperiorSubordinateWindow, CommandContext Context)
    : CongressCommand(CongressId, Context);

/// <summary>Derive the plan again after the superior's window for its subordinates changed (the engine issues it in the superior's transaction).</summary>
public sealed record FollowSuperiorPlan(string CongressId, SubordinateWindowChange Change, CommandContext Context) : CongressCommand(CongressId, Context);

/// <summary>The organisation moved under another parent (the engine issues it in the move's transaction).</summary>
public sealed record FollowNewSuperior(string CongressId, string NewSuperiorId, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record FormSubcommittee(string CongressId, SubcommitteeKind Kind, string Head, int Members, CommandContext Context)
    : CongressCommand(CongressId, Context);

public sealed record PrepareDraft(string CongressId, DraftKind Kind, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record CollectComments(string CongressId, DraftKind Draft, int UnitsConsulted, int CommentsReceived, CommandContext Context)
    : CongressCommand(CongressId, Context);

public sealed record PreparePersonnelPlan(string CongressId, int Seats, int Candidates, int Women, int Youth, CommandContext Context)
    : CongressCommand(CongressId, Context);

public sealed record SubmitToSuperior(string CongressId, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record ApproveSubmission(string CongressId, DocumentReference Decision, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record ReturnSubmission(string CongressId, string Comments, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record ScheduleCongress(string CongressId, DateWindow Dates, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record PostponeCongress(string CongressId, string Reason, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record RescheduleCongress(string CongressId, DateWindow Dates, string Reason, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record GrantBottomUpExemption(string CongressId, DocumentReference Decision, string Reason, CommandContext Context)
    : CongressCommand(CongressId, Context);

/// <param name="IncompleteSubordinates">Direct subordinates whose congress has not been held (facts the engine gathers).</param>
public sealed record ConveneCongress(
    string CongressId, DateOnly ConvenedOn, int DelegatesPresent, int DelegatesExpected, int UnitsRepresented, int MembersRepresented,
    IReadOnlyList<string> IncompleteSubordinates, CommandContext Context)
    : CongressCommand(CongressId, Context);

public sealed record RecordElections(string CongressId, ElectionResults Results, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record RecogniseResults(string CongressId, DocumentReference Decision, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record IssueResolution(string CongressId, DocumentReference Resolution, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record AdoptActionProgramme(string CongressId, string Title, CommandContext Context) : CongressCommand(CongressId, Context);

public sealed record DisseminateResolution(string CongressId, int Units, DateOnly DisseminatedOn, CommandContext Context)
    : CongressCommand(CongressId, Context);

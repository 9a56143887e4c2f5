using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Congresses;

public enum Milestone
{
    SubcommitteesFormed,
    DraftsPrepared,
    CommentsCollected,
    PersonnelPlanPrepared,
    SubmittedToSuperior,
    CongressHeld,

    /// <summary>The superior committee approved or returned the submission.</summary>
    SubmissionDecided,

    /// <summary>A postponed congress was given a new date.</summary>
    NewDateSet,

    /// <summary>The superior committee recognised the election results.</summary>
    ResultsRecognised,

    /// <summary>The resolution reached the subordinate units.</summary>
    ResolutionDisseminated,
}

public enum SubcommitteeKind
{
    /// <summary>Tiểu ban Văn kiện.</summary>
    Documents,

    /// <summary>Tiểu ban Nhân sự.</summary>
    Personnel,

    /// <summary>Tiểu ban Tổ chức – Phục vụ.</summary>
    OrganisationService,
}

public enum DraftKind
{
    /// <summary>Báo cáo chính trị.</summary>
    PoliticalReport,

    /// <summary>Báo cáo kiểm điểm.</summary>
    ReviewReport,
}

public sealed record Deadline(Milestone Milestone, DateOnly Due);

/// <summary>A plan or an amendment as it stands: its document, when it takes effect, the planned date and windows, the deadlines.</summary>
public sealed record PlanTerms(
    string Document,
    DateOnly EffectiveOn,
    DateOnly PlannedDate,
    DateWindow Window,
    DateWindow? SubordinateWindow,
    IReadOnlyList<Deadline> Deadlines);

[StoredAs("congress.plan-issued")]
public sealed record CongressPlanIssued(
    string CongressId, string CampaignId, string OrganizationId, string? SuperiorOrganizationId, string? CitesDocument,
    bool IsPilot, PlanTerms Terms, string IssuedBy);

/// <summary>
/// A new version of the plan. <see cref="FollowsSuperior"/> names the superior's congress when the version was derived
/// from a change of the superior's window (<see cref="PlanCascade"/>) rather than issued by the unit itself.
/// </summary>
[StoredAs("congress.plan-amended")]
public sealed record CongressPlanAmended(string CongressId, string AmendsDocument, PlanTerms Terms, string AmendedBy, string? FollowsSuperior = null);

/// <summary>The organisation moved under another parent: from now on that committee is its direct superior (approvals, recognition, notices).</summary>
[StoredAs("congress.superior-changed")]
public sealed record CongressSuperiorChanged(string CongressId, string? FromSuperiorId, string ToSuperiorId, DateTimeOffset ChangedAt);

[StoredAs("congress.subcommittee-formed")]
public sealed record SubcommitteeFormed(string CongressId, SubcommitteeKind Kind, string Head, int Members, DateOnly FormedOn);

[StoredAs("congress.draft-prepared")]
public sealed record DraftPrepared(string CongressId, DraftKind Kind, DateOnly PreparedOn);

[StoredAs("congress.comments-collected")]
public sealed record CommentsCollected(string CongressId, DraftKind Draft, int UnitsConsulted, int CommentsReceived, DateOnly CollectedOn);

[StoredAs("congress.personnel-plan-prepared")]
public sealed record PersonnelPlanPrepared(
    string CongressId, int Seats, int Candidates, decimal SurplusPercent, int Women, int Youth, DateOnly PreparedOn);

[StoredAs("congress.submitted")]
public sealed record CongressSubmitted(string CongressId, int Round, string SubmittedTo, string SubmittedBy, DateOnly SubmittedOn);

[StoredAs("congress.submission-approved")]
public sealed record SubmissionApproved(string CongressId, int Round, string ApprovedByOrganization, string ApprovedBy, string Decision, DateOnly ApprovedOn);

[StoredAs("congress.submission-returned")]
public sealed record SubmissionReturned(string CongressId, int Round, string ReturnedByOrganization, string ReturnedBy, string Comments, DateOnly ReturnedOn);

[StoredAs("congress.scheduled")]
public sealed record CongressScheduled(string CongressId, DateWindow Dates);

[StoredAs("congress.postponed")]
public sealed record CongressPostponed(string CongressId, string Reason, DateOnly PostponedOn);

[StoredAs("congress.rescheduled")]
public sealed record CongressRescheduled(string CongressId, DateWindow Dates, string Reason);

[StoredAs("congress.bottom-up-exemption-granted")]
public sealed record BottomUpExemptionGranted(string CongressId, string GrantedByOrganization, string GrantedBy, string Decision, string Reason, DateOnly GrantedOn);

/// <summary>The congress was held. <see cref="DaysLate"/> is against the planned date in force that day: negative is early.</summary>
[StoredAs("congress.convened")]
public sealed record CongressConvened(
    string CongressId, DateOnly ConvenedOn, int DelegatesPresent, int DelegatesExpected, int UnitsRepresented, int MembersRepresented,
    string PlanInForce, DateOnly PlannedDate, int DaysLate, bool Exempted);

public sealed record ElectionResults(
    int ExecutiveCommittee, int StandingCommittee, string Secretary, int DeputySecretaries, int InspectionCommittee, string? InspectionChair,
    int Delegates, int AlternateDelegates);

[StoredAs("congress.elections-recorded")]
public sealed record ElectionsRecorded(string CongressId, ElectionResults Results, DateOnly RecordedOn);

[StoredAs("congress.results-recognised")]
public sealed record ResultsRecognised(string CongressId, string RecognisedByOrganization, string RecognisedBy, string Decision, DateOnly RecognisedOn);

[StoredAs("congress.resolution-issued")]
public sealed record ResolutionIssued(string CongressId, string Resolution, DateOnly IssuedOn);

[StoredAs("congress.action-programme-adopted")]
public sealed record ActionProgrammeAdopted(string CongressId, string Title, DateOnly AdoptedOn);

[StoredAs("congress.resolution-disseminated")]
public sealed record ResolutionDisseminated(string CongressId, int Units, DateOnly DisseminatedOn);

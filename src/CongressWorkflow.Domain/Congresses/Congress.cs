using System.Collections.Immutable;
using CongressWorkflow.Domain.Common;

namespace CongressWorkflow.Domain.Congresses;

/// <summary>Where a congress is in its lifecycle.</summary>
public enum CongressStage
{
    NotPlanned,
    Preparing,
    AwaitingApproval,
    Approved,
    Convened,
    Elected,
    Concluded,
}

/// <summary>One organisation's congress in one campaign, as its events leave it.</summary>
public sealed record Congress
{
    public static Congress None { get; } = new();

    public CongressStage Stage { get; init; } = CongressStage.NotPlanned;

    public string CongressId { get; init; } = string.Empty;

    public string CampaignId { get; init; } = string.Empty;

    public string OrganizationId { get; init; } = string.Empty;

    public string? SuperiorOrganizationId { get; init; }

    public bool IsPilot { get; init; }

    /// <summary>The plan and its amendments, in the order they were issued.</summary>
    public ImmutableList<PlanTerms> Plans { get; init; } = [];

    public ImmutableHashSet<SubcommitteeKind> Subcommittees { get; init; } = [];

    public ImmutableHashSet<DraftKind> Drafts { get; init; } = [];

    public ImmutableHashSet<DraftKind> CommentedDrafts { get; init; } = [];

    public PersonnelPlanPrepared? PersonnelPlan { get; init; }

    public int SubmissionRound { get; init; }

    public int ReturnedRounds { get; init; }

    public DateWindow? Schedule { get; init; }

    public bool IsPostponed { get; init; }

    public string? Exemption { get; init; }

    public CongressConvened? Convened { get; init; }

    public ElectionResults? Elections { get; init; }

    public string? RecognisedBy { get; init; }

    public string? Resolution { get; init; }

    public string? ActionProgramme { get; init; }

    public int UnitsReached { get; init; }

    /// <summary>When each preparation milestone was first reached (subcommittees, drafts, comments, personnel plan).</summary>
    public ImmutableDictionary<Milestone, DateOnly> Reached { get; init; } = ImmutableDictionary<Milestone, DateOnly>.Empty;

    /// <summary>The day the latest round was submitted to the superior.</summary>
    public DateOnly? SubmittedOn { get; init; }

    /// <summary>The day the superior approved or returned the latest round.</summary>
    public DateOnly? DecidedOn { get; init; }

    public DateOnly? PostponedOn { get; init; }

    public DateOnly? ElectedOn { get; init; }

    public DateOnly? RecognisedOn { get; init; }

    public DateOnly? ResolvedOn { get; init; }

    public DateOnly? DisseminatedOn { get; init; }

    public bool IsHeld => Convened is not null;

    /// <summary>The plan in force on a date: the latest one issued that had taken effect by then (the first before any).</summary>
    public PlanTerms? PlanInForce(DateOnly date) =>
        Plans.LastOrDefault(p => p.EffectiveOn <= date) ?? Plans.FirstOrDefault();

    public static string StreamId(string campaignId, string organizationId) => $"congress-{campaignId}-{organizationId}";

    /// <summary>An entry recorded more than a day after the date it states: flagged in the trail and by the conformance replay.</summary>
    public static bool IsBackDated(DateOnly stated, DateTimeOffset recordedAt) =>
        DateOnly.FromDateTime(recordedAt.UtcDateTime).DayNumber - stated.DayNumber > 1;

    /// <summary>
    /// The day an event says it happened on, where it says one (a step taken by the organisation or its superior on a
    /// day; a plan or an amendment from the day it takes effect, so one made retroactive governs the days it covers, as
    /// the monitoring reports count it); null for events dated only by their recording (a schedule). The valid-time axis.
    /// </summary>
    public static DateOnly? DateOf(object @event) => @event switch
    {
        CongressPlanIssued e => e.Terms.EffectiveOn,
        CongressPlanAmended e => e.Terms.EffectiveOn,
        SubcommitteeFormed e => e.FormedOn,
        DraftPrepared e => e.PreparedOn,
        CommentsCollected e => e.CollectedOn,
        PersonnelPlanPrepared e => e.PreparedOn,
        CongressSubmitted e => e.SubmittedOn,
        SubmissionApproved e => e.ApprovedOn,
        SubmissionReturned e => e.ReturnedOn,
        CongressPostponed e => e.PostponedOn,
        BottomUpExemptionGranted e => e.GrantedOn,
        CongressConvened e => e.ConvenedOn,
        ElectionsRecorded e => e.RecordedOn,
        ResultsRecognised e => e.RecognisedOn,
        ResolutionIssued e => e.IssuedOn,
        ActionProgrammeAdopted e => e.AdoptedOn,
        ResolutionDisseminated e => e.DisseminatedOn,
        _ => null,
    };

    public static Congress Evolve(Congress state, object @event) => @event switch
    {
        CongressPlanIssued e => state with
        {
            Stage = CongressStage.Preparing,
            CongressId = e.CongressId,
            CampaignId = e.CampaignId,
            OrganizationId = e.OrganizationId,
            SuperiorOrganizationId = e.SuperiorOrganizationId,
            IsPilot = e.IsPilot,
            Plans = [e.Terms],
        },
        CongressPlanAmended e => state with { Plans = state.Plans.Add(e.Terms) },
        CongressSuperiorChanged e => state with { SuperiorOrganizationId = e.ToSuperiorId },
        SubcommitteeFormed e => Reach(state with { Subcommittees = state.Subcommittees.Add(e.Kind) }, Milestone.SubcommitteesFormed, e.FormedOn,
            s => s.Subcommittees.Count == Enum.GetValues<SubcommitteeKind>().Length),
        DraftPrepared e => Reach(state with { Drafts = state.Drafts.Add(e.Kind) }, Milestone.DraftsPrepared, e.PreparedOn,
            s => s.Drafts.Count == Enum.GetValues<DraftKind>().Length),
        CommentsCollected e => Reach(state with { CommentedDrafts = state.CommentedDrafts.Add(e.Draft) }, Milestone.CommentsCollected, e.CollectedOn, _ => true),
        PersonnelPlanPrepared e => Reach(state with { PersonnelPlan = e }, Milestone.PersonnelPlanPrepared, e.PreparedOn, _ => true),
        CongressSubmitted e => state with { Stage = CongressStage.AwaitingApproval, SubmissionRound = e.Round, SubmittedOn = e.SubmittedOn },
        SubmissionApproved e => state with { Stage = CongressStage.Approved, DecidedOn = e.ApprovedOn },
        SubmissionReturned e => state with { Stage = CongressStage.Preparing, ReturnedRounds = state.ReturnedRounds + 1, DecidedOn = e.ReturnedOn },
        CongressScheduled e => state with { Schedule = e.Dates, IsPostponed = false },
        CongressPostponed e => state with { IsPostponed = true, PostponedOn = e.PostponedOn },
        CongressRescheduled e => state with { Schedule = e.Dates, IsPostponed = false },
        BottomUpExemptionGranted e => state with { Exemption = e.Decision },
        CongressConvened e => state with { Stage = CongressStage.Convened, Convened = e },
        ElectionsRecorded e => state with { Stage = CongressStage.Elected, Elections = e.Results, ElectedOn = e.RecordedOn },
        ResultsRecognised e => state with { RecognisedBy = e.RecognisedByOrganization, RecognisedOn = e.RecognisedOn },
        ResolutionIssued e => state with { Stage = CongressStage.Concluded, Resolution = e.Resolution, ResolvedOn = e.IssuedOn },
        ActionProgrammeAdopted e => state with { ActionProgramme = e.Title },
        ResolutionDisseminated e => state with { UnitsReached = state.UnitsReached + e.Units, DisseminatedOn = state.DisseminatedOn ?? e.DisseminatedOn },
        _ => throw new InvalidOperationException($"a congress cannot apply {@event.GetType().Name}"),
    };

    /// <summary>Records the first day a milestone's condition held.</summary>
    private static Congress Reach(Congress state, Milestone milestone, DateOnly on, Func<Congress, bool> reached) =>
        !state.Reached.ContainsKey(milestone) && reached(state) ? state with { Reached = state.Reached.Add(milestone, on) } : state;
}

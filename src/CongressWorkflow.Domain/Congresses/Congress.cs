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

    public bool IsHeld => Convened is not null;

    /// <summary>The plan in force on a date: the latest one issued that had taken effect by then (the first before any).</summary>
    public PlanTerms? PlanInForce(DateOnly date) =>
        Plans.LastOrDefault(p => p.EffectiveOn <= date) ?? Plans.FirstOrDefault();

    public static string StreamId(string campaignId, string organizationId) => $"congress-{campaignId}-{organizationId}";

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
        SubcommitteeFormed e => state with { Subcommittees = state.Subcommittees.Add(e.Kind) },
        DraftPrepared e => state with { Drafts = state.Drafts.Add(e.Kind) },
        CommentsCollected e => state with { CommentedDrafts = state.CommentedDrafts.Add(e.Draft) },
        PersonnelPlanPrepared e => state with { PersonnelPlan = e },
        CongressSubmitted e => state with { Stage = CongressStage.AwaitingApproval, SubmissionRound = e.Round },
        SubmissionApproved => state with { Stage = CongressStage.Approved },
        SubmissionReturned => state with { Stage = CongressStage.Preparing, ReturnedRounds = state.ReturnedRounds + 1 },
        CongressScheduled e => state with { Schedule = e.Dates, IsPostponed = false },
        CongressPostponed => state with { IsPostponed = true },
        CongressRescheduled e => state with { Schedule = e.Dates, IsPostponed = false },
        BottomUpExemptionGranted e => state with { Exemption = e.Decision },
        CongressConvened e => state with { Stage = CongressStage.Convened, Convened = e },
        ElectionsRecorded e => state with { Stage = CongressStage.Elected, Elections = e.Results },
        ResultsRecognised e => state with { RecognisedBy = e.RecognisedByOrganization },
        ResolutionIssued e => state with { Stage = CongressStage.Concluded, Resolution = e.Resolution },
        ActionProgrammeAdopted e => state with { ActionProgramme = e.Title },
        ResolutionDisseminated e => state with { UnitsReached = state.UnitsReached + e.Units },
        _ => throw new InvalidOperationException($"a congress cannot apply {@event.GetType().Name}"),
    };
}

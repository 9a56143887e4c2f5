using CongressWorkflow.Domain.Common;
using static CongressWorkflow.Domain.Common.Decision;

namespace CongressWorkflow.Domain.Congresses;

/// <summary>
/// The congress Decider: one switch from (command, state) to events or a rule violation. Hard rules (order,
/// approvals, who may approve) reject; soft ones (deadlines) are measured: convening late is recorded as late.
/// </summary>
public static class CongressDecider
{
    public static Decision Decide(CongressCommand command, Congress state) => command switch
    {
        IssuePlan c when state.Stage != CongressStage.NotPlanned =>
            Reject(CongressErrors.AlreadyPlanned, $"congress {c.CongressId} already has plan {state.Plans[0].Document}; amend it instead"),
        IssuePlan c => Issue(c),
        _ when state.Stage == CongressStage.NotPlanned =>
            Reject(CongressErrors.NotPlanned, $"congress {command.CongressId} has no plan yet"),
        AmendPlan c => Amend(c, state),
        FollowNewSuperior c => state.SuperiorOrganizationId == c.NewSuperiorId
            ? Accept()
            : Accept(new CongressSuperiorChanged(state.CongressId, state.SuperiorOrganizationId, c.NewSuperiorId, c.Context.Now)),
        FollowSuperiorPlan c => state.IsHeld || PlanCascade.Follow(state.Plans[^1], c.Change) is not { } followed
            ? Accept()
            : Accept(new CongressPlanAmended(state.CongressId, state.Plans[^1].Document, followed, c.Context.UserId, c.Change.SuperiorCongressId)),
        FormSubcommittee c => RequireBeforeSubmission(state, c)
            ?? (string.IsNullOrWhiteSpace(c.Head) || c.Members < 1
                ? Reject(CongressErrors.InvalidCount, "a subcommittee needs a head and at least one member")
                : Accept(new SubcommitteeFormed(state.CongressId, c.Kind, c.Head.Trim(), c.Members, c.Context.Today))),
        PrepareDraft c => RequireBeforeSubmission(state, c)
            ?? Accept(new DraftPrepared(state.CongressId, c.Kind, c.Context.Today)),
        CollectComments c => RequireBeforeSubmission(state, c)
            ?? (!state.Drafts.Contains(c.Draft)
                ? Reject(CongressErrors.IncompletePreparation, $"there is no {c.Draft} draft to comment on yet")
                : c.UnitsConsulted < 0 || c.CommentsReceived < 0
                    ? Reject(CongressErrors.InvalidCount, "counts of units and comments cannot be negative")
                    : Accept(new CommentsCollected(state.CongressId, c.Draft, c.UnitsConsulted, c.CommentsReceived, c.Context.Today))),
        PreparePersonnelPlan c => RequireBeforeSubmission(state, c) ?? PersonnelPlan(c, state),
        SubmitToSuperior c => Submit(c, state),
        ApproveSubmission c => RequireDirectSuperior(state, c.Context)
            ?? RequireStage(state, c, CongressStage.AwaitingApproval)
            ?? RequireType(c.Decision, DocumentType.Decision, DocumentType.OfficialLetter)
            ?? Accept(new SubmissionApproved(state.CongressId, state.SubmissionRound, c.Context.OrganizationId, c.Context.UserId,
                c.Decision.ToString(), c.Context.Today)),
        ReturnSubmission c => RequireDirectSuperior(state, c.Context)
            ?? RequireStage(state, c, CongressStage.AwaitingApproval)
            ?? (string.IsNullOrWhiteSpace(c.Comments)
                ? Reject(CongressErrors.ReasonRequired, "a returned submission needs comments saying what to change")
                : Accept(new SubmissionReturned(state.CongressId, state.SubmissionRound, c.Context.OrganizationId, c.Context.UserId,
                    c.Comments.Trim(), c.Context.Today))),
        ScheduleCongress c => state.IsHeld
            ? Reject(CongressErrors.WrongStage, "the congress has already been held")
            : Accept(new CongressScheduled(state.CongressId, c.Dates)),
        PostponeCongress c => state.IsHeld ? Reject(CongressErrors.WrongStage, "the congress has already been held")
            : state.Schedule is null ? Reject(CongressErrors.NotScheduled, "only a scheduled congress can be postponed")
            : state.IsPostponed ? Reject(CongressErrors.Postponed, "the congress is already postponed")
            : string.IsNullOrWhiteSpace(c.Reason) ? Reject(CongressErrors.ReasonRequired, "a postponement needs a reason")
            : Accept(new CongressPostponed(state.CongressId, c.Reason.Trim(), c.Context.Today)),
        RescheduleCongress c => !state.IsPostponed
            ? Reject(CongressErrors.NotPostponed, "only a postponed congress is rescheduled; schedule it instead")
            : string.IsNullOrWhiteSpace(c.Reason) ? Reject(CongressErrors.ReasonRequired, "a new date needs a reason")
            : Accept(new CongressRescheduled(state.CongressId, c.Dates, c.Reason.Trim())),
        GrantBottomUpExemption c => RequireDirectSuperior(state, c.Context)
            ?? (state.IsHeld ? Reject(CongressErrors.WrongStage, "the congress has already been held") : null)
            ?? RequireType(c.Decision, DocumentType.Decision, DocumentType.OfficialLetter)
            ?? (string.IsNullOrWhiteSpace(c.Reason)
                ? Reject(CongressErrors.ReasonRequired, "an exemption needs a reason")
                : Accept(new BottomUpExemptionGranted(state.CongressId, c.Context.OrganizationId, c.Context.UserId, c.Decision.ToString(),
                    c.Reason.Trim(), c.Context.Today))),
        ConveneCongress c => Convene(c, state),
        RecordElections c => RequireStage(state, c, CongressStage.Convened) ?? Elections(c, state),
        RecogniseResults c => RequireDirectSuperior(state, c.Context)
            ?? (state.Elections is null ? Reject(CongressErrors.WrongStage, "there are no election results to recognise yet") : null)
            ?? (state.RecognisedBy is not null ? Reject(CongressErrors.WrongStage, "the results are already recognised") : null)
            ?? RequireType(c.Decision, DocumentType.Decision)
            ?? Accept(new ResultsRecognised(state.CongressId, c.Context.OrganizationId, c.Context.UserId, c.Decision.ToString(), c.Context.Today)),
        IssueResolution c => RequireStage(state, c, CongressStage.Elected)
            ?? RequireType(c.Resolution, DocumentType.Resolution)
            ?? Accept(new ResolutionIssued(state.CongressId, c.Resolution.ToString(), c.Context.Today)),
        AdoptActionProgramme c => RequireStage(state, c, CongressStage.Concluded)
            ?? (string.IsNullOrWhiteSpace(c.Title)
                ? Reject(CongressErrors.ReasonRequired, "an action programme needs a title")
                : Accept(new ActionProgrammeAdopted(state.CongressId, c.Title.Trim(), c.Context.Today))),
        DisseminateResolution c => RequireStage(state, c, CongressStage.Concluded)
            ?? (c.Units < 1 ? Reject(CongressErrors.InvalidCount, "a dissemination reaches at least one unit") : null)
            ?? (state.Convened is { } held && c.DisseminatedOn < held.ConvenedOn
                ? Reject(CongressErrors.DateOutOfOrder,
                    $"a resolution cannot be disseminated on {c.DisseminatedOn:dd/MM/yyyy}, before the congress of {held.ConvenedOn:dd/MM/yyyy}")
                : Accept(new ResolutionDisseminated(state.CongressId, c.Units, c.DisseminatedOn))),
        _ => throw new InvalidOperationException($"unhandled command {command.GetType().Name}"),
    };

    /// <summary>The surplus of candidates over seats as a percentage with two decimals: 13 for 11 seats is 18.18 %.</summary>
    public static decimal SurplusPercent(int seats, int candidates) =>
        Math.Round((candidates - seats) * 100m / seats, 2, MidpointRounding.AwayFromZero);

    private static Decision Issue(IssuePlan c)
    {
        var terms = new PlanTerms(c.Plan.ToString(), c.IssuedOn, c.PlannedDate, c.Window, c.SubordinateWindow, c.Deadlines);
        return RequireType(c.Plan, DocumentType.Plan)
            ?? CheckTerms(terms, c.SuperiorSubordinateWindow)
            ?? Accept(new CongressPlanIssued(c.CongressId, c.CampaignId, c.OrganizationId, c.SuperiorOrganizationId, c.CitesDocument?.ToString(),
                c.IsPilot, terms, c.Context.UserId));
    }

    private static Decision Amend(AmendPlan c, Congress state)
    {
        if (state.IsHeld)
        {
            return Reject(CongressErrors.WrongStage, "the congress has been held: its plan can no longer be amended");
        }

        var current = state.Plans[^1];
        if (c.Amendment.ToString() == current.Document)
        {
            return Reject(CongressErrors.SameDocument, $"an amendment needs a new document, not {current.Document} again");
        }

        var terms = new PlanTerms(c.Amendment.ToString(), c.EffectiveOn, c.PlannedDate, c.Window, c.SubordinateWindow, c.Deadlines);
        return RequireType(c.Amendment, DocumentType.Plan)
            ?? CheckTerms(terms, c.SuperiorSubordinateWindow)
            ?? Accept(new CongressPlanAmended(state.CongressId, current.Document, terms, c.Context.UserId));
    }

    private static Decision? CheckTerms(PlanTerms terms, DateWindow? superiorWindow)
    {
        if (superiorWindow is not null && !superiorWindow.Contains(terms.Window))
        {
            return Reject(CongressErrors.WindowOutsideSuperior,
                $"the congress window {terms.Window} of {terms.Document} must lie inside the superior's window for its subordinates, {superiorWindow}");
        }

        if (!terms.Window.Contains(terms.PlannedDate))
        {
            return Reject(CongressErrors.PlannedDateOutsideWindow,
                $"the planned date {terms.PlannedDate:dd/MM/yyyy} lies outside the plan's own window {terms.Window}");
        }

        return terms.SubordinateWindow is { } subordinates && subordinates.End > terms.PlannedDate
            ? Reject(CongressErrors.SubordinateWindowAfterCongress,
                $"subordinate congresses ({subordinates}) must finish by the congress itself ({terms.PlannedDate:dd/MM/yyyy}): the order is bottom-up")
            : null;
    }

    private static Decision PersonnelPlan(PreparePersonnelPlan c, Congress state)
    {
        if (c.Seats < 1 || c.Women < 0 || c.Youth < 0)
        {
            return Reject(CongressErrors.InvalidCount, "a personnel plan needs at least one seat and no negative counts");
        }

        if (c.Candidates < c.Seats)
        {
            return Reject(CongressErrors.NotEnoughCandidates, $"{c.Candidates} candidates cannot fill {c.Seats} seats: candidates must be at least the seats");
        }

        return c.Women > c.Candidates || c.Youth > c.Candidates
            ? Reject(CongressErrors.InvalidCount, "women and youth are counted among the candidates")
            : Accept(new PersonnelPlanPrepared(state.CongressId, c.Seats, c.Candidates, SurplusPercent(c.Seats, c.Candidates), c.Women, c.Youth,
                c.Context.Today));
    }

    private static Decision Submit(SubmitToSuperior c, Congress state)
    {
        if (RequireStage(state, c, CongressStage.Preparing) is { } wrongStage)
        {
            return wrongStage;
        }

        if (state.SuperiorOrganizationId is null)
        {
            return Reject(CongressErrors.NotDirectSuperior, "a congress at the top has no superior to submit to");
        }

        var missing = new List<string>();
        missing.AddRange(Enum.GetValues<DraftKind>().Where(d => !state.Drafts.Contains(d)).Select(d => $"draft {d}"));
        if (state.PersonnelPlan is null)
        {
            missing.Add("personnel plan");
        }

        return missing.Count > 0
            ? Reject(CongressErrors.IncompletePreparation, $"not ready to submit: missing {string.Join(", ", missing)}")
            : Accept(new CongressSubmitted(state.CongressId, state.SubmissionRound + 1, state.SuperiorOrganizationId, c.Context.UserId, c.Context.Today));
    }

    private static Decision Convene(ConveneCongress c, Congress state)
    {
        if (state.IsHeld)
        {
            return Reject(CongressErrors.WrongStage, $"the congress was already held on {state.Convened!.ConvenedOn:dd/MM/yyyy}");
        }

        if (state.SuperiorOrganizationId is not null && state.Stage != CongressStage.Approved)
        {
            return Reject(CongressErrors.NotApproved,
                "the superior committee has not approved the documents and the personnel plan: the congress cannot convene");
        }

        if (state.SuperiorOrganizationId is not null && state.DecidedOn is { } approvedOn && c.ConvenedOn < approvedOn)
        {
            return Reject(CongressErrors.DateOutOfOrder,
                $"a congress cannot be convened on {c.ConvenedOn:dd/MM/yyyy}, before its documents were approved on {approvedOn:dd/MM/yyyy}");
        }

        if (state.IsPostponed)
        {
            return Reject(CongressErrors.Postponed, "the congress is postponed: reschedule it first");
        }

        if (c.IncompleteSubordinates.Count > 0 && state.Exemption is null)
        {
            var named = string.Join(", ", c.IncompleteSubordinates.Take(10)) + (c.IncompleteSubordinates.Count > 10 ? ", …" : string.Empty);
            return Reject(CongressErrors.SubordinatesIncomplete,
                $"{c.IncompleteSubordinates.Count} direct subordinate(s) have not held their congress ({named}); congresses go bottom-up unless the superior grants an exemption");
        }

        if (c.DelegatesExpected < 1 || c.DelegatesPresent < 0 || c.DelegatesPresent > c.DelegatesExpected || c.UnitsRepresented < 0 || c.MembersRepresented < 0)
        {
            return Reject(CongressErrors.InvalidCount, $"attendance {c.DelegatesPresent} of {c.DelegatesExpected} is not a possible count");
        }

        var plan = state.PlanInForce(c.ConvenedOn)!;
        return Accept(new CongressConvened(state.CongressId, c.ConvenedOn, c.DelegatesPresent, c.DelegatesExpected, c.UnitsRepresented,
            c.MembersRepresented, plan.Document, plan.PlannedDate, c.ConvenedOn.DayNumber - plan.PlannedDate.DayNumber,
            c.IncompleteSubordinates.Count > 0));
    }

    private static Decision Elections(RecordElections c, Congress state)
    {
        var r = c.Results;
        string? problem = r switch
        {
            { ExecutiveCommittee: < 1 } => "an executive committee has at least one member",
            _ when r.StandingCommittee < 0 || r.DeputySecretaries < 0 || r.InspectionCommittee < 0 || r.Delegates < 0 || r.AlternateDelegates < 0 =>
                "counts cannot be negative",
            _ when r.StandingCommittee > r.ExecutiveCommittee =>
                $"the standing committee ({r.StandingCommittee}) cannot be larger than the executive committee ({r.ExecutiveCommittee})",
            _ when string.IsNullOrWhiteSpace(r.Secretary) => "a secretary must be elected",
            // The secretary and deputies sit in the standing committee where there is one (a branch often has none).
            _ when r.StandingCommittee > 0 && r.DeputySecretaries + 1 > r.StandingCommittee =>
                $"{r.DeputySecretaries} deputy secretaries and the secretary do not fit in a standing committee of {r.StandingCommittee}",
            _ when r.DeputySecretaries + 1 > r.ExecutiveCommittee =>
                $"{r.DeputySecretaries} deputy secretaries and the secretary do not fit in an executive committee of {r.ExecutiveCommittee}",
            _ when r.InspectionCommittee > 0 && string.IsNullOrWhiteSpace(r.InspectionChair) => "an inspection committee needs a chair",
            _ when state.PersonnelPlan is { } plan && r.ExecutiveCommittee > plan.Seats =>
                $"{r.ExecutiveCommittee} elected exceeds the {plan.Seats} seats of the approved personnel plan",
            _ => null,
        };
        return problem is null
            ? Accept(new ElectionsRecorded(state.CongressId, r, c.Context.Today))
            : Reject(CongressErrors.InconsistentElection, problem);
    }

    private static Decision? RequireBeforeSubmission(Congress state, CongressCommand c) =>
        state.Stage == CongressStage.Preparing
            ? null
            : Reject(CongressErrors.WrongStage, $"{Describe(c)} belongs to the preparation, but the congress is {state.Stage}");

    private static Decision? RequireStage(Congress state, CongressCommand c, CongressStage stage) =>
        state.Stage == stage ? null : Reject(CongressErrors.WrongStage, $"{Describe(c)} needs the congress to be {stage}, but it is {state.Stage}");

    private static Decision? RequireDirectSuperior(Congress state, CommandContext context) =>
        state.SuperiorOrganizationId is not null && context.OrganizationId == state.SuperiorOrganizationId
            ? null
            : Reject(CongressErrors.NotDirectSuperior,
                $"only the direct superior committee ({state.SuperiorOrganizationId ?? "none"}) may do this, not {context.OrganizationId}");

    private static Decision? RequireType(DocumentReference document, params DocumentType[] allowed) =>
        allowed.Contains(document.Type)
            ? null
            : Reject(CongressErrors.WrongDocumentType, $"{document} is a {document.Type}; expected a {string.Join(" or ", allowed)}");

    private static string Describe(CongressCommand c) => c.GetType().Name;
}

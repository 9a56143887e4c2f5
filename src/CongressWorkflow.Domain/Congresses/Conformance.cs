using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Domain.Organizations;

namespace CongressWorkflow.Domain.Congresses;

/// <summary>One recorded event as the replay sees it: the event, where it is stored, when it was recorded and by whom.</summary>
public sealed record RecordedFact(object Event, string StreamId, long Version, long GlobalPosition, DateTimeOffset RecordedAt, string ActorId,
    string ActorRole, string? ActorOrganizationId);

public sealed record EventReference(string StreamId, long Version, long GlobalPosition, string What, DateOnly? On);

/// <summary>A place where the history breaks a rule as it stood at that moment, with the events that show it.</summary>
public sealed record ConformanceFinding(string Code, string OrganizationId, DateOnly On, string Message, IReadOnlyList<EventReference> Evidence);

/// <summary>
/// Replays a recorded history in the order it was recorded and reports every place where it breaks the rules as they
/// stood at that moment. The rules are not written again here: each congress event is turned back into the command
/// that would have produced it, with the facts of that moment rebuilt from the history itself (the tree of the day,
/// the superiors' windows in force, the subordinates held by then), and put to <see cref="CongressDecider"/>; missed
/// deadlines come from <see cref="CongressDeadlines"/>. Besides, every entry recorded more than a day after the date
/// it states is flagged as back-dated.
/// </summary>
public static class ConformanceReplay
{
    public const string BackDated = "back-dated";
    public const string DeadlineMissed = "deadline-missed";
    public const string NotDerived = "plan-not-derived";

    public static IReadOnlyList<ConformanceFinding> Replay(IEnumerable<RecordedFact> history)
    {
        var replay = new Replaying();
        foreach (var fact in history)
        {
            replay.Apply(fact);
        }

        return replay.Findings;
    }

    private sealed class Replaying
    {
        private readonly Dictionary<string, Organization> _organizations = new(StringComparer.Ordinal);
        private readonly Dictionary<string, RecordedFact> _placedBy = new(StringComparer.Ordinal);
        private readonly Dictionary<string, Congress> _congresses = new(StringComparer.Ordinal);
        private readonly Dictionary<string, List<RecordedFact>> _congressFacts = new(StringComparer.Ordinal);
        private readonly Dictionary<string, DeadlinePolicy> _policies = new(StringComparer.Ordinal);

        public List<ConformanceFinding> Findings { get; } = [];

        public void Apply(RecordedFact fact)
        {
            switch (fact.Event)
            {
                case DeadlinePolicySet set:
                    _policies[set.CampaignId] = set.Policy;
                    break;
                case OrganizationRegistered or OrganizationMoved or OrganizationDissolved or OrganizationRenamed or OrganizationContactsSet:
                    var id = Organization.IdOf(fact.Event)!;
                    _organizations[id] = OrganizationDecider.Evolve(_organizations.GetValueOrDefault(id, Organization.None), fact.Event);
                    if (fact.Event is OrganizationRegistered or OrganizationMoved)
                    {
                        _placedBy[id] = fact;
                    }

                    break;
                default:
                    if (CongressIdOf(fact.Event) is { } congressId)
                    {
                        ApplyToCongress(congressId, fact);
                    }

                    break;
            }
        }

        private void ApplyToCongress(string congressId, RecordedFact fact)
        {
            var before = _congresses.GetValueOrDefault(congressId, Congress.None);
            var organizationId = fact.Event is CongressPlanIssued issued ? issued.OrganizationId : before.OrganizationId;
            var superior = ParentOf(organizationId);
            var stated = Congress.DateOf(fact.Event);
            var recordedOn = DateOnly.FromDateTime(fact.RecordedAt.UtcDateTime);
            if (stated is { } day && Congress.IsBackDated(day, fact.RecordedAt))
            {
                Report(BackDated, organizationId, recordedOn,
                    $"{Describe(fact.Event)} states {day:dd/MM/yyyy} but was recorded on {recordedOn:dd/MM/yyyy}, {recordedOn.DayNumber - day.DayNumber} days later",
                    fact);
            }

            // The superior of the day decides: the one the tree names when the event was recorded, not the one of the plan.
            var judged = before.Stage == CongressStage.NotPlanned ? before : before with { SuperiorOrganizationId = superior };
            var decision = CommandFor(fact, before, organizationId, superior, stated) is { } command ? CongressDecider.Decide(command, judged) : null;
            if (fact.Event is CongressPlanAmended { FollowsSuperior: { } followed } recorded
                && !SameTerms((decision as Decision.Accepted)?.Events.OfType<CongressPlanAmended>().SingleOrDefault()?.Terms, recorded.Terms))
            {
                Report(NotDerived, organizationId, recorded.Terms.EffectiveOn,
                    $"{recorded.Terms.Document} is recorded as following the window of {followed}, but that window does not give these terms", fact);
            }
            else if (decision is Decision.Rejected { Error: var error })
            {
                Report(error.Code, organizationId, stated ?? recordedOn, error.Message, [.. Context(error.Code, organizationId), fact]);
            }

            var after = Congress.Evolve(before, fact.Event);
            _congresses[congressId] = after;
            var facts = _congressFacts.TryGetValue(congressId, out var known) ? known : _congressFacts[congressId] = [];
            facts.Add(fact);
            if (after.Stage != CongressStage.NotPlanned)
            {
                ReportDeadlinesMissedBy(fact, before, after, superior, facts);
            }
        }

        /// <summary>A deadline that this event met, after its due date: measured, not refused, so the rules let it pass.</summary>
        private void ReportDeadlinesMissedBy(RecordedFact fact, Congress before, Congress after, string? superior, List<RecordedFact> facts)
        {
            var policy = _policies.GetValueOrDefault(after.CampaignId, DeadlinePolicy.Default);
            var metBefore = before.Stage == CongressStage.NotPlanned
                ? []
                : CongressDeadlines.Derive(before, superior, policy).Where(d => d.IsMet).Select(d => d.Milestone).ToHashSet();
            foreach (var deadline in CongressDeadlines.Derive(after, superior, policy))
            {
                if (deadline is { IsMet: true, MetOn: { } metOn } && metOn > deadline.Due && !metBefore.Contains(deadline.Milestone)
                    && (deadline.EffectiveUntil is null || metOn < deadline.EffectiveUntil))
                {
                    var evidence = facts.Where(f => deadline.PlanDocument is not null && PlanDocument(f.Event) == deadline.PlanDocument).Take(1).Append(fact);
                    Report(DeadlineMissed, after.OrganizationId, metOn,
                        $"{deadline.Milestone} was due {deadline.Due:dd/MM/yyyy}" + (deadline.PlanDocument is { } document ? $" under {document}" : "") +
                        $" and met on {metOn:dd/MM/yyyy}, {metOn.DayNumber - deadline.Due.DayNumber} days late (responsible: {deadline.ResponsibleOrganizationId})",
                        [.. evidence]);
                }
            }
        }

        /// <summary>The command that would have produced the event, with the facts of that moment; null where there is none.</summary>
        private CongressCommand? CommandFor(RecordedFact fact, Congress before, string organizationId, string? superior, DateOnly? stated)
        {
            var context = new CommandContext(fact.ActorId, fact.ActorRole, fact.ActorOrganizationId ?? string.Empty,
                new DateTimeOffset((stated ?? DateOnly.FromDateTime(fact.RecordedAt.UtcDateTime)).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));
            var id = before.CongressId;
            return fact.Event switch
            {
                CongressPlanIssued e when Parse(e.Terms.Document) is { } plan => new IssuePlan(e.CongressId, e.CampaignId, e.OrganizationId, superior, plan,
                    e.CitesDocument is null ? null : Parse(e.CitesDocument), e.Terms.EffectiveOn, e.Terms.PlannedDate, e.Terms.Window, e.Terms.SubordinateWindow,
                    e.Terms.Deadlines, e.IsPilot, InheritedWindow(e.CampaignId, superior, e.Terms.EffectiveOn), context),
                CongressPlanAmended { FollowsSuperior: { } followed } =>
                    _congresses.TryGetValue(followed, out var superiorCongress) && PlanCascade.ChangeOf(superiorCongress) is { } change
                        ? new FollowSuperiorPlan(id, change, context)
                        : null,
                CongressPlanAmended e when Parse(e.Terms.Document) is { } amendment => new AmendPlan(id, amendment, e.Terms.EffectiveOn, e.Terms.PlannedDate,
                    e.Terms.Window, e.Terms.SubordinateWindow, e.Terms.Deadlines, InheritedWindow(before.CampaignId, superior, e.Terms.EffectiveOn), context),
                SubcommitteeFormed e => new FormSubcommittee(id, e.Kind, e.Head, e.Members, context),
                DraftPrepared e => new PrepareDraft(id, e.Kind, context),
                CommentsCollected e => new CollectComments(id, e.Draft, e.UnitsConsulted, e.CommentsReceived, context),
                PersonnelPlanPrepared e => new PreparePersonnelPlan(id, e.Seats, e.Candidates, e.Women, e.Youth, context),
                CongressSubmitted => new SubmitToSuperior(id, context),
                SubmissionApproved e when Parse(e.Decision) is { } decision => new ApproveSubmission(id, decision, context),
                SubmissionReturned e => new ReturnSubmission(id, e.Comments, context),
                CongressScheduled e => new ScheduleCongress(id, e.Dates, context),
                CongressPostponed e => new PostponeCongress(id, e.Reason, context),
                CongressRescheduled e => new RescheduleCongress(id, e.Dates, e.Reason, context),
                BottomUpExemptionGranted e when Parse(e.Decision) is { } decision => new GrantBottomUpExemption(id, decision, e.Reason, context),
                CongressConvened e => new ConveneCongress(id, e.ConvenedOn, e.DelegatesPresent, e.DelegatesExpected, e.UnitsRepresented, e.MembersRepresented,
                    IncompleteSubordinates(before.CampaignId, organizationId), context),
                ElectionsRecorded e => new RecordElections(id, e.Results, context),
                ResultsRecognised e when Parse(e.Decision) is { } decision => new RecogniseResults(id, decision, context),
                ResolutionIssued e when Parse(e.Resolution) is { } resolution => new IssueResolution(id, resolution, context),
                ActionProgrammeAdopted e => new AdoptActionProgramme(id, e.Title, context),
                ResolutionDisseminated e => new DisseminateResolution(id, e.Units, e.DisseminatedOn, context),
                _ => null,
            };
        }

        /// <summary>The window for subordinates in force on a day at the nearest planned superior, walking up the tree of the day.</summary>
        private DateWindow? InheritedWindow(string campaignId, string? superiorId, DateOnly on)
        {
            for (var ancestor = superiorId; ancestor is not null; ancestor = ParentOf(ancestor))
            {
                if (_congresses.TryGetValue(Congress.StreamId(campaignId, ancestor), out var superior) && superior.PlanInForce(on)?.SubordinateWindow is { } window)
                {
                    return window;
                }
            }

            return null;
        }

        /// <summary>Direct subordinates of the day, not dissolved, whose congress had not been held when this one convened.</summary>
        private List<string> IncompleteSubordinates(string campaignId, string organizationId) =>
        [
            .. _organizations.Values
                .Where(o => o.ParentId == organizationId && !o.IsDissolved
                    && !(_congresses.TryGetValue(Congress.StreamId(campaignId, o.Id), out var congress) && congress.IsHeld))
                .Select(o => o.Id).Order(StringComparer.Ordinal),
        ];

        /// <summary>Besides the event itself, what the finding rests on: how the organisation came under its superior of the day.</summary>
        private IEnumerable<RecordedFact> Context(string code, string organizationId) =>
            code == CongressErrors.NotDirectSuperior && _placedBy.TryGetValue(organizationId, out var placed) ? [placed] : [];

        private string? ParentOf(string organizationId) =>
            _organizations.TryGetValue(organizationId, out var organization) ? organization.ParentId : null;

        private void Report(string code, string organizationId, DateOnly on, string message, params RecordedFact[] evidence) =>
            Findings.Add(new ConformanceFinding(code, organizationId, on, message,
                [.. evidence.Select(f => new EventReference(f.StreamId, f.Version, f.GlobalPosition, Describe(f.Event), Congress.DateOf(f.Event)))]));
    }

    private static bool SameTerms(PlanTerms? derived, PlanTerms recorded) =>
        derived is not null && derived with { Deadlines = [] } == recorded with { Deadlines = [] } && derived.Deadlines.SequenceEqual(recorded.Deadlines);

    private static DocumentReference? Parse(string text) => DocumentReference.TryParse(text, out var reference, out _) ? reference : null;

    private static string? CongressIdOf(object @event) => @event switch
    {
        CongressPlanIssued e => e.CongressId,
        CongressPlanAmended e => e.CongressId,
        CongressSuperiorChanged e => e.CongressId,
        SubcommitteeFormed e => e.CongressId,
        DraftPrepared e => e.CongressId,
        CommentsCollected e => e.CongressId,
        PersonnelPlanPrepared e => e.CongressId,
        CongressSubmitted e => e.CongressId,
        SubmissionApproved e => e.CongressId,
        SubmissionReturned e => e.CongressId,
        CongressScheduled e => e.CongressId,
        CongressPostponed e => e.CongressId,
        CongressRescheduled e => e.CongressId,
        BottomUpExemptionGranted e => e.CongressId,
        CongressConvened e => e.CongressId,
        ElectionsRecorded e => e.CongressId,
        ResultsRecognised e => e.CongressId,
        ResolutionIssued e => e.CongressId,
        ActionProgrammeAdopted e => e.CongressId,
        ResolutionDisseminated e => e.CongressId,
        _ => null,
    };

    private static string? PlanDocument(object @event) => @event switch
    {
        CongressPlanIssued e => e.Terms.Document,
        CongressPlanAmended e => e.Terms.Document,
        _ => null,
    };

    private static string Describe(object @event) => @event.GetType().Name;
}

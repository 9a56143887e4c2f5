using CongressWorkflow.Domain.Congresses;

namespace CongressWorkflow.Domain.Deadlines;

/// <summary>
/// One deadline of a congress: a milestone, the day it is due, the days on which that due date is in force (a plan
/// version's time in force; lifecycle deadlines from their start on), who must act, and whether it has been met.
/// </summary>
public sealed record DerivedDeadline(
    Milestone Milestone, DateOnly Due, DateOnly EffectiveFrom, DateOnly? EffectiveUntil, string ResponsibleOrganizationId, string? PlanDocument,
    bool IsMet, DateOnly? MetOn);

/// <summary>
/// The deadlines that follow from a congress's plans and its lifecycle, derived from its state alone: the milestones
/// its plans date (and the congress held by the window's end), the superior's decision on a submission, a new date
/// after a postponement, recognition of the results and dissemination of the resolution (periods from the policy).
/// The same function serves the read model, the sweep and the board, so every screen agrees.
/// </summary>
public static class CongressDeadlines
{
    /// <param name="superiorId">The organisation's direct superior now (it moves when the unit moves); null at the top.</param>
    public static IReadOnlyList<DerivedDeadline> Derive(Congress state, string? superiorId, DeadlinePolicy policy)
    {
        if (state.Stage == CongressStage.NotPlanned)
        {
            return [];
        }

        var unit = state.OrganizationId;
        var deadlines = new List<DerivedDeadline>();
        foreach (var (plan, from, until) in PlanVersionsInForce(state))
        {
            var dated = plan.Deadlines.ToDictionary(d => d.Milestone, d => d.Due);
            dated.TryAdd(Milestone.CongressHeld, plan.Window.End);
            foreach (var (milestone, due) in dated)
            {
                if (superiorId is null && milestone is Milestone.SubmittedToSuperior or Milestone.SubmissionDecided or Milestone.ResultsRecognised)
                {
                    continue;
                }

                var (met, on) = Met(state, milestone);
                deadlines.Add(new DerivedDeadline(milestone, due, from, until, Responsible(milestone, unit, superiorId), plan.Document, met, on));
            }
        }

        void Lifecycle(Milestone milestone, DateOnly? anchor, int days, bool applies = true)
        {
            if (anchor is { } start && applies && !deadlines.Any(d => d.Milestone == milestone))
            {
                var (met, on) = Met(state, milestone);
                deadlines.Add(new DerivedDeadline(milestone, start.AddDays(days), start, null, Responsible(milestone, unit, superiorId), null, met, on));
            }
        }

        Lifecycle(Milestone.SubmissionDecided, state.SubmittedOn, policy.DecisionDays, superiorId is not null);
        Lifecycle(Milestone.NewDateSet, state.PostponedOn, policy.RescheduleDays);
        Lifecycle(Milestone.ResultsRecognised, state.ElectedOn, policy.RecognitionDays, superiorId is not null);
        Lifecycle(Milestone.ResolutionDisseminated, state.ResolvedOn, policy.DisseminationDays);
        return Merge(deadlines);
    }

    /// <summary>
    /// Each plan version with the days it is in force: the plan in force on a day is the latest issued whose effective
    /// date has come, so version i rules from its effective date until the earliest effective date of a later version.
    /// </summary>
    public static IEnumerable<(PlanTerms Plan, DateOnly From, DateOnly? Until)> PlanVersionsInForce(Congress state)
    {
        for (var i = 0; i < state.Plans.Count; i++)
        {
            var plan = state.Plans[i];
            DateOnly? overriddenFrom = i + 1 < state.Plans.Count ? state.Plans.Skip(i + 1).Min(p => p.EffectiveOn) : null;
            if (overriddenFrom is null || overriddenFrom > plan.EffectiveOn)
            {
                yield return (plan, plan.EffectiveOn, overriddenFrom?.AddDays(-1));
            }
        }
    }

    private static string Responsible(Milestone milestone, string unit, string? superiorId) =>
        milestone is Milestone.SubmissionDecided or Milestone.ResultsRecognised ? superiorId ?? unit : unit;

    private static (bool Met, DateOnly? On) Met(Congress s, Milestone milestone) => milestone switch
    {
        Milestone.SubmittedToSuperior => (s.IsHeld || s.Stage is CongressStage.AwaitingApproval or CongressStage.Approved, s.SubmittedOn),
        Milestone.SubmissionDecided => (s.SubmittedOn is not null && s.Stage != CongressStage.AwaitingApproval, s.DecidedOn),
        Milestone.CongressHeld => (s.IsHeld, s.Convened?.ConvenedOn),
        Milestone.NewDateSet => (!s.IsPostponed, null),
        Milestone.ResultsRecognised => (s.RecognisedOn is not null, s.RecognisedOn),
        Milestone.ResolutionDisseminated => (s.DisseminatedOn is not null, s.DisseminatedOn),
        _ => s.Reached.TryGetValue(milestone, out var on) || s.IsHeld ? (true, s.Reached.TryGetValue(milestone, out on) ? on : null) : (false, null),
    };

    /// <summary>Two plan versions that set the same due date for a milestone make one deadline in force over both.</summary>
    private static List<DerivedDeadline> Merge(List<DerivedDeadline> deadlines) =>
        deadlines.GroupBy(d => (d.Milestone, d.Due))
            .Select(g => g.First() with
            {
                EffectiveFrom = g.Min(d => d.EffectiveFrom),
                EffectiveUntil = g.Any(d => d.EffectiveUntil is null) ? null : g.Max(d => d.EffectiveUntil),
                PlanDocument = g.Last().PlanDocument,
            })
            .OrderBy(d => d.Due).ThenBy(d => d.Milestone)
            .ToList();
}

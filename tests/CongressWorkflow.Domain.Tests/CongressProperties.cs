using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using FsCheck;
using FsCheck.Fluent;
using static CongressWorkflow.Domain.Tests.Spec;

namespace CongressWorkflow.Domain.Tests;

/// <summary>Random command sequences, valid and invalid, thrown at the Decider.</summary>
public sealed class congress_properties
{
    private static readonly DateOnly Day0 = new(2020, 1, 1);

    /// <summary>Builds one of many commands from a random number: a mix of right, wrong and wrongly-timed steps.</summary>
    private static CongressCommand CommandFrom(int seed)
    {
        var n = Math.Abs(seed);
        var day = Day0.AddDays(n % 200);
        var secretary = Secretary(day);
        var superior = n % 7 == 0 ? new CommandContext("x", "standing-committee", Bloc, At(day)) : Superior(day);
        return (n % 19) switch
        {
            0 => IssuePlan(),
            1 => new FormSubcommittee(CongressId, (SubcommitteeKind)(n % 3), "Head", n % 4, secretary),
            2 => new PrepareDraft(CongressId, (DraftKind)(n % 2), secretary),
            3 => new CollectComments(CongressId, (DraftKind)(n % 2), n % 10, n % 50, secretary),
            4 => new PreparePersonnelPlan(CongressId, 1 + (n % 12), n % 15, n % 3, n % 2, secretary),
            5 => new SubmitToSuperior(CongressId, secretary),
            6 => new ApproveSubmission(CongressId, Doc("1-QĐ/ĐUB"), superior),
            7 => new ReturnSubmission(CongressId, n % 2 == 0 ? "bổ sung" : "", superior),
            8 => new ScheduleCongress(CongressId, new DateWindow(day, day.AddDays(1)), secretary),
            9 => new PostponeCongress(CongressId, "COVID-19", secretary),
            10 => new RescheduleCongress(CongressId, new DateWindow(day, day), "mới", secretary),
            11 => new GrantBottomUpExemption(CongressId, Doc("748-CV/ĐUB"), "điểm", superior),
            12 => new ConveneCongress(CongressId, day, n % 300, 1 + (n % 299), 3, 100, n % 3 == 0 ? ["chi-bo-1"] : [], secretary),
            13 => new RecordElections(CongressId, new ElectionResults(1 + (n % 12), n % 13, n % 5 == 0 ? "" : "A", n % 4, n % 6, n % 2 == 0 ? "B" : null, 10, 1), secretary),
            14 => new RecogniseResults(CongressId, Doc("2-QĐ/ĐUB"), superior),
            15 => new IssueResolution(CongressId, Doc(n % 2 == 0 ? "1-NQ/ĐU" : "1-KH/ĐU"), secretary),
            16 => new AdoptActionProgramme(CongressId, "CTHĐ", secretary),
            17 => new DisseminateResolution(CongressId, n % 5, day, secretary),
            _ => new AmendPlan(CongressId, Doc($"{10 + (n % 5)}-KH/ĐU"), day, PlannedDate, Window, null, [], MinistryWindowForSubordinates, secretary),
        };
    }

    /// <summary>The command kinds of a congress's whole lifecycle, in order (see <see cref="CommandFrom"/>).</summary>
    private static readonly int[] Lifecycle = [0, 1, 2, 2, 4, 5, 6, 11, 12, 13, 14, 15, 16, 17];

    /// <summary>
    /// About a third of the seeds take the next lifecycle step (with random, possibly wrong, parameters; the step
    /// advances only when accepted); the rest are random commands. Purely random sequences never get past planning.
    /// </summary>
    private static (Congress State, List<object> Events) Run(int[] seeds)
    {
        var state = Congress.None;
        var events = new List<object>();
        var step = 0;
        foreach (var seed in seeds)
        {
            var n = Math.Abs(seed);
            var followsLifecycle = n / 19 % 3 == 0 && step < Lifecycle.Length;
            var command = followsLifecycle ? CommandFrom(Lifecycle[step] + 19 * (n / 19)) : CommandFrom(n);
            if (CongressDecider.Decide(command, state) is Decision.Accepted accepted)
            {
                step += followsLifecycle ? 1 : 0;
                foreach (var e in accepted.Events)
                {
                    events.Add(e);
                    state = Congress.Evolve(state, e);
                }
            }
        }

        return (state, events);
    }

    [Fact]
    public void no_command_sequence_breaks_an_invariant()
    {
        Prop.ForAll(Gen.Choose(0, 10_000).ArrayOf().ToArbitrary(), seeds =>
        {
            var (state, events) = Run(seeds);
            var convened = events.OfType<CongressConvened>().ToList();
            var approvedBeforeConvening = events.TakeWhile(e => e is not CongressConvened).OfType<SubmissionApproved>().Any();
            var gateHeld = convened.All(c => !c.Exempted) || events.TakeWhile(e => e is not CongressConvened).OfType<BottomUpExemptionGranted>().Any();
            return convened.Count <= 1
                && (convened.Count == 0 || approvedBeforeConvening)
                && gateHeld
                && convened.All(c => c.DelegatesPresent <= c.DelegatesExpected)
                && events.OfType<PersonnelPlanPrepared>().All(p => p.Candidates >= p.Seats && p.SurplusPercent >= 0)
                && events.OfType<ElectionsRecorded>().All(e => e.Results.StandingCommittee <= e.Results.ExecutiveCommittee)
                && events.OfType<SubmissionApproved>().All(a => a.ApprovedByOrganization == Ministry)
                && events.OfType<ResultsRecognised>().All(r => r.RecognisedByOrganization == Ministry)
                && (state.Elections is null || state.IsHeld)
                && (state.Resolution is null || state.Elections is not null)
                && state.Plans.All(p => MinistryWindowForSubordinates.Contains(p.Window));
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void folding_the_produced_events_again_gives_the_same_state()
    {
        Prop.ForAll(Gen.Choose(0, 10_000).ArrayOf().ToArbitrary(), seeds =>
        {
            var (state, events) = Run(seeds);
            var refolded = events.Aggregate(Congress.None, Congress.Evolve);
            return Same(state, refolded);
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void the_generated_sequences_reach_every_stage_so_the_properties_are_not_vacuous()
    {
        var reached = Gen.Choose(0, 10_000).ArrayOf().Sample(2000, 100)
            .Select(seeds => Run(seeds).State.Stage)
            .ToHashSet();

        Assert.Equal(Enum.GetValues<CongressStage>().ToHashSet(), reached);
    }

    private static readonly System.Collections.Immutable.ImmutableDictionary<Milestone, DateOnly> Reached0 =
        System.Collections.Immutable.ImmutableDictionary<Milestone, DateOnly>.Empty;

    private static bool Same(Congress a, Congress b) =>
        a with { Plans = [], Subcommittees = [], Drafts = [], CommentedDrafts = [], Reached = Reached0 }
            == b with { Plans = [], Subcommittees = [], Drafts = [], CommentedDrafts = [], Reached = Reached0 }
        && a.Plans.SequenceEqual(b.Plans)
        && a.Reached.OrderBy(r => r.Key).SequenceEqual(b.Reached.OrderBy(r => r.Key))
        && a.Subcommittees.SetEquals(b.Subcommittees)
        && a.Drafts.SetEquals(b.Drafts)
        && a.CommentedDrafts.SetEquals(b.CommentedDrafts);
}

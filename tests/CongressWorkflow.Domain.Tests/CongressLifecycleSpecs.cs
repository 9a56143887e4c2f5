using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using static CongressWorkflow.Domain.Tests.Spec;

namespace CongressWorkflow.Domain.Tests;

public sealed class planning_a_congress
{
    [Fact]
    public void issuing_a_plan_records_its_terms_and_the_superior_plan_it_cites()
    {
        var events = ThenAccepted(CongressDecider.Decide(IssuePlan(pilot: true), Congress.None));

        var issued = Assert.IsType<CongressPlanIssued>(Assert.Single(events));
        Assert.Equal("10-KH/ĐU", issued.Terms.Document);
        Assert.Equal("681-KH/ĐUB", issued.CitesDocument);
        Assert.Equal(PlannedDate, issued.Terms.PlannedDate);
        Assert.True(issued.IsPilot);
        Assert.Equal(Ministry, issued.SuperiorOrganizationId);
    }

    [Fact]
    public void a_window_outside_the_superiors_is_rejected_naming_both_windows()
    {
        var superior = new DateWindow(new DateOnly(2020, 1, 1), new DateOnly(2020, 5, 31));

        var error = ThenRejected(CongressDecider.Decide(IssuePlan(superior), Congress.None), CongressErrors.WindowOutsideSuperior);

        Assert.Contains(Window.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(superior.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void a_planned_date_outside_its_own_window_is_rejected() =>
        ThenRejected(CongressDecider.Decide(IssuePlan() with { PlannedDate = new DateOnly(2020, 7, 1) }, Congress.None),
            CongressErrors.PlannedDateOutsideWindow);

    [Fact]
    public void subordinates_must_finish_before_the_congress_itself() =>
        ThenRejected(CongressDecider.Decide(IssuePlan() with { SubordinateWindow = new DateWindow(new DateOnly(2020, 1, 1), new DateOnly(2020, 6, 1)) },
            Congress.None), CongressErrors.SubordinateWindowAfterCongress);

    [Fact]
    public void a_plan_must_be_a_plan_document() =>
        ThenRejected(CongressDecider.Decide(IssuePlan() with { Plan = Doc("35-CT/TW") }, Congress.None), CongressErrors.WrongDocumentType);

    [Fact]
    public void a_second_plan_is_rejected() =>
        ThenRejected(CongressDecider.Decide(IssuePlan(), Given(ThenAccepted(CongressDecider.Decide(IssuePlan(), Congress.None)).ToArray())),
            CongressErrors.AlreadyPlanned);

    [Fact]
    public void commands_before_a_plan_are_rejected() =>
        ThenRejected(CongressDecider.Decide(new PrepareDraft(CongressId, DraftKind.PoliticalReport, Secretary(PlanDate)), Congress.None),
            CongressErrors.NotPlanned);

    [Fact]
    public void an_amendment_moves_the_planned_date_and_the_plan_in_force_depends_on_the_date()
    {
        var state = Given(ThenAccepted(CongressDecider.Decide(IssuePlan(), Congress.None)).ToArray());
        var amendment = new AmendPlan(CongressId, Doc("12-KH/ĐU"), new DateOnly(2020, 3, 12), new DateOnly(2020, 6, 15), Window, null, [],
            MinistryWindowForSubordinates, Secretary(new DateOnly(2020, 3, 12)));

        var amended = Assert.IsType<CongressPlanAmended>(Assert.Single(ThenAccepted(CongressDecider.Decide(amendment, state))));
        var after = Congress.Evolve(state, amended);

        Assert.Equal("10-KH/ĐU", amended.AmendsDocument);
        Assert.Equal("10-KH/ĐU", after.PlanInForce(new DateOnly(2020, 3, 11))!.Document);
        Assert.Equal("12-KH/ĐU", after.PlanInForce(new DateOnly(2020, 3, 12))!.Document);
        Assert.Equal(new DateOnly(2020, 6, 15), after.PlanInForce(new DateOnly(2020, 6, 1))!.PlannedDate);
    }

    [Fact]
    public void an_amendment_needs_a_new_document_and_a_window_inside_the_superiors()
    {
        var state = Given(ThenAccepted(CongressDecider.Decide(IssuePlan(), Congress.None)).ToArray());
        var same = new AmendPlan(CongressId, Doc("10-KH/ĐU"), new DateOnly(2020, 3, 12), PlannedDate, Window, null, [],
            MinistryWindowForSubordinates, Secretary(new DateOnly(2020, 3, 12)));
        var outside = same with { Amendment = Doc("12-KH/ĐU"), Window = new DateWindow(new DateOnly(2020, 4, 1), new DateOnly(2020, 7, 31)) };

        ThenRejected(CongressDecider.Decide(same, state), CongressErrors.SameDocument);
        ThenRejected(CongressDecider.Decide(outside, state), CongressErrors.WindowOutsideSuperior);
    }
}

public sealed class preparing_and_submitting
{
    private static Congress Planned() => Given(ThenAccepted(CongressDecider.Decide(IssuePlan(), Congress.None)).ToArray());

    private static readonly DateOnly Day = new(2020, 3, 1);

    [Fact]
    public void subcommittees_drafts_comments_and_personnel_plan_are_recorded()
    {
        var state = Planned();

        var subcommittee = ThenAccepted(CongressDecider.Decide(new FormSubcommittee(CongressId, SubcommitteeKind.OrganisationService, "Lê C", 4, Secretary(Day)), state));
        var draft = ThenAccepted(CongressDecider.Decide(new PrepareDraft(CongressId, DraftKind.PoliticalReport, Secretary(Day)), state));
        var withDraft = Congress.Evolve(state, draft[0]);
        var comments = ThenAccepted(CongressDecider.Decide(new CollectComments(CongressId, DraftKind.PoliticalReport, 12, 57, Secretary(Day)), withDraft));

        Assert.Equal(new SubcommitteeFormed(CongressId, SubcommitteeKind.OrganisationService, "Lê C", 4, Day), Assert.Single(subcommittee));
        Assert.Equal(new DraftPrepared(CongressId, DraftKind.PoliticalReport, Day), Assert.Single(draft));
        Assert.Equal(new CommentsCollected(CongressId, DraftKind.PoliticalReport, 12, 57, Day), Assert.Single(comments));
    }

    [Fact]
    public void comments_need_a_draft_first() =>
        ThenRejected(CongressDecider.Decide(new CollectComments(CongressId, DraftKind.ReviewReport, 1, 1, Secretary(Day)), Planned()),
            CongressErrors.IncompletePreparation);

    [Theory]
    [InlineData(11, 13, 18.18)]
    [InlineData(34, 40, 17.65)]
    [InlineData(9, 9, 0)]
    public void the_personnel_plan_reports_its_candidate_surplus(int seats, int candidates, double surplus)
    {
        var plan = Assert.IsType<PersonnelPlanPrepared>(Assert.Single(ThenAccepted(
            CongressDecider.Decide(new PreparePersonnelPlan(CongressId, seats, candidates, 2, 1, Secretary(Day)), Planned()))));

        Assert.Equal((decimal)surplus, plan.SurplusPercent);
    }

    [Fact]
    public void fewer_candidates_than_seats_are_rejected() =>
        ThenRejected(CongressDecider.Decide(new PreparePersonnelPlan(CongressId, 11, 10, 2, 1, Secretary(Day)), Planned()),
            CongressErrors.NotEnoughCandidates);

    [Fact]
    public void submission_needs_both_drafts_and_the_personnel_plan()
    {
        var error = ThenRejected(CongressDecider.Decide(new SubmitToSuperior(CongressId, Secretary(Day)), Planned()), CongressErrors.IncompletePreparation);

        Assert.Contains("PoliticalReport", error.Message, StringComparison.Ordinal);
        Assert.Contains("personnel plan", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void only_the_direct_superior_approves_and_it_may_return_for_another_round()
    {
        var approved = ApprovedCongress();
        var submitted = Given(approved[..^1]);
        var stranger = new CommandContext("someone", "standing-committee", Bloc, At(Day));

        ThenRejected(CongressDecider.Decide(new ApproveSubmission(CongressId, Doc("1-QĐ/ĐUK"), stranger), submitted), CongressErrors.NotDirectSuperior);
        ThenRejected(CongressDecider.Decide(new ApproveSubmission(CongressId, Doc("1-QĐ/ĐUB"), Secretary(Day)), submitted), CongressErrors.NotDirectSuperior);

        var returned = Assert.IsType<SubmissionReturned>(Assert.Single(ThenAccepted(
            CongressDecider.Decide(new ReturnSubmission(CongressId, "Bổ sung cơ cấu cán bộ nữ", Superior(Day)), submitted))));
        var afterReturn = Congress.Evolve(submitted, returned);
        var resubmitted = Assert.IsType<CongressSubmitted>(Assert.Single(ThenAccepted(
            CongressDecider.Decide(new SubmitToSuperior(CongressId, Secretary(Day)), afterReturn))));

        Assert.Equal(1, returned.Round);
        Assert.Equal(CongressStage.Preparing, afterReturn.Stage);
        Assert.Equal(2, resubmitted.Round);
        Assert.Equal(Ministry, resubmitted.SubmittedTo);
    }

    [Fact]
    public void preparation_steps_after_submission_are_rejected() =>
        ThenRejected(CongressDecider.Decide(new PrepareDraft(CongressId, DraftKind.ReviewReport, Secretary(Day)), Given(ApprovedCongress()[..^1])),
            CongressErrors.WrongStage);
}

public sealed class convening_and_measuring
{
    private static readonly DateOnly Day = new(2020, 5, 14);

    private static ConveneCongress Convene(DateOnly on, params string[] incomplete) =>
        new(CongressId, on, 299, 300, 92, 7000, incomplete, Secretary(on));

    [Fact]
    public void convening_without_approval_is_rejected() =>
        ThenRejected(CongressDecider.Decide(Convene(Day), Given(ApprovedCongress()[..^1])), CongressErrors.NotApproved);

    [Fact]
    public void convening_dated_before_the_approval_is_out_of_order()
    {
        var error = ThenRejected(CongressDecider.Decide(Convene(new DateOnly(2020, 3, 10)), Given(ApprovedCongress())), CongressErrors.DateOutOfOrder);

        Assert.Contains("approved on 11/03/2020", error.Message, StringComparison.Ordinal);
        ThenAccepted(CongressDecider.Decide(Convene(new DateOnly(2020, 3, 11)), Given(ApprovedCongress())));
    }

    [Fact]
    public void convening_before_every_direct_subordinate_is_rejected_naming_them()
    {
        var error = ThenRejected(CongressDecider.Decide(Convene(Day, "chi-bo-1", "chi-bo-7"), Given(ApprovedCongress())),
            CongressErrors.SubordinatesIncomplete);

        Assert.Contains("chi-bo-7", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void an_exemption_from_the_superior_lets_a_pilot_convene_first_and_is_recorded()
    {
        var state = Given(ApprovedCongress());
        ThenRejected(CongressDecider.Decide(new GrantBottomUpExemption(CongressId, Doc("748-CV/ĐUB"), "đại hội điểm", Secretary(Day)), state),
            CongressErrors.NotDirectSuperior);
        var exemption = ThenAccepted(CongressDecider.Decide(new GrantBottomUpExemption(CongressId, Doc("748-CV/ĐUB"), "đại hội điểm", Superior(Day)), state));

        var convened = Assert.IsType<CongressConvened>(Assert.Single(ThenAccepted(
            CongressDecider.Decide(Convene(Day, "chi-bo-1"), Congress.Evolve(state, exemption[0])))));

        Assert.True(convened.Exempted);
    }

    [Theory]
    [InlineData(2020, 5, 14, -14)]
    [InlineData(2020, 5, 28, 0)]
    [InlineData(2020, 6, 9, 12)]
    public void convening_records_days_early_or_late_against_the_planned_date(int y, int m, int d, int daysLate)
    {
        var convened = Assert.IsType<CongressConvened>(Assert.Single(ThenAccepted(
            CongressDecider.Decide(Convene(new DateOnly(y, m, d)), Given(ApprovedCongress())))));

        Assert.Equal(daysLate, convened.DaysLate);
        Assert.Equal(PlannedDate, convened.PlannedDate);
        Assert.Equal("10-KH/ĐU", convened.PlanInForce);
    }

    [Fact]
    public void lateness_is_measured_against_the_plan_in_force_on_the_day()
    {
        var amendment = new CongressPlanAmended(CongressId, "10-KH/ĐU",
            new PlanTerms("12-KH/ĐU", new DateOnly(2020, 3, 12), new DateOnly(2020, 6, 20), Window, null, []), "bi-thu");
        var state = Given([.. ApprovedCongress(), amendment]);

        var convened = Assert.IsType<CongressConvened>(Assert.Single(ThenAccepted(CongressDecider.Decide(Convene(new DateOnly(2020, 6, 22)), state))));

        Assert.Equal("12-KH/ĐU", convened.PlanInForce);
        Assert.Equal(2, convened.DaysLate);
    }

    [Fact]
    public void a_postponed_congress_cannot_convene_until_rescheduled()
    {
        var scheduled = Given([.. ApprovedCongress(), new CongressScheduled(CongressId, new DateWindow(new DateOnly(2020, 4, 10), new DateOnly(2020, 4, 11)))]);
        var postponed = ThenAccepted(CongressDecider.Decide(new PostponeCongress(CongressId, "COVID-19", Secretary(new DateOnly(2020, 4, 1))), scheduled));
        var state = Congress.Evolve(scheduled, postponed[0]);

        ThenRejected(CongressDecider.Decide(Convene(Day), state), CongressErrors.Postponed);
        ThenRejected(CongressDecider.Decide(new PostponeCongress(CongressId, "again", Secretary(Day)), state), CongressErrors.Postponed);
        ThenRejected(CongressDecider.Decide(new RescheduleCongress(CongressId, new DateWindow(Day, Day), "", Secretary(Day)), state), CongressErrors.ReasonRequired);
        var rescheduled = ThenAccepted(CongressDecider.Decide(
            new RescheduleCongress(CongressId, new DateWindow(Day, Day.AddDays(1)), "hết giãn cách xã hội", Secretary(Day)), state));

        Assert.Equal(new CongressPostponed(CongressId, "COVID-19", new DateOnly(2020, 4, 1)), postponed[0]);
        Assert.IsType<CongressConvened>(Assert.Single(ThenAccepted(CongressDecider.Decide(Convene(Day), Congress.Evolve(state, rescheduled[0])))));
    }

    [Theory]
    [InlineData(301, 300)]
    [InlineData(1, 0)]
    [InlineData(-1, 300)]
    public void impossible_attendance_is_rejected(int present, int expected) =>
        ThenRejected(CongressDecider.Decide(Convene(Day) with { DelegatesPresent = present, DelegatesExpected = expected }, Given(ApprovedCongress())),
            CongressErrors.InvalidCount);

    [Fact]
    public void a_congress_is_held_once() =>
        ThenRejected(CongressDecider.Decide(Convene(Day), Given([.. ApprovedCongress(), ThenAccepted(CongressDecider.Decide(Convene(Day), Given(ApprovedCongress())))[0]])),
            CongressErrors.WrongStage);
}

public sealed class elections_and_after
{
    private static readonly DateOnly Day = new(2020, 5, 28);

    private static readonly ElectionResults Ministry34 = new(11, 5, "Nguyễn Văn A", 2, 5, "Phạm D", 47, 4);

    private static Congress Convened() => Given([.. ApprovedCongress(),
        new CongressConvened(CongressId, Day, 299, 300, 92, 7000, "10-KH/ĐU", PlannedDate, 0, false)]);

    [Fact]
    public void consistent_results_are_recorded_and_recognised_by_the_superior_only()
    {
        var recorded = Assert.IsType<ElectionsRecorded>(Assert.Single(ThenAccepted(
            CongressDecider.Decide(new RecordElections(CongressId, Ministry34, Secretary(Day)), Convened()))));
        var state = Congress.Evolve(Convened(), recorded);

        ThenRejected(CongressDecider.Decide(new RecogniseResults(CongressId, Doc("200-QĐ/ĐUB"), Secretary(Day)), state), CongressErrors.NotDirectSuperior);
        var recognised = Assert.IsType<ResultsRecognised>(Assert.Single(ThenAccepted(
            CongressDecider.Decide(new RecogniseResults(CongressId, Doc("200-QĐ/ĐUB"), Superior(Day.AddDays(7))), state))));

        Assert.Equal(Ministry34, recorded.Results);
        Assert.Equal(Ministry, recognised.RecognisedByOrganization);
        Assert.Equal("200-QĐ/ĐUB", recognised.Decision);
    }

    [Theory]
    [InlineData(5, 9, "Nguyễn Văn A", 2, 5, "Phạm D", "standing committee")]
    [InlineData(11, 5, " ", 2, 5, "Phạm D", "secretary")]
    [InlineData(11, 3, "Nguyễn Văn A", 3, 5, "Phạm D", "deputy secretaries")]
    [InlineData(11, 5, "Nguyễn Văn A", 2, 5, null, "chair")]
    [InlineData(2, 0, "Nguyễn Văn A", 2, 0, null, "executive committee")]
    [InlineData(12, 5, "Nguyễn Văn A", 2, 5, "Phạm D", "seats")]
    public void inconsistent_results_are_rejected(int executive, int standing, string secretary, int deputies, int inspection, string? chair, string reason)
    {
        var results = new ElectionResults(executive, standing, secretary, deputies, inspection, chair, 47, 4);

        var error = ThenRejected(CongressDecider.Decide(new RecordElections(CongressId, results, Secretary(Day)), Convened()), CongressErrors.InconsistentElection);

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void a_branch_without_a_standing_committee_may_elect_a_deputy_secretary() =>
        ThenAccepted(CongressDecider.Decide(new RecordElections(CongressId, new ElectionResults(5, 0, "Bí thư", 1, 0, null, 3, 0), Secretary(Day)), Convened()));

    [Fact]
    public void resolution_action_programme_and_dissemination_follow_the_elections()
    {
        var elected = Congress.Evolve(Convened(), new ElectionsRecorded(CongressId, Ministry34, Day));

        ThenRejected(CongressDecider.Decide(new IssueResolution(CongressId, Doc("01-NQ/ĐU"), Secretary(Day)), Convened()), CongressErrors.WrongStage);
        ThenRejected(CongressDecider.Decide(new IssueResolution(CongressId, Doc("01-KH/ĐU"), Secretary(Day)), elected), CongressErrors.WrongDocumentType);
        var resolution = ThenAccepted(CongressDecider.Decide(new IssueResolution(CongressId, Doc("01-NQ/ĐU"), Secretary(Day)), elected));
        var concluded = Congress.Evolve(elected, resolution[0]);
        var programme = ThenAccepted(CongressDecider.Decide(new AdoptActionProgramme(CongressId, "Chương trình hành động", Secretary(Day)), concluded));
        var disseminated = ThenAccepted(CongressDecider.Decide(new DisseminateResolution(CongressId, 12, new DateOnly(2020, 9, 25), Secretary(Day)), concluded));

        Assert.Equal(CongressStage.Concluded, concluded.Stage);
        Assert.Equal("Chương trình hành động", Assert.IsType<ActionProgrammeAdopted>(Assert.Single(programme)).Title);
        Assert.Equal(12, Congress.Evolve(concluded, disseminated[0]).UnitsReached);
        ThenRejected(CongressDecider.Decide(new DisseminateResolution(CongressId, 0, Day, Secretary(Day)), concluded), CongressErrors.InvalidCount);
        // A dissemination stated as before the congress itself is out of order.
        var early = ThenRejected(CongressDecider.Decide(new DisseminateResolution(CongressId, 12, Day.AddDays(-1), Secretary(Day)), concluded),
            CongressErrors.DateOutOfOrder);
        Assert.Contains(Day.ToString("dd/MM/yyyy", System.Globalization.CultureInfo.InvariantCulture), early.Message, StringComparison.Ordinal);
    }
}

using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using static CongressWorkflow.Domain.Tests.Spec;

namespace CongressWorkflow.Domain.Tests;

/// <summary>The Thái Bình case of DOMAIN.md: 11-KH/ĐU gives the branches 15/01–31/03/2020, 12-KH/ĐU of 12/03 lets them run to 03/05.</summary>
public sealed class plan_cascade
{
    private static readonly DateOnly Amended = new(2020, 3, 12);
    private static readonly DateWindow Before = new(new DateOnly(2020, 1, 15), new DateOnly(2020, 3, 31));
    private static readonly DateWindow After = new(new DateOnly(2020, 1, 15), new DateOnly(2020, 5, 3));
    private static readonly SubordinateWindowChange Loosened = new("congress-xiii-thai-binh", "12-KH/ĐU", Amended, Before, After);

    private static PlanTerms Branch(DateOnly planned, DateWindow? window = null) =>
        new("11-KH/ĐU", new DateOnly(2019, 11, 28), planned, window ?? Before, null,
            [new Deadline(Milestone.SubmittedToSuperior, planned.AddDays(-14)), new Deadline(Milestone.CongressHeld, (window ?? Before).End)]);

    [Fact]
    public void a_branch_whose_date_lapsed_before_the_amendment_takes_the_new_deadline_and_its_milestones_move_with_it()
    {
        var followed = PlanCascade.Follow(Branch(new DateOnly(2020, 3, 1)), Loosened)!;

        Assert.Equal("12-KH/ĐU", followed.Document);
        Assert.Equal(Amended, followed.EffectiveOn);
        Assert.Equal(After, followed.Window);
        Assert.Equal(new DateOnly(2020, 5, 3), followed.PlannedDate);
        Assert.Equal(
            [new Deadline(Milestone.SubmittedToSuperior, new DateOnly(2020, 4, 19)), new Deadline(Milestone.CongressHeld, new DateOnly(2020, 5, 3))],
            followed.Deadlines);
    }

    [Fact]
    public void a_date_still_ahead_is_kept_and_only_the_inherited_deadline_follows()
    {
        var followed = PlanCascade.Follow(Branch(new DateOnly(2020, 3, 20)), Loosened)!;

        Assert.Equal(new DateOnly(2020, 3, 20), followed.PlannedDate);
        Assert.Equal(After, followed.Window);
        Assert.Equal(new DateOnly(2020, 3, 6), followed.Deadlines[0].Due);
    }

    [Fact]
    public void a_window_the_unit_tightened_on_its_own_is_not_loosened()
    {
        var own = new DateWindow(new DateOnly(2020, 2, 1), new DateOnly(2020, 3, 15));

        var followed = PlanCascade.Follow(Branch(new DateOnly(2020, 3, 14), own), Loosened);

        Assert.Null(followed);
    }

    [Fact]
    public void a_tighter_superior_window_tightens_even_a_window_the_unit_chose_and_pulls_the_date_in()
    {
        var tightened = Loosened with { Previous = After, Next = new DateWindow(new DateOnly(2020, 1, 15), new DateOnly(2020, 3, 10)) };
        var own = new DateWindow(new DateOnly(2020, 2, 1), new DateOnly(2020, 3, 31));

        var followed = PlanCascade.Follow(Branch(new DateOnly(2020, 3, 25), own), tightened with { EffectiveOn = new DateOnly(2020, 2, 1) })!;

        Assert.Equal(new DateWindow(new DateOnly(2020, 2, 1), new DateOnly(2020, 3, 10)), followed.Window);
        Assert.Equal(new DateOnly(2020, 3, 10), followed.PlannedDate);
        Assert.Equal([new DateOnly(2020, 2, 25), new DateOnly(2020, 3, 10)], followed.Deadlines.Select(d => d.Due));
    }

    [Fact]
    public void a_committee_pulled_earlier_ends_its_subordinates_window_by_its_new_date()
    {
        var committee = Branch(new DateOnly(2020, 3, 25)) with { SubordinateWindow = new DateWindow(new DateOnly(2020, 1, 20), new DateOnly(2020, 3, 20)) };
        var tightened = Loosened with { Previous = Before, Next = new DateWindow(new DateOnly(2020, 1, 15), new DateOnly(2020, 3, 10)), EffectiveOn = new DateOnly(2020, 1, 2) };

        var followed = PlanCascade.Follow(committee, tightened)!;

        Assert.Equal(new DateWindow(new DateOnly(2020, 1, 20), new DateOnly(2020, 3, 10)), followed.SubordinateWindow);
    }

    [Fact]
    public void the_change_is_read_from_the_superiors_newest_plan_and_is_none_when_its_window_for_subordinates_stayed()
    {
        var issued = new CongressPlanIssued("congress-xiii-thai-binh", Campaign, "thai-binh", "bloc", "187-KH/TU", false,
            new PlanTerms("10-KH/ĐU", new DateOnly(2019, 11, 28), new DateOnly(2020, 5, 28), new DateWindow(new DateOnly(2020, 5, 1), new DateOnly(2020, 6, 30)),
                Before, []), "bi-thu");
        var amended = new CongressPlanAmended("congress-xiii-thai-binh", "10-KH/ĐU", issued.Terms with { Document = "12-KH/ĐU", EffectiveOn = Amended, SubordinateWindow = After },
            "bi-thu");
        var unrelated = new CongressPlanAmended("congress-xiii-thai-binh", "12-KH/ĐU", amended.Terms with { Document = "13-KH/ĐU", PlannedDate = new DateOnly(2020, 5, 29) },
            "bi-thu");

        Assert.Equal(new SubordinateWindowChange("congress-xiii-thai-binh", "10-KH/ĐU", new DateOnly(2019, 11, 28), null, Before), PlanCascade.ChangeOf(Given(issued)));
        Assert.Equal(Loosened, PlanCascade.ChangeOf(Given(issued, amended)));
        Assert.Null(PlanCascade.ChangeOf(Given(issued, amended, unrelated)));
    }

    [Fact]
    public void the_decider_records_the_followed_plan_as_an_amendment_naming_the_superior_and_nothing_once_held()
    {
        var planned = Given(new CongressPlanIssued(CongressId, Campaign, Centre, Ministry, "10-KH/ĐU", false, Branch(new DateOnly(2020, 3, 1)), "bi-thu"));

        var events = ThenAccepted(CongressDecider.Decide(new FollowSuperiorPlan(CongressId, Loosened, Superior(Amended)), planned));
        var held = planned with { Convened = new CongressConvened(CongressId, new DateOnly(2020, 3, 1), 8, 8, 1, 8, "11-KH/ĐU", new DateOnly(2020, 3, 1), 0, false) };

        var amendment = Assert.IsType<CongressPlanAmended>(Assert.Single(events));
        Assert.Equal("11-KH/ĐU", amendment.AmendsDocument);
        Assert.Equal("congress-xiii-thai-binh", amendment.FollowsSuperior);
        Assert.Equal(new DateOnly(2020, 5, 3), amendment.Terms.PlannedDate);
        Assert.Empty(ThenAccepted(CongressDecider.Decide(new FollowSuperiorPlan(CongressId, Loosened, Superior(Amended)), held)));
    }
}

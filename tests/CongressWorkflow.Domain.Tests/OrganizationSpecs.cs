using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Organizations;

namespace CongressWorkflow.Domain.Tests;

public sealed class organisations_and_their_tree
{
    private static readonly CommandContext Admin = new("admin", "organisation-department", "ban-to-chuc", Spec.At(new DateOnly(2019, 10, 1)));

    private static ParentFacts Parent(string id, OrganizationLevel level, bool dissolved = false, params string[] ancestors) =>
        new(id, level, dissolved, ancestors);

    private static Organization Registered(string id, OrganizationLevel level, string? parent) =>
        OrganizationDecider.Evolve(Organization.None, new OrganizationRegistered(id, id, level, Sector.StateManagement, parent, Admin.Now));

    [Fact]
    public void a_branch_registers_under_a_grassroots_organisation_with_its_name_in_nfc()
    {
        var decomposed = "Chi bộ Phòng Kế hoạch".Normalize(System.Text.NormalizationForm.FormD);

        var decision = OrganizationDecider.Decide(new RegisterOrganization("chi-bo-1", decomposed, OrganizationLevel.Branch, Sector.StateManagement,
            Parent("so-cong-thuong-thai-binh", OrganizationLevel.Grassroots), Admin), Organization.None);

        var registered = Assert.IsType<OrganizationRegistered>(Assert.Single(Spec.ThenAccepted(decision)));
        Assert.Equal("Chi bộ Phòng Kế hoạch", registered.Name);
        Assert.True(registered.Name.IsNormalized(System.Text.NormalizationForm.FormC));
    }

    [Fact]
    public void levels_may_be_skipped_a_branch_directly_under_a_bloc() =>
        Spec.ThenAccepted(OrganizationDecider.Decide(new RegisterOrganization("chi-bo-x", "Chi bộ X", OrganizationLevel.Branch, null,
            Parent("khoi", OrganizationLevel.Bloc), Admin), Organization.None));

    [Theory]
    [InlineData(OrganizationLevel.Grassroots, OrganizationLevel.Grassroots)]
    [InlineData(OrganizationLevel.Ministry, OrganizationLevel.Grassroots)]
    [InlineData(OrganizationLevel.Branch, OrganizationLevel.Branch)]
    public void a_child_at_the_same_or_a_higher_level_than_its_parent_is_rejected(OrganizationLevel child, OrganizationLevel parent) =>
        Spec.ThenRejected(OrganizationDecider.Decide(new RegisterOrganization("o", "O", child, null, Parent("p", parent), Admin), Organization.None),
            OrganizationErrors.LevelNotBelowParent);

    [Fact]
    public void only_central_has_no_parent()
    {
        Spec.ThenAccepted(OrganizationDecider.Decide(new RegisterOrganization("tw", "Trung ương", OrganizationLevel.Central, null, null, Admin), Organization.None));
        Spec.ThenRejected(OrganizationDecider.Decide(new RegisterOrganization("k", "Khối", OrganizationLevel.Bloc, null, null, Admin), Organization.None),
            OrganizationErrors.InvalidParent);
    }

    [Fact]
    public void moving_under_ones_own_descendant_is_a_cycle()
    {
        var ministry = Registered("bo", OrganizationLevel.Ministry, "khoi");

        var error = Spec.ThenRejected(OrganizationDecider.Decide(new MoveOrganization("bo",
            Parent("co-so", OrganizationLevel.Bloc, false, "bo", "khoi", "tw"), Admin), ministry), OrganizationErrors.Cycle);

        Assert.Contains("cycle", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void moving_renaming_and_dissolving_are_recorded()
    {
        var branch = Registered("chi-bo", OrganizationLevel.Branch, "co-so-1");

        var moved = Spec.ThenAccepted(OrganizationDecider.Decide(new MoveOrganization("chi-bo", Parent("co-so-2", OrganizationLevel.Grassroots), Admin), branch));
        var renamed = Spec.ThenAccepted(OrganizationDecider.Decide(new RenameOrganization("chi-bo", "Chi bộ Văn phòng", Admin), branch));
        var unchanged = Spec.ThenAccepted(OrganizationDecider.Decide(new RenameOrganization("chi-bo", "chi-bo", Admin), branch));
        var dissolved = Spec.ThenAccepted(OrganizationDecider.Decide(new DissolveOrganization("chi-bo", "sáp nhập", 0, Admin), branch));

        Assert.Equal(new OrganizationMoved("chi-bo", "co-so-1", "co-so-2", Admin.Now), Assert.Single(moved));
        Assert.Equal("Chi bộ Văn phòng", Assert.IsType<OrganizationRenamed>(Assert.Single(renamed)).NewName);
        Assert.Empty(unchanged);
        Assert.True(OrganizationDecider.Evolve(branch, dissolved[0]).IsDissolved);
    }

    [Fact]
    public void dissolved_or_unknown_organisations_and_parents_are_rejected()
    {
        var dissolved = OrganizationDecider.Evolve(Registered("o", OrganizationLevel.Branch, "p"), new OrganizationDissolved("o", "x", Admin.Now));

        Spec.ThenRejected(OrganizationDecider.Decide(new RenameOrganization("o", "New", Admin), dissolved), OrganizationErrors.Dissolved);
        Spec.ThenRejected(OrganizationDecider.Decide(new RenameOrganization("o", "New", Admin), Organization.None), OrganizationErrors.NotRegistered);
        Spec.ThenRejected(OrganizationDecider.Decide(new RegisterOrganization("c", "C", OrganizationLevel.Branch, null,
            Parent("p", OrganizationLevel.Grassroots, dissolved: true), Admin), Organization.None), OrganizationErrors.Dissolved);
        Spec.ThenRejected(OrganizationDecider.Decide(new DissolveOrganization("co-so", "x", 3, Admin),
            Registered("co-so", OrganizationLevel.Grassroots, "bo")), OrganizationErrors.HasChildren);
        Spec.ThenRejected(OrganizationDecider.Decide(new RenameOrganization("co-so", "  ", Admin),
            Registered("co-so", OrganizationLevel.Grassroots, "bo")), OrganizationErrors.InvalidName);
    }

    [Theory]
    [InlineData("Chi bộ \u202EnăoV gnòhP", "direction control")] // shown as "Chi bộ Phòng Văn", stored otherwise
    [InlineData("Chi bộ Phòng\u200BKế hoạch", "zero-width")] // looks like another branch's name
    [InlineData("\uFEFFChi bộ Phòng Kế hoạch", "zero-width")]
    [InlineData("Chi bộ Phòng Kế\u2066 hoạch\u2069", "direction control")]
    public void a_name_with_an_invisible_formatting_character_is_refused(string name, string mentions)
    {
        var decision = OrganizationDecider.Decide(new RegisterOrganization("chi-bo-1", name, OrganizationLevel.Branch, null,
            Parent("so-cong-thuong-thai-binh", OrganizationLevel.Grassroots), Admin), Organization.None);

        Spec.ThenRejected(decision, OrganizationErrors.InvalidName);
        Assert.Contains(mentions, EdgeRules.NameProblem(name), StringComparison.Ordinal);
    }

    [Fact]
    public void free_text_keeps_its_line_breaks_and_any_script_but_not_direction_controls()
    {
        Assert.Null(EdgeRules.TextProblem("Góp ý:\r\n\t1. Bổ sung số liệu; مرحبا; 👨\u200D👩\u200D👧"));
        Assert.Contains("direction control", EdgeRules.TextProblem("Đồng ý \u202Ekhông\u202C"), StringComparison.Ordinal);
        Assert.Contains("direction control", EdgeRules.TextProblem("\u200Fx"), StringComparison.Ordinal);
    }

    [Fact]
    public void a_campaign_starts_from_a_directive()
    {
        var start = new StartCampaign("xiii", "Đại hội đảng bộ các cấp tiến tới Đại hội XIII", DocumentReference.Parse("35-CT/TW"), 2020, 2025, 2022, Admin);

        var started = Assert.IsType<CampaignStarted>(Assert.Single(Spec.ThenAccepted(Campaign.Decide(start, Campaign.None))));

        Assert.Equal("35-CT/TW", started.Directive);
        Spec.ThenRejected(Campaign.Decide(start with { Directive = DocumentReference.Parse("26-HD/TW") }, Campaign.None), "campaign-wrong-document-type");
        Spec.ThenRejected(Campaign.Decide(start, Campaign.Evolve(Campaign.None, started)), "campaign-already-started");
    }
}

using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Engine.Tests;

/// <summary>
/// Central → Central Agencies Bloc → Ministry of Industry and Trade → Industry and Trade Information Centre → two
/// branches, in campaign "xiii", with plans whose windows nest as the sources describe.
/// </summary>
public static class Subtree
{
    public const string Campaign = "xiii";
    public const string Central = "trung-uong";
    public const string Bloc = "dang-bo-khoi-cqtw";
    public const string Ministry = "dang-bo-bo-cong-thuong";
    public const string Centre = "dang-bo-trung-tam-thong-tin";
    public const string Branch1 = "chi-bo-phong-tin-hoc";
    public const string Branch2 = "chi-bo-phong-bao-chi";

    public static DateOnly D(int year, int month, int day) => new(year, month, day);

    public static DocumentReference Doc(string text) => DocumentReference.Parse(text);

    public static string CongressOf(string organizationId) => Congress.StreamId(Campaign, organizationId);

    public static async Task BuildTreeAsync(EngineDatabase db)
    {
        var admin = db.As(Central, "organisation-department");
        await db.Organizations.RegisterAsync(Central, "Trung ương", OrganizationLevel.Central, null, null, admin);
        await db.Organizations.RegisterAsync(Bloc, "Đảng bộ Khối các cơ quan Trung ương", OrganizationLevel.Bloc, null, Central, admin);
        await db.Organizations.RegisterAsync(Ministry, "Đảng bộ Bộ Công Thương", OrganizationLevel.Ministry, Sector.StateManagement, Bloc, admin);
        await db.Organizations.RegisterAsync(Centre, "Đảng bộ Trung tâm Thông tin Công nghiệp và Thương mại", OrganizationLevel.Grassroots,
            Sector.PublicServiceUnit, Ministry, admin);
        await db.Organizations.RegisterAsync(Branch1, "Chi bộ Phòng Tin học", OrganizationLevel.Branch, Sector.PublicServiceUnit, Centre, admin);
        await db.Organizations.RegisterAsync(Branch2, "Chi bộ Phòng Báo chí", OrganizationLevel.Branch, Sector.PublicServiceUnit, Centre, admin);
        await db.Campaigns.StartAsync(new StartCampaign(Campaign, "Đại hội đảng bộ các cấp tiến tới Đại hội XIII", Doc("35-CT/TW"), 2020, 2025, 2022, admin));
    }

    public static IssuePlan Plan(EngineDatabase db, string organizationId, string document, DateOnly plannedDate, DateWindow window, DateWindow? subordinates) =>
        new(CongressOf(organizationId), Campaign, organizationId, null, Doc(document), null, DateOnly.FromDateTime(db.Clock.GetUtcNow().UtcDateTime),
            plannedDate, window, subordinates, [new Deadline(Milestone.CongressHeld, window.End)], false, null, db.As(organizationId));

    /// <summary>Plans for every level of the subtree, top down.</summary>
    public static async Task PlanAllAsync(EngineDatabase db)
    {
        await db.Congresses.HandleAsync(Plan(db, Bloc, "155-KH/ĐUK", D(2020, 10, 28), new(D(2020, 10, 1), D(2020, 10, 31)), new(D(2020, 1, 1), D(2020, 8, 31))));
        await db.Congresses.HandleAsync(Plan(db, Ministry, "681-KH/ĐUB", D(2020, 7, 28), new(D(2020, 7, 1), D(2020, 7, 31)), new(D(2020, 1, 1), D(2020, 6, 30))));
        await db.Congresses.HandleAsync(Plan(db, Centre, "10-KH/ĐU", D(2020, 5, 28), new(D(2020, 4, 1), D(2020, 6, 30)), new(D(2020, 1, 16), D(2020, 5, 3))));
        foreach (var branch in new[] { Branch1, Branch2 })
        {
            await db.Congresses.HandleAsync(Plan(db, branch, "01-KH/CB", D(2020, 3, 1), new(D(2020, 1, 16), D(2020, 5, 3)), null));
        }
    }

    /// <summary>Subcommittees, both drafts and the personnel plan, then submission to the direct superior.</summary>
    public static async Task PrepareAndSubmitAsync(EngineDatabase db, string organizationId)
    {
        var congress = CongressOf(organizationId);
        var me = db.As(organizationId);
        await db.Congresses.HandleAsync(new FormSubcommittee(congress, SubcommitteeKind.Documents, "Nguyễn Văn A", 5, me));
        await db.Congresses.HandleAsync(new FormSubcommittee(congress, SubcommitteeKind.Personnel, "Trần Thị B", 3, me));
        await db.Congresses.HandleAsync(new PrepareDraft(congress, DraftKind.PoliticalReport, me));
        await db.Congresses.HandleAsync(new PrepareDraft(congress, DraftKind.ReviewReport, me));
        await db.Congresses.HandleAsync(new CollectComments(congress, DraftKind.PoliticalReport, 12, 57, me));
        await db.Congresses.HandleAsync(new PreparePersonnelPlan(congress, 11, 13, 3, 1, me));
        await db.Congresses.HandleAsync(new SubmitToSuperior(congress, me));
    }

    public static Task Approve(EngineDatabase db, string organizationId, string superiorId, string decision) =>
        db.Congresses.HandleAsync(new ApproveSubmission(CongressOf(organizationId), Doc(decision), db.As(superiorId, "standing-committee")));

    public static ConveneCongress Convene(EngineDatabase db, string organizationId, DateOnly on) =>
        new(CongressOf(organizationId), on, 299, 300, 92, 7000, [], db.As(organizationId));

    public static void MoveClockTo(EngineDatabase db, DateOnly day) => db.Clock.SetUtcNow(new DateTimeOffset(day.ToDateTime(new TimeOnly(2, 0)), TimeSpan.Zero));
}

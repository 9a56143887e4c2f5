using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;

namespace CongressWorkflow.Domain.Tests;

/// <summary>Given events, when a command, then events or a rule violation: the Decider spec shape.</summary>
public static class Spec
{
    public const string Campaign = "xiii";
    public const string Bloc = "dang-bo-khoi-cqtw";
    public const string Ministry = "dang-bo-bo-cong-thuong";
    public const string Centre = "trung-tam-thong-tin-cntm";
    public const string CongressId = "congress-xiii-trung-tam-thong-tin-cntm";

    public static readonly DateOnly PlanDate = new(2019, 11, 28);
    public static readonly DateOnly PlannedDate = new(2020, 5, 28);
    public static readonly DateWindow Window = new(new DateOnly(2020, 4, 1), new DateOnly(2020, 6, 30));
    public static readonly DateWindow MinistryWindowForSubordinates = new(new DateOnly(2020, 1, 1), new DateOnly(2020, 6, 30));

    public static CommandContext Secretary(DateOnly on) => new("bi-thu-trung-tam", "secretary", Centre, At(on));

    public static CommandContext Superior(DateOnly on) => new("thuong-vu-dang-uy-bo", "standing-committee", Ministry, At(on));

    public static DateTimeOffset At(DateOnly day) => new(day.ToDateTime(new TimeOnly(9, 0)), TimeSpan.Zero);

    public static DocumentReference Doc(string text) => DocumentReference.Parse(text);

    public static Congress Given(params object[] events) => events.Aggregate(Congress.None, Congress.Evolve);

    public static IReadOnlyList<object> ThenAccepted(Decision decision) => decision switch
    {
        Decision.Accepted accepted => accepted.Events,
        Decision.Rejected rejected => throw new Xunit.Sdk.XunitException($"expected events but was rejected: {rejected.Error}"),
        _ => throw new InvalidOperationException(),
    };

    public static DomainError ThenRejected(Decision decision, string code)
    {
        var rejected = Assert.IsType<Decision.Rejected>(decision);
        Assert.Equal(code, rejected.Error.Code);
        Assert.False(string.IsNullOrWhiteSpace(rejected.Error.Message));
        return rejected.Error;
    }

    public static IssuePlan IssuePlan(DateWindow? superiorWindow = null, bool pilot = false) => new(
        CongressId, Campaign, Centre, Ministry, Doc("10-KH/ĐU"), Doc("681-KH/ĐUB"), PlanDate, PlannedDate, Window,
        new DateWindow(new DateOnly(2020, 1, 16), new DateOnly(2020, 5, 3)),
        [new Deadline(Milestone.SubmittedToSuperior, new DateOnly(2020, 4, 30)), new Deadline(Milestone.CongressHeld, new DateOnly(2020, 6, 30))],
        pilot, superiorWindow ?? MinistryWindowForSubordinates, Secretary(PlanDate));

    /// <summary>The events of a congress prepared and approved by its superior, ready to convene.</summary>
    public static object[] ApprovedCongress()
    {
        var events = new List<object>();
        Congress state = Congress.None;
        void Run(CongressCommand command)
        {
            foreach (var e in ThenAccepted(CongressDecider.Decide(command, state)))
            {
                events.Add(e);
                state = Congress.Evolve(state, e);
            }
        }

        var day = new DateOnly(2020, 3, 1);
        Run(IssuePlan());
        Run(new FormSubcommittee(CongressId, SubcommitteeKind.Documents, "Nguyễn Văn A", 5, Secretary(day)));
        Run(new FormSubcommittee(CongressId, SubcommitteeKind.Personnel, "Trần Thị B", 3, Secretary(day)));
        Run(new PrepareDraft(CongressId, DraftKind.PoliticalReport, Secretary(day)));
        Run(new PrepareDraft(CongressId, DraftKind.ReviewReport, Secretary(day)));
        Run(new PreparePersonnelPlan(CongressId, 11, 13, 3, 1, Secretary(day)));
        Run(new SubmitToSuperior(CongressId, Secretary(day)));
        Run(new ApproveSubmission(CongressId, Doc("120-QĐ/ĐUB"), Superior(day.AddDays(10))));
        return [.. events];
    }
}

using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Engine.Congresses;
using static CongressWorkflow.Server.Api.OrganizationEndpoints;
using static CongressWorkflow.Server.Api.RequestParsing;

namespace CongressWorkflow.Server.Api;

public sealed record DeadlineRequest(Milestone? Milestone, DateOnly? Due);

public sealed record PlanRequest(
    string? Document, string? CitesDocument, DateOnly? IssuedOn, DateOnly? PlannedDate, WindowDto? Window, WindowDto? SubordinateWindow,
    IReadOnlyList<DeadlineRequest>? Deadlines, bool? IsPilot);

public sealed record AmendmentRequest(
    string? Document, DateOnly? EffectiveOn, DateOnly? PlannedDate, WindowDto? Window, WindowDto? SubordinateWindow, IReadOnlyList<DeadlineRequest>? Deadlines);

public sealed record ElectionsRequest(
    int? ExecutiveCommittee, int? StandingCommittee, string? Secretary, int? DeputySecretaries, int? InspectionCommittee, string? InspectionChair,
    int? Delegates, int? AlternateDelegates);

public sealed record SubcommitteeRequest(SubcommitteeKind? Kind, string? Head, int? Members);

public sealed record DraftRequest(DraftKind? Kind);

public sealed record CommentsRequest(DraftKind? Draft, int? UnitsConsulted, int? CommentsReceived);

public sealed record PersonnelPlanRequest(int? Seats, int? Candidates, int? Women, int? Youth);

public sealed record DecisionRequest(string? Decision);

public sealed record ReturnRequest(string? Comments);

public sealed record ScheduleRequest(WindowDto? Dates, string? Reason);

public sealed record ReasonRequest(string? Reason);

public sealed record ExemptionRequest(string? Decision, string? Reason);

public sealed record ConveneRequest(DateOnly? ConvenedOn, int? DelegatesPresent, int? DelegatesExpected, int? UnitsRepresented, int? MembersRepresented);

public sealed record ResolutionRequest(string? Resolution);

public sealed record ActionProgrammeRequest(string? Title);

public sealed record DisseminationRequest(int? Units, DateOnly? DisseminatedOn);

/// <summary>
/// One congress per organisation per campaign: its state (now or as of a date) and one POST per lifecycle step.
/// If-Match carries the version the client read; the response's ETag is the new one.
/// </summary>
public static class CongressEndpoints
{
    public static void MapCongressEndpoints(this IEndpointRouteBuilder app)
    {
        var congress = app.MapGroup("/api/campaigns/{campaignId}/congresses/{organizationId}");

        // Both axes of time: asOf, the day the facts refer to; knownAt, what had been recorded by then. Without either, now.
        congress.MapGet("/", async (string campaignId, string organizationId, string? asOf, string? knownAt, HttpContext http, CongressService service,
            TimeProvider time, CancellationToken ct) =>
        {
            var id = Congress.StreamId(campaignId, organizationId);
            var (day, moment) = (asOf is null ? (DateOnly?)null : Day(asOf, time), Moment(knownAt, "knownAt"));
            var (loaded, version) = day is null && moment is null ? await service.LoadAsync(id, ct) : await service.LoadAsOfAsync(id, day, moment, ct);
            // Before its first event a congress is the aggregate's blank state: still the one asked for, not one of blank ids.
            var state = version == 0 ? loaded with { CongressId = id, CampaignId = campaignId, OrganizationId = organizationId } : loaded;
            if (state.Stage == CongressStage.NotPlanned && version == 0 && day is null && moment is null)
            {
                throw NotFound($"no congress of '{organizationId}' in campaign '{campaignId}' has been planned");
            }

            http.Response.Headers.ETag = $"\"{version}\"";
            var today = day ?? DateOnly.FromDateTime((moment ?? time.GetUtcNow()).UtcDateTime);
            return TypedResults.Ok(new CongressView(id, version, day, moment, state.PlanInForce(today) is { } plan ? PlanView.From(plan) : null,
                CongressStateView.From(state)));
        }).Requires(Capability.Read);

        Step<PlanRequest>(congress, "plan", Capability.Plan, (id, c, r, ctx) => new IssuePlan(id, c.Campaign, c.Organization, null, Document(r.Document, "document"),
            OptionalDocument(r.CitesDocument, "citesDocument"), r.IssuedOn ?? ctx.Today, Required(r.PlannedDate, "plannedDate"), Window(r.Window, "window"),
            OptionalWindow(r.SubordinateWindow, "subordinateWindow"), Deadlines(r.Deadlines), r.IsPilot ?? false, null, ctx));

        congress.MapPost("/plan/amendments", async (string campaignId, string organizationId, AmendmentRequest r, HttpContext http,
            CongressService service, TimeProvider time, CancellationToken ct) =>
        {
            var ctx = Actor(http, time);
            var result = await service.HandleAsync(new AmendPlan(Congress.StreamId(campaignId, organizationId), Document(r.Document, "document"),
                r.EffectiveOn ?? ctx.Today, Required(r.PlannedDate, "plannedDate"), Window(r.Window, "window"),
                OptionalWindow(r.SubordinateWindow, "subordinateWindow"), Deadlines(r.Deadlines), null, ctx), ExpectedVersion(http), cancellationToken: ct);
            var conflicts = await service.FindWindowConflictsAsync(campaignId, organizationId, ct);
            http.Response.Headers.ETag = $"\"{result.Version}\"";
            return TypedResults.Ok(new AmendmentAnswer(result.StreamId, result.Version, [.. conflicts.Select(WindowConflictView.From)]));
        }).Requires(Capability.Plan);

        Step<SubcommitteeRequest>(congress, "subcommittees", Capability.Record, (id, _, r, ctx) =>
            new FormSubcommittee(id, Required(r.Kind, "kind"), Required(r.Head, "head"), Required(r.Members, "members"), ctx));
        Step<DraftRequest>(congress, "drafts", Capability.Record, (id, _, r, ctx) => new PrepareDraft(id, Required(r.Kind, "kind"), ctx));
        Step<CommentsRequest>(congress, "comments", Capability.Record, (id, _, r, ctx) =>
            new CollectComments(id, Required(r.Draft, "draft"), Required(r.UnitsConsulted, "unitsConsulted"), Required(r.CommentsReceived, "commentsReceived"), ctx));
        Step<PersonnelPlanRequest>(congress, "personnel-plan", Capability.Record, (id, _, r, ctx) =>
            new PreparePersonnelPlan(id, Required(r.Seats, "seats"), Required(r.Candidates, "candidates"), r.Women ?? 0, r.Youth ?? 0, ctx));
        StepWithoutBody(congress, "submission", Capability.Record, (id, ctx) => new SubmitToSuperior(id, ctx));
        Step<DecisionRequest>(congress, "approval", Capability.Decide, (id, _, r, ctx) => new ApproveSubmission(id, Document(r.Decision, "decision"), ctx));
        Step<ReturnRequest>(congress, "return", Capability.Decide, (id, _, r, ctx) => new ReturnSubmission(id, r.Comments ?? string.Empty, ctx));
        Step<ScheduleRequest>(congress, "schedule", Capability.Record, (id, _, r, ctx) => new ScheduleCongress(id, Window(r.Dates, "dates"), ctx));
        Step<ReasonRequest>(congress, "postponement", Capability.Record, (id, _, r, ctx) => new PostponeCongress(id, r.Reason ?? string.Empty, ctx));
        Step<ScheduleRequest>(congress, "reschedule", Capability.Record, (id, _, r, ctx) => new RescheduleCongress(id, Window(r.Dates, "dates"), r.Reason ?? string.Empty, ctx));
        Step<ExemptionRequest>(congress, "exemption", Capability.Decide, (id, _, r, ctx) =>
            new GrantBottomUpExemption(id, Document(r.Decision, "decision"), r.Reason ?? string.Empty, ctx));
        Step<ConveneRequest>(congress, "convening", Capability.Record, (id, _, r, ctx) => new ConveneCongress(id, r.ConvenedOn ?? ctx.Today,
            Required(r.DelegatesPresent, "delegatesPresent"), Required(r.DelegatesExpected, "delegatesExpected"), r.UnitsRepresented ?? 0,
            r.MembersRepresented ?? 0, [], ctx));
        Step<ElectionsRequest>(congress, "elections", Capability.Record, (id, _, r, ctx) => new RecordElections(id, new ElectionResults(
            Required(r.ExecutiveCommittee, "executiveCommittee"), Required(r.StandingCommittee, "standingCommittee"), Required(r.Secretary, "secretary"),
            r.DeputySecretaries ?? 0, r.InspectionCommittee ?? 0, r.InspectionChair, r.Delegates ?? 0, r.AlternateDelegates ?? 0), ctx));
        Step<DecisionRequest>(congress, "recognition", Capability.Decide, (id, _, r, ctx) => new RecogniseResults(id, Document(r.Decision, "decision"), ctx));
        Step<ResolutionRequest>(congress, "resolution", Capability.Record, (id, _, r, ctx) => new IssueResolution(id, Document(r.Resolution, "resolution"), ctx));
        Step<ActionProgrammeRequest>(congress, "action-programme", Capability.Record, (id, _, r, ctx) => new AdoptActionProgramme(id, r.Title ?? string.Empty, ctx));
        Step<DisseminationRequest>(congress, "dissemination", Capability.Record, (id, _, r, ctx) =>
            new DisseminateResolution(id, Required(r.Units, "units"), r.DisseminatedOn ?? ctx.Today, ctx));
    }

    private sealed record Route(string Campaign, string Organization);

    private static IReadOnlyList<Deadline> Deadlines(IReadOnlyList<DeadlineRequest>? deadlines) =>
        [.. (deadlines ?? []).Select((d, i) => new Deadline(Required(d?.Milestone, $"deadlines[{i}].milestone"), Required(d?.Due, $"deadlines[{i}].due")))];

    private static void Step<TRequest>(
        RouteGroupBuilder group, string path, Capability capability, Func<string, Route, TRequest, CommandContext, CongressCommand> build) =>
        group.MapPost("/" + path, async (string campaignId, string organizationId, TRequest body, HttpContext http,
            CongressService service, TimeProvider time, CancellationToken ct) =>
        {
            var command = build(Congress.StreamId(campaignId, organizationId), new Route(campaignId, organizationId), body, Actor(http, time));
            return Written(http, await service.HandleAsync(command, ExpectedVersion(http), cancellationToken: ct));
        }).Requires(capability);

    private static void StepWithoutBody(RouteGroupBuilder group, string path, Capability capability, Func<string, CommandContext, CongressCommand> build) =>
        group.MapPost("/" + path, async (string campaignId, string organizationId, HttpContext http, CongressService service, TimeProvider time, CancellationToken ct) =>
            Written(http, await service.HandleAsync(build(Congress.StreamId(campaignId, organizationId), Actor(http, time)), ExpectedVersion(http),
                cancellationToken: ct))).Requires(capability);
}

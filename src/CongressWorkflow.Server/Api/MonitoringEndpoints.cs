using System.Globalization;
using CongressWorkflow.Contracts;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Audit;
using CongressWorkflow.Engine.Monitoring;
using CongressWorkflow.EventStore.Projections;
using CongressWorkflow.Server.Hosting;
using Npgsql;
using static CongressWorkflow.Server.Api.RequestParsing;

namespace CongressWorkflow.Server.Api;

/// <summary>What bloc committees watch: progress of any subtree on any day, drill-down, deadlines, the audit trail.</summary>
public static class MonitoringEndpoints
{
    public static void MapMonitoringEndpoints(this IEndpointRouteBuilder app)
    {
        var progress = app.MapGroup("/api/campaigns/{campaignId}/progress/{organizationId}");
        // Reports read from the streaming replica when one is configured: each says how far behind it was.
        progress.AddEndpointFilter(async (context, next) =>
        {
            var replica = context.HttpContext.RequestServices.GetRequiredService<ReadReplica>();
            if (replica.DataSource is not null
                && (await replica.LagAsync(context.HttpContext.RequestAborted)).SecondsBehind is { } behind)
            {
                context.HttpContext.Response.Headers["X-Replica-Lag"] = behind.ToString("0.###", CultureInfo.InvariantCulture);
            }

            return await next(context);
        });
        app.MapGet("/api/replica", async (ReadReplica replica, CancellationToken ct) =>
        {
            var lag = await replica.LagAsync(ct);
            return TypedResults.Ok(new ReplicaView(lag.Configured, lag.InRecovery, lag.SecondsBehind, lag.ReplayedTo));
        }).Requires(Capability.Read, routeValue: null)
            .WithDescription("Whether the monitoring reports read from a streaming replica, and how far behind the primary it is.");
        // Two axes of time on every report: asOf, the day the facts refer to (default today), and knownAt, what had been
        // recorded by then (default: everything recorded).
        progress.MapGet("/", async (string campaignId, string organizationId, string? asOf, string? knownAt, ProgressQueries queries, TimeProvider time,
            CancellationToken ct) =>
            await queries.RollupAsync(campaignId, organizationId, Day(asOf, time), Moment(knownAt, "knownAt"), ct) is { } report
                ? TypedResults.Ok(ProgressViews.Of(report))
                : throw OrganizationEndpoints.NotFound($"no organisation '{organizationId}' in the progress read model (yet)")).Requires(Capability.Read);
        progress.MapGet("/subordinates", async (string campaignId, string organizationId, string? asOf, string? knownAt, ProgressQueries queries,
            TimeProvider time, CancellationToken ct) =>
            TypedResults.Ok((await queries.SubordinatesAsync(campaignId, organizationId, Day(asOf, time), Moment(knownAt, "knownAt"), ct))
                .Select(ProgressViews.Of).ToList()))
            .Requires(Capability.Read);
        // Finding units in a subtree of any size: by name (with or without diacritics), level, sector, pilots, overdue; a page at a time.
        progress.MapGet("/units", async (string campaignId, string organizationId, string? q, string? level, string? sector, bool? pilot, bool? overdue,
            string? asOf, string? knownAt, int? limit, int? offset, ProgressQueries queries, TimeProvider time, CancellationToken ct) =>
        {
            if (limit is < 1 or > 500 || offset is < 0 or > 1_000_000 || q is { Length: > 200 } || q?.Any(char.IsControl) == true)
            {
                throw Invalid("limit is between 1 and 500, offset between 0 and 1,000,000, and q at most 200 printable characters");
            }

            var page = await queries.UnitsAsync(campaignId, organizationId, Day(asOf, time),
                new UnitFilter(q, Level(level), SectorOf(sector), pilot ?? false, overdue ?? false), limit ?? 50, offset ?? 0, Moment(knownAt, "knownAt"), ct);
            return TypedResults.Ok(new UnitPageView(page.Total, [.. page.Units.Select(UnitStatusView.From)]));
        }).Requires(Capability.Read);
        progress.MapGet("/overdue", async (string campaignId, string organizationId, string? asOf, string? knownAt, ProgressQueries queries,
            TimeProvider time, CancellationToken ct) =>
            TypedResults.Ok((await queries.OverdueAsync(campaignId, organizationId, Day(asOf, time), Moment(knownAt, "knownAt"), cancellationToken: ct))
                .Select(ProgressViews.Of).ToList()))
            .Requires(Capability.Read);
        progress.MapGet("/upcoming", async (string campaignId, string organizationId, string? asOf, string? knownAt, int? days, ProgressQueries queries,
            TimeProvider time, CancellationToken ct) =>
        {
            if (days is < 1 or > 366)
            {
                throw Invalid("days must be between 1 and 366");
            }

            return TypedResults.Ok((await queries.UpcomingAsync(campaignId, organizationId, Day(asOf, time), days ?? 30, Moment(knownAt, "knownAt"), cancellationToken: ct))
                .Select(ProgressViews.Of).ToList());
        }).Requires(Capability.Read);
        progress.MapGet("/timeline", async (string campaignId, string organizationId, string? from, string? to, string? level, string? knownAt,
            ProgressQueries queries, TimeProvider time, CancellationToken ct) =>
        {
            var end = Day(to, time);
            var start = from is null ? end.AddDays(-365) : Day(from, time);
            if (start > end || end.DayNumber - start.DayNumber > 3 * 366)
            {
                throw Invalid("from must not be after to, and the range at most three years");
            }

            return TypedResults.Ok((await queries.TimelineAsync(campaignId, organizationId, start, end, Level(level), Moment(knownAt, "knownAt"), ct))
                .Select(p => new TimelinePointView(p.Day, p.Completed, p.Planned)).ToList());
        }).Requires(Capability.Read);
        // The approval trail, filtered by the days entries state, the kind and who acted; ?format=csv exports it for a spreadsheet.
        progress.MapGet("/audit", async Task<IResult> (string campaignId, string organizationId, string? from, string? to, string? action, string? actor,
            string? format, ProgressQueries queries, TimeProvider time, CancellationToken ct) =>
        {
            if (action is not null && !TrailFilter.Actions.Contains(action))
            {
                throw Invalid($"action is one of {string.Join(", ", TrailFilter.Actions)}");
            }

            if (actor is not null && !Domain.Common.EdgeRules.IsId(actor) && Domain.Common.EdgeRules.TextProblem(actor, 200) is not null)
            {
                throw Invalid("actor is an organisation id or a user name");
            }

            if (format is not (null or "json" or "csv"))
            {
                throw Invalid("format is json or csv");
            }

            var (firstDay, lastDay) = Days(from, to, time);
            var entries = (await queries.AuditAsync(campaignId, organizationId, new TrailFilter(firstDay, lastDay, action, actor), limit: 100_000, cancellationToken: ct))
                .Select(TrailEntryView.From).ToList();
            return format == "csv"
                ? Results.Text(TrailCsv.Write(entries), "text/csv; charset=utf-8")
                : TypedResults.Ok(entries);
        }).Requires(Capability.Audit).Produces<List<TrailEntryView>>(StatusCodes.Status200OK, "application/json", "text/csv")
            .WithDescription("The approval trail of a subtree. With ?format=csv, the same entries as RFC 4180 CSV (formula-like cells prefixed with a quote).");

        // The conformance replay: the subtree's recorded history against the rules as they stood at each moment.
        progress.MapGet("/conformance", async (string campaignId, string organizationId, ConformanceService conformance, CancellationToken ct) =>
            await conformance.RunAsync(campaignId, organizationId, ct) is { } report
                ? TypedResults.Ok(ConformanceReportView.From(report))
                : throw new RequestRejectedException(StatusCodes.Status404NotFound, RequestErrorCodes.NotFound, $"no organisation '{organizationId}'"))
            .Requires(Capability.Audit)
            .WithDescription("Replays the subtree's recorded history and reports every place where it breaks the rules as they stood then, with the events that show it.");

        var projections = app.MapGroup("/api/projections");
        projections.MapGet("/", async (NpgsqlDataSource dataSource, CancellationToken ct) =>
            TypedResults.Ok((await ProjectionDaemon.StatusAsync(dataSource, ct)).Select(ProjectionView.From).ToList())).Requires(Capability.Read, routeValue: null);
        projections.MapPost("/{name}/rebuild", async (string name, NpgsqlDataSource dataSource, CancellationToken ct) =>
        {
            await ProjectionDaemon.RequestRebuildAsync(dataSource, name, ct);
            return TypedResults.Accepted("/api/projections", new QueuedView("rebuild", name));
        }).Requires(Capability.Operate, routeValue: null);
        projections.MapPost("/{name}/resume", async (string name, NpgsqlDataSource dataSource, CancellationToken ct) =>
        {
            await ProjectionDaemon.ResumeAsync(dataSource, name, ct);
            return TypedResults.Accepted("/api/projections", new QueuedView("resume", name));
        }).Requires(Capability.Operate, routeValue: null);
    }

    private static OrganizationLevel? Level(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : Enum.TryParse<OrganizationLevel>(text, ignoreCase: true, out var level) && Enum.IsDefined(level) && !int.TryParse(text, CultureInfo.InvariantCulture, out _)
            ? level
            : throw Invalid($"'{text}' is not a level: central, bloc, ministry, grassroots or branch");

    private static Sector? SectorOf(string? text) =>
        string.IsNullOrWhiteSpace(text) ? null
        : Enum.TryParse<Sector>(text.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true, out var sector) && Enum.IsDefined(sector)
          && !int.TryParse(text, CultureInfo.InvariantCulture, out _)
            ? sector
            : throw Invalid($"'{text}' is not a sector: state-management, mass-organization, public-service-unit or enterprise");

    private static RequestRejectedException Invalid(string message) => new(StatusCodes.Status400BadRequest, RequestErrorCodes.InvalidQuery, message);
}

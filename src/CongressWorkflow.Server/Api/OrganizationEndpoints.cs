using System.Text;
using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Import;
using CongressWorkflow.Engine.Organizations;
using static CongressWorkflow.Server.Api.RequestParsing;

namespace CongressWorkflow.Server.Api;

public sealed record RegisterOrganizationRequest(string? Id, string? Name, OrganizationLevel? Level, Sector? Sector, string? ParentId);

public sealed record RenameRequest(string? Name);

public sealed record MoveRequest(string? ParentId);

public sealed record DissolveRequest(string? Reason);

public sealed record StartCampaignRequest(string? Id, string? Name, string? Directive, int? TermStart, int? TermEnd, int? BranchTermEnd);

/// <summary>Organisations, their tree and its import, and campaigns.</summary>
public static class OrganizationEndpoints
{
    public static void MapOrganizationEndpoints(this IEndpointRouteBuilder app)
    {
        var organizations = app.MapGroup("/api/organizations");
        organizations.MapPost("/", async (RegisterOrganizationRequest r, HttpContext http, OrganizationService service, TimeProvider time, CancellationToken ct) =>
            Written(http, await service.RegisterAsync(Required(r.Id, "id"), Required(r.Name, "name"), Required(r.Level, "level"), r.Sector, r.ParentId,
                Actor(http, time), ct), StatusCodes.Status201Created))
            .Requires(Capability.Administer, c => [c.GetArgument<RegisterOrganizationRequest?>(0)?.ParentId]);

        // The tops of what the caller may see: the roots for a top-level caller, otherwise the caller's own organisation.
        organizations.MapGet("/", async (HttpContext http, OrganizationTree tree, CancellationToken ct) =>
        {
            var caller = Caller.Of(http);
            var roots = await tree.RootsAsync(ct);
            IReadOnlyList<OrganizationNode> tops = roots.Any(r => r.Id == caller.OrganizationId) ? roots
                : await tree.GetAsync(caller.OrganizationId, ct) is { } own ? [own] : [];
            return TypedResults.Ok(tops.Select(OrganizationView.From).ToList());
        }).Requires(Capability.Read, routeValue: null);
        organizations.MapGet("/{id}", async (string id, OrganizationTree tree, CancellationToken ct) =>
            await tree.GetAsync(id, ct) is { } node ? TypedResults.Ok(OrganizationView.From(node)) : throw NotFound($"no organisation '{id}'"))
            .Requires(Capability.Read, "id");
        organizations.MapGet("/{id}/children", async (string id, OrganizationTree tree, CancellationToken ct) =>
            TypedResults.Ok((await tree.ChildrenAsync(id, ct)).Select(OrganizationView.From).ToList())).Requires(Capability.Read, "id");
        organizations.MapGet("/{id}/subtree", async (string id, OrganizationTree tree, CancellationToken ct) =>
            TypedResults.Ok((await tree.SubtreeAsync(id, ct)).Select(OrganizationView.From).ToList())).Requires(Capability.Read, "id");
        organizations.MapPut("/{id}/name", async (string id, RenameRequest r, HttpContext http, OrganizationService service, TimeProvider time, CancellationToken ct) =>
            Written(http, await service.RenameAsync(id, Required(r.Name, "name"), Actor(http, time), ExpectedVersion(http), ct))).Requires(Capability.Administer, "id");
        organizations.MapPost("/{id}/move", async (string id, MoveRequest r, HttpContext http, OrganizationService service, TimeProvider time, CancellationToken ct) =>
            Written(http, await service.MoveAsync(id, Required(r.ParentId, "parentId"), Actor(http, time), ExpectedVersion(http), ct)))
            .Requires(Capability.Administer, c => [c.HttpContext.GetRouteValue("id")?.ToString(), c.GetArgument<MoveRequest?>(1)?.ParentId ?? string.Empty]);
        organizations.MapPost("/{id}/dissolve", async (string id, DissolveRequest r, HttpContext http, OrganizationService service, TimeProvider time, CancellationToken ct) =>
            Written(http, await service.DissolveAsync(id, Required(r.Reason, "reason"), Actor(http, time), ExpectedVersion(http), ct))).Requires(Capability.Administer, "id");

        // The body is the file itself: application/json or text/csv.
        organizations.MapPost("/import", async Task<IResult> (HttpContext http, OrganizationImport import, TimeProvider time, CancellationToken ct) =>
        {
            var mediaType = http.Request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
            var format = mediaType switch
            {
                "application/json" => ImportFormat.Json,
                "text/csv" => ImportFormat.Csv,
                _ => throw new RequestRejectedException(StatusCodes.Status415UnsupportedMediaType, RequestErrorCodes.UnsupportedMediaType,
                    $"send the tree as application/json or text/csv, not {mediaType ?? "nothing"}"),
            };
            var actor = Actor(http, time);
            var report = await import.ImportAsync(await ReadUtf8Async(http.Request.Body, ct), format, actor, ct);
            if (report.Succeeded)
            {
                return TypedResults.Ok(ImportAnswer.From(report));
            }

            var problem = ProblemMapping.Details(StatusCodes.Status422UnprocessableEntity, "import-rejected", "The file was not imported",
                $"{report.Errors.Count} row(s) are invalid; nothing was imported");
            problem.Extensions["errors"] = report.Errors;
            return Results.Problem(problem);
        }).Requires(Capability.Operate, routeValue: null).Produces<ImportAnswer>().Accepts<string>("application/json", "text/csv");

        var campaigns = app.MapGroup("/api/campaigns");
        campaigns.MapGet("/", async (CampaignService service, CancellationToken ct) => TypedResults.Ok((await service.ListAsync(ct)).Select(CampaignView.From).ToList()))
            .Requires(Capability.Read, routeValue: null);
        campaigns.MapPost("/", async (StartCampaignRequest r, HttpContext http, CampaignService service, TimeProvider time, CancellationToken ct) =>
            Written(http, await service.StartAsync(new StartCampaign(Required(r.Id, "id"), Required(r.Name, "name"), Document(r.Directive, "directive"),
                Required(r.TermStart, "termStart"), Required(r.TermEnd, "termEnd"), Required(r.BranchTermEnd, "branchTermEnd"), Actor(http, time)), ct),
                StatusCodes.Status201Created)).Requires(Capability.Operate, routeValue: null);
    }

    /// <summary>
    /// The file as UTF-8 (a byte-order mark skipped). Bytes that are not UTF-8 (a file saved as Windows-1258 or Latin-1)
    /// refuse the whole file: read leniently they became replacement characters in the names imported.
    /// </summary>
    private static async Task<string> ReadUtf8Async(Stream body, CancellationToken ct)
    {
        using var reader = new StreamReader(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true, throwOnInvalidBytes: true),
            detectEncodingFromByteOrderMarks: false);
        try
        {
            return await reader.ReadToEndAsync(ct);
        }
        catch (DecoderFallbackException e)
        {
            throw new RequestRejectedException(StatusCodes.Status400BadRequest, RequestErrorCodes.NotUtf8,
                $"the file is not UTF-8 text (byte 0x{e.BytesUnknown?.FirstOrDefault():X2}); save it as CSV UTF-8 or JSON and send it again");
        }
    }

    /// <summary>The stream's new version as the ETag (send it back as If-Match), and what happened.</summary>
    public static CommandAnswered Written(HttpContext http, CommandResult result, int status = StatusCodes.Status200OK) => CommandAnswered.From(http, result, status);

    public static RequestRejectedException NotFound(string message) => new(StatusCodes.Status404NotFound, RequestErrorCodes.NotFound, message);
}

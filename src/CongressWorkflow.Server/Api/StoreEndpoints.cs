using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Integrity;
using CongressWorkflow.Integrity;
using CongressWorkflow.Server.Hosting;
using Npgsql;
using static CongressWorkflow.Server.Api.RequestParsing;

namespace CongressWorkflow.Server.Api;

/// <summary>The store's status and integrity, and raw stream history for auditors.</summary>
public static class StoreEndpoints
{
    public static void MapStoreEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/store/status", async (PostgresEventStore store, DatabaseSetup database, CancellationToken ct) =>
        {
            var status = await store.GetStatusAsync(ct);
            return TypedResults.Ok(new StoreStatusView(status.Streams, status.Events, status.HeadPosition, status.SchemaVersion,
                database.Embedded is { } embedded ? new DatabaseView("embedded", embedded.DataDirectory, embedded.Port) : new DatabaseView("configured", null, 0),
                [.. (await store.ListPartitionsAsync(ct)).Select(PartitionView.From)]));
        }).Requires(Capability.Audit, routeValue: null);

        // The hash chain of one stream or the whole store; for the whole store also every signed checkpoint in the archive.
        app.MapGet("/api/store/verify", async (string? stream, HttpContext http, IntegrityVerifier verifier, CheckpointArchive archive, AccessGuard guard,
            OrganizationTree tree, PostgresEventStore store, CancellationToken ct) =>
        {
            await guard.DemandAsync(http, Capability.Audit, stream is null ? null : await tree.OwnerOfStreamAsync(stream, ct), ct);
            if (stream is not null)
            {
                return TypedResults.Ok(VerificationView.From(await store.GetStreamAsync(stream, ct) is null
                    ? throw new RequestRejectedException(StatusCodes.Status404NotFound, RequestErrorCodes.NotFound, $"no stream '{stream}'")
                    : await verifier.VerifyStreamAsync(stream, ct), 0));
            }

            var report = await verifier.VerifyAllAsync(ct);
            var violations = report.Violations.ToList();
            // Each checkpoint read as it streams from its file (one thinned out meanwhile is not counted).
            var checkedCount = 0;
            foreach (var file in archive.Files())
            {
                if (await archive.CompareFileAsync(file, ct) is { } found)
                {
                    violations.AddRange(found);
                    checkedCount++;
                }
            }

            return TypedResults.Ok(VerificationView.From(report with { Violations = violations }, checkedCount));
        }).WithMetadata(new AccessRule(Capability.Audit));

        // An auditor's own copy of a checkpoint: does the store still extend it? Read as the body streams in (Limits:MaxCheckpointBytes);
        // a body that is not JSON is refused by routing (415), as Accepts declares.
        app.MapPost("/api/store/verify", async (HttpRequest request, IntegrityVerifier verifier, CheckpointArchive archive, CancellationToken ct) =>
        {
            var comparison = await archive.CompareAsync(request.Body, ct);
            if (comparison.Defect is { } defect)
            {
                throw defect.IsMissing
                    ? new RequestRejectedException(StatusCodes.Status400BadRequest, MissingField, defect.Detail)
                    : new RequestRejectedException(StatusCodes.Status400BadRequest, RequestErrorCodes.MalformedRequest, $"not a signed checkpoint: {defect.Detail}");
            }

            var report = await verifier.VerifyAllAsync(ct);
            return TypedResults.Ok(VerificationView.From(report with { Violations = [.. report.Violations, .. comparison.Violations] }, 1));
        }).Requires(Capability.Audit, routeValue: null).Accepts<SignedCheckpoint>("application/json");

        var checkpoints = app.MapGroup("/api/audit/checkpoints");
        checkpoints.MapPost("/", async (CheckpointArchive archive, CancellationToken ct) =>
        {
            var (signed, file) = await archive.TakeAsync(ct);
            return TypedResults.Created("/api/audit/checkpoints/latest", CheckpointView.From(signed, file));
        }).Requires(Capability.Operate, routeValue: null);
        checkpoints.MapGet("/", async (CheckpointArchive archive, CancellationToken ct) =>
            TypedResults.Ok(new CheckpointListView(archive.PublicKey, archive.Folder,
                [.. (await archive.SummariesAsync(ct)).Where(c => c.Summary is not null).Select(c => CheckpointView.From(c.Summary!, c.File))])))
            .Requires(Capability.Audit, routeValue: null);
        // The file as it was written (it is the signed document): sent as it streams, never held.
        checkpoints.MapGet("/latest", async (CheckpointArchive archive, CancellationToken ct) =>
            await archive.LatestAsync(ct) is { } latest
                ? TypedResults.PhysicalFile(Path.GetFullPath(latest.File), "application/json")
                : throw new RequestRejectedException(StatusCodes.Status404NotFound, RequestErrorCodes.NotFound, "no checkpoint has been taken yet"))
            .Produces<SignedCheckpoint>(StatusCodes.Status200OK, "application/json")
            .Requires(Capability.Audit, routeValue: null);

        // A self-contained bundle of a subtree's history for an offline check (congress audit verify-bundle).
        app.MapGet("/api/audit/bundle", async (string root, string? from, string? to, HttpContext http, OrganizationTree tree, CheckpointArchive archive,
            NpgsqlDataSource dataSource, TimeProvider time, CancellationToken ct) =>
        {
            var (firstDay, lastDay) = Days(from, to, time);

            if (await tree.GetAsync(root, ct) is null)
            {
                throw new RequestRejectedException(StatusCodes.Status404NotFound, RequestErrorCodes.NotFound, $"no organisation '{root}'");
            }

            // The first checkpoint taken after the period, so that everything recorded in it is pinned; the latest without an end.
            var chosen = lastDay is { } day
                ? await archive.FirstTakenFromAsync(new DateTimeOffset(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero), ct)
                : await archive.LatestAsync(ct);
            var noCheckpoint = new RequestRejectedException(StatusCodes.Status409Conflict, RequestErrorCodes.NoCheckpoint,
                "no signed checkpoint covers the period yet; checkpoints are taken hourly, or on demand by an operator (POST /api/audit/checkpoints)");
            var file = chosen?.File ?? throw noCheckpoint;
            var streams = await tree.StreamsOfSubtreeAsync(root, ct);
            // Written as the events come. Pinned by the checkpoint's Merkle root, with each stream's proof; a checkpoint
            // taken before pins goes in whole.
            http.Response.ContentType = "application/json";
            bool pinned;
            await using (var document = CheckpointArchive.Open(file))
            {
                pinned = await AuditBundleExport.WritePinnedAsync(http.Response.Body, dataSource, document, root, streams, firstDay, lastDay,
                    time.GetUtcNow(), ct);
            }

            if (!pinned)
            {
                await AuditBundleExport.WriteAsync(http.Response.Body, dataSource, await CheckpointArchive.ReadAsync(file, ct) ?? throw noCheckpoint, root, streams,
                    firstDay, lastDay, time.GetUtcNow(), ct);
            }

            return Results.Empty;
        }).Produces<AuditBundle>(StatusCodes.Status200OK, "application/json")
            .Requires(Capability.Audit, context => [context.HttpContext.Request.Query["root"].ToString()]);

        app.MapGet("/api/streams/{streamId}/events", async (
            string streamId, string? asOf, long? upToVersion, HttpContext http, PostgresEventStore store, AccessGuard guard, OrganizationTree tree,
            CancellationToken ct) =>
        {
            // A stream of an organisation or of its congress belongs to that organisation's subtree; the others to the whole store.
            await guard.DemandAsync(http, Capability.Audit, await tree.OwnerOfStreamAsync(streamId, ct), ct);
            if (upToVersion is < 0)
            {
                throw new RequestRejectedException(StatusCodes.Status400BadRequest, RequestErrorCodes.InvalidQuery, "upToVersion must not be negative");
            }

            var options = new StreamReadOptions(upToVersion, Moment(asOf, "asOf"));
            var events = await store.ReadStreamAsync(streamId, options, ct);
            if (events.Count == 0 && await store.GetStreamAsync(streamId, ct) is null)
            {
                throw new RequestRejectedException(StatusCodes.Status404NotFound, RequestErrorCodes.NotFound, $"no stream '{streamId}'");
            }

            return TypedResults.Ok(events.Select(e => EventEnvelope.From(e, store.Registry.SerializerOptions)).ToList());
        }).WithMetadata(new AccessRule(Capability.Audit));
    }
}

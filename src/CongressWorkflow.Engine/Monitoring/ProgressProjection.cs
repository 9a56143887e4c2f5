using System.Diagnostics;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Projections;
using Npgsql;

namespace CongressWorkflow.Engine.Monitoring;

/// <summary>
/// The tree with every version of each unit's place and name, and each congress's milestones (plans with their versions, submission, approval, held on, days late),
/// kept with their dates so that progress on any past day is one aggregate query. One statement per event (per kind of
/// event for the congresses' plans and milestones), all of a batch sent in one round trip.
/// </summary>
public sealed class ProgressProjection : IProjection
{
    public const string ProjectionName = "progress";

    public string Name => ProjectionName;

    public IReadOnlySet<string>? EventTypes { get; } = DomainEventTypes.NamesOf(
        typeof(OrganizationRegistered), typeof(OrganizationRenamed), typeof(OrganizationMoved), typeof(OrganizationDissolved),
        typeof(CongressPlanIssued), typeof(CongressPlanAmended), typeof(CongressSubmitted), typeof(SubmissionApproved), typeof(CongressConvened));

    public async Task ApplyAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<RecordedEvent> events, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction);
        // The units whose day-by-day counts this batch changes (ProgressCounts), refreshed after its own statements.
        var organizations = new HashSet<string>(StringComparer.Ordinal);
        var congresses = new HashSet<string>(StringComparer.Ordinal);
        var moved = new HashSet<string>(StringComparer.Ordinal);
        // The congresses' plans, submissions, approvals and congresses held are written one statement per kind for the
        // whole batch (the events of a day's stages come interleaved, as their transactions drew positions side by side):
        // first the plans, which any amendment of the batch numbers its version after, then the units' and amendments'
        // statements in the events' order, then the rest, each touching its own columns. A congress goes through these
        // in that order, so applying them by kind leaves what applying them one by one would.
        var byKind = new Dictionary<Type, List<RecordedEvent>>();
        var inOrder = new List<NpgsqlBatchCommand>();
        foreach (var e in events)
        {
            _ = e.Data switch
            {
                OrganizationRegistered r => organizations.Add(r.OrganizationId),
                OrganizationRenamed r => organizations.Add(r.OrganizationId),
                OrganizationDissolved d => organizations.Add(d.OrganizationId),
                OrganizationMoved m => moved.Add(m.OrganizationId),
                CongressPlanIssued p => organizations.Add(p.OrganizationId),
                CongressPlanAmended a => congresses.Add(a.CongressId),
                CongressConvened c => congresses.Add(c.CongressId),
                _ => false,
            };

            if (e.Data is CongressPlanIssued or CongressSubmitted or SubmissionApproved or CongressConvened)
            {
                (byKind.TryGetValue(e.Data.GetType(), out var kind) ? kind : byKind[e.Data.GetType()] = []).Add(e);
                continue;
            }

            inOrder.Add(e.Data switch
            {
                OrganizationRegistered r => Command("""
                    INSERT INTO congress.rollup_units (organization_id, unit_key, parent_id, name, level, path, registered_at, since_position, valid_from,
                        sector, search_name)
                    SELECT $1, $2, $3, $4, $5,
                           coalesce((SELECT p.path FROM congress.rollup_units p WHERE p.organization_id = $3 AND p.valid_until IS NULL), ''::ltree) || $2::text,
                           $6, $2, $6, $7, $8
                    """, r.OrganizationId, e.GlobalPosition, r.ParentId, r.Name, (short)r.Level, e.RecordedAt, (short?)r.Sector, SearchText.Fold(r.Name)),
                OrganizationRenamed r => Command("""
                    WITH closed AS (
                        UPDATE congress.rollup_units SET valid_until = $3 WHERE organization_id = $1 AND valid_until IS NULL RETURNING *)
                    INSERT INTO congress.rollup_units (organization_id, unit_key, parent_id, name, level, path, registered_at, dissolved_at, since_position, valid_from,
                        sector, search_name)
                    SELECT organization_id, unit_key, parent_id, $2, level, path, registered_at, dissolved_at, $4, $3, sector, $5 FROM closed
                    """, r.OrganizationId, r.NewName, e.RecordedAt, e.GlobalPosition, SearchText.Fold(r.NewName)),
                OrganizationMoved m => Command("""
                    WITH moved AS (SELECT path AS old_path FROM congress.rollup_units WHERE organization_id = $1 AND valid_until IS NULL),
                         target AS (SELECT path AS parent_path FROM congress.rollup_units WHERE organization_id = $2 AND valid_until IS NULL),
                         closed AS (
                             UPDATE congress.rollup_units u SET valid_until = $3 FROM moved
                             WHERE u.path <@ moved.old_path AND u.valid_until IS NULL RETURNING u.*)
                    INSERT INTO congress.rollup_units (organization_id, unit_key, parent_id, name, level, path, registered_at, dissolved_at, since_position, valid_from,
                        sector, search_name)
                    SELECT c.organization_id, c.unit_key, CASE WHEN c.organization_id = $1 THEN $2 ELSE c.parent_id END, c.name, c.level,
                           target.parent_path || subpath(c.path, nlevel(moved.old_path) - 1), c.registered_at, c.dissolved_at, $4, $3, c.sector, c.search_name
                    FROM closed c, moved, target
                    """, m.OrganizationId, m.ToParentId, e.RecordedAt, e.GlobalPosition),
                OrganizationDissolved d => Command("UPDATE congress.rollup_units SET dissolved_at = $2 WHERE organization_id = $1", d.OrganizationId, e.RecordedAt),
                CongressPlanAmended a => Command("""
                    INSERT INTO congress.rollup_plans (congress_id, version, document, effective_on, planned_date, window_end, subordinate_window_end,
                        recorded_at)
                    SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7 FROM congress.rollup_plans WHERE congress_id = $1
                    """, a.CongressId, a.Terms.Document, a.Terms.EffectiveOn, a.Terms.PlannedDate, a.Terms.Window.End, a.Terms.SubordinateWindow?.End,
                    e.RecordedAt),
                _ => throw new InvalidOperationException($"the progress projection cannot apply {e.EventType} at position {e.GlobalPosition}"),
            });
        }

        if (byKind.Remove(typeof(CongressPlanIssued), out var plans))
        {
            batch.BatchCommands.Add(ByKind(plans));
        }

        foreach (var command in inOrder)
        {
            batch.BatchCommands.Add(command);
        }

        foreach (var ofKind in byKind.Values)
        {
            batch.BatchCommands.Add(ByKind(ofKind));
        }

        if (organizations.Count + congresses.Count + moved.Count > 0)
        {
            batch.BatchCommands.Add(ProgressCounts.Refresh(organizations, congresses, moved));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// One statement for a batch's congress events of one kind, with what applying them one by one would leave: a
    /// congress submitted again keeps its first submission's day; a later approval or convening of the same congress
    /// overrides an earlier one.
    /// </summary>
    private static NpgsqlBatchCommand ByKind(List<RecordedEvent> ofKind)
    {
        switch (ofKind[0].Data)
        {
            case CongressPlanIssued:
                var plans = ofKind.Select(e => (Plan: (CongressPlanIssued)e.Data, e.RecordedAt)).ToList();
                return Command("""
                    WITH congress AS (
                        INSERT INTO congress.rollup_congresses (congress_id, campaign_id, organization_id, is_pilot)
                        SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[]))
                    INSERT INTO congress.rollup_plans (congress_id, version, document, effective_on, planned_date, window_end, subordinate_window_end,
                        recorded_at)
                    SELECT p.congress_id, 1, p.document, p.effective_on, p.planned_date, p.window_end, p.subordinate_window_end, p.recorded_at
                    FROM unnest($1::text[], $5::text[], $6::date[], $7::date[], $8::date[], $9::date[], $10::timestamptz[])
                         AS p(congress_id, document, effective_on, planned_date, window_end, subordinate_window_end, recorded_at)
                    """,
                    plans.Select(p => p.Plan.CongressId).ToArray(), plans.Select(p => p.Plan.CampaignId).ToArray(),
                    plans.Select(p => p.Plan.OrganizationId).ToArray(), plans.Select(p => p.Plan.IsPilot).ToArray(),
                    plans.Select(p => p.Plan.Terms.Document).ToArray(), plans.Select(p => p.Plan.Terms.EffectiveOn).ToArray(),
                    plans.Select(p => p.Plan.Terms.PlannedDate).ToArray(), plans.Select(p => p.Plan.Terms.Window.End).ToArray(),
                    plans.Select(p => p.Plan.Terms.SubordinateWindow?.End).ToArray(), plans.Select(p => p.RecordedAt).ToArray());
            case CongressSubmitted:
                var submitted = ofKind.Select(e => (CongressSubmitted)e.Data).DistinctBy(s => s.CongressId).ToList();
                return Command("""
                    UPDATE congress.rollup_congresses c SET submitted_on = s.submitted_on
                    FROM unnest($1::text[], $2::date[]) AS s(congress_id, submitted_on)
                    WHERE c.congress_id = s.congress_id AND c.submitted_on IS NULL
                    """, submitted.Select(s => s.CongressId).ToArray(), submitted.Select(s => s.SubmittedOn).ToArray());
            case SubmissionApproved:
                var approved = ofKind.Select(e => (SubmissionApproved)e.Data).Reverse().DistinctBy(a => a.CongressId).ToList();
                return Command("""
                    UPDATE congress.rollup_congresses c SET approved_on = a.approved_on
                    FROM unnest($1::text[], $2::date[]) AS a(congress_id, approved_on)
                    WHERE c.congress_id = a.congress_id
                    """, approved.Select(a => a.CongressId).ToArray(), approved.Select(a => a.ApprovedOn).ToArray());
            case CongressConvened:
                var convened = ofKind.Select(e => (Held: (CongressConvened)e.Data, e.RecordedAt)).Reverse().DistinctBy(c => c.Held.CongressId).ToList();
                return Command("""
                    UPDATE congress.rollup_congresses c SET held_on = h.held_on, days_late = h.days_late, exempted = h.exempted, held_recorded_at = h.recorded_at
                    FROM unnest($1::text[], $2::date[], $3::integer[], $4::boolean[], $5::timestamptz[]) AS h(congress_id, held_on, days_late, exempted, recorded_at)
                    WHERE c.congress_id = h.congress_id
                    """, convened.Select(c => c.Held.CongressId).ToArray(), convened.Select(c => c.Held.ConvenedOn).ToArray(),
                    convened.Select(c => c.Held.DaysLate).ToArray(), convened.Select(c => c.Held.Exempted).ToArray(), convened.Select(c => c.RecordedAt).ToArray());
            default:
                throw new UnreachableException();
        }
    }

    public async Task ResetAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using var truncate = new NpgsqlCommand(
            "TRUNCATE congress.rollup_units, congress.rollup_congresses, congress.rollup_plans, congress.rollup_segments, congress.rollup_counts", connection, transaction);
        await truncate.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Rebuilt from zero: the day-by-day counts, left alone while the events were replayed, are computed in one go; and the
    /// tables hold new data: without statistics the planner would scan where it should use the path index.
    /// </summary>
    public async Task RebuiltAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await ProgressCounts.RecomputeAsync(connection, cancellationToken);
        await using var analyze = new NpgsqlCommand(
            "ANALYZE congress.rollup_units, congress.rollup_congresses, congress.rollup_plans, congress.rollup_segments, congress.rollup_counts", connection);
        await analyze.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static NpgsqlBatchCommand Command(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddPositional(parameters);

        return command;
    }
}

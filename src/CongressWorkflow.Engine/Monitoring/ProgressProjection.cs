using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Projections;
using Npgsql;

namespace CongressWorkflow.Engine.Monitoring;

/// <summary>
/// The tree with every version of each unit's place and name, and each congress's milestones (plans with their versions, submission, approval, held on, days late),
/// kept with their dates so that progress on any past day is one aggregate query. One statement per event, all of a
/// batch sent in one round trip.
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

            batch.BatchCommands.Add(e.Data switch
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
                CongressPlanIssued p => Command("""
                    WITH congress AS (
                        INSERT INTO congress.rollup_congresses (congress_id, campaign_id, organization_id, is_pilot) VALUES ($1, $2, $3, $4))
                    INSERT INTO congress.rollup_plans (congress_id, version, document, effective_on, planned_date, window_end, subordinate_window_end,
                        recorded_at)
                    VALUES ($1, 1, $5, $6, $7, $8, $9, $10)
                    """, p.CongressId, p.CampaignId, p.OrganizationId, p.IsPilot, p.Terms.Document, p.Terms.EffectiveOn, p.Terms.PlannedDate,
                    p.Terms.Window.End, p.Terms.SubordinateWindow?.End, e.RecordedAt),
                CongressPlanAmended a => Command("""
                    INSERT INTO congress.rollup_plans (congress_id, version, document, effective_on, planned_date, window_end, subordinate_window_end,
                        recorded_at)
                    SELECT $1, coalesce(max(version), 0) + 1, $2, $3, $4, $5, $6, $7 FROM congress.rollup_plans WHERE congress_id = $1
                    """, a.CongressId, a.Terms.Document, a.Terms.EffectiveOn, a.Terms.PlannedDate, a.Terms.Window.End, a.Terms.SubordinateWindow?.End,
                    e.RecordedAt),
                CongressSubmitted s => Command("UPDATE congress.rollup_congresses SET submitted_on = coalesce(submitted_on, $2) WHERE congress_id = $1",
                    s.CongressId, s.SubmittedOn),
                SubmissionApproved a => Command("UPDATE congress.rollup_congresses SET approved_on = $2 WHERE congress_id = $1", a.CongressId, a.ApprovedOn),
                CongressConvened c => Command("""
                    UPDATE congress.rollup_congresses SET held_on = $2, days_late = $3, exempted = $4, held_recorded_at = $5 WHERE congress_id = $1
                    """, c.CongressId, c.ConvenedOn, c.DaysLate, c.Exempted, e.RecordedAt),
                _ => throw new InvalidOperationException($"the progress projection cannot apply {e.EventType} at position {e.GlobalPosition}"),
            });
        }

        if (organizations.Count + congresses.Count + moved.Count > 0)
        {
            batch.BatchCommands.Add(ProgressCounts.Refresh(organizations, congresses, moved));
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
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

using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Engine.Monitoring;

/// <summary>What a segment of days counts a unit as (rollup_segments.status, rollup_counts.status).</summary>
internal enum CountedStatus : short
{
    /// <summary>In the subtree, whatever its congress: the total.</summary>
    Member = 0,
    NotYetDue = 1,
    Overdue = 2,
    HeldEarly = 3,
    HeldOnTime = 4,
    HeldLate = 5,
}

/// <summary>
/// The progress projection's day-by-day counts per ancestor (migration 0009): what lets a rollup of 300,000 units as of
/// any day read a few thousand rows instead of every unit. A unit's status on a day follows the rules of
/// <see cref="ProgressQueries"/>'s status query with everything known: a member while its version of place stands (from
/// the day it was recorded until the day it was closed or dissolved); its congress held from the day it was held (early,
/// on time or late); before that, the plan in force (the latest issued version that has taken effect) is overdue from
/// the day after its window ends, not yet due until then; not planned otherwise (counted as the rest of the total).
/// </summary>
internal static class ProgressCounts
{
    /// <summary>
    /// Every segment of the units that {0} selects from rollup_units u and {1} from rollup_congresses c: membership per
    /// version of place (campaign ''), then each campaign's statuses cut to that version's days.
    /// </summary>
    private const string Segments = """
        SELECT * FROM (
            WITH versions AS (
                SELECT u.organization_id, u.since_position, u.level,
                       CASE WHEN nlevel(u.path) > 1 THEN string_to_array(ltree2text(subpath(u.path, 0, nlevel(u.path) - 1)), '.')::bigint[]
                            ELSE '{{}}'::bigint[] END AS ancestors,
                       (u.valid_from AT TIME ZONE 'UTC')::date AS joins,
                       least((u.valid_until AT TIME ZONE 'UTC')::date, (u.dissolved_at AT TIME ZONE 'UTC')::date) AS leaves
                FROM congress.rollup_units u WHERE {0}),
            spans AS (
                SELECT c.campaign_id, c.organization_id, rp.effective_on AS starts, rp.window_end,
                       least((SELECT min(w.effective_on) FROM congress.rollup_plans w WHERE w.congress_id = rp.congress_id AND w.version > rp.version),
                             c.held_on) AS ends
                FROM congress.rollup_congresses c JOIN congress.rollup_plans rp USING (congress_id) WHERE {1}),
            statuses AS (
                SELECT campaign_id, organization_id, 1::smallint AS status, NULL::date AS held_on, starts, least(ends, window_end + 1) AS ends FROM spans
                UNION ALL
                SELECT campaign_id, organization_id, 2::smallint, NULL::date, greatest(starts, window_end + 1), ends FROM spans
                UNION ALL
                SELECT c.campaign_id, c.organization_id, (CASE WHEN c.days_late < 0 THEN 3 WHEN c.days_late = 0 THEN 4 ELSE 5 END)::smallint, c.held_on,
                       c.held_on, NULL::date
                FROM congress.rollup_congresses c WHERE c.held_on IS NOT NULL AND {1})
            SELECT v.organization_id, v.since_position, ''::text AS campaign_id, 0::smallint AS status, v.level, v.ancestors, NULL::date AS held_on,
                   v.joins AS starts, v.leaves AS ends
            FROM versions v WHERE v.leaves IS NULL OR v.joins < v.leaves
            UNION ALL
            SELECT v.organization_id, v.since_position, s.campaign_id, s.status, v.level, v.ancestors, s.held_on,
                   greatest(s.starts, v.joins), least(s.ends, v.leaves)
            FROM statuses s JOIN versions v USING (organization_id)
            WHERE least(s.ends, v.leaves) IS NULL OR greatest(s.starts, v.joins) < least(s.ends, v.leaves)
        ) segment
        """;

    /// <summary>The deltas of the segments in {0} for each of their ancestors, signed {1}: entering on the first day, leaving on the end.</summary>
    private const string Deltas = """
        SELECT a AS ancestor_key, campaign_id, starts AS day, level, status, coalesce(held_on, '-infinity') AS held_on, {1} AS delta
        FROM {0}, unnest(ancestors) a
        UNION ALL
        SELECT a, campaign_id, ends, level, status, coalesce(held_on, '-infinity'), -({1}) FROM {0}, unnest(ancestors) a WHERE ends IS NOT NULL
        """;

    /// <summary>
    /// SQL that is true while the counts stand for everything the projection's tables hold: always, except while a rebuild
    /// replays the events (they are left alone then, and computed in one go when it has caught up).
    /// </summary>
    public const string Kept = $"""
        NOT EXISTS (SELECT 1 FROM event_store.projection_checkpoints WHERE projection = '{ProgressProjection.ProjectionName}' AND status = 'rebuilding')
        """;

    /// <summary>
    /// After a batch's own statements: cut again the segments of the units it touched (registered, renamed, dissolved,
    /// moved with their whole subtree, or whose congress was planned, amended or held), replace only those that differ
    /// (a unit's membership and the days before a change stay the rows they were) and move the counts by the difference.
    /// A touched congress's unit is looked up by its key, one probe each (as a join, the planner scanned every congress
    /// for a batch of a thousand). Nothing while a rebuild replays the events: <see cref="RecomputeAsync"/> fills
    /// everything once it has caught up.
    /// </summary>
    public static NpgsqlBatchCommand Refresh(IReadOnlyCollection<string> organizations, IReadOnlyCollection<string> congresses, IReadOnlyCollection<string> moved)
    {
        var affected = "organization_id IN (SELECT organization_id FROM affected)";
        var command = new NpgsqlBatchCommand($"""
            WITH affected AS (
                SELECT organization_id FROM (
                    SELECT unnest($1::text[]) AS organization_id
                    UNION SELECT (SELECT c.organization_id FROM congress.rollup_congresses c WHERE c.congress_id = touched.congress_id)
                          FROM unnest($2::text[]) AS touched(congress_id)
                    UNION SELECT d.organization_id FROM congress.rollup_units m JOIN congress.rollup_units d ON d.path <@ m.path
                          WHERE m.organization_id = ANY($3) AND m.valid_until IS NULL AND d.valid_until IS NULL) touched
                WHERE {Kept}),
            fresh AS MATERIALIZED ({string.Format(Segments, "u." + affected, "c." + affected)}),
            standing AS MATERIALIZED (SELECT * FROM congress.rollup_segments WHERE {affected}),
            old AS (
                DELETE FROM congress.rollup_segments s WHERE s.{affected}
                AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.organization_id = s.organization_id AND (f.*) IS NOT DISTINCT FROM (s.*))
                RETURNING s.*),
            new AS (
                INSERT INTO congress.rollup_segments SELECT * FROM fresh f
                WHERE NOT EXISTS (SELECT 1 FROM standing s WHERE s.organization_id = f.organization_id AND (s.*) IS NOT DISTINCT FROM (f.*))
                RETURNING *),
            deltas AS ({string.Format(Deltas, "new", "1")} UNION ALL {string.Format(Deltas, "old", "-1")})
            INSERT INTO congress.rollup_counts AS counts (ancestor_key, campaign_id, day, level, status, held_on, delta)
            SELECT ancestor_key, campaign_id, day, level, status, held_on, sum(delta) FROM deltas
            GROUP BY ancestor_key, campaign_id, day, level, status, held_on HAVING sum(delta) <> 0
            ON CONFLICT (ancestor_key, campaign_id, day, level, status, held_on) DO UPDATE SET delta = counts.delta + excluded.delta
            """);
        command.Parameters.AddPositional(organizations.ToArray(), congresses.ToArray(), moved.ToArray());
        return command;
    }

    /// <summary>Every segment and count computed afresh from the projection's tables, in one transaction (after a rebuild).</summary>
    public static async Task RecomputeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("TRUNCATE congress.rollup_segments, congress.rollup_counts"),
                new($"INSERT INTO congress.rollup_segments {string.Format(Segments, "true", "true")}"),
                new($"""
                    INSERT INTO congress.rollup_counts (ancestor_key, campaign_id, day, level, status, held_on, delta)
                    SELECT ancestor_key, campaign_id, day, level, status, held_on, sum(delta) FROM ({string.Format(Deltas, "congress.rollup_segments", "1")}) deltas
                    GROUP BY ancestor_key, campaign_id, day, level, status, held_on HAVING sum(delta) <> 0
                    """),
            },
        })
        {
            batch.Timeout = 0;
            await batch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }
}

using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Engine.Monitoring;

/// <summary>How one level of a subtree stands on a day: held out of total, and how each congress compares with its plan.</summary>
public sealed record LevelProgress(
    OrganizationLevel Level, int Total, int Held, decimal Percent, int Early, int OnTime, int Late, int Overdue, int NotYetDue, int NotPlanned);

/// <summary>Direct subordinate committees whose branches have all held their congress ("26 / 61").</summary>
public sealed record SubordinateCompletion(int Completed, int Total);

/// <summary>When the whole subtree finished, against the deadline the root set for it (positive: days early).</summary>
public sealed record SubtreeCompletion(DateOnly? CompletedOn, DateOnly? Deadline, int? DaysEarly);

/// <param name="Name">The name on the day asked about.</param>
/// <param name="CurrentName">The name today.</param>
public sealed record ProgressReport(
    string CampaignId, string OrganizationId, string Name, string CurrentName, DateOnly AsOf, IReadOnlyList<LevelProgress> Levels,
    SubordinateCompletion Subordinates, SubtreeCompletion Completion);

/// <summary>One direct subordinate and its own subtree (itself included): the drill-down row.</summary>
public sealed record SubordinateProgress(
    string OrganizationId, string Name, string CurrentName, OrganizationLevel Level, int Units, int Held, decimal Percent, int Overdue, DateOnly? HeldOn, int? DaysLate);

public sealed record TimelinePoint(DateOnly Day, int Completed, int Planned);

/// <summary>A congress not yet held, with its deadline (window end) and planned date in force on the day asked about.</summary>
public sealed record DeadlineItem(
    string OrganizationId, string Name, string CurrentName, OrganizationLevel Level, string? ParentName, DateOnly PlannedDate, DateOnly Deadline, int Days);

/// <summary>
/// One entry of the approval trail, with the stored event's chain hash (hex) so an export can be checked against the
/// store, and whether it was recorded more than a day after the date it states (<see cref="Congress.IsBackDated"/>).
/// </summary>
public sealed record AuditEntry(
    long GlobalPosition, Guid EventId, string StreamId, long StreamVersion, string CampaignId, string OrganizationId, string Action, int? Round,
    string ByOrganization, string ByUser, string ByRole, string? Document, string? Comments, DateOnly OccurredOn, DateTimeOffset RecordedAt, string Hash)
{
    public bool BackDated => Congress.IsBackDated(OccurredOn, RecordedAt);
}

/// <summary>Narrows the units of a subtree: a name (with or without diacritics), a level, a sector, pilots only, overdue only.</summary>
public sealed record UnitFilter(string? Name = null, OrganizationLevel? Level = null, Sector? Sector = null, bool PilotsOnly = false, bool OverdueOnly = false);

/// <summary>One unit of a subtree with its congress on the day: planned, due, held (how late), or overdue.</summary>
public sealed record UnitStatus(
    string OrganizationId, string Name, string CurrentName, OrganizationLevel Level, Sector? Sector, string? ParentName, bool IsPilot, DateOnly? PlannedDate,
    DateOnly? Deadline, DateOnly? HeldOn, int? DaysLate, bool IsOverdue);

public sealed record UnitPage(int Total, IReadOnlyList<UnitStatus> Units);

/// <summary>Narrows the trail: days the entries state, what happened, who did it (an organisation or a user).</summary>
public sealed record TrailFilter(DateOnly? From = null, DateOnly? To = null, string? Action = null, string? Actor = null)
{
    /// <summary>The kinds of entry the trail holds.</summary>
    public static IReadOnlyList<string> Actions { get; } = ["submitted", "approved", "returned", "exemption-granted", "results-recognised"];
}

/// <summary>
/// Progress of any subtree on any day, from the progress projection's tables, never a replay: the rollup and drill-down
/// sum the root's day-by-day counts (<see cref="ProgressCounts"/>); with a knownAt, and for the lists, aggregates over
/// the subtree's units (one ltree query). A unit counts if it was registered and not dissolved by the end of that day;
/// a congress counts as held if it was held by then; its plan is the one in force that day.
/// </summary>
public sealed class ProgressQueries(NpgsqlDataSource dataSource)
{
    /// <summary>
    /// The tree of a moment, <c>units</c>: each unit's version in force at the end of the day $3, as known by $4
    /// (knownAt), so a unit moved later stands under its parent of the day, with its name of the day.
    /// </summary>
    private const string TreeCte = """
        WITH at AS (SELECT least(($3::date + 1)::timestamp AT TIME ZONE 'UTC', $4::timestamptz + interval '1 microsecond') AS t),
        units AS NOT MATERIALIZED (
            SELECT u.* FROM congress.rollup_units u, at
            WHERE u.valid_from < at.t AND (u.valid_until IS NULL OR u.valid_until >= at.t) AND (u.dissolved_at IS NULL OR u.dissolved_at >= at.t))
        """;

    /// <summary>
    /// Every unit of the subtree (root excluded, in the tree of <see cref="TreeCte"/>) with its status on the day: $1
    /// campaign, $2 root, $3 the day, $4 knownAt. The plan in force on a day is the domain's (Congress.PlanInForce): the
    /// latest issued version that has taken effect by then.
    /// </summary>
    private const string StatusCte = TreeCte + """
        ,
        root AS (SELECT path FROM units WHERE organization_id = $2),
        status AS (
            SELECT u.organization_id, u.unit_key, u.name, u.level, u.sector, u.search_name, u.path, u.parent_id, coalesce(c.is_pilot, false) AS is_pilot,
                   CASE WHEN c.held_on <= $3 AND coalesce(c.held_recorded_at, '-infinity') <= $4 THEN c.held_on END AS held_on,
                   CASE WHEN c.held_on <= $3 AND coalesce(c.held_recorded_at, '-infinity') <= $4 THEN c.days_late END AS days_late,
                   p.planned_date, p.window_end
            FROM units u
            CROSS JOIN root
            LEFT JOIN congress.rollup_congresses c ON c.campaign_id = $1 AND c.organization_id = u.organization_id
            LEFT JOIN LATERAL (
                SELECT rp.planned_date, rp.window_end FROM congress.rollup_plans rp
                WHERE rp.congress_id = c.congress_id AND rp.effective_on <= $3 AND coalesce(rp.recorded_at, '-infinity') <= $4
                ORDER BY rp.version DESC LIMIT 1) p ON true
            WHERE u.path <@ root.path AND u.path <> root.path)
        """;

    /// <summary>
    /// <see cref="StatusCte"/> and <c>children</c>: each direct subordinate of the root (its own row's columns) with its
    /// subtree's units, held, overdue, branches and branches held. Every unit is grouped, in one pass, under the label of
    /// its path just below the root, the subordinate's own row among them (joining each subordinate back to its subtree
    /// read every unit's status again per subordinate). A group without its subordinate's row has a null organization_id.
    /// </summary>
    private const string ChildrenCte = StatusCte + """
        ,
        children AS (
            SELECT max(s.organization_id) FILTER (WHERE s.parent_id = $2) AS organization_id, max(s.name) FILTER (WHERE s.parent_id = $2) AS name,
                   max(s.level) FILTER (WHERE s.parent_id = $2) AS level, max(s.held_on) FILTER (WHERE s.parent_id = $2) AS held_on,
                   max(s.days_late) FILTER (WHERE s.parent_id = $2) AS days_late,
                   count(*) AS units, count(s.held_on) AS held, count(*) FILTER (WHERE s.held_on IS NULL AND s.window_end < $3) AS overdue,
                   count(*) FILTER (WHERE s.level = 5) AS branches, count(*) FILTER (WHERE s.level = 5 AND s.held_on IS NOT NULL) AS held_branches
            FROM status s CROSS JOIN root GROUP BY subpath(s.path, nlevel(root.path), 1))
        """;

    /// <summary>A unit's name today, for a row whose name is the one of the day asked about.</summary>
    private const string CurrentName =
        "(SELECT n.name FROM congress.rollup_units n WHERE n.organization_id = {0}.organization_id AND n.valid_until IS NULL)";

    public async Task<ProgressReport?> RollupAsync(
        string campaignId, string organizationId, DateOnly asOf, DateTimeOffset? knownAt = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        string name, currentName;
        DateOnly? deadline;
        await using (var root = Command(connection, TreeCte + $"""
            SELECT coalesce((SELECT name FROM units WHERE organization_id = $2), u.name), u.name,
                   (SELECT rp.subordinate_window_end FROM congress.rollup_congresses c JOIN congress.rollup_plans rp USING (congress_id)
                    WHERE c.campaign_id = $1 AND c.organization_id = $2 AND rp.effective_on <= $3
                      AND coalesce(rp.recorded_at, '-infinity') <= $4
                    ORDER BY rp.version DESC LIMIT 1)
            FROM congress.rollup_units u WHERE u.organization_id = $2 AND u.valid_until IS NULL
            """, campaignId, organizationId, asOf, Known(knownAt)))
        await using (var reader = await root.ExecuteReaderAsync(cancellationToken))
        {
            if (!await reader.ReadAsync(cancellationToken))
            {
                return null;
            }

            name = reader.GetString(0);
            currentName = reader.GetString(1);
            deadline = reader.IsDBNull(2) ? null : reader.GetFieldValue<DateOnly>(2);
        }

        SubtreeCompletion Completion(DateOnly? completedOn) =>
            new(completedOn, deadline, completedOn is { } done && deadline is { } due ? due.DayNumber - done.DayNumber : null);
        if (knownAt is null && await CountsReadyAsync(connection, cancellationToken))
        {
            var (levelsOfDay, subordinatesOfDay, completedOn) = await RollupFromCountsAsync(connection, campaignId, organizationId, asOf, cancellationToken);
            return new ProgressReport(campaignId, organizationId, name, currentName, asOf, levelsOfDay, subordinatesOfDay, Completion(completedOn));
        }

        // One statement, so the subtree's statuses are worked out once (they are most of the time: a probe of the
        // congress and of its plan in force per unit). Per level: the counts, the last day held, the direct subordinate
        // committees; then those committees whose branches have all held (ChildrenCte: joining the
        // committees back to their subtrees read the spilled statuses again for each, 3.5 s of 5.7 s for the whole tree
        // of 300,000 units).
        var levels = new List<LevelProgress>();
        var (committees, committeesDone, lastHeld) = (0, 0, (DateOnly?)null);
        await using (var byLevel = Command(connection, ChildrenCte + """
            SELECT level, count(*), count(held_on),
                   count(*) FILTER (WHERE days_late < 0), count(*) FILTER (WHERE days_late = 0), count(*) FILTER (WHERE days_late > 0),
                   count(*) FILTER (WHERE held_on IS NULL AND window_end < $3),
                   count(*) FILTER (WHERE held_on IS NULL AND window_end >= $3),
                   count(*) FILTER (WHERE held_on IS NULL AND window_end IS NULL),
                   max(held_on),
                   count(*) FILTER (WHERE parent_id = $2 AND level < 5),
                   (SELECT count(*) FROM children WHERE organization_id IS NOT NULL AND level < 5 AND branches > 0 AND branches = held_branches)
            FROM status GROUP BY level ORDER BY level
            """, campaignId, organizationId, asOf, Known(knownAt)))
        await using (var reader = await byLevel.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var total = (int)reader.GetInt64(1);
                var held = (int)reader.GetInt64(2);
                levels.Add(new LevelProgress((OrganizationLevel)reader.GetInt16(0), total, held, Percent(held, total),
                    (int)reader.GetInt64(3), (int)reader.GetInt64(4), (int)reader.GetInt64(5), (int)reader.GetInt64(6), (int)reader.GetInt64(7), (int)reader.GetInt64(8)));
                if (!reader.IsDBNull(9) && (lastHeld is null || reader.GetFieldValue<DateOnly>(9) > lastHeld))
                {
                    lastHeld = reader.GetFieldValue<DateOnly>(9);
                }

                committees += (int)reader.GetInt64(10);
                committeesDone = (int)reader.GetInt64(11);
            }
        }

        return new ProgressReport(campaignId, organizationId, name, currentName, asOf, levels, new SubordinateCompletion(committeesDone, committees),
            Completion(CompletedOn(levels, lastHeld)));
    }

    /// <summary>
    /// Whether the day-by-day counts (<see cref="ProgressCounts"/>) stand for everything the projection's tables hold:
    /// not while a rebuild replays the events. They know no knownAt: a report as recorded by a past moment reads the units.
    /// </summary>
    private static async Task<bool> CountsReadyAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, "SELECT " + ProgressCounts.Kept);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The sum of a subtree root's deltas up to the day ($1 campaign, $2 root, $3 day, $4 knownAt for the tree).</summary>
    private const string RootCounts = TreeCte + """
        ,
        root AS (SELECT unit_key FROM units WHERE organization_id = $2)
        SELECT k.level, k.status, k.held_on, sum(k.delta)::int AS units
        FROM congress.rollup_counts k, root
        WHERE k.ancestor_key = root.unit_key AND k.campaign_id IN ($1, '') AND k.day <= $3
        GROUP BY k.level, k.status, k.held_on
        """;

    /// <summary>
    /// The rollup from the counts: each level's statuses; direct subordinate committees whose branches have all held (the
    /// same sums for each of them); and when everything is held, the last day a unit of the subtree was held.
    /// </summary>
    private static async Task<(List<LevelProgress> Levels, SubordinateCompletion Subordinates, DateOnly? CompletedOn)> RollupFromCountsAsync(
        NpgsqlConnection connection, string campaignId, string organizationId, DateOnly asOf, CancellationToken cancellationToken)
    {
        var counts = new Dictionary<(OrganizationLevel Level, CountedStatus Status), int>();
        DateOnly? lastHeld = null;
        await using (var command = Command(connection, RootCounts, campaignId, organizationId, asOf, Known(null)))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var key = ((OrganizationLevel)reader.GetInt16(0), (CountedStatus)reader.GetInt16(1));
                var units = reader.GetInt32(3);
                counts[key] = counts.GetValueOrDefault(key) + units;
                if (key.Item2 >= CountedStatus.HeldEarly && units > 0 && reader.GetFieldValue<DateOnly>(2) is var heldOn && (lastHeld is null || heldOn > lastHeld))
                {
                    lastHeld = heldOn;
                }
            }
        }

        var levels = new List<LevelProgress>();
        foreach (var level in Enum.GetValues<OrganizationLevel>())
        {
            int Count(CountedStatus status) => counts.GetValueOrDefault((level, status));
            var total = Count(CountedStatus.Member);
            if (total == 0)
            {
                continue;
            }

            var (early, onTime, late, overdue, notYetDue) =
                (Count(CountedStatus.HeldEarly), Count(CountedStatus.HeldOnTime), Count(CountedStatus.HeldLate), Count(CountedStatus.Overdue), Count(CountedStatus.NotYetDue));
            var held = early + onTime + late;
            levels.Add(new LevelProgress(level, total, held, Percent(held, total), early, onTime, late, overdue, notYetDue, total - held - overdue - notYetDue));
        }

        await using var children = Command(connection, TreeCte + """
            SELECT count(*), count(*) FILTER (WHERE b.branches > 0 AND b.branches = b.held)
            FROM units child
            CROSS JOIN LATERAL (
                SELECT coalesce(sum(k.delta) FILTER (WHERE k.status = 0), 0) AS branches, coalesce(sum(k.delta) FILTER (WHERE k.status >= 3), 0) AS held
                FROM congress.rollup_counts k
                WHERE k.ancestor_key = child.unit_key AND k.campaign_id IN ($1, '') AND k.day <= $3 AND k.level = 5) b
            WHERE child.parent_id = $2 AND child.level < 5
            """, campaignId, organizationId, asOf, Known(null));
        await using var childReader = await children.ExecuteReaderAsync(cancellationToken);
        await childReader.ReadAsync(cancellationToken);
        var subordinates = new SubordinateCompletion((int)childReader.GetInt64(1), (int)childReader.GetInt64(0));
        return (levels, subordinates, CompletedOn(levels, lastHeld));
    }

    /// <summary>The day the subtree finished: the last day one of its units was held, once every unit of every level has.</summary>
    private static DateOnly? CompletedOn(IReadOnlyCollection<LevelProgress> levels, DateOnly? lastHeld) =>
        levels.Count > 0 && levels.All(l => l.Held == l.Total) ? lastHeld : null;

    /// <summary>Each direct subordinate with its own subtree's progress: who is behind.</summary>
    public async Task<IReadOnlyList<SubordinateProgress>> SubordinatesAsync(
        string campaignId, string organizationId, DateOnly asOf, DateTimeOffset? knownAt = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // With the counts, each child's own status and its descendants' sums; without, every unit of each child's subtree.
        await using var command = Command(connection, knownAt is null && await CountsReadyAsync(connection, cancellationToken)
            ? StatusCte + $"""
                , children AS (
                    SELECT child.organization_id, child.name, child.level, child.held_on, child.days_late,
                           1 + coalesce(sum(k.delta) FILTER (WHERE k.status = 0), 0) AS units,
                           (child.held_on IS NOT NULL)::int + coalesce(sum(k.delta) FILTER (WHERE k.status >= 3), 0) AS held,
                           coalesce(child.held_on IS NULL AND child.window_end < $3, false)::int + coalesce(sum(k.delta) FILTER (WHERE k.status = 2), 0) AS overdue
                    FROM status child
                    LEFT JOIN congress.rollup_counts k ON k.ancestor_key = child.unit_key AND k.campaign_id IN ($1, '') AND k.day <= $3
                    WHERE child.parent_id = $2
                    GROUP BY child.organization_id, child.name, child.level, child.held_on, child.days_late, child.window_end)
                SELECT child.organization_id, child.name, {string.Format(CurrentName, "child")}, child.level, child.units, child.held, child.overdue,
                       child.held_on, child.days_late
                FROM children child
                ORDER BY child.held::numeric / child.units, child.name
                """
            : ChildrenCte + $"""
                SELECT child.organization_id, child.name, {string.Format(CurrentName, "child")}, child.level, child.units, child.held, child.overdue,
                       child.held_on, child.days_late
                FROM children child
                WHERE child.organization_id IS NOT NULL
                ORDER BY child.held::numeric / child.units, child.name
                """, campaignId, organizationId, asOf, Known(knownAt));
        var rows = new List<SubordinateProgress>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var units = (int)reader.GetInt64(4);
            var held = (int)reader.GetInt64(5);
            rows.Add(new SubordinateProgress(reader.GetString(0), reader.GetString(1), reader.GetString(2), (OrganizationLevel)reader.GetInt16(3), units, held,
                Percent(held, units), (int)reader.GetInt64(6), reader.IsDBNull(7) ? null : reader.GetFieldValue<DateOnly>(7),
                reader.IsDBNull(8) ? null : reader.GetInt32(8)));
        }

        return rows;
    }

    /// <summary>
    /// The units of a subtree (at any depth, root excluded) that match a filter, with their status on the day, by level
    /// then name, a page at a time, and how many match in all: finding one unit among 300,000.
    /// </summary>
    public async Task<UnitPage> UnitsAsync(string campaignId, string organizationId, DateOnly asOf, UnitFilter filter, int limit = 50, int offset = 0,
        DateTimeOffset? knownAt = null, CancellationToken cancellationToken = default)
    {
        var name = filter.Name is { Length: > 0 } text
            ? SearchText.Fold(text).Replace(@"\", @"\\", StringComparison.Ordinal).Replace("%", @"\%", StringComparison.Ordinal).Replace("_", @"\_", StringComparison.Ordinal)
            : null;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, StatusCte + $"""
            SELECT s.organization_id, s.name, {string.Format(CurrentName, "s")}, s.level, s.sector, p.name, s.is_pilot, s.planned_date, s.window_end,
                   s.held_on, s.days_late, s.held_on IS NULL AND s.window_end < $3, count(*) OVER ()
            FROM status s LEFT JOIN units p ON p.organization_id = s.parent_id
            WHERE ($5::text IS NULL OR s.search_name LIKE '%' || $5 || '%')
              AND ($6::smallint IS NULL OR s.level = $6) AND ($7::smallint IS NULL OR s.sector = $7)
              AND (NOT $8 OR s.is_pilot) AND (NOT $9 OR (s.held_on IS NULL AND s.window_end < $3))
            ORDER BY s.level, s.name, s.organization_id LIMIT $10 OFFSET $11
            """, campaignId, organizationId, asOf, Known(knownAt), name, (short?)filter.Level, (short?)filter.Sector, filter.PilotsOnly, filter.OverdueOnly,
            limit, offset);
        var units = new List<UnitStatus>();
        var total = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            units.Add(new UnitStatus(reader.GetString(0), reader.GetString(1), reader.GetString(2), (OrganizationLevel)reader.GetInt16(3),
                reader.IsDBNull(4) ? null : (Sector)reader.GetInt16(4), reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetBoolean(6),
                reader.IsDBNull(7) ? null : reader.GetFieldValue<DateOnly>(7), reader.IsDBNull(8) ? null : reader.GetFieldValue<DateOnly>(8),
                reader.IsDBNull(9) ? null : reader.GetFieldValue<DateOnly>(9), reader.IsDBNull(10) ? null : reader.GetInt32(10),
                !reader.IsDBNull(11) && reader.GetBoolean(11)));
            total = (int)reader.GetInt64(12);
        }

        return new UnitPage(total, units);
    }

    /// <summary>Congresses not held by the day whose deadline had passed, most overdue first.</summary>
    public Task<IReadOnlyList<DeadlineItem>> OverdueAsync(
        string campaignId, string organizationId, DateOnly asOf, DateTimeOffset? knownAt = null, int limit = 500, CancellationToken cancellationToken = default) =>
        DeadlinesAsync(StatusCte + $"""
            SELECT s.organization_id, s.name, {string.Format(CurrentName, "s")}, s.level, p.name, s.planned_date, s.window_end, $3 - s.window_end
            FROM status s LEFT JOIN units p ON p.organization_id = s.parent_id
            WHERE s.held_on IS NULL AND s.window_end < $3
            ORDER BY s.window_end, s.name LIMIT $5
            """, campaignId, organizationId, asOf, knownAt, limit, cancellationToken);

    /// <summary>Congresses not yet held whose planned date falls within the next days, soonest first.</summary>
    public Task<IReadOnlyList<DeadlineItem>> UpcomingAsync(
        string campaignId, string organizationId, DateOnly asOf, int days, DateTimeOffset? knownAt = null, int limit = 500, CancellationToken cancellationToken = default) =>
        DeadlinesAsync(StatusCte + $"""
            SELECT s.organization_id, s.name, {string.Format(CurrentName, "s")}, s.level, p.name, s.planned_date, s.window_end, s.planned_date - $3
            FROM status s LEFT JOIN units p ON p.organization_id = s.parent_id
            WHERE s.held_on IS NULL AND s.window_end >= $3 AND s.planned_date BETWEEN $3 AND $3 + {days}
            ORDER BY s.planned_date, s.name LIMIT $5
            """, campaignId, organizationId, asOf, knownAt, limit, cancellationToken);

    /// <summary>Cumulative congresses held and planned (by the plan in force each day) for every day of a range.</summary>
    public async Task<IReadOnlyList<TimelinePoint>> TimelineAsync(
        string campaignId, string organizationId, DateOnly from, DateOnly to, OrganizationLevel? level = null, DateTimeOffset? knownAt = null,
        CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);

        // Each day counts the units that belonged to the subtree that day: every version of a unit's place (from its
        // registration or a move until the next move, or its dissolution) overlapping a version of the root's place that
        // holds it. So a past day's figures do not depend on the range asked for or on what happened later, and a unit
        // moved counts under its old parent before the move. Moves and dissolutions recorded after knownAt are unknown.
        // A plan version is in force from its effective day until a later-issued version takes effect (the domain's rule);
        // it counts as planned from max(effective, planned date) within that span.
        await using var command = Command(connection, """
            WITH known AS NOT MATERIALIZED (
                SELECT u.organization_id, u.path, u.level, u.valid_from,
                       CASE WHEN u.valid_until <= $5 THEN u.valid_until END AS valid_until,
                       CASE WHEN u.dissolved_at <= $5 THEN u.dissolved_at END AS dissolved_at
                FROM congress.rollup_units u WHERE u.valid_from < $3 AND u.valid_from <= $5),
            units AS (
                SELECT u.organization_id, (greatest(u.valid_from, r.valid_from) AT TIME ZONE 'UTC')::date AS joins,
                       (least(u.valid_until, r.valid_until, u.dissolved_at) AT TIME ZONE 'UTC')::date AS leaves
                FROM known r JOIN known u ON u.path <@ r.path AND u.path <> r.path
                WHERE r.organization_id = $2 AND u.valid_from < coalesce(r.valid_until, 'infinity') AND r.valid_from < coalesce(u.valid_until, 'infinity')
                  AND ($4::smallint IS NULL OR u.level = $4)),
            congresses AS (
                SELECT c.congress_id, CASE WHEN coalesce(c.held_recorded_at, '-infinity') <= $5 THEN c.held_on END AS held_on, un.joins, un.leaves
                FROM units un JOIN congress.rollup_congresses c ON c.campaign_id = $1 AND c.organization_id = un.organization_id),
            plans AS (
                SELECT greatest(rp.effective_on, rp.planned_date, c.joins) AS starts,
                       least((SELECT min(w.effective_on) FROM congress.rollup_plans w
                              WHERE w.congress_id = rp.congress_id AND w.version > rp.version AND coalesce(w.recorded_at, '-infinity') <= $5),
                             c.leaves) AS ends
                FROM congress.rollup_plans rp JOIN congresses c USING (congress_id)
                WHERE coalesce(rp.recorded_at, '-infinity') <= $5),
            held AS (
                SELECT greatest(held_on, joins) AS starts, leaves AS ends FROM congresses
                WHERE held_on IS NOT NULL AND (leaves IS NULL OR held_on < leaves)),
            deltas AS (
                SELECT starts AS day, 1 AS planned, 0 AS held FROM plans WHERE ends IS NULL OR starts < ends
                UNION ALL SELECT ends, -1, 0 FROM plans WHERE ends IS NOT NULL AND starts < ends
                UNION ALL SELECT starts, 0, 1 FROM held
                UNION ALL SELECT ends, 0, -1 FROM held WHERE ends IS NOT NULL)
            SELECT day, sum(planned)::int, sum(held)::int FROM deltas GROUP BY day ORDER BY day
            """, campaignId, organizationId, EndOf(to), (short?)level, Known(knownAt));
        var deltas = new List<(DateOnly Day, int Planned, int Held)>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                deltas.Add((reader.GetFieldValue<DateOnly>(0), reader.GetInt32(1), reader.GetInt32(2)));
            }
        }

        var points = new List<TimelinePoint>();
        int planned = 0, held = 0, next = 0;
        for (var day = from; day <= to; day = day.AddDays(1))
        {
            for (; next < deltas.Count && deltas[next].Day <= day; next++)
            {
                planned += deltas[next].Planned;
                held += deltas[next].Held;
            }

            points.Add(new TimelinePoint(day, held, planned));
        }

        return points;
    }

    /// <summary>
    /// The approval audit trail of a subtree as it stands today (root included; a unit moved in brings its whole history),
    /// oldest first, optionally within dates.
    /// </summary>
    public async Task<IReadOnlyList<AuditEntry>> AuditAsync(
        string campaignId, string organizationId, TrailFilter? filter = null, int limit = 1000, CancellationToken cancellationToken = default)
    {
        filter ??= new TrailFilter();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, """
            SELECT a.global_position, a.event_id, a.stream_id, a.stream_version, a.campaign_id, a.organization_id, a.action, a.round,
                   a.by_organization, a.by_user, a.by_role, a.document, a.comments, a.occurred_on, a.recorded_at, e.hash
            FROM congress.approval_audit a
            JOIN congress.rollup_units u ON u.organization_id = a.organization_id AND u.valid_until IS NULL
            JOIN event_store.events e ON e.global_position = a.global_position
            WHERE a.campaign_id = $1 AND u.path <@ (SELECT path FROM congress.rollup_units WHERE organization_id = $2 AND valid_until IS NULL)
              AND a.occurred_on >= $3 AND a.occurred_on <= $4
              AND ($6::text IS NULL OR a.action = $6)
              AND ($7::text IS NULL OR a.by_organization = $7 OR a.by_user = $7)
            ORDER BY a.global_position LIMIT $5
            """, campaignId, organizationId, filter.From ?? DateOnly.MinValue, filter.To ?? DateOnly.MaxValue, limit, filter.Action, filter.Actor);
        var entries = new List<AuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new AuditEntry(reader.GetInt64(0), reader.GetGuid(1), reader.GetString(2), reader.GetInt64(3), reader.GetString(4), reader.GetString(5),
                reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetInt32(7), reader.GetString(8), reader.GetString(9), reader.GetString(10),
                reader.IsDBNull(11) ? null : reader.GetString(11), reader.IsDBNull(12) ? null : reader.GetString(12), reader.GetFieldValue<DateOnly>(13),
                reader.GetFieldValue<DateTimeOffset>(14), Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(15))));
        }

        return entries;
    }

    /// <summary>Held as a share of total, in percent with two decimals (3,940 of 5,408 is 72.86).</summary>
    public static decimal Percent(int held, int total) => total == 0 ? 0 : Math.Round(held * 100m / total, 2, MidpointRounding.AwayFromZero);

    private async Task<IReadOnlyList<DeadlineItem>> DeadlinesAsync(
        string sql, string campaignId, string organizationId, DateOnly asOf, DateTimeOffset? knownAt, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, sql, campaignId, organizationId, asOf, Known(knownAt), limit);
        var items = new List<DeadlineItem>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new DeadlineItem(reader.GetString(0), reader.GetString(1), reader.GetString(2), (OrganizationLevel)reader.GetInt16(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateOnly>(5), reader.GetFieldValue<DateOnly>(6), reader.GetInt32(7)));
        }

        return items;
    }

    /// <summary>What the system had recorded by a moment: everything when no moment is given.</summary>
    private static DateTimeOffset Known(DateTimeOffset? knownAt) => knownAt ?? DateTimeOffset.MaxValue;

    private static DateTimeOffset EndOf(DateOnly day) => new(day.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddPositional(parameters);

        return command;
    }
}

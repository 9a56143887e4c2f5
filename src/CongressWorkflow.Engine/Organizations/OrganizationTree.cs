using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.EventStore;
using Dapper;
using Npgsql;

namespace CongressWorkflow.Engine.Organizations;

public sealed record OrganizationNode(string Id, string Name, OrganizationLevel Level, Sector? Sector, string? ParentId, bool IsDissolved, long Version);

/// <summary>A caller's place in the tree: the tree is empty (nobody registered yet), the caller's organisation is a root, and which targets lie in its subtree.</summary>
public sealed record CallerScope(bool TreeIsEmpty, bool CallerIsRoot, IReadOnlySet<string> InSubtree);

/// <summary>Queries over the inline organisation tree (congress.organizations, with ltree paths).</summary>
public sealed class OrganizationTree(NpgsqlDataSource dataSource)
{
    private static readonly string Columns = ColumnsOf("o");

    private static readonly string AncestrySql = $"""
        SELECT {ColumnsOf("a")}
        FROM congress.organizations o JOIN congress.organizations a ON a.path @> o.path
        WHERE o.organization_id = $1
        ORDER BY nlevel(a.path)
        """;

    /// <summary>
    /// SQL: the organisations named in $1 (text[]) and their ancestors up to $2 levels above, as (organization_id, name,
    /// parent_id), each once (walk a chain with <see cref="Upwards"/>). It climbs the parent chain a level at a time, one
    /// primary-key lookup for each organisation of the level: the parents that many share are looked up once (following
    /// each start's chain on its own returned 1,200 rows for a sweep batch of 300 deadlines), and searching the paths that
    /// contain each one's (GiST) took 30 to 150 ms for a batch of a few hundred organisations. The parent is a lateral
    /// lookup (its LIMIT keeps the planner from making it a join): as a join, the planner, not knowing how many rows a
    /// level holds, hashed the whole organisations table at every level (100 ms for a sweep batch among 100,000).
    /// </summary>
    public const string UpwardsSql = """
        WITH RECURSIVE up AS (
            SELECT o.organization_id, o.name, o.parent_id, 0 AS distance
            FROM unnest($1::text[]) AS s(id) JOIN congress.organizations o ON o.organization_id = s.id
          UNION
            SELECT p.organization_id, p.name, p.parent_id, up.distance + 1
            FROM up CROSS JOIN LATERAL (SELECT * FROM congress.organizations o WHERE o.organization_id = up.parent_id LIMIT 1) p
            WHERE up.distance < $2)
        SELECT DISTINCT ON (organization_id) organization_id, name, parent_id FROM up
        """;

    /// <summary>An organisation and its ancestors, nearest first, from the parents that <see cref="UpwardsSql"/> read.</summary>
    public static IEnumerable<string> Upwards(string organizationId, IReadOnlyDictionary<string, string?> parents)
    {
        for (string? id = organizationId; id is not null && parents.TryGetValue(id, out var parent); id = parent)
        {
            yield return id;
        }
    }

    public async Task<OrganizationNode?> GetAsync(string organizationId, CancellationToken cancellationToken = default) =>
        (await QueryAsync($"SELECT {Columns} FROM congress.organizations o WHERE organization_id = $1", cancellationToken, organizationId))
            .SingleOrDefault();

    /// <summary>Organisations without a parent (the Central level).</summary>
    public Task<IReadOnlyList<OrganizationNode>> RootsAsync(CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {Columns} FROM congress.organizations o WHERE parent_id IS NULL ORDER BY name", cancellationToken);

    public Task<IReadOnlyList<OrganizationNode>> ChildrenAsync(string organizationId, CancellationToken cancellationToken = default) =>
        QueryAsync($"SELECT {Columns} FROM congress.organizations o WHERE parent_id = $1 ORDER BY name", cancellationToken, organizationId);

    /// <summary>The organisation and everything below it: one indexed ltree query.</summary>
    public Task<IReadOnlyList<OrganizationNode>> SubtreeAsync(string organizationId, CancellationToken cancellationToken = default) =>
        QueryAsync($"""
            SELECT {Columns} FROM congress.organizations o
            WHERE path <@ (SELECT path FROM congress.organizations WHERE organization_id = $1)
            ORDER BY nlevel(path), name
            """, cancellationToken, organizationId);

    /// <summary>From the root down to the organisation itself.</summary>
    public Task<IReadOnlyList<OrganizationNode>> AncestryAsync(string organizationId, CancellationToken cancellationToken = default) =>
        QueryAsync(AncestrySql, cancellationToken, organizationId);

    /// <summary>From the root down to the organisation itself, read in a command's transaction.</summary>
    public static Task<IReadOnlyList<OrganizationNode>> AncestryAsync(CommandSession session, string organizationId, CancellationToken cancellationToken = default) =>
        QueryAsync(session.Connection, session.Transaction, AncestrySql, cancellationToken, organizationId);

    /// <summary>
    /// Where an organisation stands from a caller's organisation: whether the caller's is a root, and whether each
    /// target is the caller's own, below it, or outside its subtree (unknown ids are outside). One query.
    /// </summary>
    public async Task<CallerScope> ScopeAsync(string callerOrganizationId, IReadOnlyList<string> targets, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT NOT EXISTS (SELECT 1 FROM congress.organizations),
                   EXISTS (SELECT 1 FROM congress.organizations WHERE organization_id = $1 AND parent_id IS NULL),
                   ARRAY(SELECT t.id FROM unnest($2::text[]) t(id)
                         JOIN congress.organizations target ON target.organization_id = t.id
                         JOIN congress.organizations caller ON caller.organization_id = $1 AND caller.path @> target.path)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = callerOrganizationId });
        command.Parameters.Add(new NpgsqlParameter { Value = targets.ToArray() });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new CallerScope(reader.GetBoolean(0), reader.GetBoolean(1), reader.GetFieldValue<string[]>(2).ToHashSet(StringComparer.Ordinal));
    }

    /// <summary>The organisation a stream belongs to (an organisation's own stream or one of its congresses), or null for the others.</summary>
    public async Task<string?> OwnerOfStreamAsync(string streamId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT organization_id FROM congress.organizations WHERE 'org-' || organization_id = $1
            UNION ALL
            SELECT organization_id FROM congress.congresses WHERE congress_id = $1
            LIMIT 1
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = streamId });
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>The streams of a subtree: each organisation's own and those of its congresses, in every campaign.</summary>
    public async Task<IReadOnlyList<string>> StreamsOfSubtreeAsync(string organizationId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            WITH scope AS (
                SELECT organization_id FROM congress.organizations
                WHERE path <@ (SELECT path FROM congress.organizations WHERE organization_id = $1))
            SELECT organization_id, NULL FROM scope
            UNION ALL
            SELECT NULL, c.congress_id FROM congress.congresses c JOIN scope s ON s.organization_id = c.organization_id
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = organizationId });
        var streams = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            streams.Add(reader.IsDBNull(0) ? reader.GetString(1) : Organization.StreamId(reader.GetString(0)));
        }

        return streams;
    }

    /// <summary>
    /// In a command's transaction: the tree lock (shared by registrations and dissolutions, exclusive for a move, which
    /// rewrites a subtree's paths), always taken before any organisation row so that tree commands cannot deadlock.
    /// </summary>
    public static Task LockTreeAsync(CommandSession session, bool exclusive) =>
        ExecuteAsync(session.Connection, session.Transaction, exclusive
            ? "SELECT pg_advisory_xact_lock(hashtextextended('organization-tree', 0))"
            : "SELECT pg_advisory_xact_lock_shared(hashtextextended('organization-tree', 0))");

    /// <summary>
    /// What the tree rules need of a prospective parent, read in the command's transaction with the parent's row
    /// share-locked: a dissolution of the parent waits for this command, or this command sees it; null if there is
    /// no such organisation.
    /// </summary>
    public static async Task<ParentFacts?> ParentFactsAsync(CommandSession session, string parentId, CancellationToken cancellationToken = default)
    {
        await ExecuteAsync(session.Connection, session.Transaction, "SELECT 1 FROM congress.organizations WHERE organization_id = $1 FOR SHARE", parentId);
        var ancestry = await AncestryAsync(session, parentId, cancellationToken);
        if (ancestry.Count == 0)
        {
            return null;
        }

        var parent = ancestry[^1];
        return new ParentFacts(parent.Id, parent.Level, parent.IsDissolved, ancestry.Select(a => a.Id).ToList());
    }

    /// <summary>
    /// The organisation's active children, counted in the command's transaction after locking its row for update: a
    /// registration under it in flight (which share-locks it) commits first and is counted, or waits and sees it dissolved.
    /// </summary>
    public static async Task<int> LockAndCountActiveChildrenAsync(CommandSession session, string organizationId, CancellationToken cancellationToken = default)
    {
        await ExecuteAsync(session.Connection, session.Transaction, "SELECT 1 FROM congress.organizations WHERE organization_id = $1 FOR UPDATE", organizationId);
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM congress.organizations WHERE parent_id = $1 AND NOT is_dissolved", session.Connection, session.Transaction);
        command.Parameters.Add(new() { Value = organizationId });
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>The contacts of some organisations, by organisation, in role then address order.</summary>
    public async Task<ILookup<string, Contact>> ContactsAsync(IReadOnlyCollection<string> organizationIds, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<ContactRow>(new CommandDefinition(
            "SELECT organization_id AS organization, role, email, name, language FROM congress.contacts WHERE organization_id = ANY(@ids) ORDER BY role, email",
            new { ids = organizationIds.ToArray() }, cancellationToken: cancellationToken));
        return rows.ToLookup(r => r.Organization, r => new Contact(r.Role, r.Email, r.Name, r.Language), StringComparer.Ordinal);
    }

    /// <summary>A row of congress.contacts as Dapper reads it (by column name).</summary>
    private sealed record ContactRow(string Organization, string Role, string Email, string? Name, string Language);

    /// <summary>Applies organisation events to the tree inside the command's transaction.</summary>
    public static async Task ProjectAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<object> events, Organization state, long version, CommandContext context)
    {
        foreach (var e in events)
        {
            switch (e)
            {
                case OrganizationRegistered r:
                    await InsertRegisteredAsync(connection, transaction, [(r, version)]);
                    break;
                case OrganizationRenamed r:
                    await ExecuteAsync(connection, transaction, "UPDATE congress.organizations SET name = $2, version = $3 WHERE organization_id = $1",
                        r.OrganizationId, r.NewName, version);
                    break;
                case OrganizationMoved m:
                    // One move at a time, and none during a registration: a move rewrites a subtree's paths from a
                    // snapshot, which a concurrent move or registration inside that subtree would make stale.
                    await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtextextended('organization-tree', 0))");

                    // The subtree keeps its shape: every path below the moved node gets the new parent's path as prefix.
                    await ExecuteAsync(connection, transaction, """
                        WITH moved AS (SELECT path AS old_path FROM congress.organizations WHERE organization_id = $1),
                             target AS (SELECT path AS parent_path FROM congress.organizations WHERE organization_id = $2)
                        UPDATE congress.organizations o
                        SET path = target.parent_path || subpath(o.path, nlevel(moved.old_path) - 1),
                            parent_id = CASE WHEN o.organization_id = $1 THEN $2 ELSE o.parent_id END,
                            version = CASE WHEN o.organization_id = $1 THEN $3 ELSE o.version END
                        FROM moved, target
                        WHERE o.path <@ moved.old_path
                        """, m.OrganizationId, m.ToParentId, version);

                    // Decisions on the unit's congress now fall to its new superior.
                    await ExecuteAsync(connection, transaction, """
                        UPDATE congress.deadlines SET responsible_id = $2
                        WHERE organization_id = $1 AND milestone IN ('submission-decided', 'results-recognised') AND NOT is_met
                        """, m.OrganizationId, m.ToParentId);
                    break;
                case OrganizationDissolved d:
                    await ExecuteAsync(connection, transaction, "UPDATE congress.organizations SET is_dissolved = true, version = $2 WHERE organization_id = $1",
                        d.OrganizationId, version);
                    await ExecuteAsync(connection, transaction,
                        "UPDATE congress.deadlines SET closed_reason = 'organization-dissolved', next_step_on = NULL WHERE organization_id = $1 AND NOT is_met",
                        d.OrganizationId);
                    break;
                case OrganizationContactsSet c:
                    await ExecuteAsync(connection, transaction, "DELETE FROM congress.contacts WHERE organization_id = $1", c.OrganizationId);
                    await ExecuteAsync(connection, transaction, """
                        INSERT INTO congress.contacts (organization_id, role, email, name, language)
                        SELECT $1, c.role, c.email, c.name, c.language FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS c(role, email, name, language)
                        """, c.OrganizationId, c.Contacts.Select(x => x.Role).ToArray(), c.Contacts.Select(x => x.Email).ToArray(),
                        c.Contacts.Select(x => x.Name).ToArray(), c.Contacts.Select(x => x.Language).ToArray());
                    break;
                default:
                    throw new InvalidOperationException($"the organisation tree cannot apply {e.GetType().Name}");
            }
        }
    }

    /// <summary>
    /// The tree rows and contacts of many new organisations at once (an import), in two statements.
    /// </summary>
    public static async Task ProjectRegistrationsAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<PendingWrite> registrations)
    {
        await InsertRegisteredAsync(connection, transaction, [.. registrations.Select(w => (w.Events.OfType<OrganizationRegistered>().Single(), (long)w.Events.Count))]);
        var contacts = registrations.SelectMany(w => w.Events.OfType<OrganizationContactsSet>()).SelectMany(c => c.Contacts.Select(x => (c.OrganizationId, x))).ToList();
        if (contacts.Count > 0)
        {
            await ExecuteAsync(connection, transaction, """
                INSERT INTO congress.contacts (organization_id, role, email, name, language)
                SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
                """, contacts.Select(c => c.OrganizationId).ToArray(), contacts.Select(c => c.x.Role).ToArray(), contacts.Select(c => c.x.Email).ToArray(),
                contacts.Select(c => c.x.Name).ToArray(), contacts.Select(c => c.x.Language).ToArray());
        }
    }

    /// <summary>
    /// The tree rows of new organisations, one or many: each path is its parent's path and a new key, the parent taken
    /// from the tree or from the new rows themselves (walked down recursively, in whatever order they come). The tree
    /// lock is shared with other registrations and exclusive of moves, so a parent's path stays put meanwhile.
    /// </summary>
    private static async Task InsertRegisteredAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<(OrganizationRegistered Registered, long Version)> rows)
    {
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock_shared(hashtextextended('organization-tree', 0))");
        await ExecuteAsync(connection, transaction, """
            WITH RECURSIVE batch AS MATERIALIZED (
                SELECT b.*, nextval(pg_get_serial_sequence('congress.organizations', 'org_key')) AS key
                FROM unnest($1::text[], $2::text[], $3::smallint[], $4::text[], $5::text[], $6::bigint[]) AS b(id, name, level, sector, parent_id, version)),
            placed AS (
                SELECT b.id, coalesce(p.path, ''::ltree) || b.key::text AS path
                FROM batch b LEFT JOIN congress.organizations p ON p.organization_id = b.parent_id
                WHERE b.parent_id IS NULL OR p.organization_id IS NOT NULL
                UNION ALL
                SELECT b.id, placed.path || b.key::text FROM batch b JOIN placed ON placed.id = b.parent_id)
            INSERT INTO congress.organizations (org_key, organization_id, name, level, sector, parent_id, path, version)
            SELECT b.key, b.id, b.name, b.level, b.sector, b.parent_id, placed.path, b.version FROM batch b JOIN placed ON placed.id = b.id
            """, rows.Select(r => r.Registered.OrganizationId).ToArray(), rows.Select(r => r.Registered.Name).ToArray(),
            rows.Select(r => (short)r.Registered.Level).ToArray(), rows.Select(r => r.Registered.Sector?.ToString()).ToArray(),
            rows.Select(r => r.Registered.ParentId).ToArray(), rows.Select(r => r.Version).ToArray());
    }

    private static string ColumnsOf(string alias) =>
        string.Join(", ", new[] { "organization_id", "name", "level", "sector", "parent_id", "is_dissolved", "version" }.Select(c => $"{alias}.{c}"));

    private async Task<IReadOnlyList<OrganizationNode>> QueryAsync(string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await QueryAsync(connection, null, sql, cancellationToken, parameters);
    }

    private static async Task<IReadOnlyList<OrganizationNode>> QueryAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddPositional(parameters);

        var nodes = new List<OrganizationNode>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            nodes.Add(new OrganizationNode(
                reader.GetString(0), reader.GetString(1), (OrganizationLevel)reader.GetInt16(2),
                reader.IsDBNull(3) ? null : Enum.Parse<Sector>(reader.GetString(3)),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5), reader.GetInt64(6)));
        }

        return nodes;
    }

    internal static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, params object?[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddPositional(parameters);

        await command.ExecuteNonQueryAsync();
    }
}

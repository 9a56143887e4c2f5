using System.Reflection;
using System.Text.RegularExpressions;
using Npgsql;

namespace CongressWorkflow.EventStore.Schema;

/// <summary>One numbered SQL script of a component's schema.</summary>
public sealed record Migration(int Version, string Name, string Sql);

/// <summary>
/// Applies numbered SQL migrations of one component (one PostgreSQL schema) once each, in order.
/// A session advisory lock per component makes concurrent start-ups of several nodes safe: the second waits,
/// then finds everything applied.
/// </summary>
public static partial class SchemaMigrator
{
    public static async Task<IReadOnlyList<Migration>> MigrateAsync(
        NpgsqlDataSource dataSource, string schema, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken = default)
    {
        if (!IdentifierPattern().IsMatch(schema))
        {
            throw new ArgumentException($"'{schema}' is not a plain lower-case schema name", nameof(schema));
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var lockKey = StableLockKey(schema);
        await ExecuteAsync(connection, $"SELECT pg_advisory_lock({lockKey})", cancellationToken);
        try
        {
            await ExecuteAsync(connection, $"""
                CREATE SCHEMA IF NOT EXISTS {schema};
                CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
                """, cancellationToken);

            var applied = new HashSet<int>();
            await using (var read = new NpgsqlCommand($"SELECT version FROM {schema}.schema_migrations", connection))
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetInt32(0));
                }
            }

            var newlyApplied = new List<Migration>();
            foreach (var migration in migrations.OrderBy(m => m.Version).Where(m => !applied.Contains(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await using (var apply = new NpgsqlCommand(migration.Sql, connection, transaction))
                {
                    await apply.ExecuteNonQueryAsync(cancellationToken);
                }

                await using (var record = new NpgsqlCommand(
                    $"INSERT INTO {schema}.schema_migrations (version, name) VALUES ($1, $2)", connection, transaction))
                {
                    record.Parameters.Add(new() { Value = migration.Version });
                    record.Parameters.Add(new() { Value = migration.Name });
                    await record.ExecuteNonQueryAsync(cancellationToken);
                }

                await transaction.CommitAsync(cancellationToken);
                newlyApplied.Add(migration);
            }

            return newlyApplied;
        }
        finally
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({lockKey})", CancellationToken.None);
        }
    }

    /// <summary>Reads scripts named <c>NNNN_name.sql</c> embedded in an assembly under a resource folder.</summary>
    /// <summary>The migrations not yet applied to a schema (all of them when it does not exist): a cheap readiness check.</summary>
    public static async Task<IReadOnlyList<Migration>> PendingAsync(
        NpgsqlDataSource dataSource, string schema, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken = default)
    {
        if (!IdentifierPattern().IsMatch(schema))
        {
            throw new ArgumentException($"'{schema}' is not a plain schema name", nameof(schema));
        }

        await using var exists = dataSource.CreateCommand($"SELECT to_regclass('{schema}.schema_migrations') IS NOT NULL");
        if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
        {
            return migrations;
        }

        await using var command = dataSource.CreateCommand($"SELECT ARRAY(SELECT version FROM {schema}.schema_migrations)");
        var applied = (int[])(await command.ExecuteScalarAsync(cancellationToken))!;
        return [.. migrations.Where(m => !applied.Contains(m.Version))];
    }

    public static IReadOnlyList<Migration> FromEmbeddedResources(Assembly assembly, string resourcePrefix)
    {
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(resourcePrefix, StringComparison.Ordinal)))
        {
            var fileName = resource[resourcePrefix.Length..];
            var match = ScriptNamePattern().Match(fileName);
            if (!match.Success)
            {
                throw new InvalidOperationException($"migration resource '{resource}' is not named NNNN_name.sql");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var text = new StreamReader(stream);
            migrations.Add(new Migration(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), match.Groups[2].Value, text.ReadToEnd()));
        }

        return migrations;
    }

    private static long StableLockKey(string schema)
    {
        // FNV-1a: the same key on every node and every run (string.GetHashCode is randomised per process).
        var hash = 14695981039346656037UL;
        foreach (var c in "schema-migrations:" + schema)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return (long)(hash >> 1);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"^(\d{4})_([A-Za-z0-9_]+)\.sql$")]
    private static partial Regex ScriptNamePattern();
}

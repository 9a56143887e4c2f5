using System.Diagnostics;
using System.Text;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Engine;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Import;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Benchmarks;

/// <summary>
/// The organisation import on files that double in size (to show it grows linearly), each into an empty database,
/// beside a binary COPY of the same rows into a plain table: the floor for putting that many rows into PostgreSQL.
/// </summary>
public static class ImportBenchmark
{
    public static async Task RunAsync(string connectionString, double scale)
    {
        Console.WriteLine($"{"rows",8} {"import s",9} {"rows/s",8} {"COPY s",7} {"import/COPY",12}");
        foreach (var rows in new[] { 12_500, 25_000, 50_000, 100_000 }.Select(r => (int)(r * scale)))
        {
            var database = $"{new NpgsqlConnectionStringBuilder(connectionString).Database}_{rows}";
            await using (var admin = NpgsqlDataSource.Create(connectionString))
            {
                await using var create = admin.CreateCommand($"DROP DATABASE IF EXISTS {database}; ");
                await create.ExecuteNonQueryAsync();
                await using var create2 = admin.CreateCommand($"CREATE DATABASE {database}");
                await create2.ExecuteNonQueryAsync();
            }

            await using var dataSource = StoreDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { Database = database, CommandTimeout = 0 }.ConnectionString);
            await EngineSchema.MigrateAsync(dataSource);
            var store = new PostgresEventStore(dataSource, DomainEventTypes.CreateRegistry(), TimeProvider.System);
            var import = new OrganizationImport(new CommandPipeline(store, dataSource), new OrganizationTree(dataSource));
            var csv = Tree(rows);
            var clock = Stopwatch.StartNew();
            var report = await import.ImportAsync(csv, ImportFormat.Csv, new CommandContext("bench", Roles.Admin, "tw", DateTimeOffset.UtcNow));
            var importSeconds = clock.Elapsed.TotalSeconds;
            if (!report.Succeeded || report.Registered != rows)
            {
                throw new InvalidOperationException($"the import failed: {report.Errors.FirstOrDefault()}");
            }

            var copySeconds = await CopyAsync(dataSource, csv);
            Console.WriteLine($"{rows,8:N0} {importSeconds,9:N1} {rows / importSeconds,8:N0} {copySeconds,7:N2} {importSeconds / copySeconds,11:N0}×");
        }
    }

    /// <summary>One Central, then blocs of 50 ministries of 20 grassroots organisations of 4 branches, until the count is reached.</summary>
    private static string Tree(int rows)
    {
        var csv = new StringBuilder("id,name,level,sector,parent_id\ntw,Trung ương,central,,\n");
        var written = 1;
        for (var b = 0; written < rows; b++)
        {
            csv.Append($"b{b},Khối {b},bloc,,tw\n");
            written++;
            for (var m = 0; m < 50 && written < rows; m++)
            {
                csv.Append($"b{b}-m{m},Bộ {m},ministry,state-management,b{b}\n");
                written++;
                for (var g = 0; g < 20 && written < rows; g++)
                {
                    csv.Append($"b{b}-m{m}-g{g},Cơ sở {g},grassroots,public-service-unit,b{b}-m{m}\n");
                    written++;
                    for (var c = 0; c < 4 && written < rows; c++)
                    {
                        csv.Append($"b{b}-m{m}-g{g}-c{c},Chi bộ {c},branch,,b{b}-m{m}-g{g}\n");
                        written++;
                    }
                }
            }
        }

        return csv.ToString();
    }

    private static async Task<double> CopyAsync(NpgsqlDataSource dataSource, string csv)
    {
        await using (var create = dataSource.CreateCommand("CREATE TABLE copy_baseline (id text PRIMARY KEY, name text, level text, sector text, parent_id text)"))
        {
            await create.ExecuteNonQueryAsync();
        }

        var lines = csv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(l => l.Split(',')).ToList();
        var clock = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync();
        await using (var writer = await connection.BeginBinaryImportAsync("COPY copy_baseline (id, name, level, sector, parent_id) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var cells in lines)
            {
                await writer.StartRowAsync();
                foreach (var cell in cells)
                {
                    await writer.WriteAsync(cell.Length == 0 ? null : cell);
                }
            }

            await writer.CompleteAsync();
        }

        return clock.Elapsed.TotalSeconds;
    }
}

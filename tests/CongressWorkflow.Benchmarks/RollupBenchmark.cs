using System.Diagnostics;
using System.Text.Json;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine;
using CongressWorkflow.Engine.Monitoring;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Projections;
using CongressWorkflow.EventStore.Serialization;
using Npgsql;
using NpgsqlTypes;

namespace CongressWorkflow.Benchmarks;

/// <summary>
/// Rollup latency at national scale and projection rebuild throughput. A generated tree (at scale 1: 50 blocs, 2,750
/// committees, 46,750 grassroots organisations, 249,333 branches: ~300,000 units) and a full congress lifecycle per
/// unit (28 events: ~8.7 million events with the registrations) are written through the store's own append function
/// (hash chain and all; loading with synchronous_commit off). Then, in the same run: a raw sequential read of the
/// events table (the baseline), a rebuild of the progress projection from zero, and rollup queries as of 15/05/2020.
/// </summary>
public static class RollupBenchmark
{
    private const string Campaign = "xiii";
    private static readonly EventTypeRegistry Registry = DomainEventTypes.CreateRegistry();

    public static async Task RunAsync(string connectionString, double scale)
    {
        var loading = new NpgsqlConnectionStringBuilder(connectionString) { Options = "-c synchronous_commit=off", CommandTimeout = 0 }.ConnectionString;
        await using var loader = NpgsqlDataSource.Create(loading);
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString);
        await EngineSchema.MigrateAsync(dataSource);

        var tree = Tree(scale);
        Console.WriteLine($"Rollups at scale {scale}: {tree.Count:N0} organisations");
        var events = await Sql.ScalarAsync(dataSource, "SELECT count(*) FROM event_store.events");
        if (events == 0)
        {
            var watch = Stopwatch.StartNew();
            await LoadAsync(loader, tree);
            events = await Sql.ScalarAsync(dataSource, "SELECT count(*) FROM event_store.events");
            Console.WriteLine($"loaded {events:N0} events in {watch.Elapsed.TotalSeconds:N0} s ({events / watch.Elapsed.TotalSeconds:N0} events/s through append_events)");
            await Sql.ExecuteAsync(dataSource, "VACUUM ANALYZE");
        }
        else
        {
            // A database of a previous run (ConnectionStrings__Postgres): its tree is this scale's if the count matches.
            Console.WriteLine($"reusing the {events:N0} events already in the database");
        }

        var raw = await RawReadAsync(dataSource);
        var rebuild = await RebuildAsync(dataSource, events);
        Console.WriteLine();
        Console.WriteLine($"{"rebuild of the progress projection",-44} {rebuild,12:N0} events/s");
        Console.WriteLine($"{"raw sequential read of the events table",-44} {raw,12:N0} events/s");
        Console.WriteLine($"{"rebuild / raw read",-44} {rebuild / raw,12:P1}");

        var queries = new ProgressQueries(dataSource);
        var day = new DateOnly(2020, 5, 15);
        var random = new Random(15);
        Console.WriteLine();
        Console.WriteLine($"{"as of a day (any day of 2019-12..2020-12)",-56} {"units",10} {"median ms",10} {"p95 ms",10}");
        foreach (var (label, root, runs) in new[]
        {
            ("whole tree (Central)", "tw", 10),
            ("one bloc", "khoi-00", 30),
            ("one committee", "khoi-00-dang-bo-00", 50),
        })
        {
            var units = (int)await Sql.ScalarAsync(dataSource, "SELECT count(*) - 1 FROM congress.rollup_units WHERE valid_until IS NULL AND path <@ (SELECT path FROM congress.rollup_units WHERE organization_id = $1 AND valid_until IS NULL)", root);

            // The counts and the units agree: the report of 15/05/2020 as recorded by a moment after everything (which reads
            // every unit of the subtree) is the one the counts give. A rollup that counts nothing would be fast for the wrong reason.
            var fromCounts = await queries.RollupAsync(Campaign, root, day) ?? throw new InvalidOperationException($"no rollup for {root}");
            var fromUnits = await queries.RollupAsync(Campaign, root, day, DateTimeOffset.UtcNow) ?? throw new InvalidOperationException($"no rollup for {root}");
            if (fromCounts.Levels.Sum(l => l.Total) != units || !fromCounts.Levels.SequenceEqual(fromUnits.Levels) || fromCounts.Subordinates != fromUnits.Subordinates
                || fromCounts.Completion != fromUnits.Completion)
            {
                throw new InvalidOperationException($"the rollups of {root} disagree: {string.Join(" ", fromCounts.Levels)} vs {string.Join(" ", fromUnits.Levels)}");
            }

            await TimeAsync($"{label}: rollup", units, runs, () => queries.RollupAsync(Campaign, root, AnyDay(random)));
            await TimeAsync($"{label}: drill-down", units, runs, () => queries.SubordinatesAsync(Campaign, root, AnyDay(random)));
            await TimeAsync($"{label}: rollup as recorded by a moment", units, Math.Min(runs, 10),
                () => queries.RollupAsync(Campaign, root, AnyDay(random), DateTimeOffset.UtcNow));
        }
    }

    private static DateOnly AnyDay(Random random) => new DateOnly(2019, 12, 1).AddDays(random.Next(396));

    /// <summary>Two warm-up runs, then the median and 95th percentile of the rest.</summary>
    private static async Task TimeAsync<T>(string label, int units, int runs, Func<Task<T>> query)
    {
        var timings = new List<double>();
        for (var i = 0; i < runs + 2; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await query();
            if (i >= 2)
            {
                timings.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
        }

        timings.Sort();
        Console.WriteLine($"{label,-56} {units,10:N0} {timings[timings.Count / 2],10:N1} {timings[(int)Math.Ceiling(timings.Count * 0.95) - 1],10:N1}");
    }

    internal sealed record Unit(string Id, string Name, OrganizationLevel Level, string? Parent, int Index);

    internal static List<Unit> Tree(double scale)
    {
        var units = new List<Unit> { new("tw", "Trung ương", OrganizationLevel.Central, null, 0) };
        var committeesPerBloc = Math.Max(1, (int)Math.Round(55 * scale));
        var grassroots = 0;
        for (var b = 0; b < 50; b++)
        {
            var bloc = $"khoi-{b:00}";
            units.Add(new(bloc, $"Đảng bộ Khối {b}", OrganizationLevel.Bloc, "tw", units.Count));
            for (var c = 0; c < committeesPerBloc; c++)
            {
                var committee = $"{bloc}-dang-bo-{c:00}";
                units.Add(new(committee, $"Đảng bộ {b}.{c}", OrganizationLevel.Ministry, bloc, units.Count));
                for (var g = 0; g < 17; g++, grassroots++)
                {
                    var cell = $"{committee}-co-so-{g:00}";
                    units.Add(new(cell, $"Đảng bộ cơ sở {b}.{c}.{g}", OrganizationLevel.Grassroots, committee, units.Count));
                    for (var r = 0; r < 5 + (grassroots % 3 == 0 ? 1 : 0); r++)
                    {
                        units.Add(new($"{cell}-chi-bo-{r}", $"Chi bộ {b}.{c}.{g}.{r}", OrganizationLevel.Branch, cell, units.Count));
                    }
                }
            }
        }

        return units;
    }

    /// <summary>When the tree was registered (before the day reported on, or no unit would count) and when the congresses' histories were entered.</summary>
    private static readonly DateTimeOffset Registered = new(2019, 10, 1, 2, 0, 0, TimeSpan.Zero);

    private static readonly DateTimeOffset Recorded = new(2020, 11, 1, 0, 0, 0, TimeSpan.Zero);

    private static async Task LoadAsync(NpgsqlDataSource loader, List<Unit> tree)
    {
        // Registrations first, parents before children, then one stream per congress; several streams per round trip.
        foreach (var chunk in tree.Chunk(1000))
        {
            await AppendManyAsync(loader, Registered, chunk.Select(u => ($"org-{u.Id}", "organization",
                (IReadOnlyList<object>)[new OrganizationRegistered(u.Id, u.Name, u.Level, Sector.StateManagement, u.Parent, Registered)])));
        }

        var congresses = tree.Skip(1).ToList();
        await Parallel.ForEachAsync(congresses.Chunk(40), new ParallelOptions { MaxDegreeOfParallelism = 2 }, async (chunk, _) =>
            await AppendManyAsync(loader, Recorded, chunk.Select(u => (Congress.StreamId(Campaign, u.Id), "congress", Lifecycle(u)))));
    }

    private static IReadOnlyList<object> Lifecycle(Unit unit)
    {
        var id = Congress.StreamId(Campaign, unit.Id);
        var (planned, held) = unit.Level switch
        {
            OrganizationLevel.Branch => (new DateOnly(2020, 4, 15), new DateOnly(2020, 1, 15).AddDays(unit.Index % 150)),
            OrganizationLevel.Grassroots => (new DateOnly(2020, 6, 20), new DateOnly(2020, 6, 1).AddDays(unit.Index % 29)),
            OrganizationLevel.Ministry => (new DateOnly(2020, 7, 25), new DateOnly(2020, 7, 10).AddDays(unit.Index % 20)),
            _ => (new DateOnly(2020, 10, 28), new DateOnly(2020, 10, 20).AddDays(unit.Index % 10)),
        };
        var window = new DateWindow(planned.AddDays(-90), planned.AddDays(45));
        var terms = new PlanTerms("01-KH/ĐU", new DateOnly(2019, 11, 15), planned, window, null, [new Deadline(Milestone.CongressHeld, window.End)]);
        var prepared = held.AddDays(-40);
        var superior = unit.Parent ?? "tw";
        return
        [
            new CongressPlanIssued(id, Campaign, unit.Id, superior, "155-KH/ĐUK", unit.Index % 97 == 0, terms, "secretary"),
            new CongressPlanAmended(id, "01-KH/ĐU", terms with { Document = "02-KH/ĐU", EffectiveOn = new DateOnly(2020, 3, 12) }, "secretary"),
            new SubcommitteeFormed(id, SubcommitteeKind.Documents, "Trưởng Tiểu ban Văn kiện", 5, prepared),
            new SubcommitteeFormed(id, SubcommitteeKind.Personnel, "Trưởng Tiểu ban Nhân sự", 3, prepared),
            new SubcommitteeFormed(id, SubcommitteeKind.OrganisationService, "Trưởng Tiểu ban Tổ chức – Phục vụ", 4, prepared),
            new DraftPrepared(id, DraftKind.PoliticalReport, prepared.AddDays(3)),
            new DraftPrepared(id, DraftKind.ReviewReport, prepared.AddDays(3)),
            new CommentsCollected(id, DraftKind.PoliticalReport, 4, 27, prepared.AddDays(10)),
            new CommentsCollected(id, DraftKind.ReviewReport, 4, 12, prepared.AddDays(10)),
            new PersonnelPlanPrepared(id, 11, 13, 18.18m, 3, 2, prepared.AddDays(12)),
            new CongressSubmitted(id, 1, superior, "secretary", prepared.AddDays(14)),
            new SubmissionReturned(id, 1, superior, "standing", "Bổ sung cơ cấu", prepared.AddDays(18)),
            new CongressSubmitted(id, 2, superior, "secretary", prepared.AddDays(22)),
            new SubmissionApproved(id, 2, superior, "standing", "15-QĐ/ĐU", prepared.AddDays(26)),
            new CongressScheduled(id, new DateWindow(held.AddDays(-7), held.AddDays(-7))),
            new CongressPostponed(id, "COVID-19", held.AddDays(-9)),
            new CongressRescheduled(id, new DateWindow(held, held), "hết giãn cách"),
            new CongressConvened(id, held, 99, 100, 5, 120, "02-KH/ĐU", planned, held.DayNumber - planned.DayNumber, false),
            new ElectionsRecorded(id, new ElectionResults(11, 3, "Bí thư", 1, 3, "Chủ nhiệm", 5, 1), held),
            new ResultsRecognised(id, superior, "standing", "20-QĐ/ĐU", held.AddDays(7)),
            new ResolutionIssued(id, "01-NQ/ĐU", held),
            new ActionProgrammeAdopted(id, "Chương trình hành động", held.AddDays(14)),
            .. Enumerable.Range(1, 6).Select(i => new ResolutionDisseminated(id, i, held.AddDays(20 + i))),
        ];
    }

    /// <summary>One event_store.append_events call per stream, many per round trip (one implicit transaction).</summary>
    private static async Task AppendManyAsync(NpgsqlDataSource loader, DateTimeOffset recordedAt, IEnumerable<(string Stream, string Type, IReadOnlyList<object> Events)> streams)
    {
        await using var connection = await loader.OpenConnectionAsync();
        await using var batch = new NpgsqlBatch(connection);
        foreach (var (stream, type, events) in streams)
        {
            var command = new NpgsqlBatchCommand("SELECT count(*) FROM event_store.append_events($1, $2, 0, $3, 'loader', 'system', NULL, $4, NULL, $5, $6, $7, $8, $9, NULL)");
            command.Parameters.Add(new() { Value = stream });
            command.Parameters.Add(new() { Value = type });
            command.Parameters.Add(new() { Value = recordedAt });
            command.Parameters.Add(new() { Value = Guid.NewGuid() });
            command.Parameters.Add(new() { Value = events.Select(_ => Guid.NewGuid()).ToArray() });
            command.Parameters.Add(new() { Value = events.Select(e => Registry.Describe(e.GetType()).Name).ToArray() });
            command.Parameters.Add(new() { Value = events.Select(e => Registry.Describe(e.GetType()).Version).ToArray() });
            command.Parameters.Add(new() { Value = events.Select(_ => (string?)null).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            command.Parameters.Add(new()
            {
                Value = events.Select(e => JsonSerializer.Serialize(e, e.GetType(), EventTypeRegistry.DefaultSerializerOptions)).ToArray(),
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb,
            });
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>The baseline: every column of every event, in position order, as fast as a reader can take them.</summary>
    private static async Task<double> RawReadAsync(NpgsqlDataSource dataSource)
    {
        var watch = Stopwatch.StartNew();
        long count = 0;
        await using var command = dataSource.CreateCommand($"SELECT {PostgresEventStore.EventColumns} FROM event_store.events ORDER BY global_position");
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                _ = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            count++;
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    /// <summary>The progress projection from position zero to the head, by the daemon, in events of the store per second.</summary>
    private static async Task<double> RebuildAsync(NpgsqlDataSource dataSource, long events)
    {
        var store = new PostgresEventStore(dataSource, Registry, TimeProvider.System);
        var head = await store.ReadHeadPositionAsync();
        // As an operator's rebuild runs: replayed from zero, then the day-by-day counts computed and the tables analyzed.
        await Sql.ExecuteAsync(dataSource, """
            INSERT INTO event_store.projection_checkpoints (projection, rebuild_requested) VALUES ('progress', true)
            ON CONFLICT (projection) DO UPDATE SET rebuild_requested = true
            """);
        var watch = Stopwatch.StartNew();
        await using (var daemon = new ProjectionDaemon(dataSource, store, [new ProgressProjection()],
            new ProjectionDaemonOptions { BatchSize = 20_000, PollInterval = TimeSpan.FromMilliseconds(20) }))
        {
            daemon.Start();
            while (true)
            {
                var status = (await ProjectionDaemon.StatusAsync(dataSource)).SingleOrDefault();
                if (status is { State: ProjectionState.Failed })
                {
                    throw new InvalidOperationException(status.Error);
                }

                if (status is { State: ProjectionState.Running } && status.Position >= head)
                {
                    break;
                }

                await Task.Delay(100);
            }
        }

        return events / watch.Elapsed.TotalSeconds;
    }
}

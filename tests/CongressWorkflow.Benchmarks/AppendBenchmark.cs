using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Serialization;
using Npgsql;
using NpgsqlTypes;

namespace CongressWorkflow.Benchmarks;

public sealed record DelegateRegistered(string Name, string Unit, int Seat, DateOnly Born);

/// <summary>
/// Appends per second through the event store against a raw Npgsql baseline that writes the same rows into an
/// identical table (CREATE TABLE … LIKE event_store.events INCLUDING ALL), on the same server in the same run.
/// The baseline does no version check, no stream row, no hash chain, no ordering lock and no routing to a partition
/// (it is one plain table): the ratio is their price.
/// </summary>
public static class AppendBenchmark
{
    private const int Streams = 200;

    /// <summary>The store's schema and the baseline's identical table, empty.</summary>
    private static async Task<NpgsqlDataSource> PrepareAsync(string connectionString)
    {
        var dataSource = StoreDataSource.Create(connectionString);
        await PostgresEventStore.MigrateAsync(dataSource);
        await Sql.ExecuteAsync(dataSource, """
            CREATE SCHEMA IF NOT EXISTS bench;
            DROP TABLE IF EXISTS bench.raw_events;
            CREATE TABLE bench.raw_events (LIKE event_store.events INCLUDING ALL);
            ALTER TABLE bench.raw_events ALTER COLUMN partition_key SET DEFAULT '';
            DROP SEQUENCE IF EXISTS bench.raw_position_seq;
            CREATE SEQUENCE bench.raw_position_seq AS bigint;
            """);
        return dataSource;
    }

    public static async Task RunAsync(string connectionString, double scale)
    {
        await using var dataSource = await PrepareAsync(connectionString);
        var store = new PostgresEventStore(dataSource, new EventTypeRegistry().Register<DelegateRegistered>("bench.delegate-registered"), TimeProvider.System);

        Console.WriteLine("Append throughput: event store vs raw Npgsql INSERT into an identical table");
        Console.WriteLine($"{"case",-40} {"store ev/s",12} {"raw ev/s",12} {"store/raw",10}");
        var single = (int)(3000 * scale);
        var batches = (int)(150 * scale);
        await Report("1 event per transaction", single, 1, store, dataSource);
        await Report("100 events to one stream per transaction", batches, 100, store, dataSource);
        await ReportMany("10 streams x 10 events per transaction", batches, store, dataSource);
        foreach (var clients in new[] { 1, 2, 4, 8, 16 })
        {
            await ReportClients(clients, (int)(400 * scale), store, dataSource);
        }

    }

    /// <summary>The bulk path on its own (also part of no other suite): 1,000,000 events at scale 1.</summary>
    public static async Task RunBulkAsync(string connectionString, double scale)
    {
        await using var dataSource = await PrepareAsync(connectionString);
        var store = new PostgresEventStore(dataSource, new EventTypeRegistry().Register<DelegateRegistered>("bench.delegate-registered"), TimeProvider.System);
        Console.WriteLine("Bulk append: event store (binary COPY, chain hashed on the client) vs raw binary COPY into an identical table");
        Console.WriteLine($"{"case",-40} {"store ev/s",12} {"raw ev/s",12} {"store/raw",10}");
        await ReportBulk((int)(1_000_000 * scale), store, dataSource);
    }

    /// <summary>
    /// New streams of twenty events through the bulk path (binary COPY, the chain hashed on the client) against a binary
    /// COPY of the same rows into the identical table; both serialise the same data, each in one transaction.
    /// </summary>
    private static async Task ReportBulk(int events, PostgresEventStore store, NpgsqlDataSource dataSource)
    {
        const int perStream = 20;
        var meta = new EventMetadata(new Actor("bench", "secretary", "org-1"), Guid.NewGuid());
        var run = Guid.NewGuid().ToString("N")[..8];
        IEnumerable<StreamAppend> Streams() => Enumerable.Range(0, events / perStream).Select(s => new StreamAppend(
            $"bulk-{run}-{s}", "bench", ExpectedVersion.NoStream, [.. Enumerable.Range(0, perStream).Select(i => new NewEvent(Guid.NewGuid(), Sample(s, i)))]));

        var watch = Stopwatch.StartNew();
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await store.AppendNewStreamsAsync(connection, transaction, Streams(), meta);
            await transaction.CommitAsync();
        }

        var storeRate = events / watch.Elapsed.TotalSeconds;
        watch.Restart();
        await using (var connection = await dataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using (var writer = await connection.BeginBinaryImportAsync($"COPY bench.raw_events ({PostgresEventStore.EventColumns}) FROM STDIN (FORMAT BINARY)"))
            {
                var hash = new byte[32];
                var now = DateTimeOffset.UtcNow;
                var position = await Sql.ScalarAsync(dataSource, "SELECT coalesce(max(global_position), 0) FROM bench.raw_events");
                foreach (var stream in Streams())
                {
                    for (var i = 0; i < stream.Events.Count; i++)
                    {
                        await writer.StartRowAsync();
                        await writer.WriteAsync(++position, NpgsqlDbType.Bigint);
                        await writer.WriteAsync(stream.Events[i].EventId, NpgsqlDbType.Uuid);
                        await writer.WriteAsync("raw-" + stream.StreamId, NpgsqlDbType.Text);
                        await writer.WriteAsync(i + 1L, NpgsqlDbType.Bigint);
                        await writer.WriteAsync("bench.delegate-registered", NpgsqlDbType.Text);
                        await writer.WriteAsync(1, NpgsqlDbType.Integer);
                        await writer.WriteAsync(now, NpgsqlDbType.TimestampTz);
                        await writer.WriteAsync(meta.Actor.UserId, NpgsqlDbType.Text);
                        await writer.WriteAsync(meta.Actor.Role, NpgsqlDbType.Text);
                        await writer.WriteAsync(meta.Actor.OrganizationId!, NpgsqlDbType.Text);
                        await writer.WriteAsync(meta.CorrelationId, NpgsqlDbType.Uuid);
                        await writer.WriteNullAsync();
                        await writer.WriteNullAsync();
                        await writer.WriteAsync(JsonSerializer.Serialize(stream.Events[i].Data, EventTypeRegistry.DefaultSerializerOptions), NpgsqlDbType.Jsonb);
                        await writer.WriteAsync(hash, NpgsqlDbType.Bytea);
                    }
                }

                await writer.CompleteAsync();
            }

            await transaction.CommitAsync();
        }

        var rawRate = events / watch.Elapsed.TotalSeconds;
        Console.WriteLine($"{$"bulk: {events:N0} events, new streams of {perStream}",-40} {storeRate,12:N0} {rawRate,12:N0} {storeRate / rawRate,10:P0}");
    }

    /// <summary>Concurrent clients appending one event per transaction, each to streams of its own, against as many raw inserters.</summary>
    private static async Task ReportClients(int clients, int transactionsPerClient, PostgresEventStore store, NpgsqlDataSource dataSource)
    {
        var watch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(() => StoreAppends(store, transactionsPerClient, 1, $"c{clients}-{c}"))));
        var storeRate = clients * transactionsPerClient / watch.Elapsed.TotalSeconds;
        watch.Restart();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(_ => Task.Run(() => RawInserts(dataSource, transactionsPerClient, 1))));
        var rawRate = clients * transactionsPerClient / watch.Elapsed.TotalSeconds;
        Console.WriteLine($"{$"1 event per transaction, {clients} client(s)",-40} {storeRate,12:N0} {rawRate,12:N0} {storeRate / rawRate,10:P0}");
    }

    /// <summary>Ten streams of ten events each in one transaction (one round trip), against one unnest INSERT of the same hundred rows.</summary>
    private static async Task ReportMany(string label, int transactions, PostgresEventStore store, NpgsqlDataSource dataSource)
    {
        var meta = new EventMetadata(new Actor("bench", "secretary", "org-1"), Guid.NewGuid());
        async Task<double> StoreRunAsync(int count)
        {
            var run = Guid.NewGuid().ToString("N")[..8];
            var versions = new long[Streams];
            var watch = Stopwatch.StartNew();
            await using var connection = await dataSource.OpenConnectionAsync();
            for (var t = 0; t < count; t++)
            {
                var appends = Enumerable.Range(0, 10).Select(k =>
                {
                    var s = (t * 10 + k) % Streams;
                    return new StreamAppend($"many-{run}-{s}", "bench", ExpectedVersion.Exactly(versions[s]),
                        [.. Enumerable.Range(0, 10).Select(i => new NewEvent(Guid.NewGuid(), Sample(t, i)))]);
                }).ToList();
                await using var transaction = await connection.BeginTransactionAsync();
                var results = await store.AppendManyAsync(connection, transaction, appends, meta);
                await transaction.CommitAsync();
                for (var k = 0; k < 10; k++)
                {
                    versions[(t * 10 + k) % Streams] = results[k].StreamVersion;
                }
            }

            return count * 100 / watch.Elapsed.TotalSeconds;
        }

        await StoreRunAsync(Math.Max(5, transactions / 10));
        await RawInserts(dataSource, Math.Max(5, transactions / 10), 100);
        var storeRate = await StoreRunAsync(transactions);
        var rawRate = await RawInserts(dataSource, transactions, 100);
        Console.WriteLine($"{label,-40} {storeRate,12:N0} {rawRate,12:N0} {storeRate / rawRate,10:P0}");
    }

    private static async Task Report(string label, int transactions, int eventsPerTransaction, PostgresEventStore store, NpgsqlDataSource dataSource)
    {
        // Warm up both paths (JIT, connection pool, plans) before measuring.
        await StoreAppends(store, Math.Max(10, transactions / 10), eventsPerTransaction, "warm");
        await RawInserts(dataSource, Math.Max(10, transactions / 10), eventsPerTransaction);

        var storeRate = await StoreAppends(store, transactions, eventsPerTransaction, "run");
        var rawRate = await RawInserts(dataSource, transactions, eventsPerTransaction);
        Console.WriteLine($"{label,-40} {storeRate,12:N0} {rawRate,12:N0} {storeRate / rawRate,10:P0}");
    }

    private static async Task<double> StoreAppends(PostgresEventStore store, int transactions, int size, string prefix)
    {
        var versions = new long[Streams];
        var run = Guid.NewGuid().ToString("N")[..8];
        var meta = new EventMetadata(new Actor("bench", "secretary", "org-1"), Guid.NewGuid());
        var watch = Stopwatch.StartNew();
        for (var t = 0; t < transactions; t++)
        {
            var s = t % Streams;
            var events = Enumerable.Range(0, size).Select(i => new NewEvent(Guid.NewGuid(), Sample(t, i))).ToArray();
            var result = await store.AppendAsync($"{prefix}-{run}-{s}", "bench", ExpectedVersion.Exactly(versions[s]), events, meta);
            versions[s] = result.StreamVersion;
        }

        return transactions * size / watch.Elapsed.TotalSeconds;
    }

    private static async Task<double> RawInserts(NpgsqlDataSource dataSource, int transactions, int size)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var versions = new long[Streams];
        var correlation = Guid.NewGuid();
        var watch = Stopwatch.StartNew();
        await using var connection = await dataSource.OpenConnectionAsync();
        for (var t = 0; t < transactions; t++)
        {
            var s = t % Streams;
            var data = Enumerable.Range(0, size).Select(i => JsonSerializer.Serialize(Sample(t, i), EventTypeRegistry.DefaultSerializerOptions)).ToArray();
            await using var insert = new NpgsqlCommand("""
                INSERT INTO bench.raw_events (global_position, event_id, stream_id, stream_version, event_type, schema_version, recorded_at,
                    actor_id, actor_role, actor_org, correlation_id, causation_id, headers, data, hash)
                SELECT nextval('bench.raw_position_seq'), e.id, $1, $2 + e.ord, 'bench.delegate-registered', 1, now(),
                    'bench', 'secretary', 'org-1', $3, NULL, NULL, e.data, e.hash
                FROM unnest($4::uuid[], $5::jsonb[], $6::bytea[]) WITH ORDINALITY AS e(id, data, hash, ord)
                """, connection);
            insert.Parameters.Add(new() { Value = $"raw-{run}-{s}" });
            insert.Parameters.Add(new() { Value = versions[s] });
            insert.Parameters.Add(new() { Value = correlation });
            insert.Parameters.Add(new() { Value = Enumerable.Range(0, size).Select(_ => Guid.NewGuid()).ToArray() });
            insert.Parameters.Add(new() { Value = data, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new() { Value = data.Select(d => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(d))).ToArray() });
            await insert.ExecuteNonQueryAsync();
            versions[s] += size;
        }

        return transactions * size / watch.Elapsed.TotalSeconds;
    }

    private static DelegateRegistered Sample(int t, int i) =>
        new($"Đại biểu {t}-{i}", "Đảng bộ Bộ Công Thương", i + 1, new DateOnly(1970 + (i % 30), 1 + (t % 12), 1 + (i % 28)));
}

using System.Diagnostics;
using System.Text;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Engine;
using CongressWorkflow.Engine.Deadlines;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Outbox;
using CongressWorkflow.Engine.Time;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace CongressWorkflow.Benchmarks;

/// <summary>
/// The deadline sweep at national scale and webhook delivery throughput, each beside a baseline in the same run:
/// 300,000 units (at scale 1) under 300 committees, one open "congress held" deadline each, due on days spread over
/// 2020; then (1) a sweep on a day when nothing is due, (2) a day on which ~1/366 of the deadlines reach their first
/// reminder, (3) a catch-up after three weeks without sweeps, each against raw SQL that finds the same deadlines by
/// evaluating every open one's schedule (no index on the next step) and inserts one notification row per step due;
/// and (4) delivering the webhooks of those notifications to a loopback receiver against raw HttpClient POSTs of the
/// same signed bodies, one at a time in both cases.
/// </summary>
public static class DeadlineBenchmark
{
    private const string Campaign = "xiii";

    public static async Task RunAsync(string connectionString, double scale)
    {
        await using var dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 0 }.ConnectionString);
        await EngineSchema.MigrateAsync(dataSource);
        var units = (int)(300_000 * scale);
        Console.WriteLine($"Deadlines at scale {scale}: {units:N0} units, one open deadline each");
        await SeedAsync(dataSource, units);

        var clock = new ManualTimeProvider(new DateTimeOffset(2019, 11, 30, 1, 0, 0, TimeSpan.Zero));
        var sweep = new DeadlineSweep(new PostgresEventStore(dataSource, DomainEventTypes.CreateRegistry(), clock), dataSource, clock);
        // Warm up (JIT, plans) on a hundred deadlines of their own, due a day earlier than any measured one.
        clock.SetUtcNow(new DateTimeOffset(2019, 11, 30, 1, 0, 0, TimeSpan.Zero));
        await sweep.RunAsync();
        await RawSweepAsync(dataSource, new DateOnly(2019, 11, 30));
        Console.WriteLine($"{"case",-46} {"sweep ms",10} {"deadlines",10} {"steps",8} {"raw SQL ms",11} {"sweep/raw",10}");
        await SweepCaseAsync("a day with nothing due (2019-12-01)", dataSource, sweep, clock, new DateOnly(2019, 12, 1));
        await SweepCaseAsync("a day of first reminders (2019-12-02)", dataSource, sweep, clock, new DateOnly(2019, 12, 2));
        await SweepCaseAsync("catch-up after 3 weeks down (2019-12-23)", dataSource, sweep, clock, new DateOnly(2019, 12, 23));

        await DeliveryCaseAsync(dataSource, clock);
    }

    private static async Task SweepCaseAsync(string label, NpgsqlDataSource dataSource, DeadlineSweep sweep, ManualTimeProvider clock, DateOnly day)
    {
        clock.SetUtcNow(new DateTimeOffset(day.ToDateTime(new TimeOnly(1, 0)), TimeSpan.Zero));
        var raw = await RawSweepAsync(dataSource, day);
        var report = await sweep.RunAsync();
        Console.WriteLine($"{label,-46} {report.Took.TotalMilliseconds,10:N1} {report.Deadlines,10:N0} {report.Sent + report.Skipped,8:N0} {raw,11:N1} {report.Took.TotalMilliseconds / raw,10:P0}");
    }

    /// <summary>
    /// The plain way: evaluate every open deadline's schedule in SQL (reminders 30, 7, 1 days ahead, overdue, two
    /// escalations), find those with a step due since the last one, and insert one row per deadline into a scratch
    /// table, in one statement, rolled back.
    /// </summary>
    private static async Task<double> RawSweepAsync(NpgsqlDataSource dataSource, DateOnly day)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var create = new NpgsqlCommand("CREATE TEMP TABLE raw_steps (congress_id text, milestone text, due_on date, step_on date) ON COMMIT DROP",
            connection, transaction))
        {
            await create.ExecuteNonQueryAsync();
        }

        var watch = Stopwatch.StartNew();
        await using (var insert = new NpgsqlCommand("""
            INSERT INTO raw_steps
            SELECT d.congress_id, d.milestone, d.due_on, max(s.step_on)
            FROM congress.deadlines d
            CROSS JOIN LATERAL (VALUES (d.due_on - 30), (d.due_on - 7), (d.due_on - 1), (d.due_on + 1), (d.due_on + 8), (d.due_on + 22)) AS s(step_on)
            WHERE NOT d.is_met AND d.closed_reason IS NULL AND s.step_on <= $1 AND s.step_on >= d.effective_from
              AND (d.last_step_on IS NULL OR s.step_on > d.last_step_on)
            GROUP BY d.congress_id, d.milestone, d.due_on
            """, connection, transaction))
        {
            insert.Parameters.AddPositional(day);
            await insert.ExecuteNonQueryAsync();
        }

        var elapsed = watch.Elapsed.TotalMilliseconds;
        await transaction.RollbackAsync();
        return elapsed;
    }

    private static async Task DeliveryCaseAsync(NpgsqlDataSource dataSource, ManualTimeProvider clock)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var receiver = builder.Build();
        var received = 0;
        receiver.MapPost("/hook", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            await reader.ReadToEndAsync();
            Interlocked.Increment(ref received);
            return Results.NoContent();
        });
        await receiver.StartAsync();
        var url = receiver.Urls.First() + "/hook";

        // Webhook deliveries for the notifications recorded above, as the sweep would have queued them.
        await using (var subscribe = dataSource.CreateCommand("""
            INSERT INTO congress.subscriptions (subscription_id, channel, root_organization_id, url, created_by, created_at)
            VALUES ('sub-bench', 'webhook', 'tw', $1, 'bench', now())
            """))
        {
            subscribe.Parameters.AddPositional(url);
            await subscribe.ExecuteNonQueryAsync();
        }

        await using (var secret = dataSource.CreateCommand("INSERT INTO congress.webhook_secrets (subscription_id, secret) VALUES ('sub-bench', 'whsec_bench')"))
        {
            await secret.ExecuteNonQueryAsync();
        }

        var bodies = new List<string>();
        await using (var read = dataSource.CreateCommand("SELECT notification_id, congress_id, organization_id FROM congress.notifications WHERE status = 'sent' LIMIT 3000"))
        await using (var reader = await read.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                bodies.Add(System.Text.Json.JsonSerializer.Serialize(new
                {
                    notificationId = reader.GetGuid(0), congressId = reader.GetString(1), organization = new { id = reader.GetString(2) },
                }));
            }
        }

        var messages = bodies.Select(b => new OutboxMessage(Guid.NewGuid(), DeliveryChannels.Webhook, "notification.reminder",
            new WebhookDelivery(Guid.NewGuid(), Guid.NewGuid(), "sub-bench", url, "notification.reminder", b))).ToList();
        var store = new PostgresEventStore(dataSource, DomainEventTypes.CreateRegistry(), clock);
        foreach (var chunk in messages.Chunk(500))
        {
            await store.AppendAsync($"bench-{Guid.NewGuid():N}", "bench", ExpectedVersion.NoStream,
                [new NewEvent(Guid.NewGuid(), new DeadlinePolicySet(Campaign, DeadlinePolicy.Default, "bench", "bench", clock.GetUtcNow()))],
                new EventMetadata(new Actor("bench", "system"), Guid.NewGuid()), chunk);
        }

        using var http = new HttpClient(WebhookConnections.CreateHandler()); // as the server delivers: checked addresses, no redirects
        var delivery = new NotificationDelivery(dataSource, clock, http, new SmtpSettings(null));
        var watch = Stopwatch.StartNew();
        while (await delivery.DeliverBatchAsync(100) > 0)
        {
        }

        var ours = messages.Count / watch.Elapsed.TotalSeconds;
        watch.Restart();
        foreach (var body in bodies)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            request.Headers.Add(NotificationDelivery.SignatureHeader, NotificationDelivery.Sign("whsec_bench", clock.GetUtcNow().ToUnixTimeSeconds(), body));
            using var response = await http.SendAsync(request);
            response.EnsureSuccessStatusCode();
        }

        var raw = bodies.Count / watch.Elapsed.TotalSeconds;
        Console.WriteLine();
        Console.WriteLine($"{"webhook delivery, one at a time",-46} {"ours/s",10} {"raw HTTP/s",11} {"ours/raw",10}");
        Console.WriteLine($"{$"{messages.Count:N0} signed POSTs to a loopback receiver",-46} {ours,10:N0} {raw,11:N0} {ours / raw,10:P0}   ({received:N0} received)");
    }

    /// <summary>A campaign, a central node, 300 committees and the units under them, and one open deadline per unit.</summary>
    private static async Task SeedAsync(NpgsqlDataSource dataSource, int units)
    {
        // Several statements in one command take no parameters: the count is a number the benchmark chose.
        await using var seed = dataSource.CreateCommand(string.Create(System.Globalization.CultureInfo.InvariantCulture, $$"""
            TRUNCATE congress.deadlines, congress.notifications, congress.deliveries, congress.inbox, congress.subscriptions, congress.webhook_secrets,
                congress.organizations, congress.campaigns CASCADE;
            INSERT INTO congress.campaigns (campaign_id, name, directive, term_start, term_end, branch_term_end, started_at)
            VALUES ('xiii', 'Đại hội XIII', '35-CT/TW', 2020, 2025, 2022, '2019-05-30');
            SELECT event_store.create_partition('xiii'); -- the campaign's events table, as starting it makes (the ledgers' streams go there)
            INSERT INTO congress.organizations (org_key, organization_id, name, level, parent_id, path, version) VALUES (1, 'tw', 'Trung ương', 1, NULL, '1', 1);
            INSERT INTO congress.organizations (org_key, organization_id, name, level, parent_id, path, version)
            SELECT 1 + c, 'dang-bo-' || c, 'Đảng bộ ' || c, 3, 'tw', ('1.' || (1 + c))::ltree, 1 FROM generate_series(1, 300) c;
            INSERT INTO congress.organizations (org_key, organization_id, name, level, parent_id, path, version)
            SELECT 1000 + u, 'chi-bo-' || u, 'Chi bộ ' || u, 5, 'dang-bo-' || (1 + u % 300), ('1.' || (2 + u % 300) || '.' || (1000 + u))::ltree, 1
            FROM generate_series(1, {{units}}) u;
            INSERT INTO congress.deadlines (congress_id, milestone, due_on, campaign_id, organization_id, responsible_id, plan_document,
                effective_from, is_met, next_step_on)
            SELECT 'congress-xiii-chi-bo-' || u, 'congress-held', date '2020-01-01' + (u % 366), 'xiii', 'chi-bo-' || u, 'chi-bo-' || u, '01-KH/CB',
                date '2019-10-01', false, date '2020-01-01' + (u % 366) - 30
            FROM generate_series(1, {{units}}) u;
            INSERT INTO congress.deadlines (congress_id, milestone, due_on, campaign_id, organization_id, responsible_id, plan_document,
                effective_from, is_met, last_step_on, next_step_on)
            SELECT 'warm-up-' || u, 'congress-held', date '2019-12-30', 'xiii', 'chi-bo-' || u, 'chi-bo-' || u, '01-KH/CB', date '2019-10-01', false,
                NULL, date '2019-11-30'
            FROM generate_series(1, 100) u;
            ANALYZE congress.deadlines; ANALYZE congress.organizations;
            """));
        await seed.ExecuteNonQueryAsync();
    }
}

using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>`congress history ORG` (a congress's recorded steps and its state on a day) and `congress db status`.</summary>
public static partial class CongressCli
{
    private static Command History(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var (command, organization, campaign, asOf) = SubtreeCommand("history",
            "A congress's recorded steps (who, when, citing what) and its state as of a day; --known-at for what had been recorded by then");
        var knownAt = KnownAtOption(command);
        command.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var (campaignId, organizationId) = (parse.GetValue(campaign)!, parse.GetValue(organization)!);
            var at = AsOfQuery(parse.GetValue(asOf)) + KnownAtQuery(parse.GetValue(knownAt));
            var congress = await GetAsync<JsonElement>(http,
                $"api/campaigns/{Uri.EscapeDataString(campaignId)}/congresses/{Uri.EscapeDataString(organizationId)}?{at}", ct);
            // The raw history is the auditors'; others see the state only.
            var events = await TryGetAsync(http, $"api/streams/{Uri.EscapeDataString(congress.GetProperty("congressId").GetString()!)}/events", ct);
            if (PrintedAsData(console, server.FormatOf(parse), JsonSerializer.SerializeToElement(new { congress, events }),
                    ["version", "recorded_at", "event", "actor", "organisation", "document"],
                    (events is { } all ? all.EnumerateArray() : []).Select(e => new object?[]
                    {
                        e.GetProperty("streamVersion").GetInt64(), e.GetProperty("recordedAt").GetString(), e.GetProperty("eventType").GetString(),
                        e.GetProperty("actor").GetProperty("userId").GetString(), e.GetProperty("actor").GetProperty("organizationId").GetString(), Document(e),
                    })))
            {
                return 0;
            }

            var state = congress.GetProperty("state");
            console.Write(new Rule($"[bold]{Markup.Escape(organizationId)}[/] — {Markup.Escape(state.GetProperty("stage").GetString()!)}, " +
                $"version {congress.GetProperty("version").GetInt64()}").LeftJustified());
            if (events is { } recorded)
            {
                var table = new Table().AddColumns("#", "Ghi nhận · recorded", "Sự kiện · event", "Người · actor", "Văn bản · document");
                foreach (var e in recorded.EnumerateArray().Where(e => e.GetProperty("streamVersion").GetInt64() <= congress.GetProperty("version").GetInt64()))
                {
                    table.AddRow(e.GetProperty("streamVersion").GetInt64().ToString(CultureInfo.InvariantCulture),
                        e.GetProperty("recordedAt").GetDateTimeOffset().ToString("dd/MM/yyyy HH:mm", CultureInfo.InvariantCulture),
                        Markup.Escape(e.GetProperty("eventType").GetString()!),
                        Markup.Escape($"{e.GetProperty("actor").GetProperty("userId").GetString()} ({e.GetProperty("actor").GetProperty("role").GetString()})"),
                        Markup.Escape(Document(e) ?? string.Empty));
                }

                console.Write(table);
            }
            else
            {
                console.MarkupLine("[grey](the recorded steps are shown to auditors; this is the state)[/]");
            }

            return 0;
        }));
        return command;
    }

    private static Command Database(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var status = new Command("status", "The store behind the server: streams, events, head position, schema version, embedded or configured");
        status.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var store = await GetAsync<JsonElement>(http, "api/store/status", ct);
            if (PrintedAsData(console, server.FormatOf(parse), store, ["streams", "events", "head_position", "schema_version", "database"],
                    [[store.GetProperty("streams").GetInt64(), store.GetProperty("events").GetInt64(), store.GetProperty("headPosition").GetInt64(),
                      store.GetProperty("schemaVersion").GetInt32(), store.GetProperty("database").GetProperty("mode").GetString()]]))
            {
                return 0;
            }

            var table = new Table().AddColumns("", "");
            table.AddRow("streams", $"{store.GetProperty("streams").GetInt64():N0}");
            table.AddRow("events", $"{store.GetProperty("events").GetInt64():N0}");
            table.AddRow("head position", $"{store.GetProperty("headPosition").GetInt64():N0}");
            table.AddRow("schema version", $"{store.GetProperty("schemaVersion").GetInt32()} (the server applies migrations when it starts)");
            table.AddRow("database", Markup.Escape(store.GetProperty("database").GetProperty("mode").GetString()!));
            foreach (var partition in store.GetProperty("partitions").EnumerateArray())
            {
                var key = partition.GetProperty("key").GetString()!;
                table.AddRow(key.Length == 0 ? "partition (shared)" : $"partition {Markup.Escape(key)}",
                    $"{Markup.Escape(partition.GetProperty("table").GetString()!)}, " +
                    (partition.GetProperty("estimatedEvents") is { ValueKind: JsonValueKind.Number } estimate
                        ? $"about {estimate.GetInt64():N0} events"
                        : "events not estimated yet (the table is not analysed yet)"));
            }

            console.Write(table);
            return 0;
        }));
        return new Command("db", "The database behind the server") { status, Migrate(console, error) };
    }

    /// <summary>
    /// `db migrate`: brings a database's schema up to date before the servers start (they also do it themselves when they
    /// start; several at once are serialised by the migrator's lock). Straight to PostgreSQL, not through a server.
    /// </summary>
    private static Command Migrate(IAnsiConsole console, TextWriter error)
    {
        var connection = new Option<string?>("--connection")
        {
            Description = "The database's connection string (default: ConnectionStrings__Postgres)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("ConnectionStrings__Postgres") is { Length: > 0 } value ? value : null,
        };
        var migrate = new Command("migrate", "Apply the migrations a database lacks, and list them") { connection };
        migrate.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(connection) is not { Length: > 0 } connectionString)
            {
                await error.WriteLineAsync("error: pass --connection \"Host=…;Database=…;Username=…\" or set ConnectionStrings__Postgres");
                return BadInput;
            }

            try
            {
                await using var dataSource = Npgsql.NpgsqlDataSource.Create(connectionString);
                var pending = await CongressWorkflow.Engine.EngineSchema.PendingAsync(dataSource, ct);
                await CongressWorkflow.Engine.EngineSchema.MigrateAsync(dataSource, ct);
                var output = console.Profile.Out.Writer;
                foreach (var name in pending)
                {
                    await output.WriteLineAsync($"applied {name}");
                }

                await output.WriteLineAsync(pending.Count == 0 ? "the schema was up to date" : $"{pending.Count} migration(s) applied; the schema is up to date");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or Npgsql.NpgsqlException or System.Net.Sockets.SocketException)
            {
                await error.WriteLineAsync($"error: cannot migrate that database: {e.Message}");
                return BadInput;
            }
        });
        return migrate;
    }

    /// <summary>A read the caller may not be allowed: null when refused with 403.</summary>
    private static async Task<JsonElement?> TryGetAsync(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.Forbidden)
        {
            return null;
        }

        await ThrowIfRefusedAsync(response, cancellationToken);
        return await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
    }

    private static string? Document(JsonElement e)
    {
        var data = e.GetProperty("data");
        foreach (var field in new[] { "decision", "resolution", "comments", "reason" })
        {
            if (data.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String)
            {
                return value.GetString();
            }
        }

        return data.TryGetProperty("terms", out var terms) ? terms.GetProperty("document").GetString() : null;
    }
}

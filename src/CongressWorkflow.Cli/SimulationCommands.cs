using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>`congress simulate`: a generated national campaign played through the server's command handlers, followed with a progress bar per phase.</summary>
public static partial class CongressCli
{
    /// <summary>The day before the simulated national congress: every congress below it has been held by then.</summary>
    private const string SimulationReportDay = "2021-01-24";

    /// <summary>Asks the server how the simulation is getting on until it has finished or stopped.</summary>
    private static async Task<JsonElement> FollowSimulationAsync(HttpClient http, string id, Action<JsonElement> show, CancellationToken cancellationToken)
    {
        while (true)
        {
            var current = await GetAsync<JsonElement>(http, $"api/simulations/{Uri.EscapeDataString(id)}", cancellationToken);
            show(current);
            if (current.GetProperty("finished").GetBoolean() || current.GetProperty("error").ValueKind == JsonValueKind.String)
            {
                return current;
            }

            await Task.Delay(500, cancellationToken);
        }
    }

    /// <summary>Phases before the current one are full, the current one shows how far it has got (the simulated day for the days).</summary>
    private static void ShowPhases((string Phase, ProgressTask Task)[] tasks, JsonElement current)
    {
        var phase = current.GetProperty("phase").GetString();
        var finished = current.GetProperty("finished").GetBoolean();
        var at = Array.FindIndex(tasks, t => t.Phase == phase);
        for (var i = 0; i < tasks.Length; i++)
        {
            var task = tasks[i].Task;
            if (finished || (at >= 0 && i < at))
            {
                task.Value = task.MaxValue;
            }
            else if (i == at && current.GetProperty("total").GetInt64() is > 0 and var total)
            {
                task.MaxValue = total;
                task.Value = current.GetProperty("done").GetInt64();
                if (current.GetProperty("day").ValueKind == JsonValueKind.String)
                {
                    task.Description = $"Các ngày · days: {DateOnly.Parse(current.GetProperty("day").GetString()!, CultureInfo.InvariantCulture):dd/MM/yyyy}";
                }
            }
        }
    }

    private static Command Simulate(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var size = new Option<int>("--size") { Description = "How many organisations (10 to 1,000,000), in the level mix of the Central Agencies Bloc", DefaultValueFactory = _ => 2_000 };
        var seed = new Option<int>("--seed") { Description = "The same size and seed make the same campaign; running it again carries a stopped run on", DefaultValueFactory = _ => 1 };
        var command = new Command("simulate",
            "Generate a national campaign and play it through the real command handlers in simulated time (pilots, early and late congresses, returns, a COVID-like wave, reminders and escalations)")
        {
            size, seed,
        };
        command.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            if (parse.GetValue(size) is < 10 or > 1_000_000 || parse.GetValue(seed) < 0)
            {
                throw new CliException(BadInput, "error: --size is between 10 and 1,000,000 and --seed is not negative");
            }

            var started = await SendAsync(http, HttpMethod.Post, "api/simulations", new { size = parse.GetValue(size), seed = parse.GetValue(seed) }, ct);
            var id = started.GetProperty("id").GetString()!;
            // Progress bars for a reader; a script asking for json or csv gets only the result on standard output.
            var status = server.FormatOf(parse) == "text"
                ? await console.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                    .StartAsync(progress =>
                    {
                        var tasks = new (string Phase, ProgressTask Task)[]
                        {
                            ("tree", progress.AddTask("Cây tổ chức · tree")), ("plans", progress.AddTask("Kế hoạch · plans")), ("days", progress.AddTask("Các ngày · days")),
                        };
                        return FollowSimulationAsync(http, id, current => ShowPhases(tasks, current), ct);
                    })
                : await FollowSimulationAsync(http, id, _ => { }, ct);
            if (status.GetProperty("error").GetString() is { } failed)
            {
                await error.WriteLineAsync($"error: the simulation {id} stopped: {failed}");
                return Refused;
            }

            var (reportJson, _, report, subordinates) = await ReadProgressAsync(http, status.GetProperty("campaignId").GetString()!,
                status.GetProperty("rootOrganizationId").GetString()!, AsOfQuery(SimulationReportDay), ct);
            if (PrintedAsData(console, server.FormatOf(parse), JsonSerializer.SerializeToElement(new { simulation = status, report = reportJson }),
                    ["simulation", "size", "seed", "seconds", "level", "held", "total"],
                    report.Levels.Select(l => new object?[]
                    {
                        id, status.GetProperty("size").GetInt32(), status.GetProperty("seed").GetInt32(), status.GetProperty("elapsedSeconds").GetDouble(),
                        JsonNamingPolicy.KebabCaseLower.ConvertName(l.Level.ToString()), l.Held, l.Total,
                    })))
            {
                return 0;
            }

            var words = server.LanguageOf(parse);
            console.MarkupLine(words.English
                ? $"Simulated [bold]{status.GetProperty("size").GetInt32():N0}[/] organisations (seed {status.GetProperty("seed").GetInt32()}) in {status.GetProperty("elapsedSeconds").GetDouble():N0} s: campaign [bold]{Markup.Escape(id)}[/]"
                : $"Đã mô phỏng [bold]{words.Number(status.GetProperty("size").GetInt32())}[/] tổ chức (seed {status.GetProperty("seed").GetInt32()}) trong {status.GetProperty("elapsedSeconds").GetDouble().ToString("N0", words.Culture)} giây: đợt [bold]{Markup.Escape(id)}[/]");
            PrintProgress(console, words, report, subordinates);
            return 0;
        }));
        return command;
    }
}

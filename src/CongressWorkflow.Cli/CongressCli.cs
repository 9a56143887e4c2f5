using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using CongressWorkflow.Contracts;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>
/// The `congress` command line: progress of a subtree on a day, its overdue congresses, the projections, deliveries,
/// audit bundles and the conformance replay. It talks to a running server (--server, or CONGRESS_SERVER; default http://127.0.0.1:5080).
/// It acts with the bearer token of --token (or CONGRESS_TOKEN). Exit codes: 0 done, 1 the server refused the request, 2 bad input or no server.
/// </summary>
public static partial class CongressCli
{
    public const int Refused = 1;
    public const int BadInput = 2;

    public static async Task<int> RunAsync(string[] args, IAnsiConsole console, TextWriter error, HttpMessageHandler? handler = null)
    {
        var parse = Build(console, error, handler).Parse(args);
        if (parse.Errors.Count > 0)
        {
            // Bad input, exit 2 like every other: System.CommandLine's own answer to a parse error would be 1, a refusal's.
            foreach (var problem in parse.Errors)
            {
                await error.WriteLineAsync("error: " + problem.Message);
            }

            await error.WriteLineAsync("(congress --help, or congress COMMAND --help, lists the commands and their options)");
            return BadInput;
        }

        var invocation = new InvocationConfiguration { Output = console.Profile.Out.Writer, Error = error };
        if (parse.CommandResult.Command.Name == UpCommandName)
        {
            // The server's own lifetime stops it on SIGTERM or Ctrl+C, waiting for the requests in flight, the jobs and the
            // projections, then the embedded PostgreSQL: System.CommandLine's handling would give up after two seconds
            // and exit with 143 in the middle of that (or abort, 134, as the runtime went down under the stopping host).
            invocation.ProcessTerminationTimeout = null;
        }

        return await parse.InvokeAsync(invocation);
    }

    public static RootCommand Build(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler = null)
    {
        var server = new Option<string>("--server")
        {
            Description = "The CongressWorkflow server",
            Recursive = true,
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CONGRESS_SERVER") is { Length: > 0 } url ? url : "http://127.0.0.1:5080",
        };
        var token = new Option<string?>("--token")
        {
            // No default value: help prints defaults, and a token is a secret. CONGRESS_TOKEN is read when a command runs.
            Description = "The bearer token to act with (congress token issue mints one), or CONGRESS_TOKEN",
            Recursive = true,
        };
        var format = new Option<string>("--format")
        {
            Description = "How reports are printed: text (tables), json (the server's answer) or csv",
            Recursive = true,
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json", "csv");
        var lang = new Option<string>("--lang")
        {
            Description = "The language of the reports: vi (default, as the sources write: 3.940/5.408 chi bộ (72,86%)) or en",
            Recursive = true,
            DefaultValueFactory = _ => "vi",
        };
        lang.AcceptOnlyFromAmong("vi", "en");
        var root = new RootCommand("CongressWorkflow: run and watch a cascade of party congresses") { server, token, format, lang };
        var connection = new ServerOptions(server, token, format, lang);
        root.Subcommands.Add(Progress(console, error, handler, connection));
        root.Subcommands.Add(Report(console, error, handler, connection));
        root.Subcommands.Add(Overdue(console, error, handler, connection));
        root.Subcommands.Add(Projections(console, error, handler, connection));
        root.Subcommands.Add(Reminders(console, error, handler, connection));
        root.Subcommands.Add(Webhooks(console, error, handler, connection));
        root.Subcommands.Add(Audit(console, error, handler, connection));
        root.Subcommands.Add(Conformance(console, error, handler, connection));
        root.Subcommands.Add(Organizations(console, error, handler, connection));
        root.Subcommands.Add(History(console, error, handler, connection));
        root.Subcommands.Add(Database(console, error, handler, connection));
        root.Subcommands.Add(Simulate(console, error, handler, connection));
        root.Subcommands.Add(Campaigns(console, error, handler, connection));
        root.Subcommands.Add(Steps(console, error, handler, connection));
        root.Subcommands.Add(Up(console, error));
        root.Subcommands.Add(TokenCommands.Build(console, error));
        return root;
    }

    private const string ProgressDescription = "How far a subtree's congresses had got on a day, level by level, and who is behind";

    private static Command Progress(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var (command, organization, campaign, asOf) = SubtreeCommand("progress", ProgressDescription);
        return WithProgressAction(command, parse => parse.GetValue(organization)!, campaign, asOf, console, error, handler, server);
    }

    /// <summary>`report progress --root ORG`: the same report, named as the operator's runbook names it.</summary>
    private static Command Report(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var root = new Option<string>("--root") { Description = "The subtree's root, e.g. dang-bo-khoi-cac-co-quan-trung-uong", Required = true };
        var campaign = new Option<string>("--campaign") { Description = "The campaign id", Required = true };
        var asOf = new Option<string?>("--as-of") { Description = "The day, e.g. 2020-05-15 (default today)" };
        var progress = WithProgressAction(new Command("progress", ProgressDescription) { root, campaign, asOf }, parse => parse.GetValue(root)!, campaign, asOf,
            console, error, handler, server);
        return new Command("report", "Reports printed as the sources print them") { progress };
    }

    private static Command WithProgressAction(
        Command command, Func<ParseResult, string> rootOf, Option<string> campaign, Option<string?> asOf, IAnsiConsole console, TextWriter error,
        HttpMessageHandler? handler, ServerOptions server)
    {
        var knownAt = KnownAtOption(command);
        command.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var (reportJson, subordinatesJson, report, subordinates) = await ReadProgressAsync(http, parse.GetValue(campaign)!, rootOf(parse),
                AsOfQuery(parse.GetValue(asOf)) + KnownAtQuery(parse.GetValue(knownAt)), ct);
            if (PrintedAsData(console, server.FormatOf(parse), JsonSerializer.SerializeToElement(new { report = reportJson, subordinates = subordinatesJson }),
                    ["level", "held", "total", "percent", "early", "on_time", "late", "overdue", "not_yet_due", "not_planned"],
                    report.Levels.Select(l => new object?[] { JsonNamingPolicy.KebabCaseLower.ConvertName(l.Level.ToString()), l.Held, l.Total, l.Percent, l.Early, l.OnTime, l.Late, l.Overdue, l.NotYetDue, l.NotPlanned })))
            {
                return 0;
            }

            PrintProgress(console, server.LanguageOf(parse), report, subordinates);
            return 0;
        }));
        return command;
    }

    /// <summary>A subtree's progress report and its drill-down on a day, as the server answers them and read.</summary>
    private static async Task<(JsonElement ReportJson, JsonElement SubordinatesJson, ProgressView Report, List<SubordinateProgressView> Subordinates)>
        ReadProgressAsync(HttpClient http, string campaign, string root, string dayQuery, CancellationToken cancellationToken)
    {
        var path = $"api/campaigns/{Uri.EscapeDataString(campaign)}/progress/{Uri.EscapeDataString(root)}";
        var reportJson = await GetAsync<JsonElement>(http, $"{path}?{dayQuery}", cancellationToken);
        var subordinatesJson = await GetAsync<JsonElement>(http, $"{path}/subordinates?{dayQuery}", cancellationToken);
        return (reportJson, subordinatesJson, reportJson.Deserialize<ProgressView>(WireJson.Options)!,
            subordinatesJson.Deserialize<List<SubordinateProgressView>>(WireJson.Options)!);
    }

    /// <summary>A progress report as the sources print it: each level's held out of total, who is behind, when the subtree finished.</summary>
    private static void PrintProgress(IAnsiConsole console, Language words, ProgressView report, IReadOnlyList<SubordinateProgressView> subordinates)
    {
        console.Write(new Rule($"[bold]{Markup.Escape(words.Named(report.Name, report.CurrentName))}[/] — {words["as-of"]} {report.AsOf:dd/MM/yyyy}").LeftJustified());
        var levels = new Table().AddColumns(words["level"], words["held"], "", words["early"], words["on-time"], words["late"], words["overdue"], words["not-yet-due"]);
        foreach (var l in report.Levels)
        {
            var level = JsonNamingPolicy.KebabCaseLower.ConvertName(l.Level.ToString());
            levels.AddRow(words[level], Markup.Escape(words.Count(l.Held, l.Total, l.Percent, level)), Bar(l.Percent), words.Number(l.Early),
                words.Number(l.OnTime), words.Number(l.Late), l.Overdue > 0 ? $"[red]{words.Number(l.Overdue)}[/]" : "0", words.Number(l.NotYetDue));
        }

        console.Write(levels);
        if (report.Subordinates.Total > 0)
        {
            console.MarkupLine(words.SubordinatesDone(report.Subordinates.Completed, report.Subordinates.Total));
        }

        console.MarkupLine(report.Completion is { CompletedOn: { } done, DaysEarly: { } early }
            ? words.Completed(done, early, report.Completion.Deadline)
            : words["in-progress"]);

        var behind = new Table().AddColumns(words["subordinate"], words["held"], words["overdue"]);
        foreach (var s in subordinates.Take(15))
        {
            behind.AddRow(Markup.Escape(words.Named(s.Name, s.CurrentName)), string.Format(words.Culture, "{0:N0}/{1:N0} ({2:N2}%)", s.Held, s.Units, s.Percent),
                s.Overdue > 0 ? $"[red]{words.Number(s.Overdue)}[/]" : "0");
        }

        console.Write(behind);
    }

    private static Command Overdue(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var (command, organization, campaign, asOf) = SubtreeCommand("overdue", "Congresses of a subtree not held by their deadline, most overdue first");
        var knownAt = KnownAtOption(command);
        command.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var json = await GetAsync<JsonElement>(http,
                $"api/campaigns/{Uri.EscapeDataString(parse.GetValue(campaign)!)}/progress/{Uri.EscapeDataString(parse.GetValue(organization)!)}/overdue?{AsOfQuery(parse.GetValue(asOf))}{KnownAtQuery(parse.GetValue(knownAt))}", ct);
            var items = json.Deserialize<List<DueCongressView>>(WireJson.Options)!;
            if (PrintedAsData(console, server.FormatOf(parse), json, ["organization_id", "name", "parent", "deadline", "days_overdue"],
                    items.Select(i => new object?[] { i.OrganizationId, i.Name, i.ParentName, i.Deadline.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), i.Days })))
            {
                return 0;
            }

            var words = server.LanguageOf(parse);
            var table = new Table().AddColumns(words["organisation"], words["under"], words["deadline"], words["overdue"]);
            foreach (var i in items)
            {
                table.AddRow(Markup.Escape(words.Named(i.Name, i.CurrentName)), Markup.Escape(i.ParentName ?? string.Empty), $"{i.Deadline:dd/MM/yyyy}", $"[red]{i.Days} {words["days"]}[/]");
            }

            console.Write(table);
            console.MarkupLine($"{words.Number(items.Count)} {words["overdue-count"]}");
            return 0;
        }));
        return command;
    }

    /// <summary>A command about one subtree of one campaign on one day: organisation, --campaign, --as-of.</summary>
    private static (Command Command, Argument<string> Organization, Option<string> Campaign, Option<string?> AsOf) SubtreeCommand(string name, string description)
    {
        var organization = new Argument<string>("organization") { Description = "The subtree's root, e.g. dang-bo-khoi-cac-co-quan-trung-uong" };
        var campaign = new Option<string>("--campaign") { Description = "The campaign id", Required = true };
        var asOf = new Option<string?>("--as-of") { Description = "The day, e.g. 2020-05-15 (default today)" };
        return (new Command(name, description) { organization, campaign, asOf }, organization, campaign, asOf);
    }

    /// <summary>--known-at: what the system had recorded by a moment (the second axis of time; default everything).</summary>
    private static Option<string?> KnownAtOption(Command command)
    {
        var knownAt = new Option<string?>("--known-at") { Description = "As recorded by then: a day (its end) or a moment, e.g. 2020-05-15T17:00:00+07:00" };
        command.Options.Add(knownAt);
        return knownAt;
    }

    private static string KnownAtQuery(string? text) =>
        text is null ? string.Empty
        : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
          || DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _)
            ? "&knownAt=" + Uri.EscapeDataString(text)
            : throw new CliException(BadInput, $"error: --known-at '{text}' is not a day or a moment: use 2020-05-15 or 2020-05-15T17:00:00+07:00");

    private static Command Projections(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var command = new Command("projections", "Where each read model has got to, and why one stopped");
        command.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var table = new Table().AddColumns("Projection", "State", "Position", "Lag", "Owner", "Error");
            var json = await GetAsync<JsonElement>(http, "api/projections", ct);
            if (PrintedAsData(console, server.FormatOf(parse), json, ["name", "state", "position", "lag", "owner", "error"],
                    json.EnumerateArray().Select(p => new object?[] { p.GetProperty("name").GetString(), p.GetProperty("state").GetString(),
                        p.GetProperty("position").GetInt64(), p.GetProperty("lag").GetInt64(), p.GetProperty("owner").GetString(), p.GetProperty("error").GetString() })))
            {
                return 0;
            }

            foreach (var p in json.EnumerateArray())
            {
                table.AddRow(p.GetProperty("name").GetString()!, p.GetProperty("state").GetString()!, $"{p.GetProperty("position").GetInt64():N0}",
                    $"{p.GetProperty("lag").GetInt64():N0}", Markup.Escape(p.GetProperty("owner").GetString() ?? ""),
                    Markup.Escape(p.GetProperty("error").GetString() ?? ""));
            }

            console.Write(table);
            return 0;
        }));

        var name = new Argument<string>("name") { Description = "The projection, as projections lists it (progress, approval-audit)" };
        var rebuild = new Command("rebuild", "Empty a read model and replay every event into it, with a progress bar until it has caught up") { name };
        rebuild.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var projection = parse.GetValue(name)!;
            await SendAsync(http, HttpMethod.Post, $"api/projections/{Uri.EscapeDataString(projection)}/rebuild", null, ct);
            var rebuilt = await console.Progress().StartAsync(async progress =>
            {
                var task = progress.AddTask($"rebuilding {Markup.Escape(projection)}");
                while (!ct.IsCancellationRequested)
                {
                    var status = (await GetAsync<JsonElement>(http, "api/projections", ct)).EnumerateArray()
                        .First(p => p.GetProperty("name").GetString() == projection);
                    var (state, position, head) = (status.GetProperty("state").GetString(), status.GetProperty("position").GetInt64(),
                        status.GetProperty("headPosition").GetInt64());
                    task.MaxValue = Math.Max(1, head);
                    task.Value = Math.Min(position, head);
                    if (state == "failed")
                    {
                        return status.GetProperty("error").GetString();
                    }

                    if (state == "running" && position >= head)
                    {
                        task.Value = task.MaxValue;
                        return null;
                    }

                    await Task.Delay(250, ct);
                }

                return "stopped";
            });
            if (rebuilt is not null)
            {
                await error.WriteLineAsync($"error: the rebuild of {projection} stopped: {rebuilt}");
                return Refused;
            }

            console.MarkupLine($"{Markup.Escape(projection)} rebuilt up to the head");
            return 0;
        }));
        command.Subcommands.Add(rebuild);
        return command;
    }

    private static Command Reminders(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var (command, organization, campaign, asOf) = SubtreeCommand("reminders",
            "A subtree's open deadlines (overdue and due soon) and the reminders, alerts and escalations sent for them");
        var days = new Option<int>("--days") { Description = "How far ahead to look for deadlines", DefaultValueFactory = _ => 30 };
        command.Options.Add(days);
        var knownAt = KnownAtOption(command);
        command.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            if (parse.GetValue(days) is < 0 or > 366)
            {
                throw new CliException(BadInput, "error: --days must be between 0 and 366");
            }

            var basePath = $"api/campaigns/{Uri.EscapeDataString(parse.GetValue(campaign)!)}";
            var org = Uri.EscapeDataString(parse.GetValue(organization)!);
            var day = AsOfQuery(parse.GetValue(asOf));
            var known = KnownAtQuery(parse.GetValue(knownAt));
            var deadlines = await GetAsync<List<JsonElement>>(http, $"{basePath}/deadlines/{org}?{day}&days={parse.GetValue(days)}{known}", ct);
            var to = day.Length == 0 ? string.Empty : "&to=" + day["asOf=".Length..];
            var ledger = await GetAsync<List<JsonElement>>(http, $"{basePath}/notifications/{org}?subtree=true{to}{known}", ct);

            var board = new Table().AddColumns("Tổ chức", "Việc", "Hạn", "Còn", "Kế hoạch");
            foreach (var d in deadlines)
            {
                var left = d.GetProperty("daysLeft").GetInt32();
                board.AddRow(Markup.Escape(d.GetProperty("organizationName").GetString()!), d.GetProperty("milestone").GetString()!,
                    DayText(d.GetProperty("dueOn").GetString()), left < 0 ? $"[red]quá {-left} ngày[/]" : $"còn {left} ngày",
                    Markup.Escape(d.GetProperty("planDocument").GetString() ?? ""));
            }

            console.Write(new Rule("[bold]Hạn công việc · deadlines[/]").LeftJustified());
            console.Write(board);
            var sent = ledger.Where(n => n.GetProperty("status").GetString() == "sent").Take(25).ToList();
            var notices = new Table().AddColumns("Ngày", "Bước", "Tổ chức", "Việc", "Hạn", "Gửi tới", "Kênh");
            foreach (var n in sent)
            {
                notices.AddRow(DayText(n.GetProperty("onDay").GetString()), n.GetProperty("stepKey").GetString()! + (n.GetProperty("late").GetBoolean() ? " (muộn)" : ""),
                    Markup.Escape(n.GetProperty("organizationName").GetString()!), n.GetProperty("milestone").GetString()!, DayText(n.GetProperty("dueOn").GetString()),
                    Markup.Escape(string.Join(", ", n.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()))),
                    string.Join(", ", n.GetProperty("deliveries").EnumerateArray().Select(x => $"{x.GetProperty("channel").GetString()}:{x.GetProperty("status").GetString()}")));
            }

            console.Write(new Rule("[bold]Nhắc việc đã gửi · notifications sent[/]").LeftJustified());
            console.Write(notices);
            console.MarkupLine($"{deadlines.Count:N0} hạn mở · open deadlines; {ledger.Count(n => n.GetProperty("status").GetString() == "sent"):N0} đã gửi · sent");
            return 0;
        }));
        return command;
    }

    private static Command Webhooks(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var list = new Command("list", "The webhook subscriptions");
        list.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var table = new Table().AddColumns("Id", "Subtree", "Address", "Since");
            foreach (var s in (await GetAsync<List<JsonElement>>(http, "api/subscriptions", ct)).Where(s => s.GetProperty("channel").GetString() == "webhook"))
            {
                table.AddRow(s.GetProperty("id").GetString()!, s.GetProperty("rootOrganizationId").GetString()!,
                    Markup.Escape(s.GetProperty("url").GetString() ?? ""), s.GetProperty("createdAt").GetDateTimeOffset().ToString("dd/MM/yyyy HH:mm", CultureInfo.InvariantCulture));
            }

            console.Write(table);
            return 0;
        }));

        var root = new Option<string>("--root") { Description = "The subtree whose notifications are sent", Required = true };
        var url = new Option<string>("--url") { Description = "The receiver, an http(s) address", Required = true };
        var add = new Command("add", "Subscribe a receiver to a subtree's notifications; prints the signing secret once") { root, url };
        add.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var created = await SendAsync(http, HttpMethod.Post, "api/subscriptions",
                new { channel = "webhook", rootOrganizationId = parse.GetValue(root), url = parse.GetValue(url) }, ct);
            console.MarkupLine($"subscription [bold]{created.GetProperty("id").GetString()}[/]");
            console.MarkupLine($"signing secret (shown once): [bold]{created.GetProperty("secret").GetString()}[/]");
            return 0;
        }));

        var id = new Argument<string>("subscription") { Description = "The subscription's id (sub-…)" };
        var remove = new Command("remove", "Stop sending to a receiver") { id };
        remove.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            await SendAsync(http, HttpMethod.Delete, $"api/subscriptions/{Uri.EscapeDataString(parse.GetValue(id)!)}", null, ct);
            console.MarkupLine($"removed {Markup.Escape(parse.GetValue(id)!)}");
            return 0;
        }));

        var dead = new Command("dead-letters", "Deliveries that failed their last attempt, with the error");
        dead.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var letters = await GetAsync<List<JsonElement>>(http, "api/deliveries?status=dead-lettered", ct);
            var table = new Table().AddColumns("Delivery", "Channel", "Target", "Attempts", "Last error");
            foreach (var d in letters)
            {
                table.AddRow(d.GetProperty("deliveryId").GetString()!, d.GetProperty("channel").GetString()!, Markup.Escape(d.GetProperty("target").GetString()!),
                    $"{d.GetProperty("attempts").GetInt32()}", Markup.Escape(d.GetProperty("lastError").GetString() ?? ""));
            }

            console.Write(table);
            console.MarkupLine($"{letters.Count:N0} dead-lettered");
            return 0;
        }));

        var delivery = new Argument<string>("delivery") { Description = "The delivery's id, as dead-letters lists it" };
        var redeliver = new Command("redeliver", "Queue a dead-lettered delivery again") { delivery };
        redeliver.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            if (!Guid.TryParse(parse.GetValue(delivery), out var deliveryId))
            {
                throw new CliException(BadInput, $"error: '{parse.GetValue(delivery)}' is not a delivery id");
            }

            await SendAsync(http, HttpMethod.Post, $"api/deliveries/{deliveryId}/redeliver", null, ct);
            console.MarkupLine($"queued {deliveryId} again");
            return 0;
        }));
        return new Command("webhooks", "Webhook subscriptions and failed deliveries") { list, add, remove, dead, redeliver };
    }

    private static string DayText(string? isoDay) =>
        DateOnly.TryParseExact(isoDay, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day) ? day.ToString("dd/MM/yyyy", CultureInfo.InvariantCulture) : "";

    /// <summary>Sends a request with a JSON body (and If-Match, the version the caller read, when given) and answers the server's JSON.</summary>
    private static async Task<JsonElement> SendAsync(
        HttpClient http, HttpMethod method, string path, object? body, CancellationToken cancellationToken, long? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        if (ifMatch is { } version)
        {
            request.Headers.IfMatch.Add(new System.Net.Http.Headers.EntityTagHeaderValue($"\"{version.ToString(CultureInfo.InvariantCulture)}\""));
        }

        using var response = await http.SendAsync(request, cancellationToken);
        await ThrowIfRefusedAsync(response, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return text.Length == 0 ? default : JsonSerializer.Deserialize<JsonElement>(text);
    }

    /// <summary>RFC 6750's b64token: what may follow "Bearer " in an Authorization header.</summary>
    [GeneratedRegex("^[A-Za-z0-9._~+/-]+=*$")]
    private static partial Regex BearerToken();

    /// <summary>Runs a request against the server; turns refusals and an absent server into a message and an exit code.</summary>
    private static async Task<int> CallAsync(TextWriter error, HttpMessageHandler? handler, (string Url, string? Token) target, Func<HttpClient, Task<int>> call)
    {
        var server = target.Url;
        if (!Uri.TryCreate(server.TrimEnd('/') + "/", UriKind.Absolute, out var baseAddress) || baseAddress.Scheme is not ("http" or "https"))
        {
            await error.WriteLineAsync($"error: --server '{server}' is not an http(s) address such as http://127.0.0.1:5080");
            return BadInput;
        }

        if (target.Token is { Length: > 0 } given && !BearerToken().IsMatch(given))
        {
            await error.WriteLineAsync(
                "error: the token (--token or CONGRESS_TOKEN) is not a bearer token: only letters, digits and -._~+/ then = are allowed " +
                "(a line break or a space crept in?); congress token issue mints one");
            return BadInput;
        }

        using var http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = baseAddress;
        if (target.Token is { Length: > 0 } token)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            return await call(http);
        }
        catch (CliException e)
        {
            await error.WriteLineAsync(e.Message);
            return e.ExitCode;
        }
        catch (HttpRequestException e)
        {
            await error.WriteLineAsync($"error: cannot reach the CongressWorkflow server at {server} ({e.Message}); start it with ops/run or pass --server");
            return BadInput;
        }
    }

    private static async Task<T> GetAsync<T>(HttpClient http, string path, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync(path, cancellationToken);
        await ThrowIfRefusedAsync(response, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<T>(WireJson.Options, cancellationToken))!;
    }

    /// <summary>A refusal becomes its problem's detail and code, and exit code 1.</summary>
    private static async Task ThrowIfRefusedAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            var code = problem.TryGetProperty("code", out var c) ? c.GetString() : null;
            var detail = problem.TryGetProperty("detail", out var d) ? d.GetString() : response.ReasonPhrase;
            if (response.StatusCode == System.Net.HttpStatusCode.Unauthorized)
            {
                detail += " (pass --token or set CONGRESS_TOKEN; congress token issue mints one)";
            }

            throw new CliException(Refused, $"error: {detail} ({code ?? ((int)response.StatusCode).ToString(CultureInfo.InvariantCulture)})");
        }
    }

    /// <summary>The asOf query for a day given as 2020-05-15; none (the server's today) when no day is given.</summary>
    private static string AsOfQuery(string? text) => DayQuery("asOf", text, "--as-of");

    /// <summary>A query parameter for a day given as 2020-05-15 (none when no day is given); the option's name in the error.</summary>
    private static string DayQuery(string name, string? text, string option) =>
        text is null ? string.Empty
        : DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? $"{name}={day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}"
            : throw new CliException(BadInput, $"error: {option} '{text}' is not a day: use the form 2020-05-15");

    /// <summary>Ten cells, one per ten percent: narrow enough for an 80-column terminal.</summary>
    private static string Bar(decimal percent)
    {
        var filled = (int)Math.Round(percent / 10);
        return $"[green]{new string('█', filled)}[/][grey]{new string('░', 10 - filled)}[/]";
    }

    /// <summary>Where the server is and the token to send it.</summary>
    private sealed record ServerOptions(Option<string> Server, Option<string?> Token, Option<string> Format, Option<string> Lang)
    {
        public Language LanguageOf(ParseResult parse) => Language.Of(parse.GetValue(Lang)!);

        public (string Url, string? Token) Of(ParseResult parse) =>
            (parse.GetValue(Server)!, parse.GetValue(Token) ?? (Environment.GetEnvironmentVariable("CONGRESS_TOKEN") is { Length: > 0 } value ? value : null));

        public string FormatOf(ParseResult parse) => parse.GetValue(Format)!;
    }

    /// <summary>
    /// Prints a report as JSON (the server's own answer, indented) or CSV (RFC 4180, one row per line of the table) when
    /// asked; answers false for text, which the command prints as tables.
    /// </summary>
    private static bool PrintedAsData(IAnsiConsole console, string format, JsonElement json, IReadOnlyList<string> header, IEnumerable<IEnumerable<object?>> rows)
    {
        var output = console.Profile.Out.Writer;
        switch (format)
        {
            case "json":
                output.WriteLine(JsonSerializer.Serialize(json, IndentedJson));
                return true;
            case "csv":
                output.WriteLine(string.Join(',', header.Select(Csv)));
                foreach (var row in rows)
                {
                    output.WriteLine(string.Join(',', row.Select(cell => Csv(Convert.ToString(cell, CultureInfo.InvariantCulture)))));
                }

                return true;
            default:
                return false;
        }
    }

    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static string Csv(string? cell) =>
        cell is null ? string.Empty
        : cell.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? '"' + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + '"'
        : cell;

    private sealed class CliException(int exitCode, string message) : Exception(message)
    {
        public int ExitCode { get; } = exitCode;
    }
}

using System.CommandLine;
using System.Text.Json;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>`congress campaign list|start`: the campaigns (đợt đại hội), with the same inputs as the API.</summary>
public static partial class CongressCli
{
    private static Command Campaigns(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var command = new Command("campaign", "The campaigns of congresses: list them, or start one (top-level admins)");

        var list = new Command("list", "Every campaign, with its directive and terms");
        list.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var campaigns = await GetAsync<JsonElement>(http, "api/campaigns", ct);
            if (PrintedAsData(console, server.FormatOf(parse), campaigns, ["id", "name", "directive", "term_start", "term_end", "branch_term_end"],
                    campaigns.EnumerateArray().Select(c => new object?[]
                    {
                        c.GetProperty("id").GetString(), c.GetProperty("name").GetString(), c.GetProperty("directive").GetString(),
                        c.GetProperty("termStart").GetInt32(), c.GetProperty("termEnd").GetInt32(), c.GetProperty("branchTermEnd").GetInt32(),
                    })))
            {
                return 0;
            }

            var table = new Table().AddColumns("Đợt · campaign", "Tên · name", "Chỉ thị · directive", "Nhiệm kỳ · term", "Chi bộ · branches");
            foreach (var c in campaigns.EnumerateArray())
            {
                table.AddRow(Markup.Escape(c.GetProperty("id").GetString()!), Markup.Escape(c.GetProperty("name").GetString()!),
                    Markup.Escape(c.GetProperty("directive").GetString()!), $"{c.GetProperty("termStart").GetInt32()}–{c.GetProperty("termEnd").GetInt32()}",
                    $"{c.GetProperty("termStart").GetInt32()}–{c.GetProperty("branchTermEnd").GetInt32()}");
            }

            console.Write(table);
            return 0;
        }));

        var id = new Option<string>("--id") { Description = "The campaign's id, e.g. dai-hoi-xiv", Required = true };
        var name = new Option<string>("--name") { Description = "Its name, e.g. Đại hội đảng bộ các cấp tiến tới Đại hội XIV", Required = true };
        var directive = new Option<string>("--directive") { Description = "The directive that opens it, e.g. 45-CT/TW", Required = true };
        var termStart = new Option<int>("--term-start") { Description = "The first year of the term", Required = true };
        var termEnd = new Option<int>("--term-end") { Description = "The last year of the term", Required = true };
        var branchTermEnd = new Option<int>("--branch-term-end") { Description = "The last year of the branches' (shorter) term", Required = true };
        var start = new Command("start", "Start a campaign") { id, name, directive, termStart, termEnd, branchTermEnd };
        start.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var started = await SendAsync(http, HttpMethod.Post, "api/campaigns", new
            {
                id = parse.GetValue(id), name = parse.GetValue(name), directive = parse.GetValue(directive), termStart = parse.GetValue(termStart),
                termEnd = parse.GetValue(termEnd), branchTermEnd = parse.GetValue(branchTermEnd),
            }, ct);
            if (server.FormatOf(parse) == "json")
            {
                PrintedAsData(console, "json", started, [], []);
            }
            else
            {
                console.MarkupLine($"đã bắt đầu đợt · started campaign [bold]{Markup.Escape(parse.GetValue(id)!)}[/]");
            }

            return 0;
        }));

        command.Subcommands.Add(list);
        command.Subcommands.Add(start);
        return command;
    }
}

using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>`congress org import FILE` and `congress org tree ROOT`: the organisation tree from the terminal.</summary>
public static partial class CongressCli
{
    private static Command Organizations(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var file = new Argument<FileInfo>("file") { Description = "The tree as CSV (.csv) or JSON (.json), see schemas/org-tree-import.v1.schema.json" };
        var import = new Command("import", "Import a tree: every bad row is reported with its line, and nothing is written if any is bad") { file };
        import.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var source = parse.GetValue(file)!;
            var mediaType = source.Extension.ToLowerInvariant() switch
            {
                ".csv" => "text/csv",
                ".json" => "application/json",
                _ => throw new CliException(BadInput, $"error: {source.Name} is neither .csv nor .json"),
            };
            if (!source.Exists)
            {
                throw new CliException(BadInput, $"error: no file {source.FullName}");
            }

            using var content = new StreamContent(source.OpenRead());
            content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
            using var response = await console.Status().StartAsync($"importing {Markup.Escape(source.Name)}…",
                _ => http.PostAsync("api/organizations/import", content, ct));
            if ((int)response.StatusCode == 422)
            {
                var problem = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
                foreach (var row in problem.TryGetProperty("errors", out var errors) ? errors.EnumerateArray() : default)
                {
                    await error.WriteLineAsync($"line {row.GetProperty("line").GetInt32()}: {row.GetProperty("reason").GetString()}");
                }

                await error.WriteLineAsync($"error: {problem.GetProperty("detail").GetString()} (import-rejected)");
                return Refused;
            }

            await ThrowIfRefusedAsync(response, ct);
            var answer = await response.Content.ReadFromJsonAsync<JsonElement>(ct);
            if (!PrintedAsData(console, server.FormatOf(parse), answer, ["registered", "renamed", "moved", "unchanged", "contacts_changed"],
                    [[answer.GetProperty("registered").GetInt32(), answer.GetProperty("renamed").GetInt32(), answer.GetProperty("moved").GetInt32(),
                      answer.GetProperty("unchanged").GetInt32(), answer.GetProperty("contactsChanged").GetInt32()]]))
            {
                console.MarkupLine($"{answer.GetProperty("registered").GetInt32():N0} đăng ký mới · registered, {answer.GetProperty("renamed").GetInt32():N0} đổi tên · renamed, " +
                    $"{answer.GetProperty("moved").GetInt32():N0} chuyển · moved, {answer.GetProperty("unchanged").GetInt32():N0} không đổi · unchanged");
            }

            return 0;
        }));

        var root = new Argument<string>("root") { Description = "The subtree's root organisation" };
        var campaign = new Option<string?>("--campaign") { Description = "With a campaign: each unit's progress (held / units below it) as of --as-of" };
        var asOf = new Option<string?>("--as-of") { Description = "The day for the progress, e.g. 2020-05-15 (default today)" };
        var depth = new Option<int>("--depth") { Description = "How many levels to show below the root", DefaultValueFactory = _ => 2 };
        var tree = new Command("tree", "The tree below an organisation, with each unit's progress in a campaign") { root, campaign, asOf, depth };
        tree.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var rootId = Uri.EscapeDataString(parse.GetValue(root)!);
            var nodes = await GetAsync<JsonElement>(http, $"api/organizations/{rootId}/subtree", ct);
            var progress = new Dictionary<string, string>(StringComparer.Ordinal);
            if (parse.GetValue(campaign) is { } campaignId)
            {
                // Each shown unit's own subtree, from the subordinates report of its parent (one request per shown parent).
                foreach (var parent in nodes.EnumerateArray().Take(200).Select(n => n.GetProperty("id").GetString()!))
                {
                    foreach (var s in (await GetAsync<JsonElement>(http,
                                 $"api/campaigns/{Uri.EscapeDataString(campaignId)}/progress/{Uri.EscapeDataString(parent)}/subordinates?{AsOfQuery(parse.GetValue(asOf))}", ct))
                             .EnumerateArray())
                    {
                        progress[s.GetProperty("organizationId").GetString()!] = string.Format(server.LanguageOf(parse).Culture, "{0:N0}/{1:N0} ({2:N2}%)",
                            s.GetProperty("held").GetInt32(), s.GetProperty("units").GetInt32(), s.GetProperty("percent").GetDecimal());
                    }
                }
            }

            if (PrintedAsData(console, server.FormatOf(parse), nodes, ["id", "name", "level", "parent_id", "progress"],
                    nodes.EnumerateArray().Select(n => new object?[]
                    {
                        n.GetProperty("id").GetString(), n.GetProperty("name").GetString(), n.GetProperty("level").GetString(),
                        n.GetProperty("parentId").GetString(), progress.GetValueOrDefault(n.GetProperty("id").GetString()!),
                    })))
            {
                return 0;
            }

            var children = nodes.EnumerateArray().ToLookup(n => n.GetProperty("parentId").GetString() ?? string.Empty);
            string Label(JsonElement n) => $"[bold]{Markup.Escape(n.GetProperty("name").GetString()!)}[/] [grey]{Markup.Escape(n.GetProperty("id").GetString()!)}[/]" +
                (progress.TryGetValue(n.GetProperty("id").GetString()!, out var p) ? $" — {p}" : string.Empty);
            var top = nodes.EnumerateArray().First();
            var rendered = new Tree(Label(top));
            void Add(IHasTreeNodes into, string parentId, int level)
            {
                var below = children[parentId].ToList();
                if (level > parse.GetValue(depth))
                {
                    if (below.Count > 0)
                    {
                        into.AddNode($"[grey]… {below.Count:N0} more[/]");
                    }

                    return;
                }

                foreach (var child in below)
                {
                    Add(into.AddNode(Label(child)), child.GetProperty("id").GetString()!, level + 1);
                }
            }

            Add(rendered, top.GetProperty("id").GetString()!, 1);
            console.Write(rendered);
            return 0;
        }));
        return new Command("org", "The organisation tree: import a file, show a subtree") { import, tree };
    }
}

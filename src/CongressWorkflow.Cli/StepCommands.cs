using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using CongressWorkflow.Domain.Congresses;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>
/// `congress step NAME ORG --campaign C ...`: every step of a congress's lifecycle, with the same inputs as the API's
/// POST /api/campaigns/{campaign}/congresses/{org}/{path}. Options are checked for their form here (a day, a window, a
/// count, one of a kind's values: exit 2); what the rules say about them is the server's to decide (exit 1).
/// </summary>
public static partial class CongressCli
{
    private enum FieldKind
    {
        Text,
        Count,
        Day,
        /// <summary>2020-01-10..2020-03-31, or one day for both ends.</summary>
        Window,
        Flag,
        /// <summary>Repeatable milestone=day.</summary>
        Deadlines,
        Choice,
    }

    private sealed record StepField(string Option, string Json, FieldKind Kind, string Description, bool Required = false, IReadOnlyList<string>? Choices = null);

    private sealed record StepDefinition(string Name, string Path, string Description, params StepField[] Fields);

    private static IReadOnlyList<string> ChoicesOf<TEnum>() where TEnum : struct, Enum =>
        [.. Enum.GetNames<TEnum>().Select(JsonNamingPolicy.KebabCaseLower.ConvertName)];

    private static IReadOnlyList<string> Milestones { get; } = ChoicesOf<Milestone>();

    private static IReadOnlyList<StepDefinition> StepDefinitions { get; } = BuildStepDefinitions();

    private static List<StepDefinition> BuildStepDefinitions()
    {
        var planTerms = new[]
        {
            new StepField("--planned-date", "plannedDate", FieldKind.Day, "The day the congress is planned for", Required: true),
            new StepField("--window", "window", FieldKind.Window, "The window it must be held in: 2020-01-10..2020-03-31", Required: true),
            new StepField("--subordinate-window", "subordinateWindow", FieldKind.Window, "The window it sets for its subordinates' congresses"),
            new StepField("--deadline", "deadlines", FieldKind.Deadlines, "A milestone's deadline, milestone=day (repeatable); milestones", Choices: Milestones),
        };
        var decision = new StepField("--decision", "decision", FieldKind.Text, "The decision's document number, e.g. 15-QĐ/ĐU", Required: true);
        var drafts = ChoicesOf<DraftKind>();
        return
        [
            new("plan", "plan", "Issue the congress plan (committee)",
            [
                new("--document", "document", FieldKind.Text, "The plan's document number, e.g. 01-KH/CB", Required: true),
                new("--cites", "citesDocument", FieldKind.Text, "The superior's plan it implements, e.g. 155-KH/ĐUK"),
                new("--issued-on", "issuedOn", FieldKind.Day, "The day it was issued (default today)"),
                .. planTerms,
                new("--pilot", "isPilot", FieldKind.Flag, "A pilot congress (đại hội điểm), held ahead of the others"),
            ]),
            new("amend", "plan/amendments", "Amend the plan by a new document (committee); its subordinates not yet held follow a changed window",
            [
                new("--document", "document", FieldKind.Text, "The amending document's number, e.g. 12-KH/ĐU", Required: true),
                new("--effective-on", "effectiveOn", FieldKind.Day, "The day it takes effect (default today)"),
                .. planTerms,
            ]),
            new("subcommittee", "subcommittees", "Form a subcommittee (secretariat)",
                new StepField("--kind", "kind", FieldKind.Choice, "Which subcommittee", Required: true, ChoicesOf<SubcommitteeKind>()),
                new StepField("--head", "head", FieldKind.Text, "Its head", Required: true),
                new StepField("--members", "members", FieldKind.Count, "How many members", Required: true)),
            new("draft", "drafts", "Record a draft document as prepared (secretariat)",
                new StepField("--kind", "kind", FieldKind.Choice, "Which draft", Required: true, drafts)),
            new("comments", "comments", "Record the comments collected on a draft (secretariat)",
                new StepField("--draft", "draft", FieldKind.Choice, "Which draft", Required: true, drafts),
                new StepField("--units-consulted", "unitsConsulted", FieldKind.Count, "How many units were consulted", Required: true),
                new StepField("--comments-received", "commentsReceived", FieldKind.Count, "How many comments came back", Required: true)),
            new("personnel-plan", "personnel-plan", "Record the personnel plan (secretariat)",
                new StepField("--seats", "seats", FieldKind.Count, "Seats on the new executive committee", Required: true),
                new StepField("--candidates", "candidates", FieldKind.Count, "Candidates on the list", Required: true),
                new StepField("--women", "women", FieldKind.Count, "Of whom women"),
                new StepField("--youth", "youth", FieldKind.Count, "Of whom young")),
            new("submit", "submission", "Submit the documents and personnel plan to the superior committee (secretariat)"),
            new("approve", "approval", "Approve a subordinate's submission (the superior's committee)", decision),
            new("return", "return", "Return a subordinate's submission with what to change (the superior's committee)",
                new StepField("--comments", "comments", FieldKind.Text, "What to change", Required: true)),
            new("schedule", "schedule", "Set the congress's dates (secretariat)",
                new StepField("--dates", "dates", FieldKind.Window, "Its dates: 2020-03-01, or 2020-03-01..2020-03-02", Required: true)),
            new("postpone", "postponement", "Postpone a scheduled congress (secretariat)",
                new StepField("--reason", "reason", FieldKind.Text, "Why, e.g. COVID-19: giãn cách xã hội", Required: true)),
            new("reschedule", "reschedule", "Set new dates for a postponed congress (secretariat)",
                new StepField("--dates", "dates", FieldKind.Window, "The new dates", Required: true),
                new StepField("--reason", "reason", FieldKind.Text, "Why these dates", Required: true)),
            new("exempt", "exemption", "Let a committee convene before all its subordinates (the superior's committee)", decision,
                new StepField("--reason", "reason", FieldKind.Text, "Why")),
            new("convene", "convening", "Record the congress as held (secretariat)",
                new StepField("--on", "convenedOn", FieldKind.Day, "The day it was held (default today)"),
                new StepField("--delegates-present", "delegatesPresent", FieldKind.Count, "Delegates present", Required: true),
                new StepField("--delegates-expected", "delegatesExpected", FieldKind.Count, "Delegates summoned", Required: true),
                new StepField("--units-represented", "unitsRepresented", FieldKind.Count, "Subordinate units represented"),
                new StepField("--members-represented", "membersRepresented", FieldKind.Count, "Party members represented")),
            new("elect", "elections", "Record the elections (secretariat)",
                new StepField("--executive-committee", "executiveCommittee", FieldKind.Count, "Members elected to the executive committee", Required: true),
                new StepField("--standing-committee", "standingCommittee", FieldKind.Count, "Members of the standing committee", Required: true),
                new StepField("--secretary", "secretary", FieldKind.Text, "The secretary elected", Required: true),
                new StepField("--deputy-secretaries", "deputySecretaries", FieldKind.Count, "Deputy secretaries"),
                new StepField("--inspection-committee", "inspectionCommittee", FieldKind.Count, "Members of the inspection committee"),
                new StepField("--inspection-chair", "inspectionChair", FieldKind.Text, "Its chair"),
                new StepField("--delegates", "delegates", FieldKind.Count, "Delegates elected to the superior's congress"),
                new StepField("--alternate-delegates", "alternateDelegates", FieldKind.Count, "Alternate delegates")),
            new("recognise", "recognition", "Recognise the election results (the superior's committee)", decision),
            new("resolve", "resolution", "Record the congress resolution (secretariat)",
                new StepField("--resolution", "resolution", FieldKind.Text, "Its number, e.g. 01-NQ/ĐU", Required: true)),
            new("action-programme", "action-programme", "Record the action programme adopted (secretariat)",
                new StepField("--title", "title", FieldKind.Text, "Its title", Required: true)),
            new("disseminate", "dissemination", "Record the resolution disseminated to units (secretariat)",
                new StepField("--units", "units", FieldKind.Count, "How many units it reached", Required: true),
                new StepField("--on", "disseminatedOn", FieldKind.Day, "The day (default today)")),
        ];
    }

    private static Command Steps(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var command = new Command("step", "Record a step of a congress, with the same inputs as the API; the server checks it against the rules");
        foreach (var definition in StepDefinitions)
        {
            command.Subcommands.Add(StepCommand(definition, console, error, handler, server));
        }

        return command;
    }

    private static Command StepCommand(StepDefinition definition, IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var organization = new Argument<string>("organization") { Description = "The organisation whose congress it is, e.g. dang-bo-so-cong-thuong-thai-binh" };
        var campaign = new Option<string>("--campaign") { Description = "The campaign id", Required = true };
        var expectedVersion = new Option<string?>("--expected-version")
        {
            Description = "Refuse if the congress has changed since this version (the ETag read with history or a step)",
        };
        var command = new Command(definition.Name, definition.Description) { organization, campaign, expectedVersion };
        var options = new List<(StepField Field, Option Option)>();
        foreach (var field in definition.Fields)
        {
            var description = field.Choices is { } choices ? $"{field.Description}: {string.Join(", ", choices)}" : field.Description;
            Option option = field.Kind switch
            {
                FieldKind.Flag => new Option<bool>(field.Option) { Description = description },
                FieldKind.Deadlines => new Option<string[]>(field.Option) { Description = description, AllowMultipleArgumentsPerToken = false },
                _ => new Option<string?>(field.Option) { Description = description, Required = field.Required },
            };
            command.Options.Add(option);
            options.Add((field, option));
        }

        command.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var body = new JsonObject();
            foreach (var (field, option) in options)
            {
                if (StepValue(field, parse.GetResult(option)) is { } value)
                {
                    body[field.Json] = value;
                }
            }

            var org = parse.GetValue(organization)!;
            var campaignId = parse.GetValue(campaign)!;
            if (string.IsNullOrWhiteSpace(org) || string.IsNullOrWhiteSpace(campaignId))
            {
                throw new CliException(BadInput, "error: the organisation and --campaign must not be empty");
            }

            long? ifMatch = parse.GetValue(expectedVersion) is not { } version ? null
                : long.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? number
                : throw new CliException(BadInput, $"error: --expected-version '{version}' is not a version number");
            var answer = await SendAsync(http, HttpMethod.Post,
                $"api/campaigns/{Uri.EscapeDataString(campaignId)}/congresses/{Uri.EscapeDataString(org)}/{definition.Path}", body, ct, ifMatch);
            if (server.FormatOf(parse) == "json")
            {
                PrintedAsData(console, "json", answer, [], []);
            }
            else
            {
                var recorded = $"{answer.GetProperty("version").GetInt64()}" + (answer.TryGetProperty("events", out var events)
                    ? $" ({string.Join(", ", events.EnumerateArray().Select(e => e.GetString()))})"
                    : string.Empty);
                await console.Profile.Out.Writer.WriteLineAsync(server.LanguageOf(parse).English
                    ? $"recorded {definition.Name} for {org}: version {recorded}"
                    : $"đã ghi {definition.Name} cho {org}: phiên bản {recorded}");
            }

            return 0;
        }));
        return command;
    }

    /// <summary>An option's value as the API takes it, or null when it was not given; a value of the wrong form is exit 2.</summary>
    private static JsonNode? StepValue(StepField field, System.CommandLine.Parsing.OptionResult? result)
    {
        if (result is null || result.Implicit)
        {
            return null;
        }

        if (field.Kind == FieldKind.Flag)
        {
            return JsonValue.Create(result.GetValueOrDefault<bool>());
        }

        if (field.Kind == FieldKind.Deadlines)
        {
            var deadlines = new JsonArray();
            foreach (var text in result.GetValueOrDefault<string[]>() ?? [])
            {
                var parts = text.Split('=', 2);
                if (parts.Length != 2 || !Milestones.Contains(parts[0]))
                {
                    throw new CliException(BadInput,
                        $"error: {field.Option} '{text}' is not milestone=day; milestones: {string.Join(", ", Milestones)}");
                }

                deadlines.Add(new JsonObject { ["milestone"] = parts[0], ["due"] = StepDay(field, parts[1]) });
            }

            return deadlines;
        }

        var value = result.GetValueOrDefault<string?>() ?? string.Empty;
        return field.Kind switch
        {
            FieldKind.Count => int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                ? JsonValue.Create(count)
                : throw new CliException(BadInput, $"error: {field.Option} '{value}' is not a whole number"),
            FieldKind.Day => JsonValue.Create(StepDay(field, value)),
            FieldKind.Window => value.Split("..", 2) is var ends && ends.Length == 2
                ? new JsonObject { ["start"] = StepDay(field, ends[0]), ["end"] = StepDay(field, ends[1]) }
                : new JsonObject { ["start"] = StepDay(field, value), ["end"] = StepDay(field, value) },
            FieldKind.Choice when !field.Choices!.Contains(value) =>
                throw new CliException(BadInput, $"error: {field.Option} '{value}' is not one of {string.Join(", ", field.Choices!)}"),
            _ => JsonValue.Create(value),
        };
    }

    private static string StepDay(StepField field, string text) =>
        DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day)
            ? day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : throw new CliException(BadInput, $"error: {field.Option} '{text}' is not a day: use the form 2020-05-15" +
                (field.Kind == FieldKind.Window ? ", or 2020-01-10..2020-03-31 for a window" : string.Empty));
}

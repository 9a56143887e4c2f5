using CongressWorkflow.Integrity;
using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>`congress audit export` (from the server) and `congress audit verify-bundle` (offline: no server, no database).</summary>
public static partial class CongressCli
{
    private static Command Audit(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var root = new Option<string>("--root") { Description = "The subtree's root organisation", Required = true };
        var from = new Option<string?>("--from") { Description = "The first day of the period (events recorded from then on), e.g. 2020-01-01" };
        var to = new Option<string?>("--to") { Description = "The last day: the bundle is pinned by the first checkpoint taken after it (default the latest)" };
        var output = new Option<FileInfo>("--out") { Description = "The bundle file to write", Required = true };
        var export = new Command("export", "Write a self-contained audit bundle of a subtree: events, hashes, the signed checkpoint and its public key")
        {
            root, from, to, output,
        };
        export.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var query = $"root={Uri.EscapeDataString(parse.GetValue(root)!)}"
                + string.Concat(new[] { DayQuery("from", parse.GetValue(from), "--from"), DayQuery("to", parse.GetValue(to), "--to") }
                    .Where(q => q.Length > 0).Select(q => "&" + q));
            using var response = await http.GetAsync($"api/audit/bundle?{query}", HttpCompletionOption.ResponseHeadersRead, ct);
            await ThrowIfRefusedAsync(response, ct);
            var file = parse.GetValue(output)!;
            await using (var target = file.Create())
            {
                await response.Content.CopyToAsync(target, ct);
            }

            // Read back as it streams, as verify-bundle reads it: a whole tree's bundle is gigabytes at national scale.
            var (streams, events) = (0, 0L);
            await using var written = file.OpenRead();
            var reading = new AuditBundleReading(written);
            await foreach (var stream in reading.StreamsAsync(ct))
            {
                (streams, events) = (streams + 1, events + stream.Events.Count);
            }

            console.MarkupLine($"wrote {Markup.Escape(file.FullName)}: {streams:N0} streams, {events:N0} events, " +
                $"pinned by the checkpoint of {reading.Bundle!.PinnedAt:dd/MM/yyyy HH:mm} UTC");
            return 0;
        }));

        var bundleFile = new Argument<FileInfo>("file") { Description = "The bundle, as audit export wrote it" };
        var key = new Option<string?>("--key")
        {
            Description = "The server's checkpoint public key (base64, or a file holding it) to pin who signed; without it only integrity is proven",
        };
        var verify = new Command("verify-bundle", "Check an audit bundle offline: every hash, the chain to the signed checkpoint, the signature") { bundleFile, key };
        verify.SetAction(async (parse, ct) =>
        {
            AuditBundle bundle;
            BundleReport report;
            try
            {
                var trusted = parse.GetValue(key) is { } given ? (File.Exists(given) ? (await File.ReadAllTextAsync(given, ct)).Trim() : given.Trim()) : null;
                // Checked as it streams, a stream at a time.
                await using var document = File.OpenRead(parse.GetValue(bundleFile)!.FullName);
                (bundle, report) = await AuditBundles.VerifyAsync(document, trusted, ct);
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or NotSupportedException)
            {
                await error.WriteLineAsync($"error: the bundle cannot be read: {e.Message}");
                return BadInput;
            }

            if (report.IsIntact)
            {
                console.MarkupLine($"[green]intact[/]: {report.Streams:N0} streams, {report.Events:N0} events of {Markup.Escape(bundle.Root)} " +
                    $"chain to the checkpoint of {bundle.PinnedAt:dd/MM/yyyy HH:mm} UTC, signed by key {Markup.Escape(Fingerprint(bundle.SignerKey))}");
                if (!report.KeyPinned)
                {
                    console.MarkupLine("[yellow]the key was not pinned[/]: pass --key with the server's public key to prove who signed the checkpoint");
                }

                return 0;
            }

            var first = report.FirstViolation!;
            console.MarkupLine($"[red]BROKEN[/]: first broken link: {Markup.Escape(Describe(first))}");
            foreach (var violation in report.Violations.Where(v => v != first))
            {
                console.MarkupLine($"  also: {Markup.Escape(Describe(violation))}");
            }

            return Refused;
        });
        return new Command("audit", "Audit bundles: export a subtree's signed history, verify one offline") { export, verify };
    }

    private static Command Conformance(IAnsiConsole console, TextWriter error, HttpMessageHandler? handler, ServerOptions server)
    {
        var organization = new Argument<string>("organization") { Description = "The subtree's root" };
        var campaign = new Option<string>("--campaign") { Description = "The campaign id", Required = true };
        var command = new Command("conformance", "Replay a subtree's recorded history and report every place it breaks the rules as they stood then")
        {
            organization, campaign,
        };
        command.SetAction((parse, ct) => CallAsync(error, handler, server.Of(parse), async http =>
        {
            var report = await GetAsync<JsonElement>(http,
                $"api/campaigns/{Uri.EscapeDataString(parse.GetValue(campaign)!)}/progress/{Uri.EscapeDataString(parse.GetValue(organization)!)}/conformance", ct);
            if (PrintedAsData(console, server.FormatOf(parse), report, ["code", "organization_id", "on", "finding", "events"],
                    report.GetProperty("findings").EnumerateArray().Select(f => new object?[]
                    {
                        f.GetProperty("code").GetString(), f.GetProperty("organizationId").GetString(), f.GetProperty("on").GetString(),
                        f.GetProperty("message").GetString(),
                        string.Join(' ', f.GetProperty("evidence").EnumerateArray().Select(e => $"{e.GetProperty("streamId").GetString()}@{e.GetProperty("version").GetInt64()}")),
                    })))
            {
                return 0;
            }

            var table = new Table().AddColumns("Mã · code", "Tổ chức · unit", "Ngày", "Nội dung · finding", "Sự kiện · events");
            foreach (var f in report.GetProperty("findings").EnumerateArray())
            {
                var evidence = string.Join(", ", f.GetProperty("evidence").EnumerateArray()
                    .Select(e => $"{e.GetProperty("streamId").GetString()}@{e.GetProperty("version").GetInt64()}"));
                table.AddRow(Markup.Escape(f.GetProperty("code").GetString()!), Markup.Escape(f.GetProperty("organizationId").GetString()!),
                    DayText(f.GetProperty("on").GetString()), Markup.Escape(f.GetProperty("message").GetString()!), Markup.Escape(evidence));
            }

            console.Write(table);
            console.MarkupLine($"{report.GetProperty("eventsReplayed").GetInt32():N0} events of {report.GetProperty("organizations").GetInt32():N0} units replayed: " +
                $"{report.GetProperty("violations").GetInt32():N0} rule violation(s), {report.GetProperty("findings").GetArrayLength():N0} finding(s) in all");
            return 0;
        }));
        return command;
    }

    private static string Describe(IntegrityViolation violation) =>
        $"{violation.StreamId} version {violation.StreamVersion}" +
        (violation.GlobalPosition is { } position ? $" (global position {position.ToString(CultureInfo.InvariantCulture)})" : "") + ": " + violation.Reason;

    /// <summary>A short, comparable name for a public key: the first bytes of its SHA-256.</summary>
    private static string Fingerprint(string publicKey) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(publicKey)))[..16];
}

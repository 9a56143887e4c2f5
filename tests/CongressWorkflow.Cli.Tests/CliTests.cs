using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Integrity;
using CongressWorkflow.Testing;
using Spectre.Console;

namespace CongressWorkflow.Cli.Tests;

public sealed class the_congress_command_line(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    /// <summary>Runs the command line against the demo server, as an admin of the Central Committee unless the arguments pass a --token.</summary>
    private async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] token = args.Contains("--token") ? [] : ["--token", TestAuth.Token("admin", DemoCampaign.Central)];
        var exitCode = await CongressCli.RunAsync([.. args, .. token, "--server", fixture.Server.BaseAddress.ToString()], PlainConsole(output), error);
        return (exitCode, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task a_minted_token_acts_for_its_organisation_and_role_and_nothing_outside_its_subtree()
    {
        var (issued, token, _) = await RunAsync("token", "issue", "--org", DemoCampaign.Ministry, "--role", "committee", "--user", "nguyen-van-a",
            "--key", TestAuth.KeyFile, "--hours", "1");
        token = token.Trim();
        var (own, ownOutput, _) = await RunAsync("progress", DemoCampaign.Ministry, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-07-31", "--token", token);
        var (other, _, otherError) = await RunAsync("progress", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--token", token);
        var (anonymous, _, anonymousError) = await RunAsync("projections", "--token", "");
        var (badRole, _, badRoleError) = await RunAsync("token", "issue", "--org", DemoCampaign.Ministry, "--role", "chairman", "--user", "x", "--key", TestAuth.KeyFile);
        var (noKey, _, noKeyError) = await RunAsync("token", "issue", "--org", DemoCampaign.Ministry, "--role", "monitor", "--user", "x", "--key", "/nonexistent/key.pem");

        Assert.True(issued == 0, "issue: " + token);
        Assert.Equal(3, token.Split('.').Length);
        Assert.True(own == 0, "own: " + ownOutput);
        Assert.Contains("Đảng bộ Bộ Công Thương", ownOutput, StringComparison.Ordinal);
        Assert.Equal(CongressCli.Refused, other);
        Assert.Contains("(forbidden)", otherError, StringComparison.Ordinal);
        Assert.Equal(CongressCli.Refused, anonymous);
        Assert.Contains("(unauthenticated)", anonymousError, StringComparison.Ordinal);
        Assert.Contains("congress token issue", anonymousError, StringComparison.Ordinal);
        Assert.Equal(CongressCli.BadInput, badRole);
        Assert.Contains("not one of", badRoleError, StringComparison.Ordinal);
        Assert.Equal(CongressCli.BadInput, noKey);
        Assert.Contains("no signing key", noKeyError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_audit_bundle_verifies_offline_and_a_one_byte_change_anywhere_that_matters_is_caught()
    {
        (await fixture.Http.PostAsync("/api/audit/checkpoints", null)).EnsureSuccessStatusCode();
        var publicKey = (await fixture.Http.GetFromJsonAsync<JsonElement>("/api/audit/checkpoints")).GetProperty("publicKey").GetString()!;
        var file = Path.Combine(Path.GetTempPath(), $"cw-bundle-{Guid.NewGuid():N}.json");
        try
        {
            var (exported, exportOutput, exportError) = await RunAsync("audit", "export", "--root", DemoCampaign.Ministry, "--from", "2019-01-01", "--out", file);
            Assert.True(exported == 0, exportOutput + exportError);
            var original = await File.ReadAllBytesAsync(file);

            // Offline: no --server is needed (a server that does not exist is named to prove it).
            var (pinned, pinnedOutput, _) = await RunOfflineAsync("audit", "verify-bundle", file, "--key", publicKey);
            var (unpinned, unpinnedOutput, _) = await RunOfflineAsync("audit", "verify-bundle", file);
            Assert.True(pinned == 0, pinnedOutput);
            Assert.Contains("intact", pinnedOutput, StringComparison.Ordinal);
            Assert.DoesNotContain("not pinned", pinnedOutput, StringComparison.Ordinal);
            Assert.Equal(0, unpinned);
            Assert.Contains("not pinned", unpinnedOutput, StringComparison.Ordinal);

            var text = Encoding.UTF8.GetString(original);
            var bundle = JsonSerializer.Deserialize<AuditBundle>(text, AuditBundle.Json)!;
            // Pinned by the checkpoint's signed Merkle root: each stream carries its head and the proof of it, not every head of the store.
            Assert.Equal(AuditBundle.PinnedFormat, bundle.Format);
            Assert.Null(bundle.Checkpoint);
            var someStream = bundle.Streams.First(s => s.Events.Count > 2);
            var someEvent = someStream.Events[1];
            Assert.NotEmpty(someStream.Head!.Proof);
            // One byte each: a letter of the actor, a digit of a version, a hex digit of a hash, a hash of the head's proof, a digit of the pin's head position.
            foreach (var (what, needle) in new[]
                     {
                         ("actor", $"\"actorId\": \"{someEvent.ActorId}\""),
                         ("hash", $"\"hash\": \"{someEvent.Hash}\""),
                         ("proof", $"\"{someStream.Head.Proof[0]}\""),
                         ("checkpoint", $"\"headPosition\": {bundle.Pin!.Statement.HeadPosition}"),
                     })
            {
                var from = what switch
                {
                    "checkpoint" => 0,
                    "proof" => text.IndexOf($"\"streamId\": \"{someStream.StreamId}\"", StringComparison.Ordinal),
                    _ => text.IndexOf(someEvent.EventId.ToString(), StringComparison.Ordinal),
                };
                var at = text.IndexOf(needle, from, StringComparison.Ordinal);
                Assert.True(at >= 0, $"{what}: '{needle}' not found in the bundle");
                var bytes = (byte[])original.Clone();
                var target = Encoding.UTF8.GetByteCount(text[..at]) + Encoding.UTF8.GetByteCount(needle) - 2;
                bytes[target] = bytes[target] == (byte)'1' ? (byte)'2' : (byte)'1';
                await File.WriteAllBytesAsync(file, bytes);

                var (code, output, error) = await RunOfflineAsync("audit", "verify-bundle", file, "--key", publicKey);

                Assert.True(code == CongressCli.Refused, $"{what}: {code} {output} {error}");
                Assert.Contains("BROKEN", output, StringComparison.Ordinal);
                if (what is "actor" or "hash")
                {
                    Assert.Contains($"{someStream.StreamId} version {someEvent.StreamVersion}", output, StringComparison.Ordinal);
                }
                else if (what == "proof")
                {
                    Assert.Contains($"{someStream.StreamId} version {someStream.Head.Version} (global position {someStream.Head.GlobalPosition}): the stream's head is not the one the signed checkpoint has", output, StringComparison.Ordinal);
                }
            }

            await File.WriteAllBytesAsync(file, original);
            var (wrongKey, wrongKeyOutput, _) = await RunOfflineAsync("audit", "verify-bundle", file, "--key", Convert.ToBase64String(
                System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfo()));
            Assert.Equal(CongressCli.Refused, wrongKey);
            Assert.Contains("not signed by the trusted key", wrongKeyOutput, StringComparison.Ordinal);

            await File.WriteAllTextAsync(file, "{ not a bundle");
            var (unreadable, _, unreadableError) = await RunOfflineAsync("audit", "verify-bundle", file);
            Assert.Equal(CongressCli.BadInput, unreadable);
            Assert.Contains("cannot be read", unreadableError, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task conformance_prints_each_finding_with_its_events()
    {
        var (code, output, error) = await RunAsync("conformance", DemoCampaign.Ministry, "--campaign", DemoCampaign.CampaignId);
        var (unknown, _, unknownError) = await RunAsync("conformance", "no-such-unit", "--campaign", DemoCampaign.CampaignId);

        Assert.True(code == 0, output + error);
        Assert.Contains("deadline-missed", output, StringComparison.Ordinal);
        Assert.Contains("congress-dai-hoi-xiii-dang-bo-bao-cong-thuong@", output, StringComparison.Ordinal);
        Assert.Contains("0 rule violation(s)", output, StringComparison.Ordinal);
        Assert.Equal(CongressCli.Refused, unknown);
        Assert.Contains("(not-found)", unknownError, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunOfflineAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exitCode = await CongressCli.RunAsync([.. args, "--server", "http://127.0.0.1:9"], PlainConsole(output), error);
        return (exitCode, output.ToString(), error.ToString());
    }

    /// <summary>A console without colours or control codes, wide enough for the tables, writing into a string.</summary>
    private static IAnsiConsole PlainConsole(TextWriter output)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
        });
        console.Profile.Width = 200;
        return console;
    }

    [Fact]
    public async Task progress_prints_each_level_and_who_is_behind()
    {
        var (exitCode, output, _) = await RunAsync("progress", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-03-31");

        Assert.Equal(0, exitCode);
        Assert.Contains("Đảng bộ Sở Công Thương Thái Bình", output, StringComparison.Ordinal);
        Assert.Contains("tính đến 31/03/2020", output, StringComparison.Ordinal);
        Assert.Contains("9/12 chi bộ (75,00%)", output, StringComparison.Ordinal);
        Assert.Contains("Chi bộ Quản lý thị trường số 1", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task progress_reads_like_the_sources_in_vietnamese_and_in_english_with_lang_en()
    {
        var (vi, viOutput, _) = await RunAsync("progress", DemoCampaign.CentralBloc, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-10-28");
        var (en, enOutput, _) = await RunAsync("progress", DemoCampaign.CentralBloc, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-10-28", "--lang", "en");
        var (report, reportOutput, _) = await RunAsync("report", "progress", "--root", DemoCampaign.CentralBloc, "--campaign", DemoCampaign.CampaignId,
            "--as-of", "2020-10-28");
        var (noRoot, _, noRootError) = await RunAsync("report", "progress", "--campaign", DemoCampaign.CampaignId);

        Assert.Equal((0, 0, 0), (vi, en, report));
        Assert.Equal(viOutput, reportOutput);
        Assert.Equal(CongressCli.BadInput, noRoot);
        Assert.Contains("--root", noRootError, StringComparison.Ordinal);
        Assert.Contains("tính đến 28/10/2020", viOutput, StringComparison.Ordinal);
        Assert.Matches(@"\d+/\d+ chi bộ \(\d+,\d\d%\)", viOutput);
        Assert.Contains("as of 28/10/2020", enOutput, StringComparison.Ordinal);
        Assert.Matches(@"\d+/\d+ branches \(\d+\.\d\d%\)", enOutput);
        Assert.Contains("Held", enOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task progress_of_the_ministry_after_its_cascade_shows_fourteen_days_early()
    {
        var (exitCode, output, _) = await RunAsync("progress", DemoCampaign.Ministry, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-07-31");

        Assert.Equal(0, exitCode);
        Assert.Contains("Hoàn thành 30/06/2020: sớm 14 ngày so với hạn 14/07/2020", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task without_a_day_progress_is_as_of_the_servers_today()
    {
        var (exitCode, output, _) = await RunAsync("progress", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId);

        Assert.Equal(0, exitCode);
        Assert.Contains("12/12 chi bộ (100,00%)", output, StringComparison.Ordinal);
        Assert.Contains($"tính đến {DateTime.UtcNow:dd/MM/yyyy}", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task overdue_lists_the_units_past_their_deadline()
    {
        // 12-KH/ĐU of 12/03/2020 moved the branches' deadline of 31/03 to 03/05: none was overdue on 01/04, but what had been
        // recorded by 11/03 showed the three branches still to meet.
        var (exitCode, output, _) = await RunAsync("overdue", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-04-01");
        var (before, beforeOutput, _) = await RunAsync("overdue", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-04-01",
            "--known-at", "2020-03-11");

        Assert.Equal(0, exitCode);
        Assert.Contains("0 quá hạn", output, StringComparison.Ordinal);
        Assert.Equal(0, before);
        Assert.Contains("3 quá hạn", beforeOutput, StringComparison.Ordinal);
        Assert.Contains("31/03/2020", beforeOutput, StringComparison.Ordinal);

        // As recorded by New Year 2020 (plans known, no congress yet): every branch was past its deadline of 31/03.
        var (known, knownOutput, _) = await RunAsync("overdue", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-04-01",
            "--known-at", "2020-01-01");
        var (bad, _, badError) = await RunAsync("overdue", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--known-at", "last week");
        Assert.Equal(0, known);
        Assert.Contains("12 quá hạn", knownOutput, StringComparison.Ordinal);
        Assert.Equal(CongressCli.BadInput, bad);
        Assert.Contains("--known-at", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task reports_print_as_json_or_csv_for_scripts()
    {
        var (jsonCode, json, _) = await RunAsync("overdue", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-04-01",
            "--known-at", "2020-03-11", "--format", "json");
        var (csvCode, csv, _) = await RunAsync("progress", DemoCampaign.CentralBloc, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-10-28", "--format", "csv");
        var (bad, _, badError) = await RunAsync("projections", "--format", "xml");

        Assert.Equal(0, jsonCode);
        var overdue = System.Text.Json.JsonDocument.Parse(json).RootElement;
        Assert.Equal(3, overdue.GetArrayLength());
        Assert.Equal("2020-03-31", overdue[0].GetProperty("deadline").GetString());
        Assert.Equal(0, csvCode);
        var lines = csv.Trim().Split('\n');
        Assert.Equal("level,held,total,percent,early,on_time,late,overdue,not_yet_due,not_planned", lines[0].Trim());
        Assert.Contains(lines, l => l.StartsWith("branch,", StringComparison.Ordinal));
        Assert.NotEqual(0, bad);
        Assert.Contains("xml", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task org_import_reports_every_bad_row_and_writes_nothing_then_imports_and_the_tree_shows_progress()
    {
        // A bloc of its own under the Central Committee, so that no other test's subtree changes.
        var folder = Directory.CreateTempSubdirectory("cw-org-import").FullName;
        var bad = Path.Combine(folder, "bad.csv");
        var good = Path.Combine(folder, "good.csv");
        await File.WriteAllTextAsync(bad, "id,name,level,sector,parent_id\nkhoi-thu-nghiem,Khối thử nghiệm,bloc,,trung-uong\nchi-bo-x,Chi bộ X,branch,,khong-co-cha\nBAD ID,Y,branch,,khoi-thu-nghiem\n");
        await File.WriteAllTextAsync(good, "id,name,level,sector,parent_id\nkhoi-thu-nghiem,Khối thử nghiệm,bloc,,trung-uong\nchi-bo-thu-nghiem,Chi bộ thử nghiệm,branch,,khoi-thu-nghiem\n");

        var (refused, _, refusedError) = await RunAsync("org", "import", bad);
        var (missing, _, _) = await RunAsync("org", "tree", "khoi-thu-nghiem");
        var (imported, importOutput, importError) = await RunAsync("org", "import", good);
        var (shown, tree, _) = await RunAsync("org", "tree", DemoCampaign.Ministry, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-07-31", "--depth", "1");
        var (ours, ourTree, _) = await RunAsync("org", "tree", "khoi-thu-nghiem");

        Assert.Equal(CongressCli.Refused, refused);
        Assert.Contains("line 3:", refusedError, StringComparison.Ordinal);
        Assert.Contains("line 4:", refusedError, StringComparison.Ordinal);
        Assert.Contains("(import-rejected)", refusedError, StringComparison.Ordinal);
        Assert.Equal(CongressCli.Refused, missing);
        Assert.True(imported == 0, importOutput + importError);
        Assert.Contains("2 đăng ký mới", importOutput, StringComparison.Ordinal);
        Assert.Equal(0, shown);
        Assert.Contains("Đảng bộ Bộ Công Thương", tree, StringComparison.Ordinal);
        Assert.Contains("Đảng bộ Báo Công Thương", tree, StringComparison.Ordinal);
        Assert.Contains("(100,00%)", tree, StringComparison.Ordinal);
        Assert.Equal(0, ours);
        Assert.Contains("chi-bo-thu-nghiem", ourTree, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_projection_is_rebuilt_with_a_progress_bar_and_an_unknown_one_is_refused()
    {
        var (code, output, error) = await RunAsync("projections", "rebuild", "approval-audit");
        var (unknown, _, unknownError) = await RunAsync("projections", "rebuild", "no-such-projection");

        Assert.True(code == 0, output + error);
        Assert.Contains("approval-audit rebuilt up to the head", output, StringComparison.Ordinal);
        Assert.Equal(CongressCli.Refused, unknown);
        Assert.Contains("(unknown-projection)", unknownError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task history_shows_a_congress_as_of_a_day_with_its_recorded_steps_to_auditors_and_db_status_the_store()
    {
        var (code, output, error) = await RunAsync("history", DemoCampaign.Ministry, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-07-01");
        var monitor = TestAuth.Token("monitor", DemoCampaign.Ministry);
        var (monitorCode, monitorOutput, _) = await RunAsync("history", DemoCampaign.Ministry, "--campaign", DemoCampaign.CampaignId, "--token", monitor);
        var (dbCode, dbOutput, _) = await RunAsync("db", "status");

        Assert.True(code == 0, output + error);
        Assert.Contains("approved, version 10", output, StringComparison.Ordinal);
        Assert.Contains("congress.submission-approved", output, StringComparison.Ordinal);
        Assert.Contains("312-QĐ/ĐUK", output, StringComparison.Ordinal);
        Assert.DoesNotContain("congress.convened", output, StringComparison.Ordinal);
        Assert.Equal(0, monitorCode);
        Assert.Contains("shown to auditors", monitorOutput, StringComparison.Ordinal);
        Assert.Equal(0, dbCode);
        Assert.Contains("schema version", dbOutput, StringComparison.Ordinal);
        Assert.Contains("partition (shared)", dbOutput, StringComparison.Ordinal);
        Assert.Contains($"partition {DemoCampaign.CampaignId}", dbOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task projections_shows_each_read_model()
    {
        var (exitCode, output, error) = await RunAsync("projections");

        Assert.True(exitCode == 0, error);
        Assert.Contains("progress", output, StringComparison.Ordinal);
        Assert.Contains("approval-audit", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(CongressCli.BadInput, "not a day", "progress", "x", "--campaign", "c", "--as-of", "15/05/2020")]
    [InlineData(CongressCli.Refused, "not-found", "progress", "khong-co", "--campaign", DemoCampaign.CampaignId)]
    [InlineData(CongressCli.BadInput, "--campaign", "progress", DemoCampaign.ThaiBinh)]
    [InlineData(CongressCli.BadInput, "Unrecognized command", "nope")]
    public async Task bad_input_gets_a_message_and_a_non_zero_exit_code(int expected, string message, params string[] args)
    {
        var (exitCode, output, error) = await RunAsync(args);

        Assert.Equal(expected, exitCode);
        Assert.Contains(message, error, StringComparison.Ordinal);
        Assert.DoesNotContain("Đã đại hội", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:9", "cannot reach the CongressWorkflow server")]
    [InlineData("ftp://x", "not an http(s) address")]
    public async Task without_a_usable_server_it_says_so_and_exits_with_2(string server, string message)
    {
        var error = new StringWriter();
        var exitCode = await CongressCli.RunAsync(["projections", "--server", server], PlainConsole(new StringWriter()), error);

        Assert.Equal(CongressCli.BadInput, exitCode);
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task reminders_lists_open_deadlines_and_the_escalations_sent_for_them()
    {
        var (exitCode, output, _) = await RunAsync("reminders", DemoCampaign.Ministry, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-04-23");

        Assert.Equal(0, exitCode);
        Assert.Contains("new-date-set", output, StringComparison.Ordinal);
        Assert.Contains("quá 8 ngày", output, StringComparison.Ordinal);
        Assert.Contains("escalation", output, StringComparison.Ordinal);
        Assert.Contains(DemoCampaign.Ministry, output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task reminders_as_recorded_by_a_moment_show_the_deadline_then_in_force()
    {
        // Before 12-KH/ĐU (recorded 12/03/2020) the Thái Bình branches were due on 31/03; with it, on 03/05.
        var (before, beforeOutput, _) = await RunAsync("reminders", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-04-01",
            "--known-at", "2020-03-11");
        var (now, nowOutput, _) = await RunAsync("reminders", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-04-01",
            "--days", "60");
        var (bad, _, badError) = await RunAsync("reminders", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId, "--known-at", "soon");

        Assert.Equal((0, 0), (before, now));
        Assert.Contains("31/03/2020", beforeOutput, StringComparison.Ordinal);
        Assert.Contains("11-KH/ĐU", beforeOutput, StringComparison.Ordinal);
        // The board (the ledger below it keeps the reminders sent before 12/03 for the old deadline).
        var nowBoard = nowOutput[..nowOutput.IndexOf("Nhắc việc đã gửi", StringComparison.Ordinal)];
        Assert.DoesNotContain("31/03/2020", nowBoard, StringComparison.Ordinal);
        Assert.Contains("03/05/2020", nowBoard, StringComparison.Ordinal);
        Assert.Equal(CongressCli.BadInput, bad);
        Assert.Contains("--known-at", badError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task simulate_plays_a_small_campaign_on_the_server_and_its_summary_is_the_progress_report()
    {
        var (exitCode, output, error) = await RunAsync("simulate", "--size", "60", "--seed", "3", "--format", "json");

        Assert.True(exitCode == 0, error);
        var result = JsonDocument.Parse(output).RootElement;
        var simulation = result.GetProperty("simulation");
        Assert.True(simulation.GetProperty("finished").GetBoolean());
        var (root, campaign) = (simulation.GetProperty("rootOrganizationId").GetString()!, simulation.GetProperty("campaignId").GetString()!);
        var (_, progress, _) = await RunAsync("progress", root, "--campaign", campaign, "--as-of", "2021-01-24", "--format", "json");
        Assert.Equal(JsonDocument.Parse(progress).RootElement.GetProperty("report").ToString(), result.GetProperty("report").ToString());
        var levels = result.GetProperty("report").GetProperty("levels").EnumerateArray().ToList();
        Assert.Equal(59, levels.Sum(l => l.GetProperty("total").GetInt32()));
        Assert.All(levels, l => Assert.Equal(l.GetProperty("total").GetInt32(), l.GetProperty("held").GetInt32()));

        // Asked again, the finished simulation is not played twice: it reports at once, in words this time.
        var (again, text, _) = await RunAsync("simulate", "--size", "60", "--seed", "3");
        var (bad, _, badError) = await RunAsync("simulate", "--size", "5");
        Assert.Equal(0, again);
        Assert.Contains("Đã mô phỏng 60 tổ chức", text, StringComparison.Ordinal);
        Assert.Contains("chi bộ (100,00%)", text, StringComparison.Ordinal);
        Assert.Equal(CongressCli.BadInput, bad);
        Assert.Contains("--size", badError, StringComparison.Ordinal);

        // An operator who has lost the id finds it in the list (it was a 405).
        var listed = (await fixture.Http.GetFromJsonAsync<JsonElement>("/api/simulations")).EnumerateArray()
            .Single(s => s.GetProperty("id").GetString() == simulation.GetProperty("id").GetString());
        Assert.True(listed.GetProperty("finished").GetBoolean());
        Assert.Equal((60, 3, "2021-01-31"), (listed.GetProperty("size").GetInt32(), listed.GetProperty("seed").GetInt32(), listed.GetProperty("dayReached").GetString()));
    }

    [Fact]
    public async Task campaigns_are_listed_and_started_with_the_inputs_of_the_api()
    {
        var id = "thu-nghiem-" + Guid.NewGuid().ToString("N")[..6];
        string[] start = ["campaign", "start", "--id", id, "--name", "Đại hội thử nghiệm", "--directive", "45-CT/TW", "--term-start", "2025",
            "--term-end", "2030", "--branch-term-end", "2027"];

        var (started, startOutput, startError) = await RunAsync(start);
        var (again, _, againError) = await RunAsync(start);
        var (listed, json, _) = await RunAsync("campaign", "list", "--format", "json");
        var (text, table, _) = await RunAsync("campaign", "list");
        var (badDirective, _, badError) = await RunAsync(["campaign", "start", "--id", id + "x", "--name", "Sai", "--directive", "bốn lăm", "--term-start", "2025",
            "--term-end", "2030", "--branch-term-end", "2027"]);
        var (missing, _, _) = await RunAsync("campaign", "start", "--id", id + "y");

        Assert.True(started == 0, startError);
        Assert.Contains(id, startOutput, StringComparison.Ordinal);
        Assert.Equal(1, again);
        Assert.Contains("(campaign-", againError, StringComparison.Ordinal);
        Assert.Equal((0, 0), (listed, text));
        Assert.Contains(JsonDocument.Parse(json).RootElement.EnumerateArray(), c => c.GetProperty("id").GetString() == id && c.GetProperty("termEnd").GetInt32() == 2030);
        Assert.Contains(DemoCampaign.CampaignId, table, StringComparison.Ordinal);
        Assert.Equal(1, badDirective);
        Assert.NotEmpty(badError);
        Assert.NotEqual(0, missing);
    }

    [Fact]
    public async Task webhooks_are_added_listed_and_removed_and_bad_input_gets_an_exit_code()
    {
        var (added, addOutput, _) = await RunAsync("webhooks", "add", "--root", DemoCampaign.Ministry, "--url", "http://127.0.0.1:9/hooks");
        var id = addOutput.Split(' ', '\n').First(w => w.StartsWith("sub-", StringComparison.Ordinal)).Trim();
        var (listed, listOutput, _) = await RunAsync("webhooks", "list");
        var (removed, _, _) = await RunAsync("webhooks", "remove", id);
        var (badUrl, _, badUrlError) = await RunAsync("webhooks", "add", "--root", DemoCampaign.Ministry, "--url", "ftp://example");
        var (badId, _, badIdError) = await RunAsync("webhooks", "redeliver", "not-a-guid");
        var (badDays, _, _) = await RunAsync("reminders", DemoCampaign.Ministry, "--campaign", DemoCampaign.CampaignId, "--days", "999");
        var (dead, deadOutput, _) = await RunAsync("webhooks", "dead-letters");

        Assert.Equal((0, 0, 0), (added, listed, removed));
        Assert.Contains("signing secret (shown once): whsec_", addOutput, StringComparison.Ordinal);
        Assert.Contains(id, listOutput, StringComparison.Ordinal);
        Assert.Equal(1, badUrl);
        Assert.Contains("subscription-invalid-url", badUrlError, StringComparison.Ordinal);
        Assert.Equal((2, 2), (badId, badDays));
        Assert.Contains("not a delivery id", badIdError, StringComparison.Ordinal);
        Assert.Equal(0, dead);
        Assert.Contains("dead-lettered", deadOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task every_step_of_a_congress_is_recorded_with_the_inputs_of_the_api_and_bad_forms_change_nothing()
    {
        // A campaign of its own, so the demo's figures that other tests read stay as they are.
        var campaign = "cac-buoc-" + Guid.NewGuid().ToString("N")[..6];
        const string branch = DemoCampaign.ThaiBinh + "-chi-bo-01";
        var today = DateOnly.FromDateTime(DateTime.UtcNow);
        string Day(int days) => today.AddDays(days).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var committee = TestAuth.Token("committee", branch);
        var secretariat = TestAuth.Token("secretariat", branch);
        var superior = TestAuth.Token("committee", DemoCampaign.ThaiBinh);
        Assert.Equal(0, (await RunAsync("campaign", "start", "--id", campaign, "--name", "Các bước", "--directive", "45-CT/TW", "--term-start", "2025",
            "--term-end", "2030", "--branch-term-end", "2027")).ExitCode);
        async Task<string> Step(string token, params string[] args)
        {
            var (exitCode, output, error) = await RunAsync(["step", .. args[..1], branch, "--campaign", campaign, .. args[1..], "--token", token]);
            Assert.True(exitCode == 0, $"{string.Join(' ', args)}: {error}");
            return output;
        }

        var planned = await Step(committee, "plan", "--document", "01-KH/CB", "--cites", "11-KH/ĐU", "--planned-date", Day(3), "--window",
            $"{Day(-20)}..{Day(30)}", "--deadline", $"congress-held={Day(30)}", "--deadline", $"submitted-to-superior={Day(10)}", "--format", "json");
        var (badDay, _, badDayError) = await RunAsync("step", "amend", branch, "--campaign", campaign, "--document", "02-KH/CB", "--planned-date", "31/12/2026",
            "--window", $"{Day(-20)}..{Day(30)}", "--token", committee);
        var (badKind, _, badKindError) = await RunAsync("step", "subcommittee", branch, "--campaign", campaign, "--kind", "tai-chinh", "--head", "A",
            "--members", "3", "--token", secretariat);
        var (badCount, _, badCountError) = await RunAsync("step", "subcommittee", branch, "--campaign", campaign, "--kind", "documents", "--head", "A",
            "--members", "ba", "--token", secretariat);
        var (empty, _, emptyError) = await RunAsync("step", "submit", branch, "--campaign", " ", "--token", secretariat);
        var (notMine, _, notMineError) = await RunAsync("step", "draft", branch, "--campaign", campaign, "--kind", "political-report", "--token", committee);
        var (stale, _, staleError) = await RunAsync("step", "draft", branch, "--campaign", campaign, "--kind", "political-report", "--expected-version", "0",
            "--token", secretariat);
        await Step(secretariat, "subcommittee", "--kind", "documents", "--head", "Nguyễn Văn A", "--members", "3");
        await Step(secretariat, "subcommittee", "--kind", "personnel", "--head", "Trần Thị B", "--members", "3");
        await Step(secretariat, "draft", "--kind", "political-report");
        await Step(secretariat, "draft", "--kind", "review-report");
        await Step(secretariat, "comments", "--draft", "political-report", "--units-consulted", "4", "--comments-received", "17");
        await Step(secretariat, "personnel-plan", "--seats", "3", "--candidates", "4", "--women", "1", "--youth", "1");
        await Step(secretariat, "submit");
        var (early, _, earlyError) = await RunAsync("step", "convene", branch, "--campaign", campaign, "--delegates-present", "30", "--delegates-expected", "31",
            "--token", secretariat);
        await Step(superior, "return", "--comments", "Bổ sung cán bộ trẻ");
        await Step(secretariat, "submit");
        await Step(superior, "approve", "--decision", "15-QĐ/ĐU");
        await Step(secretariat, "schedule", "--dates", Day(0));
        await Step(secretariat, "convene", "--on", Day(0), "--delegates-present", "30", "--delegates-expected", "31", "--members-represented", "31");
        await Step(secretariat, "elect", "--executive-committee", "3", "--standing-committee", "0", "--secretary", "Lê Văn C", "--delegates", "2");
        await Step(superior, "recognise", "--decision", "20-QĐ/ĐU");
        await Step(secretariat, "resolve", "--resolution", "01-NQ/CB");
        await Step(secretariat, "action-programme", "--title", "Chương trình hành động");
        var last = await Step(secretariat, "disseminate", "--units", "31", "--lang", "en");

        Assert.Equal(1, JsonDocument.Parse(planned).RootElement.GetProperty("version").GetInt64());
        Assert.Equal((2, 2, 2), (badDay, badKind, badCount));
        Assert.Contains("--planned-date '31/12/2026' is not a day", badDayError, StringComparison.Ordinal);
        Assert.Contains("documents, personnel, organisation-service", badKindError, StringComparison.Ordinal);
        Assert.Contains("--members 'ba' is not a whole number", badCountError, StringComparison.Ordinal);
        Assert.Equal(2, empty);
        Assert.Contains("must not be empty", emptyError, StringComparison.Ordinal);
        Assert.Equal((1, 1, 1), (notMine, stale, early));
        Assert.Contains("(forbidden)", notMineError, StringComparison.Ordinal);
        Assert.Contains("(concurrency-conflict)", staleError, StringComparison.Ordinal);
        Assert.Contains("(congress-", earlyError, StringComparison.Ordinal);
        Assert.StartsWith("recorded disseminate for " + branch + ": version 18 (", last, StringComparison.Ordinal);
        var congress = await fixture.Http.GetFromJsonAsync<JsonElement>($"/api/campaigns/{campaign}/congresses/{branch}");
        var state = congress.GetProperty("state");
        Assert.Equal(18, congress.GetProperty("version").GetInt64());
        Assert.Equal("01-KH/CB", congress.GetProperty("planInForce").GetProperty("document").GetString());
        Assert.Equal(2, state.GetProperty("submissionRound").GetInt32());
        Assert.Equal(today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), state.GetProperty("convened").GetProperty("convenedOn").GetString());
        Assert.Equal("Lê Văn C", state.GetProperty("elections").GetProperty("secretary").GetString());
    }
}

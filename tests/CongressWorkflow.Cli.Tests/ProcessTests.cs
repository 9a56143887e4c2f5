using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Testing;

namespace CongressWorkflow.Cli.Tests;

/// <summary>The command line as an operator runs it: its own process, its exit code, its stdout and stderr.</summary>
public sealed class the_congress_process
{
    private static ProcessStartInfo StartInfo(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        DotnetProgram.StartInfo("congress.dll", args, ["CONGRESS_TOKEN", "CONGRESS_SERVER", "ConnectionStrings__Postgres"], environment);

    private static Task<(int ExitCode, string Output, string Error)> RunAsync(IReadOnlyDictionary<string, string>? environment, params string[] args) =>
        DotnetProgram.RunAsync(StartInfo(environment, args), TimeSpan.FromMinutes(2));

    /// <summary>A token with a line break (a pasted one, or an error message captured as one) is bad input, said before any request.</summary>
    [Theory]
    [InlineData("eyJhbGciOiJFUzI1NiJ9.e30.sig\nerror: no signing key")]
    [InlineData("eyJhbGciOiJFUzI1NiJ9 e30")]
    public async Task a_token_that_is_not_a_bearer_token_is_refused_with_a_message_not_a_stack_trace(string token)
    {
        // Nothing listens on port 9 of loopback: the token must be refused before the server is looked for.
        var (exitCode, output, error) = await RunAsync(new Dictionary<string, string> { ["CONGRESS_TOKEN"] = token, ["CONGRESS_SERVER"] = "http://127.0.0.1:9" },
            "report", "progress", "--root", "dang-bo-khoi-cqtw", "--campaign", "xiii");

        Assert.Equal(CongressCli.BadInput, exitCode);
        Assert.Equal(string.Empty, output);
        Assert.StartsWith("error: the token (--token or CONGRESS_TOKEN) is not a bearer token", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
    }

    [Fact]
    public Task up_starts_the_server_on_its_own_embedded_postgres_prints_a_working_token_and_stops_cleanly_on_sigterm() =>
        WithUpAsync("congress-up", async (up, settings, _) =>
        {
            var server = settings["CONGRESS_SERVER"];
            using var http = new HttpClient { BaseAddress = new Uri(server) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings["CONGRESS_TOKEN"]);
            var me = await http.GetFromJsonAsync<JsonElement>("/api/auth/me");

            // The other commands, each its own process, with the server and token from the environment as the line says.
            var (progress, progressJson, progressError) = await RunAsync(settings, "progress", DemoCampaign.Central, "--campaign", DemoCampaign.CampaignId,
                "--as-of", "2020-05-15", "--format", "json");
            var (text, table, _) = await RunAsync(settings, "progress", DemoCampaign.CentralBloc, "--campaign", DemoCampaign.CampaignId, "--as-of", "2020-05-15");
            var (badDay, badDayOutput, badDayError) = await RunAsync(settings, "progress", DemoCampaign.Central, "--campaign", DemoCampaign.CampaignId,
                "--as-of", "15/05/2020");
            var (refused, _, refusedError) = await RunAsync(settings, "step", "submit", DemoCampaign.ThaiBinh, "--campaign", DemoCampaign.CampaignId);
            var (help, helpOutput, _) = await RunAsync(settings, "step", "plan", "--help");
            var (noServer, _, noServerError) = await RunAsync(null, "projections", "--server", "http://127.0.0.1:9");

            Assert.Equal("trung-uong", me.GetProperty("organizationId").GetString());
            Assert.True(progress == 0, progressError);
            Assert.Equal(4, JsonDocument.Parse(progressJson).RootElement.GetProperty("report").GetProperty("levels").GetArrayLength());
            // Piped, the report is plain text, its rows whole (not folded to 80 columns), as a script or a file wants it.
            Assert.Equal(0, text);
            Assert.True(table.Contains("│ 3/5 tổ chức cơ sở đảng (60,00%) ", StringComparison.Ordinal), table);
            Assert.DoesNotContain("\u001b[", table, StringComparison.Ordinal);
            Assert.Equal(2, badDay);
            Assert.Contains("--as-of '15/05/2020' is not a day", badDayError, StringComparison.Ordinal);
            Assert.Empty(badDayOutput);
            Assert.Equal(1, refused);
            Assert.Contains("(forbidden)", refusedError, StringComparison.Ordinal);
            Assert.Equal(0, help);
            Assert.Contains("--planned-date", helpOutput, StringComparison.Ordinal);
            Assert.DoesNotContain(settings["CONGRESS_TOKEN"], helpOutput, StringComparison.Ordinal);
            Assert.Equal(2, noServer);
            Assert.Contains("cannot reach the CongressWorkflow server", noServerError, StringComparison.Ordinal);

            Terminate(up);
        });

    /// <summary>
    /// `up` on a fresh folder, serving while <paramref name="serving"/> runs with its sign-in settings (it ends with
    /// SIGTERM); then up must have exited 0 and stopped its embedded PostgreSQL.
    /// </summary>
    private static async Task WithUpAsync(string name, Func<Process, Dictionary<string, string>, string, Task> serving)
    {
        var folder = TestCluster.NewClusterFolder(name);
        using var up = Process.Start(StartInfo(null, "up", "--port", "0", "--data", folder))!;
        var serverLog = up.StandardError.ReadToEndAsync();
        try
        {
            await serving(up, await SignInAsync(up, serverLog), folder);
            using var stopping = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            await up.WaitForExitAsync(stopping.Token);
            Assert.True(up.ExitCode == 0, $"exit {up.ExitCode}: {await serverLog}");
            Assert.False(File.Exists(Path.Combine(folder, "pgdata", "postmaster.pid")), "the embedded PostgreSQL was left running");
        }
        finally
        {
            if (!up.HasExited)
            {
                up.Kill(entireProcessTree: true);
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    private static void Terminate(Process up) =>
        Process.Start("kill", ["-TERM", up.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();

    /// <summary>What `up` prints on its export line (CONGRESS_SERVER, CONGRESS_TOKEN), once it is serving.</summary>
    private static async Task<Dictionary<string, string>> SignInAsync(Process up, Task<string> serverLog)
    {
        string? exportLine = null;
        using (var waiting = new CancellationTokenSource(TimeSpan.FromMinutes(3)))
        {
            while (exportLine is null && await up.StandardOutput.ReadLineAsync(waiting.Token) is { } line)
            {
                exportLine = line.StartsWith("export ", StringComparison.Ordinal) ? line : null;
            }
        }

        Assert.True(exportLine is not null, "up printed no sign-in line: " + (up.HasExited ? await serverLog : "(still running)"));
        return exportLine!["export ".Length..].Split(' ').Select(pair => pair.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
    }

    /// <summary>
    /// SIGTERM while a request is still being answered (held here by a lock on the events): the server finishes it before
    /// it stops, however long past two seconds, then stops its PostgreSQL and exits 0. (System.CommandLine's own handling
    /// gave up after two seconds and exited with 143, or 134 when the runtime went down under the stopping host.)
    /// </summary>
    [Fact]
    public Task up_stops_cleanly_on_sigterm_after_a_request_in_flight_that_takes_longer_than_two_seconds() =>
        WithUpAsync("congress-up-slow", async (up, settings, folder) =>
        {
            var port = File.ReadLines(Path.Combine(folder, "pgdata", "postmaster.pid")).ElementAt(3);
            await using var database = new Npgsql.NpgsqlConnection(
                $"Host=127.0.0.1;Port={port};Username=postgres;Password={(await File.ReadAllTextAsync(Path.Combine(folder, "password"))).Trim()};Database=congress");
            await database.OpenAsync();
            var holding = await database.BeginTransactionAsync();
            await using (var lockEvents = new Npgsql.NpgsqlCommand("LOCK TABLE event_store.events IN ACCESS EXCLUSIVE MODE", database, holding))
            {
                await lockEvents.ExecuteNonQueryAsync();
            }

            using var http = new HttpClient { BaseAddress = new Uri(settings["CONGRESS_SERVER"]) };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", settings["CONGRESS_TOKEN"]);
            var status = http.GetAsync("/api/store/status");
            await Task.Delay(TimeSpan.FromSeconds(1));

            Terminate(up);
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.False(up.HasExited, $"the server was gone four seconds after SIGTERM, its request unanswered (exit {(up.HasExited ? up.ExitCode : 0)})");
            await holding.RollbackAsync();
            var answered = await Task.WhenAny(status, Task.Delay(TimeSpan.FromSeconds(30))) == status && !status.IsFaulted ? (await status).StatusCode : (HttpStatusCode?)null;
            await database.CloseAsync();
            Assert.Equal(HttpStatusCode.OK, answered);
        });

    [Fact]
    public async Task up_refuses_an_embedded_postgres_setting_it_cannot_pass_with_a_message_and_exit_code_2()
    {
        var folder = TestCluster.NewClusterFolder("congress-up-settings");

        var (exitCode, output, error) = await RunAsync(new Dictionary<string, string> { ["Postgres__Settings__listen_addresses"] = "*" },
            "up", "--port", "0", "--data", folder);

        Assert.Equal(CongressCli.BadInput, exitCode);
        Assert.DoesNotContain("CONGRESS_TOKEN", output, StringComparison.Ordinal);
        Assert.Contains("error: the database could not be started or reached: Postgres:Settings refused: 'listen_addresses' is set by the program itself",
            error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(folder), "a refused setting still made the data folder");
    }

    [Fact]
    public async Task db_migrate_brings_an_empty_database_up_to_date_once_and_refuses_a_bad_connection()
    {
        var database = await TestCluster.CreateDatabaseAsync("db-migrate");

        var (first, firstOutput, firstError) = await RunAsync(null, "db", "migrate", "--connection", database);
        var (second, secondOutput, _) = await RunAsync(new Dictionary<string, string> { ["ConnectionStrings__Postgres"] = database }, "db", "migrate");
        var (missing, _, missingError) = await RunAsync(null, "db", "migrate");
        var (bad, _, badError) = await RunAsync(null, "db", "migrate", "--connection", "Host=127.0.0.1;Port=9;Database=x;Username=x;Timeout=2");

        Assert.True(first == 0, firstError);
        Assert.Contains("applied event_store", firstOutput, StringComparison.Ordinal);
        Assert.Contains("migration(s) applied; the schema is up to date", firstOutput, StringComparison.Ordinal);
        Assert.Equal(0, second);
        Assert.Contains("the schema was up to date", secondOutput, StringComparison.Ordinal);
        Assert.Equal(2, missing);
        Assert.Contains("--connection", missingError, StringComparison.Ordinal);
        Assert.Equal(2, bad);
        Assert.Contains("cannot migrate that database", badError, StringComparison.Ordinal);
    }
}

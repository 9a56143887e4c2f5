using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CongressWorkflow.Engine.Demo;
using CongressWorkflow.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using CongressWorkflow.Server.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace CongressWorkflow.Server.Tests;

public sealed class hosting_the_server
{
    [Fact]
    public async Task without_a_connection_string_it_runs_its_own_postgres_and_stops_it_on_shutdown()
    {
        var folder = TestCluster.NewClusterFolder("server-embedded");
        int port;
        await using (var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "",
            ["Postgres:DataDirectory"] = folder,
            ["Urls"] = "http://127.0.0.1:0",
        }))
        {
            await server.App.StartAsync();
            // The server made its signing key on first run and keeps it with its data.
            var key = Path.Combine(folder, "signing-key.pem");
            Assert.True(File.Exists(key), "the signing key should be created in the data folder");
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
            }

            using var http = new HttpClient
            {
                BaseAddress = server.BaseAddress,
                DefaultRequestHeaders = { Authorization = new("Bearer", new CongressWorkflow.Access.TokenIssuer(CongressWorkflow.Access.LocalSigningKey.Load(key)).Issue("ops", "trung-uong", "admin")) },
            };
            var status = await http.GetFromJsonAsync<JsonElement>("/api/store/status");
            Assert.Equal("embedded", status.GetProperty("database").GetProperty("mode").GetString());
            Assert.StartsWith(folder, status.GetProperty("database").GetProperty("dataDirectory").GetString(), StringComparison.Ordinal);
            port = status.GetProperty("database").GetProperty("port").GetInt32();
            Assert.True(File.Exists(Path.Combine(folder, "pgdata", "postmaster.pid")));
        }

        Assert.False(File.Exists(Path.Combine(folder, "pgdata", "postmaster.pid")), "the server should have stopped PostgreSQL");
        Assert.True(File.Exists(Path.Combine(folder, "pgdata", "PG_VERSION")), "the data stays for the next start");
        Assert.True(port > 0);
        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task a_statement_that_outlasts_the_command_timeout_is_a_503_that_says_so_not_an_unreachable_database()
    {
        // A statement held up past the connection string's command timeout (here by a lock the test keeps on the
        // organisations): the database is there, the statement was too slow. A Central amendment's conflicts read did
        // this at 100,000 organisations and was reported as "PostgreSQL is unreachable".
        var connectionString = await TestCluster.CreateDatabaseAsync("statement-timeout");
        await using var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = connectionString + ";Command Timeout=1",
            ["Urls"] = "http://127.0.0.1:0",
            ["Demo:Load"] = "false",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
            ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("statement-timeout-files"),
        });
        await server.App.StartAsync();
        using var http = TestAuth.Client(server.BaseAddress, "admin", "trung-uong");
        (await http.PostAsJsonAsync("/api/organizations", new { id = "trung-uong", name = "Trung ương", level = "central" })).EnsureSuccessStatusCode();

        HttpResponseMessage slow;
        await using (var holder = new Npgsql.NpgsqlConnection(connectionString))
        {
            await holder.OpenAsync();
            await using var transaction = await holder.BeginTransactionAsync();
            await using (var lockTable = new Npgsql.NpgsqlCommand("LOCK TABLE congress.organizations IN ACCESS EXCLUSIVE MODE", holder, transaction))
            {
                await lockTable.ExecuteNonQueryAsync();
            }

            slow = await http.GetAsync("/api/organizations/trung-uong");
        }

        var problem = await slow.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, slow.StatusCode);
        Assert.Equal("database-timeout", problem.GetProperty("code").GetString());
        Assert.Contains("command timeout", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("5", slow.Headers.RetryAfter?.ToString());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/organizations/trung-uong")).StatusCode);
    }

    [Fact]
    public async Task while_postgres_is_down_every_endpoint_answers_503_with_retry_after_and_it_recovers_by_itself()
    {
        var folder = TestCluster.NewClusterFolder("outage");
        await using (var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = "",
            ["Postgres:DataDirectory"] = folder,
            ["Urls"] = "http://127.0.0.1:0",
            ["Demo:Load"] = "false",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
        }))
        {
            await server.App.StartAsync();
            using var http = TestAuth.Client(server.BaseAddress, "admin", "trung-uong");
            (await http.PostAsJsonAsync("/api/organizations", new { id = "trung-uong", name = "Trung ương", level = "central" })).EnsureSuccessStatusCode();
            var postgres = server.App.Services.GetRequiredService<CongressWorkflow.Server.Hosting.DatabaseSetup>().Embedded!;

            await postgres.StopAsync();
            var responses = new List<(string What, HttpResponseMessage Response)>
            {
                ("read", await http.GetAsync("/api/organizations/trung-uong")),
                ("list", await http.GetAsync("/api/campaigns")),
                ("command", await http.PostAsJsonAsync("/api/campaigns", new { id = "xiii", name = "Đại hội XIII", directive = "35-CT/TW", termStart = 2020, termEnd = 2025, branchTermEnd = 2022 })),
                ("ready", await http.GetAsync("/health/ready")),
            };
            var live = await http.GetAsync("/health/live");
            await postgres.StartAsync();

            foreach (var (what, response) in responses)
            {
                Assert.True(response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable, $"{what}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Assert.Equal("5", response.Headers.RetryAfter?.ToString());
            }

            Assert.Equal("database-unavailable", (await responses[0].Response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
            Assert.Equal(System.Net.HttpStatusCode.OK, live.StatusCode);
            var deadline = DateTime.UtcNow.AddSeconds(30);
            HttpResponseMessage after;
            while (!(after = await http.GetAsync("/api/organizations/trung-uong")).IsSuccessStatusCode)
            {
                Assert.True(DateTime.UtcNow < deadline, $"the server did not recover: {(int)after.StatusCode}");
                await Task.Delay(200);
            }

            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/health/ready")).StatusCode);
        }

        Directory.Delete(folder, recursive: true);
    }

    [Fact]
    public async Task with_an_identity_providers_key_set_its_tokens_are_taken_and_locally_signed_ones_are_not()
    {
        using var providerKey = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var signingKey = new Microsoft.IdentityModel.Tokens.ECDsaSecurityKey(providerKey) { KeyId = "idp-1" };
        var jwk = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromECDsaSecurityKey(signingKey);
        var keySet = Path.Combine(Path.GetTempPath(), $"cw-jwks-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(keySet, JsonSerializer.Serialize(new
        {
            keys = new[] { new { kty = jwk.Kty, crv = jwk.Crv, x = jwk.X, y = jwk.Y, kid = jwk.Kid, use = "sig", alg = "ES256" } },
        }));
        try
        {
            await using var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
            {
                ["ConnectionStrings:Postgres"] = await TestCluster.CreateDatabaseAsync("identity-provider"),
                ["Urls"] = "http://127.0.0.1:0",
                ["Demo:Load"] = "false",
                ["Auth:KeySetFile"] = keySet,
                ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("server-files"),
                ["Auth:Issuer"] = "https://idp.example",
            });
            await server.App.StartAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            var fromProvider = new CongressWorkflow.Access.TokenIssuer(signingKey, issuer: "https://idp.example").Issue("nguyen.van.a", "trung-uong", "monitor");
            var wrongIssuer = new CongressWorkflow.Access.TokenIssuer(signingKey, issuer: "https://other.example").Issue("x", "trung-uong", "monitor");

            using var me = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me") { Headers = { Authorization = new("Bearer", fromProvider) } };
            var accepted = await http.SendAsync(me);
            using var local = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me") { Headers = { Authorization = TestAuth.Bearer("admin", "trung-uong") } };
            var refused = await http.SendAsync(local);
            using var other = new HttpRequestMessage(HttpMethod.Get, "/api/auth/me") { Headers = { Authorization = new("Bearer", wrongIssuer) } };
            var otherIssuer = await http.SendAsync(other);
            var demoUsers = await http.GetAsync("/api/auth/demo-users");

            Assert.Equal(System.Net.HttpStatusCode.OK, accepted.StatusCode);
            Assert.Equal("nguyen.van.a", (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("user").GetString());
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal("token-invalid", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("code").GetString());
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, otherIssuer.StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.NotFound, demoUsers.StatusCode);
        }
        finally
        {
            File.Delete(keySet);
        }
    }

    [Fact]
    public async Task a_server_disposed_in_the_same_process_leaves_the_others_hangfire_working()
    {
        Dictionary<string, string?> Settings(string name) => new()
        {
            ["ConnectionStrings:Postgres"] = TestCluster.CreateDatabaseAsync(name).GetAwaiter().GetResult(),
            ["Urls"] = "http://127.0.0.1:0",
            ["Demo:Load"] = "false",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
            ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("server-files"),
        };
        await using var survivor = await CongressServer.CreateAsync([], Settings("hangfire-survivor"));
        await survivor.App.StartAsync();
        // The later server is the one whose services Hangfire's static configuration saw last.
        await using (var disposed = await CongressServer.CreateAsync([], Settings("hangfire-disposed")))
        {
            await disposed.App.StartAsync();
        }

        using var http = TestAuth.Client(survivor.BaseAddress, "admin", "trung-uong");
        var triggered = await http.PostAsync("/api/deadlines/sweep/trigger", null);

        Assert.True(triggered.StatusCode == System.Net.HttpStatusCode.Accepted, $"{(int)triggered.StatusCode} {await triggered.Content.ReadAsStringAsync()}");
    }

    [Fact]
    public async Task one_command_over_http_is_one_trace_from_the_request_to_its_sql_exported_over_otlp()
    {
        var traces = new ConcurrentBag<byte[]>();
        var signals = new ConcurrentBag<string>();
        var collector = WebApplication.CreateBuilder();
        collector.WebHost.UseUrls("http://127.0.0.1:0");
        await using var collectorApp = collector.Build();
        collectorApp.MapPost("/v1/{signal}", async (string signal, HttpRequest request) =>
        {
            using var body = new MemoryStream();
            await request.Body.CopyToAsync(body);
            signals.Add(signal);
            if (signal == "traces")
            {
                traces.Add(body.ToArray());
            }

            return Results.Ok();
        });
        await collectorApp.StartAsync();

        string traceId, callerSpanId;
        await using (var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = await TestCluster.CreateDatabaseAsync("otlp"),
            ["Urls"] = "http://127.0.0.1:0",
            ["Telemetry:OtlpEndpoint"] = collectorApp.Urls.First(),
            ["Demo:Load"] = "false",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
            ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("server-files"),
        }))
        {
            await server.App.StartAsync();
            using var http = new HttpClient { BaseAddress = server.BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/campaigns")
            {
                Content = JsonContent.Create(new { id = "xiii", name = "Đại hội XIII", directive = "35-CT/TW", termStart = 2020, termEnd = 2025, branchTermEnd = 2022 }),
            };
            request.Headers.Authorization = TestAuth.Bearer("admin", "trung-uong");
            // The test's own trace: other tests in this process run commands too, and the exporter hears every one of them.
            using var caller = new System.Diagnostics.Activity("otlp-test").Start();
            (traceId, callerSpanId) = (caller.TraceId.ToHexString(), caller.SpanId.ToHexString());
            (await http.SendAsync(request)).EnsureSuccessStatusCode();
        }

        // Disposing the server flushes its exporters.
        var trace = traces.SelectMany(OtlpSpans.Parse).Where(s => s.TraceId == traceId).ToList();
        var command = Assert.Single(trace, s => s.Name == "command.start-campaign");
        // The caller's own HttpClient call (this test's, in the same process) is the first exported span and the server continues it.
        var client = Assert.Single(trace, s => s.ParentSpanId == callerSpanId);
        Assert.Equal("System.Net.Http", client.Scope);
        var serverRequest = Assert.Single(trace, s => s.Scope == "Microsoft.AspNetCore");
        Assert.StartsWith("POST", serverRequest.Name, StringComparison.Ordinal);
        Assert.Equal(client.SpanId, serverRequest.ParentSpanId);
        Assert.Equal(serverRequest.SpanId, command.ParentSpanId);
        var append = Assert.Single(trace, s => s.Name == "eventstore.append");
        Assert.Equal(command.SpanId, append.ParentSpanId);
        Assert.Contains(trace, s => s.Scope == "Npgsql" && s.ParentSpanId == append.SpanId);
        Assert.Contains("metrics", signals);
    }

    [Fact]
    public async Task with_a_replica_configured_the_reports_read_from_it_and_say_how_far_behind_it_is()
    {
        // The replica here is the primary under another application name (a standby is started by ops/topology): what is
        // checked is that the reports go through the replica's connection, and that the API reports its lag.
        var primary = await TestCluster.CreateDatabaseAsync("replica-reads");
        var replica = new Npgsql.NpgsqlConnectionStringBuilder(primary) { ApplicationName = "cw-replica-reads" }.ConnectionString;
        await using var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = primary,
            ["ConnectionStrings:PostgresReplica"] = replica,
            ["Urls"] = "http://127.0.0.1:0",
            ["Notifications:Deliver"] = "false",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
            ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("replica-files"),
        });
        await server.App.StartAsync();
        using var http = TestAuth.Client(server.BaseAddress, "admin", DemoCampaign.Central);

        var report = await http.GetAsync($"/api/campaigns/{DemoCampaign.CampaignId}/progress/{DemoCampaign.Ministry}?asOf=2020-07-31");
        var lag = await http.GetFromJsonAsync<JsonElement>("/api/replica");
        await using var activity = Npgsql.NpgsqlDataSource.Create(primary);
        await using var readers = activity.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'cw-replica-reads'");
        // The replica's connections are opened the product's one way, as the primary's are (JIT off among its settings).
        var replicaSource = server.App.Services.GetRequiredService<CongressWorkflow.Server.Hosting.ReadReplica>().DataSource!;
        await using var jit = replicaSource.CreateCommand("SHOW jit");

        Assert.Equal(HttpStatusCode.OK, report.StatusCode);
        Assert.Equal("0", report.Headers.GetValues("X-Replica-Lag").Single());
        Assert.True(lag.GetProperty("configured").GetBoolean());
        Assert.False(lag.GetProperty("inRecovery").GetBoolean());
        Assert.True((long)(await readers.ExecuteScalarAsync())! > 0);
        Assert.Equal("off", await jit.ExecuteScalarAsync());
    }

    [Fact]
    public async Task two_nodes_starting_together_on_an_empty_database_load_the_demo_once()
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = await TestCluster.CreateDatabaseAsync("two-starts"),
            ["Urls"] = "http://127.0.0.1:0",
            ["Projections:Run"] = "false",
            ["Notifications:Deliver"] = "false",
            ["Auth:SigningKeyFile"] = TestAuth.KeyFile,
            ["Postgres:DataDirectory"] = TestCluster.NewClusterFolder("server-files"),
        };

        var nodes = await Task.WhenAll(CongressServer.CreateAsync([], settings), CongressServer.CreateAsync([], settings));
        try
        {
            var store = (CongressWorkflow.EventStore.PostgresEventStore)nodes[0].App.Services.GetService(typeof(CongressWorkflow.EventStore.PostgresEventStore))!;
            await using var count = store.DataSource.CreateCommand("SELECT count(*) FROM event_store.events WHERE event_type = 'campaign.started'");
            Assert.Equal(1L, (long)(await count.ExecuteScalarAsync())!);
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    /// <summary>
    /// SIGTERM (systemd's stop, Ctrl+C in ops/run) stops the program cleanly: its telemetry flushed, then the host, then
    /// its cluster. It used to run the host to its end, which disposed the host itself, so the flush after it met a
    /// disposed container: the program died of that exception with its cluster left running.
    /// </summary>
    [Fact]
    public async Task sigterm_stops_the_server_program_and_its_cluster_with_exit_code_zero()
    {
        var folder = TestCluster.NewClusterFolder("sigterm");
        var pidFile = Path.Combine(folder, "pgdata", "postmaster.pid");
        var log = new System.Text.StringBuilder();
        using var server = await StartServerProcessAsync(folder, log);
        Assert.True(File.Exists(pidFile));

        System.Diagnostics.Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
        using (var stopping = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
        {
            await server.WaitForExitAsync(stopping.Token);
        }

        Assert.True(server.ExitCode == 0, $"exit code {server.ExitCode}:\n{log}");
        Assert.DoesNotContain("Unhandled exception", log.ToString(), StringComparison.Ordinal);
        // Stopped by the program itself, not later by its watchdog (which polls once a second once the program is gone).
        Assert.False(File.Exists(pidFile), "the program stops its cluster before it exits");
    }

    [Fact]
    public async Task a_cluster_orphaned_by_a_killed_server_and_watchdog_is_taken_over_and_stopped_by_the_next_one()
    {
        var folder = TestCluster.NewClusterFolder("orphan");
        var pidFile = Path.Combine(folder, "pgdata", "postmaster.pid");
        try
        {
            using (var first = await StartServerProcessAsync(folder, new System.Text.StringBuilder()))
            {
                // The server and its watchdog (a child process) die together; PostgreSQL, daemonised by pg_ctl, lives on.
                Assert.Single(WatchdogsOf(Path.GetDirectoryName(pidFile)!));
                first.Kill(entireProcessTree: true);
                await first.WaitForExitAsync();
            }

            // Nothing is left that would stop the cluster: no watchdog of this folder's cluster survived the kill.
            var clusterFolder = Path.GetDirectoryName(pidFile)!;
            var gone = DateTime.UtcNow.AddSeconds(10);
            while (WatchdogsOf(clusterFolder).Count > 0)
            {
                Assert.True(DateTime.UtcNow < gone, "a watchdog outlived the server killed with its process tree");
                await Task.Delay(50);
            }

            Assert.True(File.Exists(pidFile), "the cluster should have been left running, orphaned");

            await using (var next = await CongressWorkflow.Embedded.EmbeddedPostgres.StartAsync(folder))
            {
                Assert.True(next.OwnsServer, "the next program should take over the orphaned cluster");
                await using var dataSource = Npgsql.NpgsqlDataSource.Create(await next.EnsureDatabaseAsync("postgres"));
                await using var probe = dataSource.CreateCommand("SELECT '1'");
                Assert.Equal("1", await probe.ExecuteScalarAsync());
            }

            Assert.False(File.Exists(pidFile), "the program that took over stops the cluster when it is done");
        }
        finally
        {
            if (File.Exists(pidFile))
            {
                // Left running (the test failed): stop it as the postgres user, as the embedded runner does.
                var stop = new System.Diagnostics.ProcessStartInfo("runuser") { UseShellExecute = false };
                foreach (var argument in new[] { "-u", "postgres", "--", CongressWorkflow.Embedded.PostgresBinaries.Locate().PgCtl, "stop", "-D",
                    Path.GetDirectoryName(pidFile)!, "-m", "fast", "-w" })
                {
                    stop.ArgumentList.Add(argument);
                }

                using var stopping = System.Diagnostics.Process.Start(stop)!;
                await stopping.WaitForExitAsync();
            }

            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// The server program as ops/run starts it (its own process, an embedded cluster in the folder, no demo), once it
    /// answers; what it writes goes to <paramref name="log"/>.
    /// </summary>
    private static async Task<System.Diagnostics.Process> StartServerProcessAsync(string folder, System.Text.StringBuilder log)
    {
        var port = Loopback.FreePort();
        var server = DotnetProgram.Start(DotnetProgram.StartInfo("CongressWorkflow.Server.dll",
        [
            "--ConnectionStrings:Postgres=", $"--Postgres:DataDirectory={folder}", $"--Urls=http://127.0.0.1:{port}", "--Demo:Load=false",
            "--Hangfire:Server=false", "--Notifications:Deliver=false", "--Projections:Run=false", $"--Auth:SigningKeyFile={TestAuth.KeyFile}",
        ], removed: []), log);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (!await AnswersAsync(http))
        {
            Assert.True(DateTime.UtcNow < deadline, $"the server did not come up:\n{log}");
            await Task.Delay(200);
        }

        return server;
    }

    /// <summary>The processes whose command line stops the cluster in that folder when their owner is gone (the embedded runner's watchdog).</summary>
    private static List<int> WatchdogsOf(string clusterFolder)
    {
        var stops = $"stop -D '{clusterFolder}'";
        var found = new List<int>();
        foreach (var process in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(process), out var pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(process, "cmdline")).Contains(stops, StringComparison.Ordinal))
                    {
                        found.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // gone between the listing and the read
                }
                catch (UnauthorizedAccessException)
                {
                    // not ours to read
                }
            }
        }

        return found;
    }

    private static async Task<bool> AnswersAsync(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/health")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }
}

/// <summary>The checkpoint archive's retention as configured.</summary>
public sealed class the_checkpoint_retention_setting
{
    private static CongressWorkflow.Integrity.CheckpointRetention From(params (string Key, string Value)[] settings) =>
        CheckpointRetentionSetting.From(new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build());

    [Fact]
    public void defaults_to_a_day_whole_and_a_month_daily_and_refuses_a_window_that_makes_no_sense()
    {
        Assert.Equal(CongressWorkflow.Integrity.CheckpointRetention.Default, From());
        Assert.Equal(new CongressWorkflow.Integrity.CheckpointRetention(TimeSpan.FromDays(7), TimeSpan.FromDays(90)),
            From(("Audit:CheckpointKeepAll", "7.00:00:00"), ("Audit:CheckpointKeepDaily", "90.00:00:00")));
        var shorter = Assert.Throws<SettingException>(() => From(("Audit:CheckpointKeepAll", "2.00:00:00"), ("Audit:CheckpointKeepDaily", "1.00:00:00")));
        Assert.Contains("must not be shorter", shorter.Message, StringComparison.Ordinal);
        Assert.Throws<SettingException>(() => From(("Audit:CheckpointKeepAll", "-01:00:00")));
    }

    /// <summary>A retention the server cannot run with is refused before its embedded PostgreSQL is started (it was refused after, with the demo loaded).</summary>
    [Fact]
    public async Task a_server_given_a_retention_that_makes_no_sense_starts_nothing()
    {
        var folder = TestCluster.NewClusterFolder("server-bad-retention");

        var refused = await Assert.ThrowsAsync<SettingException>(() => CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["Urls"] = "http://127.0.0.1:0",
            ["Postgres:DataDirectory"] = folder,
            ["Audit:CheckpointKeepDaily"] = "12:00:00",
        }));

        Assert.Contains("Audit:CheckpointKeepDaily (12:00:00) must not be shorter", refused.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(folder, "pgdata")), "a cluster was made");
    }
}

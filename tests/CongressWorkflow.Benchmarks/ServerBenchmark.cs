using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using CongressWorkflow.Access;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Server;
using Npgsql;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace CongressWorkflow.Benchmarks;

/// <summary>
/// The server at national scale, over HTTP: the rollup benchmark's tree (~300,000 units at scale 1) imported through
/// POST /api/organizations/import, a campaign with the blocs' and committees' plans, then: command round trips (a branch
/// plan, IssuePlan with its facts read in its transaction) at a steady rate, timed from when each was due to be sent
/// (so a slow answer delays no later measurement); the baseline is GET /health/live on the same server in the same run;
/// and a bloc's dashboard in headless Chromium, from navigation to its first paint and to every panel filled.
/// </summary>
public static class ServerBenchmark
{
    private const string Campaign = "xiii";

    public static async Task RunAsync(string connectionString, double scale, int rate, TimeSpan measured)
    {
        var load = new SteadyLoad(rate, measured < TimeSpan.FromSeconds(10) ? measured : TimeSpan.FromSeconds(10), measured);
        var tree = RollupBenchmark.Tree(scale);
        var branches = tree.Where(u => u.Level == OrganizationLevel.Branch).Select(u => u.Id).ToList();
        if (branches.Count < load.Requests)
        {
            throw new ArgumentException($"the steady load plans {load.Requests:N0} branches, one a request, and the tree at scale {scale} has {branches.Count:N0}: " +
                                        "raise --scale or lower --rate or --seconds");
        }

        var folder = Path.Combine(Path.GetTempPath(), $"cw-bench-server-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        var keyFile = Path.Combine(folder, "signing-key.pem");
        await using var server = await CongressServer.CreateAsync([], new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = connectionString,
            ["Urls"] = "http://127.0.0.1:0",
            ["Demo:Load"] = "false",
            ["Auth:SigningKeyFile"] = keyFile,
            ["Postgres:DataDirectory"] = folder,
            ["Logging:LogLevel:Default"] = "Warning",
        });
        await server.App.StartAsync();
        var tokens = new TokenIssuer(LocalSigningKey.LoadOrCreate(keyFile));
        using var admin = Client(server.BaseAddress, tokens.Issue("bench", "tw", Roles.Admin));
        using var committee = Client(server.BaseAddress, tokens.Issue("bench", "tw", Roles.Committee));

        var watch = Stopwatch.StartNew();
        using (var import = await admin.PostAsync("/api/organizations/import", new StringContent(Csv(tree), Encoding.UTF8, "text/csv")))
        {
            import.EnsureSuccessStatusCode();
        }

        Console.WriteLine($"Server at scale {scale}: imported {tree.Count:N0} organisations over HTTP in {watch.Elapsed.TotalSeconds:N1} s");
        (await admin.PostAsJsonAsync("/api/campaigns", new
        {
            id = Campaign, name = "Đại hội XIII", directive = "35-CT/TW", termStart = 2020, termEnd = 2025, branchTermEnd = 2022,
        })).EnsureSuccessStatusCode();

        // The blocs' and committees' plans, top down, four at a time: the facts the branches' plans are checked against.
        watch.Restart();
        var upper = tree.Where(u => u.Level is OrganizationLevel.Bloc or OrganizationLevel.Ministry).ToList();
        foreach (var level in upper.GroupBy(u => u.Level))
        {
            await Parallel.ForEachAsync(level, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (unit, _) =>
                (await committee.PostAsJsonAsync(PlanPath(unit.Id), Plan(unit.Level))).EnsureSuccessStatusCode());
        }

        Console.WriteLine($"planned {upper.Count:N0} blocs and committees in {watch.Elapsed.TotalSeconds:N1} s ({upper.Count / watch.Elapsed.TotalSeconds:N0} commands/s, 4 clients)");
        await CaughtUpAsync(admin);

        var next = -1;
        Console.WriteLine();
        Console.WriteLine($"{$"over HTTP, {rate} requests/s for {measured.TotalSeconds:N0} s",-44} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8} {"errors",7}");
        await SteadyAsync("GET /health/live (baseline)", load, admin, http => http.GetAsync("/health/live"));
        await SteadyAsync("POST …/congresses/{branch}/plan", load, committee, http =>
            http.PostAsJsonAsync(PlanPath(branches[Interlocked.Increment(ref next)]), Plan(OrganizationLevel.Branch)));
        Console.WriteLine($"process RSS after the load (server and load generator in one process): {Process.GetCurrentProcess().WorkingSet64 / 1024 / 1024:N0} MB");

        await CaughtUpAsync(admin);
        await DashboardAsync(server.BaseAddress, tokens.Issue("bench", "tw", Roles.Monitor), "khoi-00", tree.Count(u => u.Id.StartsWith("khoi-00-", StringComparison.Ordinal)));
        await using (var dataSource = NpgsqlDataSource.Create(connectionString))
        await using (var size = dataSource.CreateCommand("SELECT pg_size_pretty(pg_database_size(current_database()))"))
        {
            Console.WriteLine($"database size: {await size.ExecuteScalarAsync()}");
        }
    }

    private static HttpClient Client(Uri server, string token)
    {
        var http = new HttpClient { BaseAddress = server, Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static string Csv(IEnumerable<RollupBenchmark.Unit> tree)
    {
        var csv = new StringBuilder("id,name,level,sector,parent_id\n");
        foreach (var u in tree)
        {
            var level = JsonNamingPolicy.KebabCaseLower.ConvertName(u.Level.ToString());
            var sector = u.Level is OrganizationLevel.Central or OrganizationLevel.Bloc ? "" : "state-management";
            csv.Append($"{u.Id},{u.Name},{level},{sector},{u.Parent}\n");
        }

        return csv.ToString();
    }

    private static string PlanPath(string organization) => $"/api/campaigns/{Campaign}/congresses/{organization}/plan";

    /// <summary>Windows that nest: blocs by October 2020 (their units by August), committees by July (theirs by June), branches by April.</summary>
    private static object Plan(OrganizationLevel level) => level switch
    {
        OrganizationLevel.Bloc => new
        {
            document = "155-KH/ĐUK", issuedOn = "2019-11-15", plannedDate = "2020-10-20", window = new { start = "2020-10-01", end = "2020-10-31" },
            subordinateWindow = new { start = "2020-01-01", end = "2020-08-31" },
        },
        OrganizationLevel.Ministry => new
        {
            document = "681-KH/ĐUB", issuedOn = "2019-12-01", plannedDate = "2020-07-20", window = new { start = "2020-07-01", end = "2020-07-31" },
            subordinateWindow = new { start = "2020-01-01", end = "2020-06-30" },
        },
        _ => new { document = "01-KH/CB", issuedOn = "2020-01-05", plannedDate = "2020-03-15", window = new { start = "2020-01-10", end = "2020-04-30" } },
    };

    /// <summary>Requests a second, sent for the warm-up and then measured for the rest.</summary>
    private sealed record SteadyLoad(int Rate, TimeSpan WarmUp, TimeSpan Measured)
    {
        public TimeSpan Total => WarmUp + Measured;

        public int Requests => (int)Math.Ceiling(Total.TotalSeconds * Rate);
    }

    /// <summary>
    /// Requests sent at a fixed rate, each timed from when it was due. A failed request fails the benchmark (after its
    /// line is printed): figures of requests that were refused would measure nothing.
    /// </summary>
    private static async Task SteadyAsync(string label, SteadyLoad load, HttpClient http, Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        var interval = TimeSpan.FromSeconds(1.0 / load.Rate);
        var latencies = new List<double>();
        var errors = 0;
        string? firstError = null;
        var started = Stopwatch.GetTimestamp();
        var inFlight = new List<Task>();
        for (var i = 0; ; i++)
        {
            var due = interval * i;
            if (due >= load.Total)
            {
                break;
            }

            var wait = due - Stopwatch.GetElapsedTime(started);
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var measured = due >= load.WarmUp;
            inFlight.Add(Task.Run(async () =>
            {
                using var response = await send(http);
                var latency = (Stopwatch.GetElapsedTime(started) - due).TotalMilliseconds;
                var failure = response.IsSuccessStatusCode ? null : $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                lock (latencies)
                {
                    if (failure is not null)
                    {
                        errors++;
                        firstError ??= failure;
                    }
                    else if (measured)
                    {
                        latencies.Add(latency);
                    }
                }
            }));
        }

        await Task.WhenAll(inFlight);
        latencies.Sort();
        double At(double quantile) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(latencies.Count * quantile) - 1)];
        Console.WriteLine($"{label,-44} {At(0.50),8:N1} {At(0.95),8:N1} {At(0.99),8:N1} {latencies[^1],8:N1} {errors,7}");
        if (errors > 0)
        {
            throw new InvalidOperationException($"{label}: {errors:N0} request(s) failed, the first: {firstError}");
        }
    }

    private static async Task CaughtUpAsync(HttpClient admin)
    {
        while ((await admin.GetFromJsonAsync<JsonElement[]>("/api/projections"))!.Any(p => p.GetProperty("lag").GetInt64() > 0))
        {
            await Task.Delay(500);
        }
    }

    /// <summary>A bloc's dashboard in headless Chromium, five times after one warm-up: first contentful paint, and every panel filled (body[data-loaded]).</summary>
    private static async Task DashboardAsync(Uri server, string token, string bloc, int units)
    {
        var options = new ChromeOptions { BinaryLocation = "/usr/bin/chromium" };
        options.AddArguments("--headless", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400",
            $"--user-data-dir={Path.Combine(Path.GetTempPath(), "cw-bench-chrome-" + Environment.ProcessId)}");
        using var browser = new ChromeDriver(ChromeDriverService.CreateDefaultService("/usr/bin", "chromedriver"), options, TimeSpan.FromSeconds(120));
        browser.Navigate().GoToUrl(server);
        browser.ExecuteScript($"sessionStorage.setItem('congress-token', '{token}');");
        var firstPaints = new List<double>();
        var loads = new List<double>();
        for (var run = 0; run < 6; run++)
        {
            var started = Stopwatch.GetTimestamp();
            browser.Navigate().GoToUrl($"{server}#campaign={Campaign}&path={bloc}&asOf=2020-05-15");
            browser.Navigate().Refresh();
            while (browser.FindElement(By.TagName("body")).GetDomAttribute("data-loaded") != $"{bloc}@2020-05-15")
            {
                await Task.Delay(10);
            }

            var loaded = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var paint = Convert.ToDouble(browser.ExecuteScript(
                "return (performance.getEntriesByName('first-contentful-paint')[0] || { startTime: 0 }).startTime;"), System.Globalization.CultureInfo.InvariantCulture);
            if (run > 0)
            {
                firstPaints.Add(paint);
                loads.Add(loaded);
            }
        }

        firstPaints.Sort();
        loads.Sort();
        Console.WriteLine();
        Console.WriteLine($"dashboard of a bloc ({units:N0} units), headless Chromium, median of 5: first contentful paint {firstPaints[2]:N0} ms, " +
                          $"every panel filled {loads[2]:N0} ms (slowest {loads[^1]:N0} ms)");
    }
}

using CongressWorkflow.Benchmarks;
using CongressWorkflow.Embedded;

// Usage: dotnet run -c Release --project tests/CongressWorkflow.Benchmarks -- [append] [bulk] [rollups] [deadlines] [import] [server] [cascade]
//        [--scale 1.0] [--rate 50] [--seconds 60]
// Uses ConnectionStrings__Postgres when set, otherwise a temporary embedded cluster. --rate and --seconds are the server
// suite's steady load: requests a second, and how long it is measured (after a warm-up of up to ten seconds).
var suites = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal) && !double.TryParse(a, System.Globalization.CultureInfo.InvariantCulture, out _)).ToList();
double Option(string name, double fallback) =>
    Array.IndexOf(args, name) is var i and >= 0 ? double.Parse(args[i + 1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
var scale = Option("--scale", 1.0);
var rate = (int)Option("--rate", 50);
var seconds = Option("--seconds", 60);
if (!(scale > 0 && rate > 0 && seconds > 0))
{
    Console.Error.WriteLine("--scale, --rate and --seconds take numbers above zero");
    return 2;
}
if (suites.Count == 0)
{
    suites.Add("append");
}

var configured = Environment.GetEnvironmentVariable("ConnectionStrings__Postgres");
await using var embedded = string.IsNullOrWhiteSpace(configured)
    ? await EmbeddedPostgres.StartAsync(Path.Combine(Path.GetTempPath(), $"cw-bench-{Environment.ProcessId}"), temporary: true)
    : null;
var adminConnection = embedded is null ? configured! : embedded.ConnectionString("postgres");

foreach (var suite in suites)
{
    var database = $"bench_{suite}_{Environment.ProcessId}";
    var connectionString = embedded is not null ? await embedded.EnsureDatabaseAsync(database) : configured!;
    switch (suite)
    {
        case "append":
            await AppendBenchmark.RunAsync(connectionString, scale);
            break;
        case "bulk":
            await AppendBenchmark.RunBulkAsync(connectionString, scale);
            break;
        case "rollups":
            await RollupBenchmark.RunAsync(connectionString, scale);
            break;
        case "deadlines":
            await DeadlineBenchmark.RunAsync(connectionString, scale);
            break;
        case "import":
            await ImportBenchmark.RunAsync(connectionString, scale);
            break;
        case "server":
            await ServerBenchmark.RunAsync(connectionString, scale, rate, TimeSpan.FromSeconds(seconds));
            break;
        case "cascade":
            await CascadeBenchmark.RunAsync(connectionString, scale);
            break;
        default:
            Console.Error.WriteLine($"unknown suite '{suite}': use append, bulk, rollups, deadlines, import, server or cascade");
            return 2;
    }
}

Console.WriteLine($"(PostgreSQL at {new Npgsql.NpgsqlConnectionStringBuilder(adminConnection).Host}, {Environment.ProcessorCount} cores)");
return 0;

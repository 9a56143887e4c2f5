using CongressWorkflow.Benchmarks;
using CongressWorkflow.Embedded;

// Usage: dotnet run -c Release --project tests/CongressWorkflow.Benchmarks -- [append] [bulk] [rollups] [deadlines] [import] [server] [--scale 1.0] [--rate 50]
// Uses ConnectionStrings__Postgres when set, otherwise a temporary embedded cluster.
var suites = args.Where(a => !a.StartsWith("--", StringComparison.Ordinal) && !double.TryParse(a, System.Globalization.CultureInfo.InvariantCulture, out _)).ToList();
var scaleIndex = Array.IndexOf(args, "--scale");
var scale = scaleIndex >= 0 ? double.Parse(args[scaleIndex + 1], System.Globalization.CultureInfo.InvariantCulture) : 1.0;
var rateIndex = Array.IndexOf(args, "--rate");
var rate = rateIndex >= 0 ? int.Parse(args[rateIndex + 1], System.Globalization.CultureInfo.InvariantCulture) : 50;
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
            await ServerBenchmark.RunAsync(connectionString, scale, rate);
            break;
        default:
            Console.Error.WriteLine($"unknown suite '{suite}': use append, bulk, rollups, deadlines, import or server");
            return 2;
    }
}

Console.WriteLine($"(PostgreSQL at {new Npgsql.NpgsqlConnectionStringBuilder(adminConnection).Host}, {Environment.ProcessorCount} cores)");
return 0;

using System.Diagnostics;
using Xunit.Abstractions;

namespace CongressWorkflow.Server.Tests;

/// <summary>Runs alone, after the other classes: two servers loading the demo would otherwise starve them of the machine's two cores.</summary>
[CollectionDefinition(nameof(TopologyCollection), DisableParallelization = true)]
public sealed class TopologyCollection;

/// <summary>
/// The multi-machine topology on loopback, by the script an operator runs (ops/topology): a PostgreSQL primary, a hot
/// standby made with pg_basebackup, two server nodes reading their reports from the standby; then node-1 is killed.
/// </summary>
[Collection(nameof(TopologyCollection))]
public sealed class the_two_node_topology_with_a_replica(ITestOutputHelper output)
{
    private static string RepositoryRoot()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "CongressWorkflow.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("the repository root is above the test binaries");
        }

        return root;
    }

    /// <summary>
    /// The compose file cannot run here (no container engine). A hot standby refuses to start with fewer connections than
    /// its primary allows ("recovery aborted because of insufficient parameter settings"), and its postgresql.conf,
    /// copied by pg_basebackup, holds none of what the primary was given on its command line: the standby's command line
    /// must repeat it. It did not (300 on the primary, the default 100 on the standby).
    /// </summary>
    [Fact]
    public void the_compose_files_standby_is_started_with_the_primarys_connections_and_tuning()
    {
        var compose = File.ReadAllText(Path.Combine(RepositoryRoot(), "ops", "compose.yaml"));
        var primary = compose[compose.IndexOf("  postgres-primary:", StringComparison.Ordinal)..compose.IndexOf("  postgres-replica:", StringComparison.Ordinal)];
        var replica = compose[compose.IndexOf("  postgres-replica:", StringComparison.Ordinal)..compose.IndexOf("  server-1:", StringComparison.Ordinal)];

        static string? Connections(string service) =>
            System.Text.RegularExpressions.Regex.Match(service, @"max_connections=(\d+)") is { Success: true } m ? m.Groups[1].Value : null;
        Assert.Equal("300", Connections(primary));
        Assert.Equal(Connections(primary), Connections(replica));
        foreach (var service in new[] { primary, replica })
        {
            Assert.Contains("<<: *postgres-tuning", service, StringComparison.Ordinal);
            Assert.Contains("$$POSTGRES_TUNING", service, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task a_write_on_one_node_is_read_on_the_other_and_from_the_replica_and_the_survivor_takes_over_when_one_dies()
    {
        var root = RepositoryRoot();
        var start = new ProcessStartInfo("bash", ["ops/topology"])
        {
            WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true,
            Environment = { ["TOPOLOGY_CONFIGURATION"] = "Debug", ["TOPOLOGY_SKIP_BUILD"] = "1" },
        };
        using var script = Process.Start(start)!;
        var stdout = script.StandardOutput.ReadToEndAsync();
        var stderr = script.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await script.WaitForExitAsync(timeout.Token);
        output.WriteLine(await stdout);
        output.WriteLine(await stderr);

        Assert.True(script.ExitCode == 0, await stdout + await stderr);
        var log = await stdout;
        foreach (var check in new[]
                 {
                     "PASS a write through node-1 is read through node-2", "PASS the standby replayed every event", "PASS node-2's reports come from the standby",
                     "PASS node-2 serves reads and commands alone", "PASS node-2 took over every projection", "== all checks passed",
                 })
        {
            Assert.Contains(check, log, StringComparison.Ordinal);
        }
    }
}

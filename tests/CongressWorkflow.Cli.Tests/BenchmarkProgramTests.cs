using CongressWorkflow.Testing;

namespace CongressWorkflow.Cli.Tests;

/// <summary>
/// The benchmark program as a reader runs it for the README's figures (its own process, every suite), at a small scale:
/// its figures are not checked here, only that every suite still runs to the end. A suite that stopped working went
/// unseen before (the deadlines suite failed on a missing partition for several versions).
/// </summary>
public sealed class the_benchmark_program
{
    // Its own embedded cluster, as on a reader's machine, whatever the environment names.
    private static Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args) =>
        DotnetProgram.RunAsync(DotnetProgram.StartInfo("CongressWorkflow.Benchmarks.dll", args, ["ConnectionStrings__Postgres"]), TimeSpan.FromMinutes(8));

    [Fact]
    public async Task runs_every_suite_to_the_end_at_a_small_scale()
    {
        var (exitCode, output, error) = await RunAsync("append", "bulk", "rollups", "deadlines", "import", "server", "cascade", "--scale", "0.01", "--seconds", "2");

        Assert.True(exitCode == 0, $"exit code {exitCode}\n{output}\n{error}");
        Assert.Contains("1 event per transaction, 1 client(s)", output, StringComparison.Ordinal);
        Assert.Contains("events, new streams of", output, StringComparison.Ordinal);
        Assert.Contains("rebuild / raw read", output, StringComparison.Ordinal);
        Assert.Contains("Deadlines at scale 0.01", output, StringComparison.Ordinal);
        Assert.Contains("signed POSTs to a loopback receiver", output, StringComparison.Ordinal);
        Assert.Contains("import/COPY", output, StringComparison.Ordinal);
        Assert.Contains("POST …/congresses/{branch}/plan", output, StringComparison.Ordinal);
        Assert.Contains("dashboard of a bloc", output, StringComparison.Ordinal);
        Assert.Contains("cascade / batch, per plan", output, StringComparison.Ordinal);
        Assert.Contains("(PostgreSQL at ", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--scale", "0")]
    [InlineData("--seconds", "-1")]
    public async Task refuses_a_scale_rate_or_duration_that_is_not_above_zero(string option, string value)
    {
        var (exitCode, output, error) = await RunAsync("append", option, value);

        Assert.Equal(2, exitCode);
        Assert.Equal(string.Empty, output);
        Assert.Contains("take numbers above zero", error, StringComparison.Ordinal);
    }
}

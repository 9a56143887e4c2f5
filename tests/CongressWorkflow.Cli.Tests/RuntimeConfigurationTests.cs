using System.Text.Json;

namespace CongressWorkflow.Cli.Tests;

/// <summary>What the programs tell the .NET runtime as they are built (their runtimeconfig.json, read when they start).</summary>
public sealed class the_programs_runtime_configuration
{
    /// <summary>On a small machine a spinning idle worker took the CPU from the PostgreSQL beside it (Directory.Build.props).</summary>
    [Theory]
    [InlineData("congress.runtimeconfig.json")]
    [InlineData("CongressWorkflow.Server.runtimeconfig.json")]
    public void an_idle_thread_pool_worker_blocks_instead_of_spinning(string file)
    {
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, file)));

        var spinLimit = config.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties")
            .GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit");
        Assert.Equal(0, spinLimit.GetInt32());
    }
}

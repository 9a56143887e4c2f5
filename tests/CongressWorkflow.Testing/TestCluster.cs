using CongressWorkflow.Embedded;

namespace CongressWorkflow.Testing;

/// <summary>
/// One real PostgreSQL cluster per test process, in its own temporary folder on a free loopback port, so two
/// test runs on one machine never collide. Stopped and deleted when the process exits.
/// </summary>
public static class TestCluster
{
    private static readonly Lazy<Task<EmbeddedPostgres>> Cluster = new(StartAsync);

    /// <summary>
    /// A test process hosts servers, their background services, HTTP clients and PostgreSQL process starts at once, on a
    /// two-core machine: with the thread pool's default minimum (one thread per core) a burst of blocking waits starves
    /// it, and requests stall while it grows.
    /// </summary>
    static TestCluster()
    {
        ThreadPool.GetMinThreads(out var workers, out var completions);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), Math.Max(completions, 64));
    }
    private static int _databaseCounter;

    public static Task<EmbeddedPostgres> GetAsync() => Cluster.Value;

    /// <summary>Creates a fresh database named after the test class, and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string hint)
    {
        var cluster = await GetAsync();
        var safe = new string(hint.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        var name = $"t{Interlocked.Increment(ref _databaseCounter)}_{safe[..Math.Min(safe.Length, 50)]}";
        return await cluster.EnsureDatabaseAsync(name);
    }

    /// <summary>Starts a temporary cluster of a test's own (deleted when it stops or the test process ends).</summary>
    public static Task<EmbeddedPostgres> StartOwnAsync(string purpose) => EmbeddedPostgres.StartAsync(NewClusterFolder(purpose), temporary: true);

    public static string NewClusterFolder(string purpose) =>
        Path.Combine(Path.GetTempPath(), $"cw-test-{Environment.ProcessId}-{purpose}-{Guid.NewGuid().ToString("N")[..8]}");

    private static Task<EmbeddedPostgres> StartAsync() => StartOwnAsync("shared");
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Npgsql;
using Polly;
using Polly.Retry;

namespace CongressWorkflow.Embedded;

/// <summary>
/// A real PostgreSQL cluster that the process runs itself: initdb on first use in a folder, pg_ctl start on a
/// free loopback port, pg_ctl stop when disposed or when the process exits. If the folder's cluster is already
/// running and the program that started it still runs, it is used as it is and left running; if that program is
/// gone (owner.pid names a dead process), this one takes the cluster over and stops it in its turn.
/// </summary>
public sealed class EmbeddedPostgres : IAsyncDisposable
{
    private const string Superuser = "postgres";

    /// <summary>
    /// PostgreSQL's defaults are sized for a small shared machine. A write-heavy run (a national campaign: millions of
    /// events, deadline and read-model rows) checkpointed every 25 seconds with 1 GB of WAL between checkpoints, so most
    /// writes also logged whole pages, and sorts of a thousand streams' events spilled to disk with 4 MB of work memory.
    /// Shared buffers an eighth of the memory (128 MB to 1 GB), checkpoints at most every 15 minutes or 8 GB of WAL,
    /// 16 MB to sort. Durability is untouched: every commit still waits for its WAL to be flushed. The planner is told
    /// that a page read at random costs about what one read in sequence does, and that half the memory caches the
    /// database (the disk is a solid-state one, the hot pages in memory): with the defaults (made for spinning disks) it
    /// read and hashed whole tables to answer lookups of a few thousand keys. An operator changes any of these (or sets
    /// others) through <see cref="ServerSettings"/>.
    /// </summary>
    private static string Tuning { get; } =
        $"-c shared_buffers={Math.Clamp(MemoryMegabytes / 8, 128, 1024).ToString(CultureInfo.InvariantCulture)}MB " +
        "-c work_mem=16MB -c maintenance_work_mem=256MB -c max_wal_size=8GB -c checkpoint_timeout=15min " +
        $"-c random_page_cost=1.1 -c effective_cache_size={Math.Max(MemoryMegabytes / 2, 128).ToString(CultureInfo.InvariantCulture)}MB";

    private static long MemoryMegabytes => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 1_048_576;
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly PostgresBinaries _binaries;
    private readonly bool _runAsPostgresUser;
    private readonly string _password;
    private readonly bool _temporary;
    private readonly string _operatorSettings;
    private Process? _watchdog;
    private bool _owned;
    private bool _running;

    private EmbeddedPostgres(string rootDirectory, PostgresBinaries binaries, bool runAsPostgresUser, string password, bool temporary, string operatorSettings)
    {
        RootDirectory = rootDirectory;
        _binaries = binaries;
        _runAsPostgresUser = runAsPostgresUser;
        _password = password;
        _temporary = temporary;
        _operatorSettings = operatorSettings;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopOnExit();
    }

    public string RootDirectory { get; }

    public string DataDirectory => Path.Combine(RootDirectory, "pgdata");

    public int Port { get; private set; }

    /// <summary>True when this process started the server (and so stops it).</summary>
    public bool OwnsServer => _owned;

    /// <summary>
    /// Opens (creating on first use) the cluster in <paramref name="rootDirectory"/> and makes sure it runs.
    /// When the process runs as root, the server runs as the <c>postgres</c> system user (initdb refuses root).
    /// A <paramref name="temporary"/> cluster (tests) is deleted with its folder when disposed or when the process ends.
    /// An operator's <paramref name="settings"/> (<see cref="ServerSettings"/>) apply whenever this process starts the
    /// server; a server already running keeps the settings it was started with.
    /// </summary>
    public static async Task<EmbeddedPostgres> StartAsync(
        string rootDirectory, string? binDirectory = null, bool temporary = false, IReadOnlyDictionary<string, string?>? settings = null,
        CancellationToken cancellationToken = default)
    {
        var operatorSettings = ServerSettings.CommandLine(settings ?? new Dictionary<string, string?>());
        var binaries = PostgresBinaries.Locate(binDirectory);
        var root = Path.GetFullPath(rootDirectory);
        var asPostgres = Environment.IsPrivilegedProcess;
        Directory.CreateDirectory(root);
        if (asPostgres)
        {
            await RunAsync("chown", ["postgres:postgres", root], cancellationToken);
        }

        RestrictToOwner(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // One process at a time initialises or starts a given folder; others wait, then attach.
        await using var folderLock = await AcquireFolderLockAsync(root + ".lock", cancellationToken);
        var password = await EnsurePasswordAsync(root, asPostgres, cancellationToken);
        var server = new EmbeddedPostgres(root, binaries, asPostgres, password, temporary, operatorSettings);
        if (!File.Exists(Path.Combine(server.DataDirectory, "PG_VERSION")))
        {
            await server.InitDbAsync(cancellationToken);
        }

        await server.StartAsync(cancellationToken);
        return server;
    }

    /// <summary>Starts the server if it is not running (again after <see cref="StopAsync"/>, with the same data).</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_running)
        {
            return;
        }

        var runningPort = await ReadRunningPortAsync(cancellationToken);
        if (runningPort is { } port)
        {
            Port = port;
            _running = true;

            // A cluster whose owner is gone (killed with its watchdog) would otherwise run forever: whoever attaches
            // then takes it over, stops it when done, and watches over it meanwhile.
            _owned = !OwnerIsAlive();
            if (_owned)
            {
                await ClaimOwnershipAsync(cancellationToken);
                StartWatchdog();
            }

            return;
        }

        // Another process may take the port between our probe and the server's bind: then another port, twice.
        var logFile = Path.Combine(RootDirectory, "postgres.log");
        var logLengthBefore = File.Exists(logFile) ? new FileInfo(logFile).Length : 0;
        var attempt = 0;
        var (exitCode, output) = await StartRetries.ExecuteAsync(async ct =>
        {
            // After a stop, the same port first, so clients holding the connection string find the server again.
            Port = ++attempt == 1 && Port != 0 ? Port : FreeLoopbackPort();
            var options = string.Create(CultureInfo.InvariantCulture,
                $"-c listen_addresses=127.0.0.1 -p {Port} -k {DataDirectory} -c max_connections=200 {Tuning}{_operatorSettings}");
            return await RunPostgresToolAsync(
                _binaries.PgCtl,
                ["start", "-D", DataDirectory, "-w", "-t", ((int)StartTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                 "-l", logFile, "-o", options],
                ct);
        }, cancellationToken);
        if (exitCode != 0)
        {
            throw new EmbeddedPostgresException(
                $"pg_ctl could not start PostgreSQL in {DataDirectory}: {output.Trim()}{await ServerSaidAsync(logFile, logLengthBefore, cancellationToken)} (see {logFile})");
        }

        _owned = true;
        _running = true;
        await ClaimOwnershipAsync(cancellationToken);
        StartWatchdog();
    }

    private string OwnerFile => Path.Combine(RootDirectory, "owner.pid");

    /// <summary>The server's errors logged since a failed start began (a setting it refused, a port taken), for the operator.</summary>
    private static async Task<string> ServerSaidAsync(string logFile, long from, CancellationToken cancellationToken)
    {
        if (!File.Exists(logFile))
        {
            return string.Empty;
        }

        await using var log = new FileStream(logFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        log.Seek(Math.Min(from, log.Length), SeekOrigin.Begin);
        using var reader = new StreamReader(log);
        // From the level on: the time and process id before it differ between the attempts on other ports.
        var lines = (await reader.ReadToEndAsync(cancellationToken)).Split('\n')
            .Select(line => line.IndexOf("FATAL:", StringComparison.Ordinal) is var at and >= 0 ? line[at..].Trim() : null)
            .OfType<string>().Distinct().ToList();
        return lines.Count == 0 ? string.Empty : $"; the server said: {string.Join(" | ", lines)}";
    }

    /// <summary>Whether the process recorded as the cluster's owner still runs.</summary>
    private bool OwnerIsAlive() =>
        File.Exists(OwnerFile) && int.TryParse(File.ReadAllText(OwnerFile).Trim(), CultureInfo.InvariantCulture, out var owner)
        && (owner == Environment.ProcessId || Directory.Exists($"/proc/{owner.ToString(CultureInfo.InvariantCulture)}"));

    private Task ClaimOwnershipAsync(CancellationToken cancellationToken) =>
        File.WriteAllTextAsync(OwnerFile, Environment.ProcessId.ToString(CultureInfo.InvariantCulture), cancellationToken);

    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Password = _password,
        Database = database,
    }.ConnectionString;

    /// <summary>Creates the database if it does not exist and returns a connection string to it.</summary>
    public async Task<string> EnsureDatabaseAsync(string database, CancellationToken cancellationToken = default)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection)
        {
            Parameters = { new() { Value = database } },
        };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            try
            {
                await using var create = new NpgsqlCommand(
                    $"CREATE DATABASE {QuoteIdentifier(database)} ENCODING 'UTF8' TEMPLATE template0", connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
            {
                // Created concurrently by another process: that is what we wanted.
            }
        }

        return ConnectionString(database);
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (!_running)
        {
            return;
        }

        if (_owned)
        {
            NpgsqlConnection.ClearAllPools();
            var (exitCode, output) = await RunPostgresToolAsync(
                _binaries.PgCtl, ["stop", "-D", DataDirectory, "-m", "fast", "-w"], cancellationToken);
            if (exitCode != 0)
            {
                throw new EmbeddedPostgresException($"pg_ctl stop failed: {output.Trim()}");
            }

            StopWatchdog();
            File.Delete(OwnerFile);
        }

        _running = false;
        _owned = false;
    }

    public async ValueTask DisposeAsync()
    {
        var owned = _owned;
        await StopAsync();
        if (_temporary && owned)
        {
            Directory.Delete(RootDirectory, recursive: true);
        }
    }

    private void StopOnExit()
    {
        if (_running && _owned)
        {
            StopAsync().GetAwaiter().GetResult();
        }
    }

    /// <summary>
    /// A small shell process that outlives this one: when this process is gone, even killed without running its
    /// exit handlers, it stops the server it started (and deletes a temporary cluster), so no server is orphaned.
    /// </summary>
    private void StartWatchdog()
    {
        var asPostgres = _runAsPostgresUser ? "runuser -u postgres -- " : string.Empty;
        var cleanup = _temporary ? $"rm -rf '{RootDirectory}'" : ":";
        var script = string.Join('\n',
            "exec </dev/null >/dev/null 2>&1",
            string.Create(CultureInfo.InvariantCulture, $"while [ -d /proc/{Environment.ProcessId} ]; do sleep 1; done"),
            $"{asPostgres}'{_binaries.PgCtl}' stop -D '{DataDirectory}' -m fast -w",
            $"rm -f '{OwnerFile}'",
            cleanup);
        var startInfo = new ProcessStartInfo("/bin/sh") { UseShellExecute = false, WorkingDirectory = "/" };
        startInfo.ArgumentList.Add("-c");
        startInfo.ArgumentList.Add(script);
        _watchdog = Process.Start(startInfo);
    }

    private void StopWatchdog()
    {
        if (_watchdog is { HasExited: false })
        {
            _watchdog.Kill(entireProcessTree: true);
        }

        _watchdog?.Dispose();
        _watchdog = null;
    }

    /// <summary>
    /// A new cluster: UTF-8, its letters those of C.UTF-8 (lower and upper know Vietnamese), its text compared byte by
    /// byte. Byte order is the order C.UTF-8 gives (code points), but PostgreSQL 15 compares only the collation named C
    /// without the C library: with C.UTF-8 every comparison of ids in an index went through strcoll, and sorts could not
    /// use abbreviated keys.
    /// </summary>
    private async Task InitDbAsync(CancellationToken cancellationToken)
    {
        var passwordFile = Path.Combine(RootDirectory, "password");
        var (exitCode, output) = await RunPostgresToolAsync(
            _binaries.InitDb,
            ["-D", DataDirectory, "-U", Superuser, "--pwfile", passwordFile, "--auth=scram-sha-256",
             "-E", "UTF8", "--locale=C.UTF-8", "--lc-collate=C", "--no-instructions"],
            cancellationToken);
        if (exitCode != 0)
        {
            throw new EmbeddedPostgresException($"initdb failed in {DataDirectory}: {output.Trim()}");
        }
    }

    /// <summary>The port of a server already running on this data folder, from its postmaster.pid.</summary>
    private async Task<int?> ReadRunningPortAsync(CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(DataDirectory, "postmaster.pid");
        if (!File.Exists(pidFile))
        {
            return null;
        }

        var (exitCode, _) = await RunPostgresToolAsync(_binaries.PgCtl, ["status", "-D", DataDirectory], cancellationToken);
        if (exitCode != 0)
        {
            return null;
        }

        var lines = await File.ReadAllLinesAsync(pidFile, cancellationToken);
        return lines.Length > 3 && int.TryParse(lines[3], CultureInfo.InvariantCulture, out var port) ? port : null;
    }

    private Task<(int ExitCode, string Output)> RunPostgresToolAsync(string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken) =>
        _runAsPostgresUser
            ? RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments], cancellationToken, throwOnError: false)
            : RunAsync(program, arguments, cancellationToken, throwOnError: false);

    private static async Task<string> EnsurePasswordAsync(string root, bool asPostgres, CancellationToken cancellationToken)
    {
        var passwordFile = Path.Combine(root, "password");
        if (File.Exists(passwordFile))
        {
            return (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();
        }

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
        RestrictToOwner(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        if (asPostgres)
        {
            await RunAsync("chown", ["postgres:postgres", passwordFile], cancellationToken);
        }

        return password;
    }

    /// <summary>Waits its turn for the folder (another process holding the lock file), polling every 100 ms.</summary>
    private static async Task<FileStream> AcquireFolderLockAsync(string lockPath, CancellationToken cancellationToken) =>
        await FolderLockRetries.ExecuteAsync(
            _ => ValueTask.FromResult(new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose)),
            cancellationToken);

    private static readonly ResiliencePipeline<(int ExitCode, string Output)> StartRetries = new ResiliencePipelineBuilder<(int ExitCode, string Output)>()
        .AddRetry(new RetryStrategyOptions<(int ExitCode, string Output)>
        {
            MaxRetryAttempts = 2,
            Delay = TimeSpan.Zero,
            ShouldHandle = arguments => ValueTask.FromResult(arguments.Outcome.Result.ExitCode != 0),
        })
        .Build();

    private static readonly ResiliencePipeline FolderLockRetries = new ResiliencePipelineBuilder()
        .AddRetry(new RetryStrategyOptions
        {
            MaxRetryAttempts = int.MaxValue,
            Delay = TimeSpan.FromMilliseconds(100),
            BackoffType = DelayBackoffType.Constant,
            ShouldHandle = new PredicateBuilder().Handle<IOException>(),
        })
        .Build();

    private static void RestrictToOwner(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static async Task<(int ExitCode, string Output)> RunAsync(
        string program, IReadOnlyList<string> arguments, CancellationToken cancellationToken, bool throwOnError = true)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo)
            ?? throw new EmbeddedPostgresException($"could not start {program}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        var output = (await stdout) + (await stderr);
        if (throwOnError && process.ExitCode != 0)
        {
            throw new EmbeddedPostgresException($"{program} {string.Join(' ', arguments)} failed: {output.Trim()}");
        }

        return (process.ExitCode, output);
    }
}

using CongressWorkflow.Access;
using CongressWorkflow.Embedded;

namespace CongressWorkflow.Server.Hosting;

/// <summary>The database the server uses: the configured connection string, or an embedded cluster it runs itself.</summary>
public sealed class DatabaseSetup : IAsyncDisposable
{
    private DatabaseSetup(string connectionString, EmbeddedPostgres? embedded, string dataFolder)
    {
        ConnectionString = connectionString;
        Embedded = embedded;
        DataFolder = dataFolder;
    }

    /// <summary>The folder the server keeps its own files in (the embedded cluster's, or Postgres:DataDirectory's default).</summary>
    public string DataFolder { get; }

    public string ConnectionString { get; }

    public EmbeddedPostgres? Embedded { get; }

    /// <summary>
    /// ConnectionStrings:Postgres (env ConnectionStrings__Postgres) wins. Otherwise a cluster in
    /// Postgres:DataDirectory, by default /var/lib/congressworkflow when run as root (the postgres user must reach
    /// it) and ~/.local/share/congressworkflow otherwise, started with the PostgreSQL settings of Postgres:Settings.
    /// </summary>
    public static async Task<DatabaseSetup> OpenAsync(IConfiguration configuration, ILogger logger, CancellationToken cancellationToken = default)
    {
        var folder = configuration["Postgres:DataDirectory"] is { Length: > 0 } configuredFolder ? configuredFolder : LocalDataFolder.Default;
        var configured = configuration.GetConnectionString("Postgres");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            logger.LogInformation("Using the configured PostgreSQL connection");
            return new DatabaseSetup(configured, null, folder);
        }

        var settings = configuration.GetSection("Postgres:Settings").GetChildren().ToDictionary(s => s.Key, s => s.Value, StringComparer.OrdinalIgnoreCase);
        var embedded = await EmbeddedPostgres.StartAsync(folder, configuration["Postgres:BinDirectory"], settings: settings, cancellationToken: cancellationToken);
        logger.LogInformation(
            "Embedded PostgreSQL in {Folder} on 127.0.0.1:{Port} ({Mode})",
            embedded.DataDirectory, embedded.Port, embedded.OwnsServer ? "started by this process" : "already running, attached");
        var database = configuration["Postgres:Database"] is { Length: > 0 } name ? name : "congress";
        return new DatabaseSetup(await embedded.EnsureDatabaseAsync(database, cancellationToken), embedded, embedded.RootDirectory);
    }

    public async ValueTask DisposeAsync()
    {
        if (Embedded is not null)
        {
            await Embedded.DisposeAsync();
        }
    }
}

namespace CongressWorkflow.Embedded;

/// <summary>Locates the PostgreSQL server programs: PATH first, then Debian's /usr/lib/postgresql/*/bin.</summary>
public sealed record PostgresBinaries(string BinDirectory)
{
    public string InitDb => Path.Combine(BinDirectory, "initdb");

    public string PgCtl => Path.Combine(BinDirectory, "pg_ctl");

    public static PostgresBinaries Locate(string? explicitDirectory = null)
    {
        if (!string.IsNullOrWhiteSpace(explicitDirectory))
        {
            return HasServerPrograms(explicitDirectory)
                ? new PostgresBinaries(explicitDirectory)
                : throw Missing($"the configured folder '{explicitDirectory}' has no initdb and pg_ctl");
        }

        var fromPath = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(HasServerPrograms);
        if (fromPath is not null)
        {
            return new PostgresBinaries(fromPath);
        }

        const string debianRoot = "/usr/lib/postgresql";
        var fromDebian = Directory.Exists(debianRoot)
            ? Directory.GetDirectories(debianRoot)
                .Select(dir => (dir, version: int.TryParse(Path.GetFileName(dir), out var v) ? v : -1))
                .OrderByDescending(x => x.version)
                .Select(x => Path.Combine(x.dir, "bin"))
                .FirstOrDefault(HasServerPrograms)
            : null;
        return fromDebian is not null
            ? new PostgresBinaries(fromDebian)
            : throw Missing("no initdb and pg_ctl on PATH or under /usr/lib/postgresql/*/bin");
    }

    private static bool HasServerPrograms(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"));

    private static EmbeddedPostgresException Missing(string what) => new(
        $"PostgreSQL server binaries not found: {what}. Install them (Debian/Ubuntu: `apt-get install -y postgresql`), " +
        "or set ConnectionStrings__Postgres to use an existing server.");
}

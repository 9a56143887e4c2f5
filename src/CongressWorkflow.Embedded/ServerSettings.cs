using System.Text;
using System.Text.RegularExpressions;

namespace CongressWorkflow.Embedded;

/// <summary>
/// PostgreSQL settings an operator gives the embedded cluster (configuration Postgres:Settings:NAME = VALUE). They go
/// on the server's command line after the built-in tuning, so they win over it: settings on the command line also win
/// over postgresql.conf and ALTER SYSTEM, which therefore cannot change what the tuning sets. pg_ctl hands that command
/// line to a shell, so a name or value is refused unless it is made of characters a shell takes literally; so is a
/// setting the program itself decides (where the server listens, where its files are).
/// </summary>
public static partial class ServerSettings
{
    private static readonly HashSet<string> OwnedByTheProgram = new(StringComparer.Ordinal)
    {
        "listen_addresses", "port", "unix_socket_directories", "data_directory", "config_file", "hba_file", "ident_file", "external_pid_file",
    };

    /// <summary>The settings as `-c name=value` options, names in lower case; an <see cref="EmbeddedPostgresException"/> naming every one refused.</summary>
    public static string CommandLine(IReadOnlyDictionary<string, string?> settings)
    {
        var refused = new List<string>();
        var options = new StringBuilder();
        foreach (var (given, value) in settings.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            var name = given.ToLowerInvariant();
            if (!Name().IsMatch(name))
            {
                refused.Add($"'{given}' is not a setting's name (letters, digits and _, with at most one . for an extension's)");
            }
            else if (OwnedByTheProgram.Contains(name))
            {
                refused.Add($"'{name}' is set by the program itself");
            }
            else if (value is null || !Value().IsMatch(value))
            {
                refused.Add($"'{name}' = '{value}': a value is letters, digits and _ . , : / + - (no spaces or quotes)");
            }
            else
            {
                options.Append(" -c ").Append(name).Append('=').Append(value);
            }
        }

        return refused.Count == 0
            ? options.ToString()
            : throw new EmbeddedPostgresException($"Postgres:Settings refused: {string.Join("; ", refused)}");
    }

    [GeneratedRegex(@"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")]
    private static partial Regex Name();

    [GeneratedRegex(@"^[A-Za-z0-9_.,:/+\-]+$")]
    private static partial Regex Value();
}

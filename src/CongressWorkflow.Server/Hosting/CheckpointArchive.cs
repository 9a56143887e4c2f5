using System.Globalization;
using CongressWorkflow.Access;
using CongressWorkflow.EventStore.Integrity;
using Npgsql;

namespace CongressWorkflow.Server.Hosting;

/// <summary>
/// Signed checkpoints of the store, written where the operator points them (Audit:CheckpointFolder, by default
/// checkpoints/ in the data folder; point it at storage the database administrator cannot write), signed with a key
/// kept outside the database (Audit:CheckpointKeyFile, by default checkpoint-key.pem in the data folder).
/// </summary>
public sealed class CheckpointArchive
{
    private readonly Checkpoints _checkpoints;

    public CheckpointArchive(NpgsqlDataSource dataSource, IConfiguration configuration, DatabaseSetup database)
    {
        var keyFile = configuration["Audit:CheckpointKeyFile"] is { Length: > 0 } configuredKey ? configuredKey : Path.Combine(database.DataFolder, "checkpoint-key.pem");
        Folder = configuration["Audit:CheckpointFolder"] is { Length: > 0 } configuredFolder ? configuredFolder : Path.Combine(database.DataFolder, "checkpoints");
        // Checkpoints are stamped with wall-clock time, whatever clock the business runs on.
        _checkpoints = new Checkpoints(dataSource, LocalSigningKey.LoadOrCreate(keyFile).ECDsa, TimeProvider.System);
    }

    public string Folder { get; }

    public string PublicKey => _checkpoints.PublicKey;

    public async Task<(SignedCheckpoint Checkpoint, string File)> TakeAsync(CancellationToken cancellationToken)
    {
        var signed = await _checkpoints.TakeAsync(cancellationToken);
        Directory.CreateDirectory(Folder);
        var file = Path.Combine(Folder, $"checkpoint-{signed.Checkpoint.TakenAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmssfff'Z'", CultureInfo.InvariantCulture)}.json");
        await File.WriteAllTextAsync(file, Checkpoints.Serialize(signed), cancellationToken);
        return (signed, file);
    }

    /// <summary>Every checkpoint in the folder, oldest first (an unreadable file is reported as such by the caller).</summary>
    public async Task<IReadOnlyList<(string File, SignedCheckpoint? Checkpoint)>> ListAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Folder))
        {
            return [];
        }

        var found = new List<(string, SignedCheckpoint?)>();
        foreach (var file in Directory.GetFiles(Folder, "checkpoint-*.json").Order(StringComparer.Ordinal))
        {
            SignedCheckpoint? checkpoint;
            try
            {
                checkpoint = Checkpoints.Deserialize(await File.ReadAllTextAsync(file, cancellationToken));
            }
            catch (System.Text.Json.JsonException)
            {
                checkpoint = null;
            }

            found.Add((file, checkpoint));
        }

        return found;
    }

    public Task<IReadOnlyList<IntegrityViolation>> CompareAsync(SignedCheckpoint checkpoint, CancellationToken cancellationToken) =>
        _checkpoints.CompareAsync(checkpoint, PublicKey, cancellationToken);
}

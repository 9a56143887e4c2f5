using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace CongressWorkflow.Integrity;

/// <summary>Where one stream stood when a checkpoint was taken: its version, that event's global position and chain hash.</summary>
public sealed record StreamHead(string StreamId, long Version, long GlobalPosition, string Hash);

/// <summary>The head of every stream at one moment, and a root hash over them all (so one value stands for the whole store).</summary>
public sealed record StoreCheckpoint(DateTimeOffset TakenAt, long HeadPosition, IReadOnlyList<StreamHead> Streams, string Root);

/// <summary>A checkpoint signed with a key kept outside the database (ECDSA P-256 over SHA-256 of its canonical JSON).</summary>
public sealed record SignedCheckpoint(StoreCheckpoint Checkpoint, string Algorithm, string PublicKey, string Signature);

/// <summary>What makes a checkpoint trustworthy without the database: its canonical bytes, its root over the heads, its signature.</summary>
public static class SignedCheckpoints
{
    public const string Algorithm = "ES256";

    private static readonly JsonSerializerOptions Canonical = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    /// <summary>True when the signature is by the trusted key and over exactly this checkpoint (and its root matches its heads).</summary>
    public static bool IsAuthentic(SignedCheckpoint signed, string trustedPublicKey)
    {
        if (signed.Algorithm != Algorithm || signed.PublicKey != trustedPublicKey || Root(signed.Checkpoint.Streams) != signed.Checkpoint.Root)
        {
            return false;
        }

        try
        {
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(trustedPublicKey), out _);
            return key.VerifyData(CanonicalBytes(signed.Checkpoint), Convert.FromBase64String(signed.Signature), HashAlgorithmName.SHA256);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static string Serialize(SignedCheckpoint signed) => JsonSerializer.Serialize(signed, new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });

    public static SignedCheckpoint? Deserialize(string json) => JsonSerializer.Deserialize<SignedCheckpoint>(json, JsonSerializerOptions.Web);

    public static byte[] CanonicalBytes(StoreCheckpoint checkpoint) => JsonSerializer.SerializeToUtf8Bytes(checkpoint, Canonical);

    /// <summary>SHA-256 over every head in stream order: one value that changes when any stream's head does.</summary>
    public static string Root(IReadOnlyList<StreamHead> heads)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var head in heads.OrderBy(h => h.StreamId, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{head.StreamId}\n{head.Version}\n{head.GlobalPosition}\n{head.Hash}\n"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}

using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace CongressWorkflow.Access;

/// <summary>
/// The ECDSA P-256 key that signs and checks locally minted tokens: created on the server's first run next to its
/// data (readable by its owner only), never in the repository. With an identity provider configured it is not used.
/// </summary>
public static class LocalSigningKey
{
    public static ECDsaSecurityKey LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            using var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var temporary = path + "." + Environment.ProcessId + ".tmp";
            File.WriteAllText(temporary, created.ExportPkcs8PrivateKeyPem());
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            try
            {
                // Two servers starting on one folder: the first key written wins, the other reads it.
                File.Move(temporary, path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                File.Delete(temporary);
            }
        }

        return Load(path);
    }

    /// <exception cref="FileNotFoundException">No key at that path.</exception>
    public static ECDsaSecurityKey Load(string path)
    {
        var key = ECDsa.Create();
        key.ImportFromPem(File.ReadAllText(path));
        var parameters = key.ExportParameters(includePrivateParameters: false);
        // The key id is derived from the public key, so a token says which key signed it.
        var id = Convert.ToHexStringLower(SHA256.HashData([.. parameters.Q.X!, .. parameters.Q.Y!]))[..16];
        return new ECDsaSecurityKey(key) { KeyId = id };
    }
}

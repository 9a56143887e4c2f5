using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace CongressWorkflow.Access;

/// <summary>
/// The ECDSA P-256 key that signs and checks locally minted tokens: created on the server's first run next to its
/// data (readable by its owner only), never in the repository. With an identity provider configured it is not used.
/// </summary>
public static class LocalSigningKey
{
    /// <summary>
    /// The key at the path, created when there is none. Servers starting at once on one folder (in one process or
    /// several) take turns through a lock file beside the key, so the first key written is the only one: moving the
    /// written key into place without overwriting is not atomic on Linux (.NET checks, then renames), and two servers
    /// each went on with a key of their own.
    /// </summary>
    public static ECDsaSecurityKey LoadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            using var turn = TakeTurn(path + ".lock");
            if (!File.Exists(path))
            {
                using var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
                // Written whole under another name, readable by its owner only from the start, then moved into place.
                var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
                var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
                if (!OperatingSystem.IsWindows())
                {
                    options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
                }

                using (var writer = new StreamWriter(temporary, options))
                {
                    writer.Write(created.ExportPkcs8PrivateKeyPem());
                }

                File.Move(temporary, path, overwrite: false);
            }
        }

        return Load(path);
    }

    /// <summary>The lock file held alone (an exclusive lock on it: others wait their turn, for ten seconds at most).</summary>
    private static FileStream TakeTurn(string lockPath)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 400)
            {
                Thread.Sleep(25);
            }
        }
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

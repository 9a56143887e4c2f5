namespace CongressWorkflow.Access;

/// <summary>Where the server keeps what it owns on this machine (the embedded cluster, the signing key) unless told otherwise.</summary>
public static class LocalDataFolder
{
    /// <summary>/var/lib/congressworkflow when run as root (the postgres user must reach it), ~/.local/share/congressworkflow otherwise.</summary>
    public static string Default => Environment.IsPrivilegedProcess
        ? "/var/lib/congressworkflow"
        : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "congressworkflow");

    /// <summary>The local signing key's file inside a data folder.</summary>
    public static string SigningKeyFile(string folder) => Path.Combine(folder, "signing-key.pem");
}

using CongressWorkflow.Access;

namespace CongressWorkflow.Server.Tests;

public sealed class the_local_signing_key
{
    [Fact]
    public async Task servers_of_one_process_starting_at_once_on_a_new_folder_all_get_the_first_key_written()
    {
        for (var round = 0; round < 20; round++)
        {
            var path = Path.Combine(Path.GetTempPath(), $"cw-signing-key-race-{Guid.NewGuid():N}", "signing-key.pem");
            using var start = new Barrier(8);

            var keys = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                return LocalSigningKey.LoadOrCreate(path).KeyId;
            })));

            Assert.Single(keys.Distinct());
            // The key and the lock file the servers took turns with, nothing half written.
            Assert.Equal([Path.GetFileName(path), Path.GetFileName(path) + ".lock"], Directory.GetFiles(Path.GetDirectoryName(path)!).Select(Path.GetFileName).Order());
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            Directory.Delete(Path.GetDirectoryName(path)!, recursive: true);
        }
    }
}

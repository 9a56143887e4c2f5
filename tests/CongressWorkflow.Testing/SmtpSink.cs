using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MimeKit;

namespace CongressWorkflow.Testing;

/// <summary>
/// A real SMTP server on a loopback port: Debian's aiosmtpd (python3-aiosmtpd, installed by .ci/run), storing every
/// message it accepts in a Maildir that tests read back with MimeKit.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _maildir;

    private SmtpSink(Process process, string maildir, int port)
    {
        _process = process;
        _maildir = maildir;
        Port = port;
    }

    public int Port { get; }

    public static async Task<SmtpSink> StartAsync()
    {
        var port = Loopback.FreePort();
        var maildir = Path.Combine(Path.GetTempPath(), $"cw-maildir-{Guid.NewGuid():N}");
        var start = new ProcessStartInfo("/usr/bin/python3") { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "-m", "aiosmtpd", "-n", "-l", $"127.0.0.1:{port}", "-c", "aiosmtpd.handlers.Mailbox", maildir })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start aiosmtpd (apt-get install -y python3-aiosmtpd)");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, port);
                return new SmtpSink(process, maildir, port);
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !process.HasExited)
            {
                await Task.Delay(100);
            }
            catch (SocketException)
            {
                throw new InvalidOperationException($"aiosmtpd did not listen on {port}: {await process.StandardError.ReadToEndAsync()}");
            }
        }
    }

    /// <summary>Every message received so far, oldest first.</summary>
    public IReadOnlyList<MimeMessage> Messages()
    {
        var folder = Path.Combine(_maildir, "new");
        return Directory.Exists(folder)
            ? [.. Directory.GetFiles(folder).OrderBy(File.GetLastWriteTimeUtc).Select(f => MimeMessage.Load(f))]
            : [];
    }

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
        if (Directory.Exists(_maildir))
        {
            Directory.Delete(_maildir, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}

using System.Diagnostics;
using System.Text;

namespace CongressWorkflow.Testing;

/// <summary>One of the repository's programs (a dll in the test's output) run as its own process, as a reader runs it.</summary>
public static class DotnetProgram
{
    /// <summary>
    /// <c>dotnet DLL ARGS</c> in the test's output folder (its content root), with its output and errors redirected; the
    /// variables in <paramref name="removed"/> taken out of its environment (so the caller's own do not leak in), then
    /// <paramref name="environment"/> set.
    /// </summary>
    public static ProcessStartInfo StartInfo(string dll, IEnumerable<string> args, IEnumerable<string> removed, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in removed)
        {
            start.Environment.Remove(name);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        return start;
    }

    /// <summary>
    /// Starts it to run beside the test (a server), every line it writes, output or error, read as it comes (so it never
    /// blocks on a full pipe) and appended to <paramref name="log"/> when one is given.
    /// </summary>
    public static Process Start(ProcessStartInfo start, StringBuilder? log = null)
    {
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, line) => Append(log, line.Data);
        process.ErrorDataReceived += (_, line) => Append(log, line.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder? log, string? line)
    {
        if (log is null)
        {
            return;
        }

        lock (log)
        {
            log.AppendLine(line);
        }
    }

    /// <summary>Runs it to its end, or kills it (with its children) after <paramref name="timeout"/>: its exit code, output and errors.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var waiting = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(waiting.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.ArgumentList[0]} ran for {timeout}; its output so far:\n{await output}\n{await error}");
        }

        return (process.ExitCode, await output, await error);
    }
}

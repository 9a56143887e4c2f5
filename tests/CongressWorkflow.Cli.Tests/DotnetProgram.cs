using System.Diagnostics;

namespace CongressWorkflow.Cli.Tests;

/// <summary>One of the repository's programs (a dll in the test's output) run as its own process, as a reader runs it.</summary>
internal static class DotnetProgram
{
    /// <summary>
    /// <c>dotnet DLL ARGS</c> with its output and errors redirected; the variables in <paramref name="removed"/> taken out
    /// of its environment (so the caller's own do not leak in), then <paramref name="environment"/> set.
    /// </summary>
    public static ProcessStartInfo StartInfo(string dll, IEnumerable<string> args, IEnumerable<string> removed, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
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

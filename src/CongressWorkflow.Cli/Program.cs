using System.Globalization;
using CongressWorkflow.Cli;
using Spectre.Console;

// Piped or redirected (a script, a file, less), the output is plain text as wide as COLUMNS (or 160): no colour codes,
// and tables not folded to 80 columns. NO_COLOR turns colours off in a terminal too.
var redirected = Console.IsOutputRedirected;
var console = AnsiConsole.Create(new AnsiConsoleSettings
{
    Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
    ColorSystem = redirected || Environment.GetEnvironmentVariable("NO_COLOR") is { Length: > 0 } ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
    Out = new AnsiConsoleOutput(Console.Out),
});
if (redirected)
{
    console.Profile.Width = int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), NumberStyles.None, CultureInfo.InvariantCulture, out var columns) && columns > 0
        ? columns
        : 160;
}

return await CongressCli.RunAsync(args, console, Console.Error);

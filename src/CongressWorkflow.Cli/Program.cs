using CongressWorkflow.Cli;
using Spectre.Console;

return await CongressCli.RunAsync(args, AnsiConsole.Console, Console.Error);

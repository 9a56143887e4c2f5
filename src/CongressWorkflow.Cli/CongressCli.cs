using System.CommandLine;
using CongressWorkflow.Engine;

namespace CongressWorkflow.Cli;

/// <summary>The `congress` command line.</summary>
public static class CongressCli
{
    public static RootCommand Build()
    {
        var root = new RootCommand("CongressWorkflow: run and watch a cascade of party congresses");
        root.Subcommands.Add(Schemas());
        return root;
    }

    private static Command Schemas()
    {
        var folder = new Argument<DirectoryInfo>("folder") { Description = "Where to write the event schemas, e.g. schemas/events" };
        var export = new Command("export", "Write the JSON Schema of every domain event type and version") { folder };
        export.SetAction(async (parse, cancellationToken) =>
        {
            var target = parse.GetValue(folder)!;
            await EventSchemas.WriteAsync(target.FullName, cancellationToken);
            Console.WriteLine($"wrote {EventSchemas.Generate().Count} event schemas to {target.FullName}");
            return 0;
        });
        return new Command("schemas", "JSON Schemas of the stored events") { export };
    }
}

using CongressWorkflow.Engine;
using CongressWorkflow.Server;

// A developer's step after a deliberate change of an event's shape (ops/schemas): write the committed event schemas.
if (args is ["export-event-schemas", var folder])
{
    await EventSchemas.WriteAsync(folder);
    Console.WriteLine($"wrote {EventSchemas.Generate().Count} event schemas to {Path.GetFullPath(folder)}");
    return 0;
}

await using var server = await CongressServer.CreateAsync(args);
// Not App.RunAsync: it disposes the host when it ends, before CongressServer.DisposeAsync can flush the telemetry,
// stop the host and then the embedded cluster, in that order.
await server.App.StartAsync();
await server.App.WaitForShutdownAsync();
return 0;

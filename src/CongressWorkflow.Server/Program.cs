using CongressWorkflow.Server;

await using var server = await CongressServer.CreateAsync(args);
await server.App.RunAsync();

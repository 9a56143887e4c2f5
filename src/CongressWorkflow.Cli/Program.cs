using CongressWorkflow.Cli;

return await CongressCli.Build().Parse(args).InvokeAsync();

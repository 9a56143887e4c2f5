using System.CommandLine;
using System.Globalization;
using CongressWorkflow.Access;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Embedded;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.Server;
using CongressWorkflow.Server.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>
/// `congress up`: the server in this process, on the embedded PostgreSQL (or ConnectionStrings__Postgres), with the demo
/// campaign loaded into an empty database; prints its address and a sign-in token, then runs until Ctrl+C.
/// </summary>
public static partial class CongressCli
{
    private const string UpCommandName = "up";

    private static Command Up(IAnsiConsole console, TextWriter error)
    {
        var port = new Option<int>("--port") { Description = "The loopback port to listen on (0: any free one)", DefaultValueFactory = _ => 5080 };
        var data = new Option<string?>("--data") { Description = "The folder of the server's files and embedded database (default: its usual data folder)" };
        var noDemo = new Option<bool>("--no-demo") { Description = "Do not load the demo campaign into an empty database" };
        var command = new Command(UpCommandName, "Start the server with its dashboard on the embedded PostgreSQL; print its address and a sign-in token") { port, data, noDemo };
        command.SetAction(async (parse, ct) =>
        {
            if (parse.GetValue(port) is < 0 or > 65535)
            {
                await error.WriteLineAsync("error: --port must be 0 to 65535");
                return BadInput;
            }

            var settings = new Dictionary<string, string?>
            {
                ["Urls"] = $"http://127.0.0.1:{parse.GetValue(port).ToString(CultureInfo.InvariantCulture)}",
                ["Demo:Load"] = parse.GetValue(noDemo) ? "false" : "true",
            };

            // The server's log (every console logger it makes, Hangfire's included) goes to stderr; stdout, which this
            // console's writer already holds, keeps the address and the token for scripts.
            Console.SetOut(Console.Error);
            if (parse.GetValue(data) is { Length: > 0 } folder)
            {
                settings["Postgres:DataDirectory"] = Path.GetFullPath(folder);
            }

            CongressServer server;
            try
            {
                server = await CongressServer.CreateAsync([], settings);
            }
            catch (Exception e) when (e is EmbeddedPostgresException or Npgsql.NpgsqlException or IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"error: the database could not be started or reached: {e.Message}");
                return BadInput;
            }
            catch (SettingException e)
            {
                await error.WriteLineAsync($"error: {e.Message}");
                return BadInput;
            }

            await using (server)
            {
                try
                {
                    await server.App.StartAsync(ct);
                }
                catch (IOException e)
                {
                    await error.WriteLineAsync($"error: cannot listen on {settings["Urls"]}: {e.Message} (pass --port)");
                    return BadInput;
                }

                await PrintSignInAsync(console, server, LocalDataFolder.SigningKeyFile(settings.GetValueOrDefault("Postgres:DataDirectory") ?? LocalDataFolder.Default), ct);
                await server.App.WaitForShutdownAsync(ct);
            }

            return 0;
        });
        return command;
    }

    /// <summary>The address, and a token for an admin of the top of the tree (minted with the server's own local key).</summary>
    private static async Task PrintSignInAsync(IAnsiConsole console, CongressServer server, string keyFile, CancellationToken cancellationToken)
    {
        var output = console.Profile.Out.Writer;
        var address = server.BaseAddress.ToString().TrimEnd('/');
        await output.WriteLineAsync($"CongressWorkflow: {address}/ (dashboard), {address}/scalar (API)");
        var issuer = server.App.Services.GetRequiredService<LocalTokens>().Issuer;
        var roots = await server.App.Services.GetRequiredService<OrganizationTree>().RootsAsync(cancellationToken);
        if (issuer is null)
        {
            await output.WriteLineAsync("sign in through the identity provider the server is configured with (Auth:Authority)");
        }
        else if (roots.Count == 0)
        {
            await output.WriteLineAsync("the organisation tree is empty: import one (congress org import FILE) with a token for its top organisation, " +
                $"congress token issue --org ROOT --role admin --user YOU --key {keyFile}");
        }
        else
        {
            // Written raw: the token must survive being copied or piped whole.
            var token = issuer.Issue("operator", roots[0].Id, Roles.Admin);
            await output.WriteLineAsync($"token (admin of {roots[0].Id}): {token}");
            await output.WriteLineAsync($"export CONGRESS_SERVER={address} CONGRESS_TOKEN={token}");
        }

        await output.WriteLineAsync("Ctrl+C stops the server and its embedded database.");
    }
}

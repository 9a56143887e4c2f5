using System.CommandLine;
using CongressWorkflow.Access;
using CongressWorkflow.Domain.Common;
using Spectre.Console;

namespace CongressWorkflow.Cli;

/// <summary>`congress token issue`: mints a token with the server's local signing key (for local use; production tokens come from the identity provider).</summary>
public static class TokenCommands
{
    public static Command Build(IAnsiConsole console, TextWriter error)
    {
        var organization = new Option<string>("--org") { Description = "The organisation the user acts for, e.g. dang-bo-bo-cong-thuong", Required = true };
        var role = new Option<string>("--role") { Description = $"One of {string.Join(", ", Roles.All)}", Required = true };
        var user = new Option<string>("--user") { Description = "Who the user is (recorded as the actor of what they do)", Required = true };
        var hours = new Option<double>("--hours") { Description = "How long the token is valid", DefaultValueFactory = _ => TokenIssuer.DefaultLifetime.TotalHours };
        var key = new Option<string>("--key")
        {
            Description = "The server's signing key (default: signing-key.pem in its data folder, or CONGRESS_SIGNING_KEY)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CONGRESS_SIGNING_KEY") is { Length: > 0 } path
                ? path : LocalDataFolder.SigningKeyFile(LocalDataFolder.Default),
        };
        var issue = new Command("issue", "Mint a bearer token for a user, an organisation and a role; prints it") { organization, role, user, hours, key };
        issue.SetAction(async (parse, _) =>
        {
            var (org, roleName, userName, lifetime, keyFile) =
                (parse.GetValue(organization)!, parse.GetValue(role)!, parse.GetValue(user)!, parse.GetValue(hours), parse.GetValue(key)!);
            var problem = AccessClaims.Problem(userName, org, roleName)
                ?? (lifetime is <= 0 or > 24 * 366 ? "--hours must be more than 0 and at most a year"
                : !File.Exists(keyFile) ? $"no signing key at {keyFile}: start the server once (it creates the key) or pass --key"
                : null);
            if (problem is not null)
            {
                await error.WriteLineAsync("error: " + problem);
                return CongressCli.BadInput;
            }

            // Written raw, not through the console's line wrapping: the token must survive being piped or copied whole.
            await console.Profile.Out.Writer.WriteLineAsync(new TokenIssuer(LocalSigningKey.Load(keyFile)).Issue(userName, org, roleName, TimeSpan.FromHours(lifetime)));
            return 0;
        });
        return new Command("token", "Bearer tokens for the API, the dashboard and this command line") { issue };
    }
}

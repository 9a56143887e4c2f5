using CongressWorkflow.Domain.Campaigns;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Engine.Campaigns;

public sealed record CampaignInfo(string Id, string Name, string Directive, int TermStart, int TermEnd, int BranchTermEnd);

public sealed class CampaignService(CommandPipeline pipeline)
{
    /// <summary>A campaign's streams (its own, its policy's, its congresses', its deadline ledgers) are kept in a partition of their own.</summary>
    public static readonly AggregateDefinition<Campaign> Aggregate = new("campaign", Campaign.None, Campaign.Evolve, campaign => campaign.Id);

    public Task<CommandResult> StartAsync(StartCampaign command, CancellationToken cancellationToken = default) =>
        pipeline.ExecuteAsync("start-campaign", Aggregate, Campaign.StreamId(command.CampaignId), command.Context, null,
            state => Task.FromResult(Campaign.Decide(command, state)), ProjectAsync, cancellationToken: cancellationToken);

    /// <summary>Whether a campaign has been started: a fact commands on its congresses and its policy depend on.</summary>
    public static async Task<bool> ExistsAsync(NpgsqlDataSource dataSource, string campaignId, CancellationToken cancellationToken = default)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ExistsAsync(connection, null, campaignId, cancellationToken);
    }

    /// <summary>The same, read in a command's transaction.</summary>
    public static Task<bool> ExistsAsync(CommandSession session, string campaignId, CancellationToken cancellationToken = default) =>
        ExistsAsync(session.Connection, session.Transaction, campaignId, cancellationToken);

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string campaignId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT 1 FROM congress.campaigns WHERE campaign_id = $1", connection, transaction);
        command.Parameters.Add(new() { Value = campaignId });
        return await command.ExecuteScalarAsync(cancellationToken) is not null;
    }

    public async Task<IReadOnlyList<CampaignInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var command = pipeline.DataSource.CreateCommand(
            "SELECT campaign_id, name, directive, term_start, term_end, branch_term_end FROM congress.campaigns ORDER BY started_at");
        var campaigns = new List<CampaignInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            campaigns.Add(new CampaignInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt32(4), reader.GetInt32(5)));
        }

        return campaigns;
    }

    private static async Task ProjectAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<object> events, Campaign state, long version, CommandContext context)
    {
        foreach (var started in events.OfType<CampaignStarted>())
        {
            await PostgresEventStore.CreatePartitionAsync(connection, transaction, started.CampaignId);
            await OrganizationTree.ExecuteAsync(connection, transaction, """
                INSERT INTO congress.campaigns (campaign_id, name, directive, term_start, term_end, branch_term_end, started_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7)
                """, started.CampaignId, started.Name, started.Directive, started.TermStart, started.TermEnd, started.BranchTermEnd, started.StartedAt);
        }
    }
}

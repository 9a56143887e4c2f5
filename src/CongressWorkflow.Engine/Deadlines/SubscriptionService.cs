using System.Security.Cryptography;
using System.Text;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Engine.Deadlines;

public sealed record SubscriptionInfo(
    string Id, string Channel, string RootOrganizationId, string? Url, string CreatedBy, DateTimeOffset CreatedAt, DateTimeOffset? RemovedAt);

/// <summary>A new subscription; for a webhook, the signing secret, shown this once.</summary>
public sealed record CreatedSubscription(CommandResult Result, string SubscriptionId, string? Secret);

/// <summary>Subscriptions of organisation subtrees to email or a webhook. A webhook's secret is kept out of the event store.</summary>
public sealed class SubscriptionService(CommandPipeline pipeline, OrganizationTree tree)
{
    public static readonly AggregateDefinition<Subscription> Aggregate = new("subscription", Subscription.None, Subscription.Evolve);

    public async Task<CreatedSubscription> CreateAsync(DeliveryChannel channel, string rootOrganizationId, string? url, CommandContext context,
        CancellationToken cancellationToken = default)
    {
        var active = await tree.GetAsync(rootOrganizationId, cancellationToken) is { IsDissolved: false };

        var id = "sub-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var secret = channel == DeliveryChannel.Webhook ? "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32)) : null;
        var fingerprint = secret is null ? null : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)))[..16];
        var result = await pipeline.ExecuteAsync("create-subscription", Aggregate, Subscription.StreamId(id), context, null,
            state => Task.FromResult(Subscription.Decide(new CreateSubscription(id, channel, rootOrganizationId, url, fingerprint, active, context), state)),
            (connection, transaction, events, state, version, ctx) => ProjectAsync(connection, transaction, events, secret), cancellationToken: cancellationToken);
        return new CreatedSubscription(result, id, secret);
    }

    public Task<CommandResult> RemoveAsync(string subscriptionId, CommandContext context, CancellationToken cancellationToken = default) =>
        pipeline.ExecuteAsync("remove-subscription", Aggregate, Subscription.StreamId(subscriptionId), context, null,
            state => Task.FromResult(Subscription.Decide(new RemoveSubscription(subscriptionId, context), state)),
            (connection, transaction, events, state, version, ctx) => ProjectAsync(connection, transaction, events, null), cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<SubscriptionInfo>> ListAsync(CancellationToken cancellationToken = default)
    {
        await using var command = pipeline.DataSource.CreateCommand("""
            SELECT subscription_id, channel, root_organization_id, url, created_by, created_at, removed_at
            FROM congress.subscriptions WHERE removed_at IS NULL ORDER BY created_at, subscription_id
            """);
        var list = new List<SubscriptionInfo>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(new SubscriptionInfo(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetString(4), reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return list;
    }

    private static async Task ProjectAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<object> events, string? secret)
    {
        foreach (var e in events)
        {
            await using var command = e switch
            {
                SubscriptionCreated c => new NpgsqlCommand("""
                    INSERT INTO congress.subscriptions (subscription_id, channel, root_organization_id, url, created_by, created_at)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    """, connection, transaction) { Parameters = { Positional(c.SubscriptionId), Positional(DeadlineReadModel.Name(c.Channel)),
                        Positional(c.RootOrganizationId), Positional(c.Url), Positional(c.CreatedBy), Positional(c.CreatedAt) } },
                SubscriptionRemoved r => new NpgsqlCommand("UPDATE congress.subscriptions SET removed_at = $2 WHERE subscription_id = $1", connection, transaction)
                    { Parameters = { Positional(r.SubscriptionId), Positional(r.RemovedAt) } },
                _ => throw new InvalidOperationException($"subscriptions cannot apply {e.GetType().Name}"),
            };
            await command.ExecuteNonQueryAsync();
            if (e is SubscriptionCreated created && secret is not null)
            {
                await using var keep = new NpgsqlCommand("INSERT INTO congress.webhook_secrets (subscription_id, secret) VALUES ($1, $2)", connection, transaction);
                keep.Parameters.AddPositional(created.SubscriptionId, secret);
                await keep.ExecuteNonQueryAsync();
            }
        }
    }

    private static NpgsqlParameter Positional(object? value) => new() { Value = value ?? DBNull.Value };
}

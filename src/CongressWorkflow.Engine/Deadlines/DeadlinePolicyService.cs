using System.Text.Json;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Engine.Campaigns;
using CongressWorkflow.Engine.Commands;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Serialization;
using Npgsql;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>The policy in force for a campaign, and who set it, when and why (null when the default applies).</summary>
public sealed record PolicyInForce(string CampaignId, DeadlinePolicy Policy, bool IsDefault, string? Reason, string? SetBy, DateTimeOffset? SetAt);

/// <summary>Sets a campaign's deadline policy (an event with who and why) and re-times its open deadlines to it.</summary>
public sealed class DeadlinePolicyService(CommandPipeline pipeline)
{
    public static readonly AggregateDefinition<CampaignDeadlinePolicy> Aggregate = new("deadline-policy", CampaignDeadlinePolicy.None, CampaignDeadlinePolicy.Evolve,
        policy => policy.CampaignId);

    private static readonly (Milestone Milestone, Func<DeadlinePolicy, int> Days)[] LifecyclePeriods =
    [
        (Milestone.SubmissionDecided, p => p.DecisionDays), (Milestone.NewDateSet, p => p.RescheduleDays),
        (Milestone.ResultsRecognised, p => p.RecognitionDays), (Milestone.ResolutionDisseminated, p => p.DisseminationDays),
    ];

    public async Task<CommandResult> SetAsync(string campaignId, DeadlinePolicy policy, string reason, CommandContext context, long? expectedVersion = null,
        CancellationToken cancellationToken = default)
    {
        var exists = await CampaignService.ExistsAsync(pipeline.DataSource, campaignId, cancellationToken);
        return await pipeline.ExecuteAsync("set-deadline-policy", Aggregate, CampaignDeadlinePolicy.StreamId(campaignId), context, expectedVersion,
            state => Task.FromResult(CampaignDeadlinePolicy.Decide(new SetDeadlinePolicy(campaignId, policy, reason, exists, context), state)),
            ProjectAsync, cancellationToken: cancellationToken);
    }

    public async Task<PolicyInForce> GetAsync(string campaignId, CancellationToken cancellationToken = default)
    {
        await using var connection = await pipeline.DataSource.OpenConnectionAsync(cancellationToken);
        return await DeadlineReadModel.PolicyInForceAsync(connection, null, campaignId);
    }

    private static async Task ProjectAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<object> events, CampaignDeadlinePolicy state, long version, CommandContext context)
    {
        foreach (var set in events.OfType<DeadlinePolicySet>())
        {
            await using var batch = new NpgsqlBatch(connection, transaction);
            var upsert = new NpgsqlBatchCommand("""
                INSERT INTO congress.deadline_policies (campaign_id, policy, reason, set_by, set_at) VALUES ($1, $2::jsonb, $3, $4, $5)
                ON CONFLICT (campaign_id) DO UPDATE SET policy = excluded.policy, reason = excluded.reason, set_by = excluded.set_by, set_at = excluded.set_at
                """);
            upsert.Parameters.AddPositional(set.CampaignId, JsonSerializer.Serialize(set.Policy, EventTypeRegistry.DefaultSerializerOptions), set.Reason,
                set.SetBy, set.SetAt);
            batch.BatchCommands.Add(upsert);

            // Deadlines the plans do not date run from their start for the policy's period: a new period moves them
            // (and, as a new due date, they start their schedule afresh).
            foreach (var (milestone, days) in LifecyclePeriods)
            {
                var move = new NpgsqlBatchCommand("""
                    UPDATE congress.deadlines SET due_on = effective_from + $3, last_step_on = NULL
                    WHERE campaign_id = $1 AND milestone = $2 AND plan_document IS NULL AND due_on <> effective_from + $3
                    """);
                move.Parameters.AddPositional(set.CampaignId, DeadlineReadModel.Name(milestone), days(set.Policy));
                batch.BatchCommands.Add(move);
            }

            await batch.ExecuteNonQueryAsync();
            await RetimeAsync(connection, transaction, set.CampaignId, set.Policy, context.Today);
        }
    }

    /// <summary>Every open deadline of the campaign looks next at the first step of the new schedule it has not passed.</summary>
    private static async Task RetimeAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string campaignId, DeadlinePolicy policy, DateOnly today)
    {
        var keys = new List<(string Congress, string Milestone, DateOnly Due, DateOnly? Next)>();
        await using (var read = new NpgsqlCommand("""
            SELECT congress_id, milestone, due_on, last_step_on, effective_from, effective_until FROM congress.deadlines
            WHERE campaign_id = $1 AND NOT is_met AND closed_reason IS NULL
            """, connection, transaction))
        {
            read.Parameters.AddPositional(campaignId);
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var due = reader.GetFieldValue<DateOnly>(2);
                keys.Add((reader.GetString(0), reader.GetString(1), due,
                    DeadlineReadModel.NextStepOn(due, reader.GetFieldValue<DateOnly>(4), reader.IsDBNull(5) ? null : reader.GetFieldValue<DateOnly>(5),
                        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateOnly>(3), policy, today)));
            }
        }

        await using var update = new NpgsqlCommand("""
            UPDATE congress.deadlines d SET next_step_on = k.next
            FROM unnest($1::text[], $2::text[], $3::date[], $4::date[]) AS k(congress_id, milestone, due_on, next)
            WHERE d.congress_id = k.congress_id AND d.milestone = k.milestone AND d.due_on = k.due_on
            """, connection, transaction);
        update.Parameters.AddPositional(keys.Select(k => k.Congress).ToArray(), keys.Select(k => k.Milestone).ToArray(),
            keys.Select(k => k.Due).ToArray(), keys.Select(k => k.Next).ToArray());
        await update.ExecuteNonQueryAsync();
    }
}

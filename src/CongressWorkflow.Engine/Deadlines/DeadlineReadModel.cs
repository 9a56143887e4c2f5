using System.Text.Json;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Serialization;
using Npgsql;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>
/// congress.deadlines: each congress's deadlines as <see cref="CongressDeadlines.Derive"/> gives them, rewritten inline
/// by every command on the congress (an amendment moves them, a postponement opens a new-date deadline, completion
/// meets them). The notification steps already recorded for a deadline whose due date did not change are kept.
/// </summary>
public static class DeadlineReadModel
{
    /// <summary>How milestones, steps and channels are written in the database and on the wire: kebab-case, as in the events.</summary>
    public static string Name<TEnum>(TEnum value)
        where TEnum : struct, Enum => JsonNamingPolicy.KebabCaseLower.ConvertName(value.ToString());

    public static TEnum Parse<TEnum>(string text)
        where TEnum : struct, Enum => Enum.Parse<TEnum>(text.Replace("-", string.Empty, StringComparison.Ordinal), ignoreCase: true);

    /// <summary>
    /// Rewrites the deadlines of congresses after commands on them (one congress or a batch of them, each once): the
    /// facts they need (their campaigns' policies, their organisations' parents, the steps already recorded) are read
    /// in one round trip for all, and the rows replaced in another.
    /// </summary>
    public static async Task RederiveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Congress> states, DateOnly today)
    {
        var policies = new Dictionary<string, DeadlinePolicy>(StringComparer.Ordinal);
        var superiors = new Dictionary<string, string?>(StringComparer.Ordinal);
        var existing = new Dictionary<(string CongressId, string Milestone, DateOnly Due), (DateOnly? LastStepOn, DateOnly? MetOn)>();
        await using (var facts = new NpgsqlBatch(connection, transaction))
        {
            facts.BatchCommands.Add(Command(PolicySql, (object)states.Select(s => s.CampaignId).Distinct().ToArray()));
            facts.BatchCommands.Add(Command("SELECT organization_id, parent_id FROM congress.organizations WHERE organization_id = ANY($1)",
                (object)states.Select(s => s.OrganizationId).Distinct().ToArray()));
            facts.BatchCommands.Add(Command("SELECT congress_id, milestone, due_on, last_step_on, met_on FROM congress.deadlines WHERE congress_id = ANY($1)",
                (object)states.Select(s => s.CongressId).ToArray()));
            await using var reader = await facts.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                var read = ReadPolicy(reader);
                policies[read.CampaignId] = read.Policy;
            }

            await reader.NextResultAsync();
            while (await reader.ReadAsync())
            {
                superiors[reader.GetString(0)] = reader.IsDBNull(1) ? null : reader.GetString(1);
            }

            await reader.NextResultAsync();
            while (await reader.ReadAsync())
            {
                existing[(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateOnly>(2))] =
                    (reader.IsDBNull(3) ? null : reader.GetFieldValue<DateOnly>(3), reader.IsDBNull(4) ? null : reader.GetFieldValue<DateOnly>(4));
            }
        }

        var rows = states.SelectMany(state =>
        {
            var policy = policies.GetValueOrDefault(state.CampaignId, DeadlinePolicy.Default);
            return CongressDeadlines.Derive(state, superiors.GetValueOrDefault(state.OrganizationId), policy).Select(d =>
            {
                var kept = existing.GetValueOrDefault((state.CongressId, Name(d.Milestone), d.Due));
                var metOn = d.IsMet ? d.MetOn ?? kept.MetOn ?? today : (DateOnly?)null;
                return (State: state, Deadline: d, kept.LastStepOn, MetOn: metOn,
                    NextStepOn: d.IsMet ? null : NextStepOn(d.Due, d.EffectiveFrom, kept.LastStepOn, policy));
            });
        }).ToList();

        await using var batch = new NpgsqlBatch(connection, transaction);
        batch.BatchCommands.Add(Command("DELETE FROM congress.deadlines WHERE congress_id = ANY($1)", (object)states.Select(s => s.CongressId).ToArray()));
        if (rows.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO congress.deadlines (congress_id, milestone, due_on, campaign_id, organization_id, responsible_id, plan_document,
                    effective_from, effective_until, is_met, met_on, last_step_on, next_step_on)
                SELECT d.congress_id, d.milestone, d.due, d.campaign_id, d.organization_id, d.responsible, d.plan, d.effective_from, d.effective_until,
                       d.met_on IS NOT NULL, d.met_on, d.last_step_on, d.next_step_on
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::date[], $9::date[], $10::date[],
                            $11::date[], $12::date[])
                     AS d(congress_id, campaign_id, organization_id, milestone, due, responsible, plan, effective_from, effective_until, met_on,
                          last_step_on, next_step_on)
                """,
                rows.Select(r => r.State.CongressId).ToArray(), rows.Select(r => r.State.CampaignId).ToArray(), rows.Select(r => r.State.OrganizationId).ToArray(),
                rows.Select(r => Name(r.Deadline.Milestone)).ToArray(), rows.Select(r => r.Deadline.Due).ToArray(),
                rows.Select(r => r.Deadline.ResponsibleOrganizationId).ToArray(), rows.Select(r => r.Deadline.PlanDocument).ToArray(),
                rows.Select(r => r.Deadline.EffectiveFrom).ToArray(), rows.Select(r => r.Deadline.EffectiveUntil).ToArray(),
                rows.Select(r => r.MetOn).ToArray(), rows.Select(r => r.LastStepOn).ToArray(), rows.Select(r => r.NextStepOn).ToArray()));
        }

        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>The day of the first step of a deadline's schedule after the last one recorded; null when none is left.</summary>
    public static DateOnly? NextStepOn(DateOnly due, DateOnly startsOn, DateOnly? lastStepOn, DeadlinePolicy policy) =>
        NotificationSchedule.Pending(due, startsOn, lastStepOn, policy).FirstOrDefault()?.On;

    /// <summary>The policies set for some campaigns (one or many).</summary>
    private const string PolicySql = "SELECT campaign_id, policy::text, reason, set_by, set_at FROM congress.deadline_policies WHERE campaign_id = ANY($1)";

    /// <summary>The campaign's policy as set, with who set it, when and why; the default when nobody has.</summary>
    public static async Task<PolicyInForce> PolicyInForceAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string campaignId)
    {
        await using var command = new NpgsqlCommand(PolicySql, connection, transaction);
        command.Parameters.AddPositional((object)new[] { campaignId });
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? ReadPolicy(reader) : new PolicyInForce(campaignId, DeadlinePolicy.Default, true, null, null, null);
    }

    private static PolicyInForce ReadPolicy(NpgsqlDataReader reader) => new(
        reader.GetString(0), JsonSerializer.Deserialize<DeadlinePolicy>(reader.GetString(1), EventTypeRegistry.DefaultSerializerOptions)!, false,
        reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateTimeOffset>(4));

    private static NpgsqlBatchCommand Command(string sql, params object?[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddPositional(parameters);
        return command;
    }
}

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

    public static async Task RederiveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Congress state, DateOnly today)
    {
        // Every command on a congress comes through here: the three facts it needs are read in one round trip.
        var policy = DeadlinePolicy.Default;
        string? superior = null;
        var existing = new Dictionary<(string Milestone, DateOnly Due), (DateOnly? LastStepOn, DateOnly? MetOn)>();
        await using (var facts = new NpgsqlBatch(connection, transaction))
        {
            facts.BatchCommands.Add(Command(PolicySql, state.CampaignId));
            facts.BatchCommands.Add(Command("SELECT parent_id FROM congress.organizations WHERE organization_id = $1", state.OrganizationId));
            facts.BatchCommands.Add(Command("SELECT milestone, due_on, last_step_on, met_on FROM congress.deadlines WHERE congress_id = $1", state.CongressId));
            await using var reader = await facts.ExecuteReaderAsync();
            if (await reader.ReadAsync())
            {
                policy = ReadPolicy(reader).Policy;
            }

            await reader.NextResultAsync();
            if (await reader.ReadAsync() && !reader.IsDBNull(0))
            {
                superior = reader.GetString(0);
            }

            await reader.NextResultAsync();
            while (await reader.ReadAsync())
            {
                existing[(reader.GetString(0), reader.GetFieldValue<DateOnly>(1))] =
                    (reader.IsDBNull(2) ? null : reader.GetFieldValue<DateOnly>(2), reader.IsDBNull(3) ? null : reader.GetFieldValue<DateOnly>(3));
            }
        }

        var derived = CongressDeadlines.Derive(state, superior, policy);
        var rows = derived.Select(d =>
        {
            var kept = existing.GetValueOrDefault((Name(d.Milestone), d.Due));
            var metOn = d.IsMet ? d.MetOn ?? kept.MetOn ?? today : (DateOnly?)null;
            return (Deadline: d, kept.LastStepOn, MetOn: metOn, NextStepOn: d.IsMet ? null : NextStepOn(d.Due, d.EffectiveFrom, kept.LastStepOn, policy));
        }).ToList();

        await using var batch = new NpgsqlBatch(connection, transaction);
        var delete = new NpgsqlBatchCommand("DELETE FROM congress.deadlines WHERE congress_id = $1");
        delete.Parameters.AddPositional(state.CongressId);
        batch.BatchCommands.Add(delete);
        if (rows.Count > 0)
        {
            var insert = new NpgsqlBatchCommand("""
                INSERT INTO congress.deadlines (congress_id, milestone, due_on, campaign_id, organization_id, responsible_id, plan_document,
                    effective_from, effective_until, is_met, met_on, last_step_on, next_step_on)
                SELECT $1, d.milestone, d.due, $2, $3, d.responsible, d.plan, d.effective_from, d.effective_until, d.met_on IS NOT NULL, d.met_on,
                       d.last_step_on, d.next_step_on
                FROM unnest($4::text[], $5::date[], $6::text[], $7::text[], $8::date[], $9::date[], $10::date[], $11::date[], $12::date[])
                     AS d(milestone, due, responsible, plan, effective_from, effective_until, met_on, last_step_on, next_step_on)
                """);
            insert.Parameters.AddPositional(state.CongressId, state.CampaignId, state.OrganizationId,
                rows.Select(r => Name(r.Deadline.Milestone)).ToArray(), rows.Select(r => r.Deadline.Due).ToArray(),
                rows.Select(r => r.Deadline.ResponsibleOrganizationId).ToArray(), rows.Select(r => r.Deadline.PlanDocument).ToArray(),
                rows.Select(r => r.Deadline.EffectiveFrom).ToArray(), rows.Select(r => r.Deadline.EffectiveUntil).ToArray(),
                rows.Select(r => r.MetOn).ToArray(), rows.Select(r => r.LastStepOn).ToArray(), rows.Select(r => r.NextStepOn).ToArray());
            batch.BatchCommands.Add(insert);
        }

        await batch.ExecuteNonQueryAsync();
    }

    /// <summary>The day of the first step of a deadline's schedule after the last one recorded; null when none is left.</summary>
    public static DateOnly? NextStepOn(DateOnly due, DateOnly startsOn, DateOnly? lastStepOn, DeadlinePolicy policy) =>
        NotificationSchedule.Pending(due, startsOn, lastStepOn, policy).FirstOrDefault()?.On;

    private const string PolicySql = "SELECT campaign_id, policy::text, reason, set_by, set_at FROM congress.deadline_policies WHERE campaign_id = $1";

    /// <summary>The campaign's policy as set, with who set it, when and why; the default when nobody has.</summary>
    public static async Task<PolicyInForce> PolicyInForceAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string campaignId)
    {
        await using var command = new NpgsqlCommand(PolicySql, connection, transaction);
        command.Parameters.AddPositional(campaignId);
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

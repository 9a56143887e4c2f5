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
    /// facts they need (their campaigns' policies, their organisations' parents, the rows as they stand) are read in one
    /// round trip for all, and in another the rows that changed are written and those no longer derived deleted. Most
    /// commands change no deadline: rewriting every row each time left the index the sweep reads full of dead entries.
    /// A sweep may record a step on a deadline between the read and the write (it locks the rows it takes, a command
    /// does not lock what it reads): a row is then only written if its last step is still the one read, and if any was
    /// not, everything is read and derived again, past that sweep. Writing the step as read would have put back a step
    /// already recorded: the next sweep decided it again and the store refused its id, on every sweep after.
    /// </summary>
    public static async Task RederiveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Congress> states, DateOnly today)
    {
        while (!await TryRederiveAsync(connection, transaction, states, today))
        {
        }
    }

    /// <summary>One read and write of <see cref="RederiveAsync"/>: false when a sweep had moved on a row that was to be written.</summary>
    private static async Task<bool> TryRederiveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IReadOnlyList<Congress> states, DateOnly today)
    {
        var policies = new Dictionary<string, DeadlinePolicy>(StringComparer.Ordinal);
        var superiors = new Dictionary<string, string?>(StringComparer.Ordinal);
        var existing = new Dictionary<(string CongressId, string Milestone, DateOnly Due), StoredDeadline>();
        await using (var facts = new NpgsqlBatch(connection, transaction))
        {
            facts.BatchCommands.Add(Command(PolicySql, (object)states.Select(s => s.CampaignId).Distinct().ToArray()));
            facts.BatchCommands.Add(Command("SELECT organization_id, parent_id FROM congress.organizations WHERE organization_id = ANY($1)",
                (object)states.Select(s => s.OrganizationId).Distinct().ToArray()));
            facts.BatchCommands.Add(Command("""
                SELECT congress_id, milestone, due_on, responsible_id, plan_document, effective_from, effective_until, met_on, last_step_on, next_step_on,
                       closed_reason IS NOT NULL
                FROM congress.deadlines WHERE congress_id = ANY($1)
                """, (object)states.Select(s => s.CongressId).ToArray()));
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
                DateOnly? DateAt(int i) => reader.IsDBNull(i) ? null : reader.GetFieldValue<DateOnly>(i);
                existing[(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateOnly>(2))] = new StoredDeadline(reader.GetString(3),
                    reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetFieldValue<DateOnly>(5), DateAt(6), DateAt(7), DateAt(8), DateAt(9), reader.GetBoolean(10));
            }
        }

        var derived = states.SelectMany(state =>
        {
            var policy = policies.GetValueOrDefault(state.CampaignId, DeadlinePolicy.Default);
            return CongressDeadlines.Derive(state, superiors.GetValueOrDefault(state.OrganizationId), policy).Select(d =>
            {
                var kept = existing.GetValueOrDefault((state.CongressId, Name(d.Milestone), d.Due));
                var metOn = d.IsMet ? d.MetOn ?? kept?.MetOn ?? today : (DateOnly?)null;
                return (State: state, Milestone: Name(d.Milestone), d.Due, Row: new StoredDeadline(d.ResponsibleOrganizationId, d.PlanDocument, d.EffectiveFrom,
                    d.EffectiveUntil, metOn, kept?.LastStepOn, d.IsMet ? null : NextStepOn(d.Due, d.EffectiveFrom, d.EffectiveUntil, kept?.LastStepOn, policy, today), IsClosed: false));
            });
        }).ToList();
        var changed = derived.Where(d => existing.GetValueOrDefault((d.State.CongressId, d.Milestone, d.Due)) != d.Row).ToList();
        var kept = derived.Select(d => (d.State.CongressId, d.Milestone, d.Due)).ToHashSet();
        var gone = existing.Keys.Where(key => !kept.Contains(key)).ToList();
        if (changed.Count == 0 && gone.Count == 0)
        {
            return true;
        }

        await using var batch = new NpgsqlBatch(connection, transaction);
        if (gone.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                DELETE FROM congress.deadlines d USING unnest($1::text[], $2::text[], $3::date[]) AS g(congress_id, milestone, due_on)
                WHERE (d.congress_id, d.milestone, d.due_on) = (g.congress_id, g.milestone, g.due_on)
                """, gone.Select(g => g.CongressId).ToArray(), gone.Select(g => g.Milestone).ToArray(), gone.Select(g => g.Due).ToArray()));
        }

        if (changed.Count > 0)
        {
            batch.BatchCommands.Add(Command("""
                INSERT INTO congress.deadlines AS t (congress_id, milestone, due_on, campaign_id, organization_id, responsible_id, plan_document,
                    effective_from, effective_until, is_met, met_on, last_step_on, next_step_on)
                SELECT d.congress_id, d.milestone, d.due, d.campaign_id, d.organization_id, d.responsible, d.plan, d.effective_from, d.effective_until,
                       d.met_on IS NOT NULL, d.met_on, d.last_step_on, d.next_step_on
                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::date[], $9::date[], $10::date[],
                            $11::date[], $12::date[])
                     AS d(congress_id, campaign_id, organization_id, milestone, due, responsible, plan, effective_from, effective_until, met_on,
                          last_step_on, next_step_on)
                ON CONFLICT (congress_id, milestone, due_on) DO UPDATE SET responsible_id = excluded.responsible_id, plan_document = excluded.plan_document,
                    effective_from = excluded.effective_from, effective_until = excluded.effective_until, is_met = excluded.is_met,
                    met_on = excluded.met_on, last_step_on = excluded.last_step_on, next_step_on = excluded.next_step_on, closed_reason = NULL
                WHERE t.last_step_on IS NOT DISTINCT FROM excluded.last_step_on
                """,
                changed.Select(r => r.State.CongressId).ToArray(), changed.Select(r => r.State.CampaignId).ToArray(), changed.Select(r => r.State.OrganizationId).ToArray(),
                changed.Select(r => r.Milestone).ToArray(), changed.Select(r => r.Due).ToArray(), changed.Select(r => r.Row.ResponsibleId).ToArray(),
                changed.Select(r => r.Row.PlanDocument).ToArray(), changed.Select(r => r.Row.EffectiveFrom).ToArray(), changed.Select(r => r.Row.EffectiveUntil).ToArray(),
                changed.Select(r => r.Row.MetOn).ToArray(), changed.Select(r => r.Row.LastStepOn).ToArray(), changed.Select(r => r.Row.NextStepOn).ToArray()));
        }

        await batch.ExecuteNonQueryAsync();
        return changed.Count == 0 || batch.BatchCommands[^1].RecordsAffected == changed.Count;
    }

    /// <summary>A deadline row's columns besides its key (whether it is met follows from the day it was met).</summary>
    private sealed record StoredDeadline(
        string ResponsibleId, string? PlanDocument, DateOnly EffectiveFrom, DateOnly? EffectiveUntil, DateOnly? MetOn, DateOnly? LastStepOn, DateOnly? NextStepOn,
        bool IsClosed);

    /// <summary>
    /// When the sweep must look at a deadline next: the day of the first step of its schedule after the last one recorded,
    /// or <paramref name="today"/> when that day has passed (the sweep decides from the schedule, so a passed step is due
    /// now, whatever day is written). Null when no step is left, or when the deadline is no longer in force by then. No
    /// day before the writer's own is ever written: that is what lets a sweep start where the last one ended
    /// (<see cref="DeadlineSweep"/>).
    /// </summary>
    public static DateOnly? NextStepOn(DateOnly due, DateOnly startsOn, DateOnly? endsOn, DateOnly? lastStepOn, DeadlinePolicy policy, DateOnly today)
    {
        if (NotificationSchedule.Pending(due, startsOn, endsOn, lastStepOn, policy).FirstOrDefault() is not { } first)
        {
            return null;
        }

        var next = first.On > today ? first.On : today;
        return endsOn is { } ends && next > ends ? null : next;
    }

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

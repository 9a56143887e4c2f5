using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Domain.Organizations;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>
/// The deadlines board as it stood with what had been recorded by a moment (knownAt): the subtree's congresses, the
/// tree and the campaign's policy are folded from the events recorded by then and put through
/// <see cref="CongressDeadlines"/>, the function that fills the live board, so with everything known the two agree.
/// A deadline met without a date of its own (a new date set, a milestone passed by holding the congress) counts as met
/// from the day the event that met it was recorded, as the live board stamps it. The steps already taken come from the
/// ledger rows recorded by then. It reads the subtree's whole history: an auditor's question, not the live board's.
/// </summary>
public sealed class DeadlineBoardAsKnown(PostgresEventStore store, OrganizationTree tree, NpgsqlDataSource dataSource)
{
    private static readonly IReadOnlyCollection<string> TreeEvents = DomainEventTypes.NamesOf(
        typeof(OrganizationRegistered), typeof(OrganizationMoved), typeof(OrganizationDissolved), typeof(OrganizationRenamed));

    public async Task<IReadOnlyList<DeadlineRow>> BoardAsync(string campaignId, string organizationId, DateOnly day, int days, bool includeMet,
        DateTimeOffset knownAt, int limit = 500, CancellationToken cancellationToken = default)
    {
        var subtree = await tree.SubtreeAsync(organizationId, cancellationToken);
        var congressStreams = subtree.Select(o => Congress.StreamId(campaignId, o.Id)).ToHashSet(StringComparer.Ordinal);
        var history = await store.ReadInterleavedAsync([.. congressStreams, CampaignDeadlinePolicy.StreamId(campaignId)], TreeEvents, cancellationToken);

        var policy = DeadlinePolicy.Default;
        var organizations = new Dictionary<string, Organization>(StringComparer.Ordinal);
        var congresses = new Dictionary<string, Congress>(StringComparer.Ordinal);
        var metWithoutDate = new Dictionary<(string CongressId, Milestone Milestone, DateOnly Due), DateOnly>();
        foreach (var e in history.Where(e => e.RecordedAt <= knownAt))
        {
            switch (e.Data)
            {
                case DeadlinePolicySet set:
                    policy = set.Policy;
                    break;
                case OrganizationRegistered or OrganizationMoved or OrganizationDissolved or OrganizationRenamed:
                    var id = Organization.IdOf(e.Data)!;
                    organizations[id] = OrganizationDecider.Evolve(organizations.GetValueOrDefault(id, Organization.None), e.Data);
                    break;
                default:
                    if (congressStreams.Contains(e.StreamId))
                    {
                        var before = congresses.GetValueOrDefault(e.StreamId, Congress.None);
                        var after = Congress.Evolve(before, e.Data);
                        congresses[e.StreamId] = after;
                        StampMetWithoutDate(before, after, SuperiorOf(after), policy, DateOnly.FromDateTime(e.RecordedAt.UtcDateTime), metWithoutDate);
                    }

                    break;
            }
        }

        var stepsTaken = await StepsTakenAsync(campaignId, knownAt, cancellationToken);
        var rows = new List<DeadlineRow>();
        foreach (var congress in congresses.Values.Where(c => c.Stage != CongressStage.NotPlanned))
        {
            if (!organizations.TryGetValue(congress.OrganizationId, out var unit) || unit.IsDissolved)
            {
                continue;
            }

            foreach (var d in CongressDeadlines.Derive(congress, SuperiorOf(congress), policy))
            {
                var metOn = d.IsMet ? d.MetOn ?? metWithoutDate.GetValueOrDefault((congress.CongressId, d.Milestone, d.Due)) : (DateOnly?)null;
                var inForce = d.EffectiveFrom <= day && (d.EffectiveUntil is null || d.EffectiveUntil >= day);
                var open = !(d.IsMet && metOn <= day) && d.Due <= day.AddDays(days);
                if (inForce && (includeMet || open))
                {
                    var milestone = DeadlineReadModel.Name(d.Milestone);
                    rows.Add(new DeadlineRow(congress.CongressId, congress.OrganizationId, unit.Name, milestone, d.Due, d.ResponsibleOrganizationId,
                        d.PlanDocument, d.IsMet, metOn, null, d.Due.DayNumber - day.DayNumber,
                        stepsTaken.TryGetValue((congress.CongressId, milestone, d.Due), out var last) ? last : null, null));
                }
            }
        }

        return [.. rows.OrderBy(r => r.DueOn).ThenBy(r => r.OrganizationName, StringComparer.Ordinal).ThenBy(r => r.Milestone, StringComparer.Ordinal).Take(limit)];

        string? SuperiorOf(Congress congress) => organizations.TryGetValue(congress.OrganizationId, out var o) ? o.ParentId : congress.SuperiorOrganizationId;
    }

    /// <summary>Deadlines this event met that carry no date of their own are met on the day it was recorded (what the live board does).</summary>
    private static void StampMetWithoutDate(Congress before, Congress after, string? superior, DeadlinePolicy policy, DateOnly recordedOn,
        Dictionary<(string, Milestone, DateOnly), DateOnly> stamped)
    {
        if (after.Stage == CongressStage.NotPlanned)
        {
            return;
        }

        var metBefore = before.Stage == CongressStage.NotPlanned
            ? []
            : CongressDeadlines.Derive(before, superior, policy).Where(d => d.IsMet).Select(d => (d.Milestone, d.Due)).ToHashSet();
        foreach (var d in CongressDeadlines.Derive(after, superior, policy).Where(d => d is { IsMet: true, MetOn: null } && !metBefore.Contains((d.Milestone, d.Due))))
        {
            stamped.TryAdd((after.CongressId, d.Milestone, d.Due), recordedOn);
        }
    }

    /// <summary>The day of the last step taken (sent or skipped) for each deadline, as recorded by the moment: what the sweep keeps on the live board.</summary>
    private async Task<Dictionary<(string, string, DateOnly), DateOnly>> StepsTakenAsync(string campaignId, DateTimeOffset knownAt, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT congress_id, milestone, due_on, max(scheduled_on) FROM congress.notifications
            WHERE campaign_id = $1 AND recorded_at <= $2
            GROUP BY congress_id, milestone, due_on
            """);
        command.Parameters.AddPositional(campaignId, knownAt);
        var steps = new Dictionary<(string, string, DateOnly), DateOnly>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            steps[(reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateOnly>(2))] = reader.GetFieldValue<DateOnly>(3);
        }

        return steps;
    }
}

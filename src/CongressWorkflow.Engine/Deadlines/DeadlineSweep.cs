using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using CongressWorkflow.Domain.Common;
using CongressWorkflow.Domain.Congresses;
using CongressWorkflow.Domain.Deadlines;
using CongressWorkflow.Engine.Organizations;
using CongressWorkflow.EventStore;
using CongressWorkflow.EventStore.Outbox;
using CongressWorkflow.EventStore.Telemetry;
using Npgsql;
using NpgsqlTypes;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>What one sweep did.</summary>
public sealed record SweepReport(DateOnly Day, bool Ran, int Deadlines, int Sent, int Skipped, int Deliveries, TimeSpan Took);

/// <summary>
/// The deadline sweep, run by Hangfire every few minutes on some node (and by the demo on each simulated day). It takes
/// the deadlines whose next step has come (an index on next_step_on: a sweep touches only what is due, and reads it from
/// the day before the last complete sweep's, past the entries earlier days left dead), decides per
/// deadline with <see cref="NotificationSchedule.Decide"/>, and records each step as an event in the organisation's
/// ledger stream under a deterministic id, with its inbox, email and webhook deliveries in the outbox, all in one
/// transaction per batch. One node sweeps at a time (a PostgreSQL advisory lock); a crashed or repeated sweep cannot
/// send twice, because a step's id is the same on every run and the store refuses a second event with it.
/// A simulated campaign runs on its own clock: the sweep of <paramref name="simulatedCampaignId"/> (on the simulated day)
/// touches only it, and the real sweep leaves simulated campaigns alone.
/// </summary>
public sealed class DeadlineSweep(PostgresEventStore store, NpgsqlDataSource dataSource, TimeProvider timeProvider, string? simulatedCampaignId = null)
{
    public const int BatchSize = 500;

    private static readonly Actor SweepActor = new("deadline-sweep", "system");
    private static readonly Counter<long> Steps = CongressTelemetry.Meter.CreateCounter<long>(
        "cw.notifications.steps", unit: "{step}", description: "Notification steps taken by the deadline sweep: sent, skipped, or passed over as already recorded");

    public static string LedgerStreamId(string campaignId, string organizationId) => $"ledger-{campaignId}-{organizationId}";

    private string LockName => simulatedCampaignId is null ? "deadline-sweep" : "deadline-sweep:" + simulatedCampaignId;

    public async Task<SweepReport> RunAsync(CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        var today = DateOnly.FromDateTime(timeProvider.GetUtcNow().UtcDateTime);
        using var activity = CongressTelemetry.ActivitySource.StartActivity("deadlines.sweep");
        activity?.SetTag("cw.day", today.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", connection))
        {
            tryLock.Parameters.AddPositional(LockName);
            if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken))!)
            {
                activity?.SetTag("cw.ran", false);
                return new SweepReport(today, false, 0, 0, 0, 0, Stopwatch.GetElapsedTime(started));
            }
        }

        try
        {
            var total = default(Tally);
            foreach (var campaign in await CampaignsToSweepAsync(connection, cancellationToken))
            {
                var from = await SweepFromAsync(connection, campaign, today, cancellationToken);
                foreach (var share in await Task.WhenAll(Enumerable.Range(0, Shares).Select(share => SweepShareAsync(today, from, campaign, share, cancellationToken))))
                {
                    total += share;
                }

                await RecordSweptAsync(connection, campaign, today, cancellationToken);
            }

            var (deadlines, sent, skipped, deliveries) = total;

            activity?.SetTag("cw.deadlines", deadlines);
            activity?.SetTag("cw.sent", sent);
            return new SweepReport(today, true, deadlines, sent, skipped, deliveries, Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(hashtextextended($1, 0))", connection);
            unlock.Parameters.AddPositional(LockName);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// A campaign is swept in this many shares side by side, each on its own connection: the congresses split by a hash of
    /// their id, so a congress's deadlines and its ledger stream are all in one share and the shares never wait for each
    /// other. (One share at a time kept one core busy while the sweep ran, a quarter of a simulated campaign's time.)
    /// </summary>
    private static readonly int Shares = Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>What a batch, a share or a whole sweep did.</summary>
    private readonly record struct Tally(int Deadlines, int Sent, int Skipped, int Deliveries)
    {
        public static Tally operator +(Tally a, Tally b) =>
            new(a.Deadlines + b.Deadlines, a.Sent + b.Sent, a.Skipped + b.Skipped, a.Deliveries + b.Deliveries);
    }

    private async Task<Tally> SweepShareAsync(DateOnly today, DateOnly? from, string campaignId, int share, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var context = new SweepContext(connection, today, from, share);
        var total = default(Tally);
        while (await SweepBatchAsync(context, campaignId, cancellationToken) is { Deadlines: > 0 } batch)
        {
            total += batch;
        }

        return total;
    }

    /// <summary>
    /// The campaigns this sweep is for: the simulated one, or every real one. Swept one at a time, each through its own
    /// part of the due index: the deadlines of other campaigns (a simulation's, due on days long past) are never read.
    /// </summary>
    private async Task<IReadOnlyList<string>> CampaignsToSweepAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (simulatedCampaignId is not null)
        {
            return [simulatedCampaignId];
        }

        var campaigns = new List<string>();
        await using var command = new NpgsqlCommand("""
            SELECT campaign_id FROM congress.campaigns c
            WHERE NOT EXISTS (SELECT 1 FROM congress.simulations s WHERE s.simulation_id = c.campaign_id)
            ORDER BY campaign_id
            """, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            campaigns.Add(reader.GetString(0));
        }

        return campaigns;
    }

    /// <summary>
    /// The first day whose deadlines the sweep of a campaign reads: the day before the last complete sweep's. A sweep moves
    /// every deadline it takes past its day, and no writer of a next step writes a day before its own
    /// (<see cref="DeadlineReadModel.NextStepOn"/>), so no deadline below it is due; the day's margin covers a command
    /// that read its clock before midnight and committed after that sweep. Null (from the bottom of the due index) before
    /// the first complete sweep, or when the clock is behind the last one.
    /// </summary>
    private static async Task<DateOnly?> SweepFromAsync(NpgsqlConnection connection, string campaignId, DateOnly today, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT swept_on FROM congress.deadline_sweeps WHERE campaign_id = $1", connection);
        command.Parameters.AddPositional(campaignId);
        return await command.ExecuteScalarAsync(cancellationToken) is DateOnly last && last <= today ? last.AddDays(-1) : null;
    }

    /// <summary>Records that every share of the campaign's sweep of <paramref name="today"/> took all that was due.</summary>
    private static async Task RecordSweptAsync(NpgsqlConnection connection, string campaignId, DateOnly today, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO congress.deadline_sweeps (campaign_id, swept_on) VALUES ($1, $2)
            ON CONFLICT (campaign_id) DO UPDATE SET swept_on = GREATEST(deadline_sweeps.swept_on, excluded.swept_on)
            """, connection);
        command.Parameters.AddPositional(campaignId, today);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed class SweepContext(NpgsqlConnection connection, DateOnly today, DateOnly? from, int share)
    {
        public NpgsqlConnection Connection { get; } = connection;

        public int Share { get; } = share;

        public DateOnly Today { get; } = today;

        /// <summary>Where the first batch starts in the due index (see <see cref="SweepFromAsync"/>).</summary>
        public DateOnly? From { get; } = from;

        public Dictionary<string, DeadlinePolicy> Policies { get; } = new(StringComparer.Ordinal);

        /// <summary>
        /// The last deadline the share's previous batch took, in the due index's order: the next batch starts after it.
        /// Every deadline a batch takes moves its next step past today (or has none), so none before it is due any more;
        /// starting from the top of the index instead passed over all the entries the day's earlier batches had left
        /// behind (an update of next_step_on leaves its old index entry until a vacuum).
        /// </summary>
        public (DateOnly NextStepOn, string CongressId, string Milestone, DateOnly DueOn)? After { get; set; }
    }

    private sealed record Due(
        string CongressId, Milestone Milestone, DateOnly DueOn, string CampaignId, string OrganizationId, string OrganizationName, string ResponsibleId,
        string? PlanDocument, DateOnly? LastStepOn, DateOnly StartsOn, DateOnly? EndsOn);

    private sealed record Unit(string Id, string Name, string? ParentId);

    private async Task<Tally> SweepBatchAsync(SweepContext sweep, string campaignId, CancellationToken cancellationToken)
    {
        var start = sweep.After;
        try
        {
            return await SweepBatchAsync(sweep, campaignId, passRecorded: false, cancellationToken);
        }
        catch (EventStoreException e) when (e.Code == EventStoreErrorCodes.DuplicateEvent)
        {
            // A step the batch decided is recorded already: its deadline's row had lost track of it (a writer put back an
            // older last step). Taken again from the same place, passing over what is recorded, rather than failing on
            // this batch at every sweep from now on.
            sweep.After = start;
            return await SweepBatchAsync(sweep, campaignId, passRecorded: true, cancellationToken);
        }
    }

    /// <param name="passRecorded">Leave out the steps already in the ledger (their deadlines still move on).</param>
    private async Task<Tally> SweepBatchAsync(SweepContext sweep, string campaignId, bool passRecorded, CancellationToken cancellationToken)
    {
        var connection = sweep.Connection;
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var due = new List<Due>();
        // Where the batch starts in the due index: after the last deadline the share's previous batch took, or (the day's
        // first batch) at the sweep's first day, or at the bottom.
        var (start, startValues) = sweep.After is { } previous
            ? ("AND (d.next_step_on, d.congress_id, d.milestone, d.due_on) > ($6, $7, $8, $9)", new object[] { previous.NextStepOn, previous.CongressId, previous.Milestone, previous.DueOn })
            : sweep.From is { } from ? ("AND d.next_step_on >= $6", new object[] { from }) : ("", []);
        await using (var select = new NpgsqlCommand($"""
            SELECT d.congress_id, d.milestone, d.due_on, d.campaign_id, d.organization_id, o.name, d.responsible_id, d.plan_document, d.last_step_on,
                   d.effective_from, d.effective_until, d.next_step_on
            FROM congress.deadlines d JOIN congress.organizations o ON o.organization_id = d.organization_id
            WHERE d.campaign_id = $3 AND d.next_step_on <= $1 AND NOT d.is_met AND d.closed_reason IS NULL
              AND d.effective_from <= $1 AND (d.effective_until IS NULL OR d.effective_until >= $1)
              AND (hashtext(d.congress_id) & 2147483647) % $5 = $4
              {start}
            ORDER BY d.next_step_on, d.congress_id, d.milestone, d.due_on
            LIMIT $2
            FOR UPDATE OF d
            """, connection, transaction))
        {
            select.Parameters.AddPositional(sweep.Today, BatchSize, campaignId, sweep.Share, Shares);
            select.Parameters.AddPositional(startValues);

            await using var reader = await select.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                due.Add(new Due(reader.GetString(0), DeadlineReadModel.Parse<Milestone>(reader.GetString(1)), reader.GetFieldValue<DateOnly>(2),
                    reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                    reader.IsDBNull(8) ? null : reader.GetFieldValue<DateOnly>(8), reader.GetFieldValue<DateOnly>(9),
                    reader.IsDBNull(10) ? null : reader.GetFieldValue<DateOnly>(10)));
                sweep.After = (reader.GetFieldValue<DateOnly>(11), reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateOnly>(2));
            }
        }

        if (due.Count == 0)
        {
            return default;
        }

        foreach (var campaign in due.Select(d => d.CampaignId).Distinct().Where(c => !sweep.Policies.ContainsKey(c)))
        {
            sweep.Policies[campaign] = (await DeadlineReadModel.PolicyInForceAsync(connection, transaction, campaign)).Policy;
        }

        var units = await UnitsWithAncestorsAsync(connection, transaction, due.Select(d => d.ResponsibleId).Distinct().ToArray(), cancellationToken);
        var routes = await DeliveryRoutes.LoadAsync(connection, transaction, [.. due.Select(d => d.OrganizationId).Distinct()], [.. units.Keys], cancellationToken);
        var ledger = new Dictionary<string, (List<NewEvent> Events, List<OutboxMessage> Outbox)>(StringComparer.Ordinal);
        var rows = new List<NotificationRow>();
        var inbox = new List<InboxDelivery>();
        var retimed = new List<(Due Deadline, DateOnly? LastStepOn, DateOnly? NextOn)>();
        foreach (var deadline in due)
        {
            var policy = sweep.Policies[deadline.CampaignId];
            var decision = NotificationSchedule.Decide(deadline.DueOn, deadline.StartsOn, deadline.EndsOn, deadline.LastStepOn, policy, sweep.Today);
            var stream = LedgerStreamId(deadline.CampaignId, deadline.OrganizationId);
            if (!ledger.TryGetValue(stream, out var entry))
            {
                ledger[stream] = entry = ([], []);
            }

            var steps = decision.Skipped.ToList();
            var recipients = decision.Send is { } send ? Recipients(send.Step, deadline.ResponsibleId, units) : [];
            if (decision.Send is { } unsent && recipients.Count == 0)
            {
                steps.Add((unsent, $"no superior committee above {deadline.ResponsibleId} to escalate to"));
            }
            else if (decision.Send is { } step)
            {
                var id = NotificationSchedule.NotificationId(deadline.CongressId, deadline.Milestone, deadline.DueOn, step.Key);
                var daysLeft = deadline.DueOn.DayNumber - sweep.Today.DayNumber;
                var recorded = new NotificationRecorded(id, deadline.CampaignId, deadline.CongressId, deadline.OrganizationId, deadline.Milestone,
                    deadline.DueOn, step.Step, step.Key, step.On, sweep.Today, decision.Late, daysLeft, deadline.PlanDocument, [.. recipients.Select(r => r.Id)]);
                entry.Events.Add(new NewEvent(id, recorded));
                rows.Add(new NotificationRow(recorded.NotificationId, deadline, step.Key, step.Step, "sent", step.On, decision.Late, daysLeft, recorded.Recipients,
                    null, stream));
                var (items, messages) = routes.Deliveries(recorded, deadline.OrganizationName, recipients.Select(r => (r.Id, r.Name)).ToList(), policy,
                    timeProvider.GetUtcNow());
                inbox.AddRange(items);
                entry.Outbox.AddRange(messages);
            }

            foreach (var (step, reason) in steps)
            {
                var id = NotificationSchedule.NotificationId(deadline.CongressId, deadline.Milestone, deadline.DueOn, step.Key);
                entry.Events.Add(new NewEvent(id, new NotificationSkipped(id, deadline.CampaignId, deadline.CongressId, deadline.OrganizationId,
                    deadline.Milestone, deadline.DueOn, step.Key, step.On, sweep.Today, reason)));
                rows.Add(new NotificationRow(id, deadline, step.Key, step.Step, "skipped", step.On, false, null, [], reason, stream));
            }

            var last = new[] { decision.Send?.On, steps.Count > 0 ? steps.Max(s => s.Step.On) : null }.Max() ?? deadline.LastStepOn;
            retimed.Add((deadline, last, decision.NextOn));
        }

        var passed = 0;
        if (passRecorded)
        {
            var recorded = await RecordedAsync(connection, transaction, [.. rows.Select(r => r.Id)], cancellationToken);
            passed = rows.RemoveAll(r => recorded.Contains(r.Id));
            inbox.RemoveAll(i => i.NotificationId is { } n && recorded.Contains(n));
            foreach (var (events, outbox) in ledger.Values)
            {
                events.RemoveAll(e => recorded.Contains(e.EventId));
                outbox.RemoveAll(m => DeliveryPayload.NotificationOf(m.Payload) is { } n && recorded.Contains(n));
            }
        }

        var metadata = new EventMetadata(SweepActor, Guid.NewGuid());
        await store.AppendInBulkAsync(connection, transaction,
            ledger.Where(l => l.Value.Events.Count > 0).Select(l => new BulkStreamAppend(new StreamAppend(l.Key, "ledger", ExpectedVersion.Any, l.Value.Events, l.Value.Outbox, campaignId), metadata)),
            cancellationToken);

        await WriteRowsAsync(connection, transaction, rows, retimed, inbox, ledger.Values.SelectMany(l => l.Outbox).ToList(), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        var sent = rows.Count(r => r.Status == "sent");
        var skipped = rows.Count - sent;
        Steps.Add(sent, new KeyValuePair<string, object?>("cw.status", "sent"));
        Steps.Add(skipped, new KeyValuePair<string, object?>("cw.status", "skipped"));
        Steps.Add(passed, new KeyValuePair<string, object?>("cw.status", "already-recorded"));
        return new Tally(due.Count, sent, skipped, inbox.Count + ledger.Values.Sum(l => l.Outbox.Count));
    }

    /// <summary>Which of these steps the ledger holds already (each step's row is written with its event).</summary>
    private static async Task<HashSet<Guid>> RecordedAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid[] ids, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT notification_id FROM congress.notifications WHERE notification_id = ANY($1)", connection, transaction);
        command.Parameters.AddPositional((object)ids);
        var recorded = new HashSet<Guid>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            recorded.Add(reader.GetGuid(0));
        }

        return recorded;
    }

    /// <summary>Who hears of a step: the organisation that must act, its direct superior on escalation, the level above on further escalation.</summary>
    private static List<Unit> Recipients(NotificationStep step, string responsibleId, Dictionary<string, Unit> units)
    {
        var unit = units[responsibleId];
        var superior = unit.ParentId is { } p && units.TryGetValue(p, out var s) ? s : null;
        var above = superior?.ParentId is { } g && units.TryGetValue(g, out var a) ? a : null;
        return step switch
        {
            NotificationStep.Escalation => superior is null ? [] : [superior],
            NotificationStep.FurtherEscalation => above is null ? [] : [above],
            _ => [unit],
        };
    }

    /// <summary>A step's row in congress.notifications.</summary>
    private sealed record NotificationRow(
        Guid Id, Due Deadline, string StepKey, NotificationStep Step, string Status, DateOnly ScheduledOn, bool Late, int? DaysLeft,
        IReadOnlyList<string> Recipients, string? Reason, string Stream);

    private async Task WriteRowsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, List<NotificationRow> rows, List<(Due Deadline, DateOnly? LastStepOn, DateOnly? NextOn)> retimed,
        List<InboxDelivery> inbox, List<OutboxMessage> outbox, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        await using var batch = new NpgsqlBatch(connection, transaction);
        // One statement for the batch's rows; each row's recipients travel as a JSON array (unnest would flatten an array of arrays).
        var insert = new NpgsqlBatchCommand("""
            INSERT INTO congress.notifications (notification_id, campaign_id, congress_id, organization_id, milestone, due_on, step_key, step, status,
                scheduled_on, late, days_left, recipients, reason, stream_id, plan_document, on_day, recorded_at)
            SELECT r.id, r.campaign_id, r.congress_id, r.organization_id, r.milestone, r.due_on, r.step_key, r.step, r.status, r.scheduled_on, r.late,
                   r.days_left, ARRAY(SELECT jsonb_array_elements_text(r.recipients)), r.reason, r.stream_id, r.plan_document, $17, $18
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::date[], $7::text[], $8::text[], $9::text[], $10::date[],
                        $11::boolean[], $12::integer[], $13::jsonb[], $14::text[], $15::text[], $16::text[])
                AS r(id, campaign_id, congress_id, organization_id, milestone, due_on, step_key, step, status, scheduled_on, late, days_left, recipients,
                     reason, stream_id, plan_document)
            """);
        insert.Parameters.AddPositional(
            rows.Select(r => r.Id).ToArray(), rows.Select(r => r.Deadline.CampaignId).ToArray(), rows.Select(r => r.Deadline.CongressId).ToArray(),
            rows.Select(r => r.Deadline.OrganizationId).ToArray(), rows.Select(r => DeadlineReadModel.Name(r.Deadline.Milestone)).ToArray(),
            rows.Select(r => r.Deadline.DueOn).ToArray(), rows.Select(r => r.StepKey).ToArray(), rows.Select(r => DeadlineReadModel.Name(r.Step)).ToArray(),
            rows.Select(r => r.Status).ToArray(), rows.Select(r => r.ScheduledOn).ToArray(), rows.Select(r => r.Late).ToArray(),
            rows.Select(r => r.DaysLeft).ToArray(), rows.Select(r => JsonSerializer.Serialize(r.Recipients)).ToArray(), rows.Select(r => r.Reason).ToArray(),
            rows.Select(r => r.Stream).ToArray(), rows.Select(r => r.Deadline.PlanDocument).ToArray(), today, now);
        insert.Parameters[12].NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Jsonb;
        batch.BatchCommands.Add(insert);

        var update = new NpgsqlBatchCommand("""
            UPDATE congress.deadlines d SET last_step_on = k.last_step_on, next_step_on = k.next_step_on
            FROM unnest($1::text[], $2::text[], $3::date[], $4::date[], $5::date[]) AS k(congress_id, milestone, due_on, last_step_on, next_step_on)
            WHERE d.congress_id = k.congress_id AND d.milestone = k.milestone AND d.due_on = k.due_on
            """);
        update.Parameters.AddPositional(retimed.Select(r => r.Deadline.CongressId).ToArray(), retimed.Select(r => DeadlineReadModel.Name(r.Deadline.Milestone)).ToArray(),
            retimed.Select(r => r.Deadline.DueOn).ToArray(), retimed.Select(r => r.LastStepOn).ToArray(), retimed.Select(r => r.NextOn).ToArray());
        batch.BatchCommands.Add(update);
        if (inbox.Count > 0)
        {
            batch.BatchCommands.Add(InboxItems.Write(inbox, now));
        }

        if (outbox.Count > 0)
        {
            var deliveries = new NpgsqlBatchCommand("""
                INSERT INTO congress.deliveries (delivery_id, notification_id, channel, target, status, created_at, updated_at)
                SELECT d.id, d.notification, d.channel, d.target, 'pending', $5, $5
                FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[]) AS d(id, notification, channel, target)
                """);
            deliveries.Parameters.AddPositional(outbox.Select(m => m.MessageId).ToArray(), outbox.Select(m => DeliveryPayload.NotificationOf(m.Payload)).ToArray(),
                outbox.Select(m => DeliveryChannels.ShortName(m.Destination)).ToArray(), outbox.Select(m => DeliveryPayload.TargetOf(m.Payload)).ToArray(), now);
            batch.BatchCommands.Add(deliveries);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The organisations responsible for the batch's deadlines, with their parent and grandparent (escalation goes up).</summary>
    private static async Task<Dictionary<string, Unit>> UnitsWithAncestorsAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string[] ids, CancellationToken cancellationToken)
    {
        var units = new Dictionary<string, Unit>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand(OrganizationTree.UpwardsSql, connection, transaction);
        command.Parameters.AddPositional(ids, 2);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            units[reader.GetString(0)] = new Unit(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2));
        }

        return units;
    }
}

/// <summary>
/// Turns a recorded step into its deliveries: an item in the inbox of each recipient (written with the step), and through
/// the outbox email to their contacts (where an email subscription covers the unit) and one POST per webhook subscription
/// over the unit. Loaded once per sweep batch.
/// </summary>
internal sealed class DeliveryRoutes
{
    private readonly ILookup<string, (string Id, string Channel, string? Url)> _subscriptionsByUnit;
    private readonly ILookup<string, (string Role, string Email, string? Name, string Language)> _contactsByOrganization;

    private DeliveryRoutes(
        ILookup<string, (string, string, string?)> subscriptionsByUnit, ILookup<string, (string, string, string?, string)> contactsByOrganization)
    {
        _subscriptionsByUnit = subscriptionsByUnit;
        _contactsByOrganization = contactsByOrganization;
    }

    public static async Task<DeliveryRoutes> LoadAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string[] units, string[] recipients, CancellationToken cancellationToken)
    {
        var subscriptions = new List<(string Unit, (string, string, string?) Subscription)>();
        await using (var command = new NpgsqlCommand("""
            SELECT o.organization_id, s.subscription_id, s.channel, s.url
            FROM congress.subscriptions s
            JOIN congress.organizations r ON r.organization_id = s.root_organization_id
            JOIN congress.organizations o ON o.path <@ r.path
            WHERE o.organization_id = ANY($1) AND s.removed_at IS NULL
            ORDER BY s.subscription_id
            """, connection, transaction))
        {
            command.Parameters.AddPositional((object)units);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                subscriptions.Add((reader.GetString(0), (reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3))));
            }
        }

        var contacts = new List<(string Organization, (string, string, string?, string) Contact)>();
        await using (var command = new NpgsqlCommand(
            "SELECT organization_id, role, email, name, language FROM congress.contacts WHERE organization_id = ANY($1) ORDER BY email", connection, transaction))
        {
            command.Parameters.AddPositional((object)recipients);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                contacts.Add((reader.GetString(0), (reader.GetString(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3), reader.GetString(4))));
            }
        }

        return new DeliveryRoutes(subscriptions.ToLookup(s => s.Unit, s => s.Subscription), contacts.ToLookup(c => c.Organization, c => c.Contact));
    }

    public (List<InboxDelivery> Inbox, List<OutboxMessage> Outbox) Deliveries(
        NotificationRecorded n, string unitName, List<(string Id, string Name)> recipients, DeadlinePolicy policy, DateTimeOffset now)
    {
        var inbox = new List<InboxDelivery>();
        foreach (var (recipientId, recipientName) in recipients)
        {
            var vi = NotificationText.Render("vi", n.Step, n.Milestone, unitName, recipientName, n.DueOn, n.DaysLeft, n.PlanDocument, n.Late);
            var id = InboxItems.NotificationItemId(n.NotificationId, recipientId);
            inbox.Add(new InboxDelivery(id, recipientId, n.NotificationId, DeadlineReadModel.Name(n.Step), vi.Subject, vi.Body, n.CongressId));
        }

        var messages = new List<OutboxMessage>();
        var type = "notification." + DeadlineReadModel.Name(n.Step);

        var subscriptions = _subscriptionsByUnit[n.OrganizationId].ToList();
        if (subscriptions.Any(s => s.Channel == "email"))
        {
            var roles = policy.RolesFor(n.Step);
            foreach (var (recipientId, recipientName) in recipients)
            {
                var contacts = _contactsByOrganization[recipientId].Where(c => roles.Contains(c.Role, StringComparer.Ordinal)).DistinctBy(c => c.Email);
                foreach (var group in contacts.GroupBy(c => c.Language))
                {
                    var text = NotificationText.Render(group.Key, n.Step, n.Milestone, unitName, recipientName, n.DueOn, n.DaysLeft, n.PlanDocument, n.Late);
                    var id = DeterministicId.Beside(n.NotificationId, $"delivery|{n.NotificationId}|email|{recipientId}|{group.Key}");
                    messages.Add(new OutboxMessage(id, DeliveryChannels.Email, type,
                        new EmailDelivery(id, n.NotificationId, recipientId, [.. group.Select(c => new EmailRecipient(c.Email, c.Name))], text.Subject, text.Body)));
                }
            }
        }

        foreach (var webhook in subscriptions.Where(s => s.Channel == "webhook"))
        {
            var id = DeterministicId.Beside(n.NotificationId, $"delivery|{n.NotificationId}|webhook|{webhook.Id}");
            var vi = NotificationText.Render("vi", n.Step, n.Milestone, unitName, null, n.DueOn, n.DaysLeft, n.PlanDocument, n.Late);
            var en = NotificationText.Render("en", n.Step, n.Milestone, unitName, null, n.DueOn, n.DaysLeft, n.PlanDocument, n.Late);
            var body = JsonSerializer.Serialize(new WebhookPayload(id, n.NotificationId, type, now, n.CampaignId, n.CongressId,
                new WebhookOrganization(n.OrganizationId, unitName), DeadlineReadModel.Name(n.Milestone), n.DueOn, DeadlineReadModel.Name(n.Step), n.StepKey,
                n.SentOn, n.DaysLeft, n.Late, n.PlanDocument, n.Recipients, new WebhookText(vi.Subject, en.Subject)), WebhookPayload.Options);
            messages.Add(new OutboxMessage(id, DeliveryChannels.Webhook, type, new WebhookDelivery(id, n.NotificationId, webhook.Id, webhook.Url!, type, body)));
        }

        return (inbox, messages);
    }
}

/// <summary>The JSON a webhook receives (schemas/webhooks/notification.v1.schema.json).</summary>
public sealed record WebhookPayload(
    Guid DeliveryId, Guid NotificationId, string Type, DateTimeOffset CreatedAt, string CampaignId, string CongressId, WebhookOrganization Organization,
    string Milestone, DateOnly DueOn, string Step, string StepKey, DateOnly SentOn, int DaysLeft, bool Late, string? PlanDocument,
    IReadOnlyList<string> Recipients, WebhookText Subject)
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}

public sealed record WebhookOrganization(string Id, string Name);

public sealed record WebhookText(string Vi, string En);

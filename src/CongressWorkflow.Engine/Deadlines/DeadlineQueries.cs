using CongressWorkflow.EventStore;
using Npgsql;

namespace CongressWorkflow.Engine.Deadlines;

/// <summary>A deadline as the board shows it: whose, which milestone, due when, in force under which plan, and how far off.</summary>
public sealed record DeadlineRow(
    string CongressId, string OrganizationId, string OrganizationName, string Milestone, DateOnly DueOn, string ResponsibleId, string? PlanDocument,
    bool IsMet, DateOnly? MetOn, string? ClosedReason, int DaysLeft, DateOnly? LastStepOn, DateOnly? NextStepOn);

public sealed record DeliveryRow(Guid DeliveryId, Guid? NotificationId, string Channel, string Target, string Status, int Attempts, string? LastError,
    DateTimeOffset UpdatedAt, DateTimeOffset? DeliveredAt);

/// <summary>One step of the ledger (sent or skipped) with what became of its deliveries.</summary>
public sealed record NotificationRow(
    Guid NotificationId, string CampaignId, string CongressId, string OrganizationId, string OrganizationName, string Milestone, DateOnly DueOn,
    string StepKey, string? Step, string Status, DateOnly ScheduledOn, DateOnly OnDay, bool Late, int? DaysLeft, string? PlanDocument,
    IReadOnlyList<string> Recipients, string? Reason, string StreamId, IReadOnlyList<DeliveryRow> Deliveries);

public sealed record InboxItem(
    Guid ItemId, long Sequence, string OrganizationId, Guid? NotificationId, string Kind, string Title, string Body, string? CongressId,
    DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

/// <summary>The deadlines board, the ledger per organisation or subtree, deliveries and the inbox.</summary>
public sealed class DeadlineQueries(NpgsqlDataSource dataSource)
{
    private const string Subtree = "o.path <@ (SELECT path FROM congress.organizations WHERE organization_id = $2)";

    /// <summary>
    /// Deadlines of a subtree in force on a day and still open that day (not met by then): overdue ones (due before the
    /// day) and those due within the next days, soonest first; all of them, met or not, when asked for.
    /// </summary>
    public async Task<IReadOnlyList<DeadlineRow>> BoardAsync(string campaignId, string organizationId, DateOnly day, int days, bool includeMet = false,
        int limit = 500, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT d.congress_id, d.organization_id, o.name, d.milestone, d.due_on, d.responsible_id, d.plan_document, d.is_met, d.met_on,
                   d.closed_reason, d.due_on - $3, d.last_step_on, d.next_step_on
            FROM congress.deadlines d JOIN congress.organizations o ON o.organization_id = d.organization_id
            WHERE d.campaign_id = $1 AND {Subtree}
              AND d.effective_from <= $3 AND (d.effective_until IS NULL OR d.effective_until >= $3)
              AND ($5 OR (NOT (d.is_met AND d.met_on <= $3) AND d.closed_reason IS NULL AND d.due_on <= $3 + $4))
            ORDER BY d.due_on, o.name, d.milestone
            LIMIT $6
            """);
        command.Parameters.AddPositional(campaignId, organizationId, day, days, includeMet, limit);
        var rows = new List<DeadlineRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new DeadlineRow(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetFieldValue<DateOnly>(4),
                reader.GetString(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetBoolean(7),
                reader.IsDBNull(8) ? null : reader.GetFieldValue<DateOnly>(8), reader.IsDBNull(9) ? null : reader.GetString(9), reader.GetInt32(10),
                reader.IsDBNull(11) ? null : reader.GetFieldValue<DateOnly>(11), reader.IsDBNull(12) ? null : reader.GetFieldValue<DateOnly>(12)));
        }

        return rows;
    }

    /// <summary>
    /// The ledger of one organisation (subtree: false) or of its whole subtree, newest first, with deliveries; only the
    /// steps recorded by <paramref name="knownAt"/> when given (their deliveries' outcomes are those known today).
    /// </summary>
    public async Task<IReadOnlyList<NotificationRow>> LedgerAsync(string campaignId, string organizationId, bool subtree, DateOnly? from, DateOnly? to,
        DateTimeOffset? knownAt = null, int limit = 500, CancellationToken cancellationToken = default)
    {
        var scope = subtree ? Subtree : "n.organization_id = $2";
        return await NotificationsAsync($"""
            WHERE n.campaign_id = $1 AND {scope} AND n.on_day >= $3 AND n.on_day <= $4 AND n.recorded_at <= $6
            ORDER BY n.on_day DESC, n.recorded_at DESC, n.notification_id LIMIT $5
            """, [campaignId, organizationId, from ?? DateOnly.MinValue, to ?? DateOnly.MaxValue, limit, knownAt ?? DateTimeOffset.MaxValue], cancellationToken);
    }

    public async Task<NotificationRow?> NotificationAsync(Guid notificationId, CancellationToken cancellationToken = default) =>
        (await NotificationsAsync("WHERE n.notification_id = $1", [notificationId], cancellationToken)).SingleOrDefault();

    public async Task<IReadOnlyList<DeliveryRow>> DeliveriesAsync(string? status, int limit = 500, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand($"""
            SELECT * FROM (
                (SELECT {DeliveryColumns} FROM congress.deliveries WHERE $1::text IS NULL OR status = $1 ORDER BY updated_at DESC, delivery_id LIMIT $2)
                UNION ALL
                (SELECT {InboxItems.AsDelivery} FROM congress.inbox WHERE $1::text IS NULL OR $1 = 'delivered' ORDER BY created_at DESC, item_id LIMIT $2)
            ) d
            ORDER BY updated_at DESC, delivery_id LIMIT $2
            """);
        command.Parameters.AddPositional(status, limit);
        return await ReadDeliveriesAsync(command, cancellationToken);
    }

    /// <summary>Inbox items of an organisation after a sequence number (for the live stream), newest last.</summary>
    public async Task<IReadOnlyList<InboxItem>> InboxAsync(string organizationId, long afterSequence, bool unreadOnly, int limit = 200,
        CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("""
            SELECT item_id, seq, organization_id, notification_id, kind, title, body, congress_id, created_at, read_at
            FROM congress.inbox
            WHERE organization_id = $1 AND seq > $2 AND (NOT $3 OR read_at IS NULL)
            ORDER BY seq DESC LIMIT $4
            """);
        command.Parameters.AddPositional(organizationId, afterSequence, unreadOnly, limit);
        var items = new List<InboxItem>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new InboxItem(reader.GetGuid(0), reader.GetInt64(1), reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetGuid(3),
                reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.IsDBNull(7) ? null : reader.GetString(7),
                reader.GetFieldValue<DateTimeOffset>(8), reader.IsDBNull(9) ? null : reader.GetFieldValue<DateTimeOffset>(9)));
        }

        items.Reverse();
        return items;
    }

    public async Task<int> UnreadCountAsync(string organizationId, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM congress.inbox WHERE organization_id = $1 AND read_at IS NULL");
        command.Parameters.AddPositional(organizationId);
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Marks an item read; false when the organisation has no such item.</summary>
    public async Task<bool> MarkReadAsync(string organizationId, Guid itemId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var command = dataSource.CreateCommand(
            "UPDATE congress.inbox SET read_at = coalesce(read_at, $3) WHERE organization_id = $1 AND item_id = $2");
        command.Parameters.AddPositional(organizationId, itemId, at);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private const string DeliveryColumns = "delivery_id, notification_id, channel, target, status, attempts, last_error, updated_at, delivered_at";

    private async Task<IReadOnlyList<NotificationRow>> NotificationsAsync(string where, object?[] parameters, CancellationToken cancellationToken)
    {
        var rows = new List<NotificationRow>();
        await using (var command = dataSource.CreateCommand($"""
            SELECT n.notification_id, n.campaign_id, n.congress_id, n.organization_id, o.name, n.milestone, n.due_on, n.step_key, n.step, n.status,
                   n.scheduled_on, n.on_day, n.late, n.days_left, n.plan_document, n.recipients, n.reason, n.stream_id
            FROM congress.notifications n JOIN congress.organizations o ON o.organization_id = n.organization_id
            {where}
            """))
        {
            command.Parameters.AddPositional(parameters);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(new NotificationRow(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4),
                    reader.GetString(5), reader.GetFieldValue<DateOnly>(6), reader.GetString(7), reader.IsDBNull(8) ? null : reader.GetString(8),
                    reader.GetString(9), reader.GetFieldValue<DateOnly>(10), reader.GetFieldValue<DateOnly>(11), reader.GetBoolean(12),
                    reader.IsDBNull(13) ? null : reader.GetInt32(13), reader.IsDBNull(14) ? null : reader.GetString(14), reader.GetFieldValue<string[]>(15),
                    reader.IsDBNull(16) ? null : reader.GetString(16), reader.GetString(17), []));
            }
        }

        if (rows.Count == 0)
        {
            return rows;
        }

        // A sent step's inbox items are found by their ids (one per recipient), the other channels' deliveries by the step.
        await using var deliveries = dataSource.CreateCommand($"""
            SELECT {DeliveryColumns} FROM congress.deliveries WHERE notification_id = ANY($1)
            UNION ALL
            SELECT {InboxItems.AsDelivery} FROM congress.inbox WHERE item_id = ANY($2)
            ORDER BY channel, target
            """);
        deliveries.Parameters.AddPositional(rows.Select(r => r.NotificationId).ToArray(),
            rows.SelectMany(r => r.Recipients.SelectMany(recipient => InboxItems.NotificationItemIdsEverGiven(r.NotificationId, recipient))).ToArray());
        var byNotification = (await ReadDeliveriesAsync(deliveries, cancellationToken)).ToLookup(d => d.NotificationId);
        return [.. rows.Select(r => r with { Deliveries = [.. byNotification[r.NotificationId]] })];
    }

    private static async Task<IReadOnlyList<DeliveryRow>> ReadDeliveriesAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var rows = new List<DeliveryRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new DeliveryRow(reader.GetGuid(0), reader.IsDBNull(1) ? null : reader.GetGuid(1), reader.GetString(2), reader.GetString(3),
                reader.GetString(4), reader.GetInt32(5), reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetFieldValue<DateTimeOffset>(7),
                reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8)));
        }

        return rows;
    }
}

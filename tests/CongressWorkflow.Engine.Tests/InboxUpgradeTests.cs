using System.Globalization;
using CongressWorkflow.Engine.Deadlines;

namespace CongressWorkflow.Engine.Tests;

public sealed class upgrading_a_database_with_inbox_items_waiting_in_the_outbox
{
    [Fact]
    public async Task the_migration_delivers_them_as_the_old_worker_would_and_nothing_is_lost()
    {
        await using var dataSource = await UpgradedDatabase.BeforeMigrationAsync("inbox_upgrade", 12);
        // What an older sweep left: the item's message in the outbox, its delivery row pending; and an email, which stays.
        await using (var command = dataSource.CreateCommand("""
            INSERT INTO event_store.outbox (message_id, destination, message_type, payload, created_at, available_at) VALUES
                ('829a8e17-8b56-8f90-b180-17b30c28bbc0', 'notify.inbox', 'notification.reminder',
                 '{"body": "Kính gửi Đảng bộ Cục 4.713", "kind": "reminder", "title": "[Nhắc hạn] Đảng bộ Cục 4.713", "congressId": "congress-c-u",
                   "deliveryId": "829a8e17-8b56-8f90-b180-17b30c28bbc0", "notificationId": "9009ac22-7c5e-8f42-b572-d67bbb05753d", "organizationId": "u"}',
                 now(), now()),
                ('11111111-8b56-8f90-b180-17b30c28bbc0', 'notify.email', 'notification.reminder', '{}', now(), now());
            INSERT INTO congress.deliveries (delivery_id, notification_id, channel, target, status, created_at, updated_at)
            VALUES ('829a8e17-8b56-8f90-b180-17b30c28bbc0', '9009ac22-7c5e-8f42-b572-d67bbb05753d', 'inbox', 'u', 'pending', now(), now());
            """))
        {
            await command.ExecuteNonQueryAsync();
        }

        await EngineSchema.MigrateAsync(dataSource);

        await using var check = dataSource.CreateCommand("""
            SELECT (SELECT string_agg(organization_id || ' ' || kind || ' ' || title || ' ' || congress_id || ' ' || notification_id, '; ') FROM congress.inbox),
                   (SELECT string_agg(destination || ' ' || (delivered_at IS NOT NULL), '; ' ORDER BY destination) FROM event_store.outbox)
            """);
        await using var reader = await check.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal("u reminder [Nhắc hạn] Đảng bộ Cục 4.713 congress-c-u 9009ac22-7c5e-8f42-b572-d67bbb05753d", reader.GetString(0));
        Assert.Equal("notify.email false; notify.inbox true", reader.GetString(1));
        var delivery = Assert.Single(await new DeadlineQueries(dataSource).DeliveriesAsync(null));
        Assert.Equal("829a8e17-8b56-8f90-b180-17b30c28bbc0 inbox u delivered 1",
            $"{delivery.DeliveryId} {delivery.Channel} {delivery.Target} {delivery.Status} {delivery.Attempts}");
    }
}

public sealed class upgrading_a_database_whose_inbox_items_have_delivery_rows
{
    [Fact]
    public async Task the_rows_repeating_an_item_go_and_every_delivery_still_reads_as_it_was()
    {
        await using var dataSource = await UpgradedDatabase.BeforeMigrationAsync("inbox_delivery_rows", 14);
        // What an older sweep wrote for a step: the item with a delivery row repeating it, and an email still pending.
        await using (var command = dataSource.CreateCommand("""
            INSERT INTO congress.inbox (item_id, organization_id, notification_id, kind, title, body, congress_id, created_at)
            VALUES ('829a8e17-8b56-8f90-b180-17b30c28bbc0', 'u', '9009ac22-7c5e-8f42-b572-d67bbb05753d', 'reminder', 't', 'b', 'congress-c-u',
                    '2020-05-31 02:00+00');
            INSERT INTO congress.deliveries (delivery_id, notification_id, channel, target, status, attempts, created_at, updated_at, delivered_at) VALUES
                ('829a8e17-8b56-8f90-b180-17b30c28bbc0', '9009ac22-7c5e-8f42-b572-d67bbb05753d', 'inbox', 'u', 'delivered', 1,
                 '2020-05-31 02:00+00', '2020-05-31 02:00+00', '2020-05-31 02:00+00'),
                ('11111111-8b56-8f90-b180-17b30c28bbc0', '9009ac22-7c5e-8f42-b572-d67bbb05753d', 'email', 'a@u.example', 'pending', 0,
                 '2020-05-31 02:00+00', '2020-05-31 02:00+00', NULL);
            """))
        {
            await command.ExecuteNonQueryAsync();
        }

        await EngineSchema.MigrateAsync(dataSource);

        await using var left = dataSource.CreateCommand("SELECT string_agg(channel, ',') FROM congress.deliveries");
        Assert.Equal("email", await left.ExecuteScalarAsync());
        Assert.Equal(
            [
                "11111111-8b56-8f90-b180-17b30c28bbc0 email a@u.example pending 0 delivered: no",
                "829a8e17-8b56-8f90-b180-17b30c28bbc0 inbox u delivered 1 delivered: 2020-05-31 02:00",
            ],
            (await new DeadlineQueries(dataSource).DeliveriesAsync(null)).Select(d =>
                $"{d.DeliveryId} {d.Channel} {d.Target} {d.Status} {d.Attempts} delivered: {d.DeliveredAt?.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) ?? "no"}")
            .Order());
    }
}

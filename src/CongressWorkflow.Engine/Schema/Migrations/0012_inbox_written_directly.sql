-- Inbox items are now written where they are recorded (InboxItems), not passed through the outbox. Those an older
-- version left waiting in the outbox are delivered here, as its delivery worker would have: the item in the inbox, its
-- delivery row delivered, the message settled.
WITH pending AS (
    UPDATE event_store.outbox o SET delivered_at = now(), attempts = o.attempts + 1, last_error = NULL, locked_until = NULL, locked_by = NULL
    WHERE o.destination = 'notify.inbox' AND o.delivered_at IS NULL
    RETURNING o.message_id, o.payload),
delivered AS (
    INSERT INTO congress.deliveries (delivery_id, notification_id, channel, target, status, attempts, created_at, updated_at, delivered_at)
    SELECT p.message_id, (p.payload->>'notificationId')::uuid, 'inbox', p.payload->>'organizationId', 'delivered', 1, now(), now(), now()
    FROM pending p
    ON CONFLICT (delivery_id) DO UPDATE SET status = 'delivered', attempts = congress.deliveries.attempts + 1, last_error = NULL,
        updated_at = excluded.updated_at, delivered_at = excluded.delivered_at)
INSERT INTO congress.inbox (item_id, organization_id, notification_id, kind, title, body, congress_id, created_at)
SELECT (p.payload->>'deliveryId')::uuid, p.payload->>'organizationId', (p.payload->>'notificationId')::uuid, p.payload->>'kind',
       p.payload->>'title', p.payload->>'body', p.payload->>'congressId', now()
FROM pending p
ON CONFLICT (item_id) DO NOTHING;

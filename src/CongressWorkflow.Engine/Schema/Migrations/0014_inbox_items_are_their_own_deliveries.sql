-- An inbox item is delivered by being written, and is its own delivery record: the reports of deliveries read the inbox
-- as delivered rows (InboxItems.AsDelivery). The delivery row written beside each item repeated it, one row and two
-- index entries per item (900,000 at 100,000 organisations); those rows go (one of the inbox channel
-- without its item would stay, read as it is).
DELETE FROM congress.deliveries d
WHERE d.channel = 'inbox' AND EXISTS (SELECT 1 FROM congress.inbox i WHERE i.item_id = d.delivery_id);

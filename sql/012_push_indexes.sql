-- Notifications to offline devices (010_push.sql, 011_push_mentions.sql): the access path 010 left out.
-- Access path added:
--   a subscription's deliveries     push_deliveries_subscription_idx (subscription_id): deleting a
--                                   subscription (unsubscribe, the 11th registered drops the
--                                   oldest, a 404/410 from the push service, a password change)
--                                   deletes its deliveries by ON DELETE CASCADE, and PostgreSQL
--                                   runs that delete per subscription: without the index, a
--                                   sequential scan of the whole delivery backlog each time.
CREATE INDEX push_deliveries_subscription_idx ON push_deliveries (subscription_id);

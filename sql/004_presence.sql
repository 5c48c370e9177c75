-- Presence (protocol v1.1): when each account's last socket closed, kept across restarts.
-- Access paths added:
--   getPresence visibility      dialogs primary key (user_lo, user_hi) for a shared dialog;
--                               group_members_user_idx (caller's groups) then the group_members
--                               primary key (group_id, user_id) for a shared group
--   presence push recipients    dialogs by user_lo (primary key) and by user_hi (dialogs_user_hi_idx)
--   lastSeenAt                  users primary key
-- Null: never seen since this column exists.
ALTER TABLE users ADD COLUMN last_seen_at timestamptz;

-- Conversation state (protocol v1.1): per-conversation seq, read markers, edit and delete.
-- Access paths added:
--   send: draw seq              groups / dialogs primary key, row locked (for update) by the send
--   chat list, newest message   groups.last_message_id / dialogs.last_message_id → messages primary key
--   unreadCount                 conversation's last_seq minus the caller's marker: two columns, no count
--   markRead, edit, delete      messages primary key; membership by group_members primary key
--   a message by its seq        messages by (group_id, seq) / (least, greatest, seq): the unique indexes

-- Each conversation row counts its messages (last_seq) and points at its newest (last_message_id).
-- A send batch locks the rows of its conversations (sorted), draws message ids only then, and
-- updates them in the same statement: so unlike in 001, dialogs rows are updated on every send.
-- None of the new columns is indexed, so these updates stay HOT (no index writes).
ALTER TABLE groups
  ADD COLUMN last_seq bigint NOT NULL DEFAULT 0,
  ADD COLUMN last_message_id bigint;

-- Dialogs get a read marker per side: lo_* is user_lo's, hi_* is user_hi's (a note to oneself
-- has user_lo = user_hi, and both move together).
ALTER TABLE dialogs
  ADD COLUMN last_seq bigint NOT NULL DEFAULT 0,
  ADD COLUMN last_message_id bigint,
  ADD COLUMN lo_last_read_id bigint,
  ADD COLUMN lo_last_read_seq bigint NOT NULL DEFAULT 0,
  ADD COLUMN hi_last_read_id bigint,
  ADD COLUMN hi_last_read_seq bigint NOT NULL DEFAULT 0;

ALTER TABLE group_members
  ADD COLUMN last_read_id bigint,
  ADD COLUMN last_read_seq bigint NOT NULL DEFAULT 0;

ALTER TABLE messages
  ADD COLUMN seq bigint,
  ADD COLUMN edited_at timestamptz;

-- Existing messages: numbered in id order within their conversation.
UPDATE messages m SET seq = n.seq
FROM (
  SELECT id, row_number() OVER (
    -- least/greatest skip nulls: without the CASE a group's messages would split by sender.
    PARTITION BY group_id,
      CASE WHEN receiver_id IS NOT NULL THEN least(sender_id, receiver_id) END,
      CASE WHEN receiver_id IS NOT NULL THEN greatest(sender_id, receiver_id) END
    ORDER BY id
  ) AS seq
  FROM messages
) n
WHERE m.id = n.id;

ALTER TABLE messages ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX messages_group_seq_key ON messages (group_id, seq) WHERE group_id IS NOT NULL;
CREATE UNIQUE INDEX messages_dialog_seq_key ON messages (least(sender_id, receiver_id), greatest(sender_id, receiver_id), seq)
  WHERE receiver_id IS NOT NULL;

UPDATE groups g SET last_seq = l.seq, last_message_id = l.id
FROM (
  SELECT DISTINCT ON (group_id) group_id, id, seq FROM messages WHERE group_id IS NOT NULL ORDER BY group_id, id DESC
) l
WHERE g.id = l.group_id;

-- A dialog row exists for every pair that exchanged a message (001), but make sure of it.
INSERT INTO dialogs (user_lo, user_hi)
SELECT DISTINCT least(sender_id, receiver_id), greatest(sender_id, receiver_id) FROM messages WHERE receiver_id IS NOT NULL
ON CONFLICT DO NOTHING;

-- Nobody wakes up to a wall of "unread": every existing marker starts at the newest message.
UPDATE dialogs d SET last_seq = l.seq, last_message_id = l.id,
  lo_last_read_id = l.id, lo_last_read_seq = l.seq, hi_last_read_id = l.id, hi_last_read_seq = l.seq
FROM (
  SELECT DISTINCT ON (least(sender_id, receiver_id), greatest(sender_id, receiver_id))
    least(sender_id, receiver_id) AS lo, greatest(sender_id, receiver_id) AS hi, id, seq
  FROM messages WHERE receiver_id IS NOT NULL
  ORDER BY least(sender_id, receiver_id), greatest(sender_id, receiver_id), id DESC
) l
WHERE d.user_lo = l.lo AND d.user_hi = l.hi;

UPDATE group_members gm SET last_read_id = g.last_message_id, last_read_seq = g.last_seq
FROM groups g
WHERE g.id = gm.group_id AND g.last_seq > 0;

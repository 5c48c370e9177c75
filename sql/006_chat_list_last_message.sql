-- The chat list reads each conversation's newest message from the conversation row itself.
-- Access paths changed:
--   chat list, newest message   the groups / dialogs row (no messages probe per conversation):
--                               last_sender_id, last_content, last_created_at, last_updated_at,
--                               last_deleted_at copy the message last_message_id points at
-- Written where last_message_id is: by the send statement, in the same update (sends.ts); an edit
-- or delete of a conversation's newest message updates the copy in its own statement (edits.ts).
-- None of the new columns is indexed, so the send's update stays HOT (005).
-- A dialog's last receiver is the side that is not last_sender_id (user_lo = user_hi for a note
-- to oneself): no column for it.
ALTER TABLE groups
  ADD COLUMN last_sender_id integer,
  ADD COLUMN last_content text,
  ADD COLUMN last_created_at timestamptz,
  ADD COLUMN last_updated_at timestamptz,
  ADD COLUMN last_deleted_at timestamptz;

ALTER TABLE dialogs
  ADD COLUMN last_sender_id integer,
  ADD COLUMN last_content text,
  ADD COLUMN last_created_at timestamptz,
  ADD COLUMN last_updated_at timestamptz,
  ADD COLUMN last_deleted_at timestamptz;

UPDATE groups g SET last_sender_id = m.sender_id, last_content = m.content, last_created_at = m.created_at,
  last_updated_at = m.updated_at, last_deleted_at = m.deleted_at
FROM messages m
WHERE m.id = g.last_message_id;

UPDATE dialogs d SET last_sender_id = m.sender_id, last_content = m.content, last_created_at = m.created_at,
  last_updated_at = m.updated_at, last_deleted_at = m.deleted_at
FROM messages m
WHERE m.id = d.last_message_id;

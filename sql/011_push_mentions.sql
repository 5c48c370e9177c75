-- Notifications to offline devices meet mentions and blocking (protocol v1.2): a mention among
-- the messages folded into a waiting notification makes it urgent. Stands on 007 (mentions),
-- 008 (blocks) and 010 (push_state).
-- Access paths: none added. The expand step reads mentions off the batch's own message rows and
-- blocks by their primary key (blocker_id, blocked_id); the claim step reads this column off the
-- push_state row it already takes.

-- Some message folded into the waiting notification mentions its recipient: the notification goes
-- with Urgency high even though it describes the conversation's newest message (which may not be
-- the one that mentions). Cleared when the notification is claimed. A constant default: adding it
-- rewrites nothing.
ALTER TABLE push_state ADD COLUMN mentioned boolean NOT NULL DEFAULT false;

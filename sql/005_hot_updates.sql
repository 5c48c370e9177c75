-- Room for HOT updates on the rows every send rewrites (protocol v1.1): a group's or dialog's
-- last_seq/last_message_id, a dialog's read markers and a member's read marker. None of those
-- columns is indexed, so an update can stay on its page without touching an index, but only
-- if the page has room: at the default fillfactor (100) about half of a member's marker
-- updates in the fan-out bench went to another page and wrote every index of group_members
-- (4), and the table grew to twenty times its live size. With room left on each page, the
-- update and its later pruning stay on the page.
-- Applies to pages written from now on; an existing table gets it as its pages are rewritten
-- (VACUUM FULL or pg_repack, outside this migration's transaction, if wanted at once).
ALTER TABLE groups SET (fillfactor = 70);
ALTER TABLE dialogs SET (fillfactor = 70);
ALTER TABLE group_members SET (fillfactor = 70);

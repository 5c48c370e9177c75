-- Replies, mentions, reactions and pins (protocol v1.2).
-- Access paths added:
--   replyTo of a message row        messages primary key (reply_to_id), one probe per row that has one
--   reply target check (send)       messages primary key, in the send statement
--   mentions of a message row       messages.mentions (on the row itself)
--   mentionCount (chat list)        group_members.mention_seqs beside last_read_seq: no probe into messages
--   reactions of a message row      messages.reactions_view / reactors (on the row itself): a history page
--                                   stays one read, and a row costs a copy unless its reader holds one
--   add/remove reaction             messages primary key
--   pin, unpin                      messages primary key; the conversation row (groups / dialogs primary
--                                   key) locked while the pins are counted
--   getPinned, pins count           messages_group_pinned_idx / messages_dialog_pinned_idx (partial: pinned only)
--
-- All new columns are nullable with no default, so adding them rewrites nothing; a v1.1 row reads
-- as no reply, no mentions, no reactions, not pinned.

-- The message replied to: same conversation, checked by the send statement (no foreign key: messages
-- are never removed, and the key check would cost every send a lock on the replied-to row).
ALTER TABLE messages
  ADD COLUMN reply_to_id bigint,
  -- Mentioned members, ascending and distinct; null when none (read as []).
  ADD COLUMN mentions integer[],
  -- [[emoji, [userId, ...]], ...] in the order each emoji first appeared (one whose last holder left is
  -- removed, and appended when added again); null when none. On the row, so that a history page
  -- reads its reactions with its messages: no per-message probe into another table.
  ADD COLUMN reactions jsonb,
  -- What a reader who holds none of them sees: [{"emoji", "count", "me": false}, ...], written with
  -- `reactions`, so that most history rows copy it as it is; `reactors`: everyone holding one, for
  -- the rows whose reader does (only those build their `me` from `reactions`).
  ADD COLUMN reactions_view json,
  ADD COLUMN reactors integer[],
  ADD COLUMN pinned_at timestamptz,
  ADD COLUMN pinned_by integer;

-- Seqs of the messages that mention this member after its read marker (pruned to those past the
-- marker each time one is added; a deleted message's seq is taken out by the delete). mentionCount
-- is how many are past last_read_seq: read from the membership row the chat list already reads,
-- like unreadCount. Not indexed: the send's update stays HOT (005).
ALTER TABLE group_members ADD COLUMN mention_seqs bigint[];

CREATE INDEX messages_group_pinned_idx ON messages (group_id, pinned_at DESC, id DESC)
  WHERE pinned_at IS NOT NULL AND group_id IS NOT NULL;
CREATE INDEX messages_dialog_pinned_idx ON messages (least(sender_id, receiver_id), greatest(sender_id, receiver_id), pinned_at DESC, id DESC)
  WHERE pinned_at IS NOT NULL AND receiver_id IS NOT NULL;

-- Reactions as a value: the new list after user `u` adds / removes emoji `e`. Each returns `r` itself
-- when nothing changes (already held, not held, or a 21st distinct emoji), so a statement can tell
-- "unchanged" by comparing, and the update re-reads the row's latest version when it waited for a
-- concurrent change (the usual READ COMMITTED re-check), so no holder is lost.
CREATE FUNCTION relay_reaction_add(r jsonb, e text, u integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN r IS NULL THEN jsonb_build_array(jsonb_build_array(e, jsonb_build_array(u)))
    WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(r) x WHERE x->>0 = e AND x->1 @> to_jsonb(u)) THEN r
    WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(r) x WHERE x->>0 = e) THEN (
      SELECT jsonb_agg(CASE WHEN x->>0 = e THEN jsonb_build_array(e, (x->1) || to_jsonb(u)) ELSE x END ORDER BY i)
      FROM jsonb_array_elements(r) WITH ORDINALITY AS y(x, i))
    WHEN jsonb_array_length(r) >= 20 THEN r
    ELSE r || jsonb_build_array(jsonb_build_array(e, jsonb_build_array(u)))
  END
$$;

CREATE FUNCTION relay_reaction_remove(r jsonb, e text, u integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE
    WHEN r IS NULL OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(r) x WHERE x->>0 = e AND x->1 @> to_jsonb(u)) THEN r
    ELSE (
      SELECT jsonb_agg(z.x ORDER BY z.i)
      FROM (
        SELECT CASE WHEN y.x->>0 = e THEN jsonb_build_array(e, (y.x->1) - (
                 SELECT (k - 1)::int FROM jsonb_array_elements(y.x->1) WITH ORDINALITY AS h(v, k) WHERE h.v = to_jsonb(u) LIMIT 1))
               ELSE y.x END AS x, y.i
        FROM jsonb_array_elements(r) WITH ORDINALITY AS y(x, i)
      ) z
      WHERE jsonb_array_length(z.x->1) > 0)
  END
$$;

-- A JSON string literal of `t` in ASCII: every other character as \u escapes (a surrogate pair past
-- U+FFFF). Emoji written so keep a history page's text ASCII when its messages are: V8 then holds the
-- reply as a one-byte string (measured: a group page's server CPU about 20 µs lower).
CREATE FUNCTION relay_json_ascii(t text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '"' || string_agg(
    CASE WHEN ascii(c) < 128 THEN substr(to_json(c)::text, 2, length(to_json(c)::text) - 2)
         WHEN ascii(c) < 65536 THEN '\u' || lpad(to_hex(ascii(c)), 4, '0')
         ELSE '\u' || to_hex(55296 + ((ascii(c) - 65536) >> 10)) || '\u' || to_hex(56320 + ((ascii(c) - 65536) & 1023)) END,
    '' ORDER BY i) || '"'
  FROM regexp_split_to_table(t, '') WITH ORDINALITY AS x(c, i)
$$;

-- One reaction as the wire shows it: {"emoji","count","me"}, emoji in ASCII (above).
CREATE FUNCTION relay_reaction_json(x jsonb, me boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT '{"emoji":' || relay_json_ascii(x->>0) || ',"count":' || jsonb_array_length(x->1) || ',"me":' || me::text || '}'
$$;

-- The two read forms of a reactions list (null for none), written beside it by every change.
CREATE FUNCTION relay_reactions_view(r jsonb) RETURNS json
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ('[' || string_agg(relay_reaction_json(x, false), ',' ORDER BY i) || ']')::json
  FROM jsonb_array_elements(r) WITH ORDINALITY AS y(x, i)
$$;

CREATE FUNCTION relay_reactors(r jsonb) RETURNS integer[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT array_agg(DISTINCT u::integer) FROM jsonb_array_elements(r) AS x, jsonb_array_elements_text(x->1) AS h(u)
$$;

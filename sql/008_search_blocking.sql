-- Message search and blocking (protocol v1.2). Stands on 001..006 only: it applies with or
-- without 007 (replies, reactions, pins), in either order.
-- Access paths added:
--   searchMessages              messages_search_idx (GIN over messages.search): prefix scans of
--                               the query's words within each of the caller's conversations (found
--                               by group_members_user_idx and the dialogs primary key /
--                               dialogs_user_hi_idx)
--   block checks (send, typing, blocks primary key (blocker_id, blocked_id), each direction by key
--   presence, chat list)
--   getBlockedUsers             blocks_recent_idx (blocker_id, created_at desc, blocked_id desc)

-- What search matches (PROTOCOL.md v1.2 "Search"): the words of a message's current content,
-- runs of letters and digits, lower-cased, each kept as a lexeme prefixed with its conversation.
--
-- Lower-casing and "what is a letter" go through ICU's root locale, named explicitly, so they do
-- not depend on the database's LC_CTYPE: in a database created with LC_CTYPE 'C', lower() leaves
-- "Привет" as it is and the regex sees no letter in it. Needs a PostgreSQL built with ICU (the
-- embedded one and Debian's are). IMMUTABLE as far as ICU's case mapping is stable (as for any ICU
-- collation); a major ICU upgrade that changed it would call for rebuilding the column.
--
-- The conversation prefix ('g7x', 'd3y9x': letters and digits only, and none of them a prefix of
-- another) makes each lexeme '<conversation><word>' ('g7xhello'). A search names the caller's
-- conversations in its tsquery ('g7xhel':* | 'd3y9xhel':*), so the index's prefix scans read only
-- those conversations' words: the work grows with what the caller may read, never with the table.
-- (Plain words AND-ed with a conversation lexeme would make a common prefix collect every matching
-- message of every user before the intersection.)
CREATE FUNCTION relay_search_conversation(group_id integer, sender_id integer, receiver_id integer) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE WHEN group_id IS NOT NULL THEN 'g' || group_id
              ELSE 'd' || least(sender_id, receiver_id) || 'y' || greatest(sender_id, receiver_id) END || 'x';

-- Plain expressions only (no subquery, no nested function body to plan): the planner inlines it,
-- and a send pays about 25 µs of PostgreSQL CPU per message for it (a version built on array
-- subqueries cost ten times that). Runs over 200 letters are cut to 200 (the longest a query word
-- can be, so a prefix still matches), which keeps every lexeme under tsvector's 2 KiB limit; the
-- regex for that only runs on content long enough to hold one.
CREATE FUNCTION relay_search_vector(content text, group_id integer, sender_id integer, receiver_id integer) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN array_to_tsvector(array_remove(regexp_split_to_array(regexp_replace(
    CASE WHEN length(content) > 200
      THEN regexp_replace(lower(content COLLATE "und-x-icu"), '([[:alnum:]]{200})[[:alnum:]]+', '\1', 'g')
      ELSE lower(content COLLATE "und-x-icu") END,
    '[[:alnum:]]+', relay_search_conversation(group_id, sender_id, receiver_id) || '\&', 'g'), '[^[:alnum:]]+'), ''));

-- Every word of `query` (split and lower-cased as above) as a prefix in any of `conversations`
-- (relay_search_conversation prefixes), all words required:
--   ('g1xhel':* | 'd2y5xhel':*) & ('g1xwor':* | 'd2y5xwor':*)
-- A message's lexemes share one conversation, so its words match within that one. Null (matches
-- nothing) when the query has no word or there is no conversation. PL/pgSQL: its statement's plan
-- is kept for the session, where an SQL function's would be planned again on every search.
CREATE FUNCTION relay_search_query(query text, conversations text[]) RETURNS tsquery
  LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
  AS $$
BEGIN
  RETURN (
    SELECT string_agg('(' || (SELECT string_agg(quote_literal(c || w) || ':*', ' | ') FROM unnest(conversations) AS c) || ')', ' & ')
    FROM regexp_split_to_table(lower(query COLLATE "und-x-icu"), '[^[:alnum:]]+') AS w
    WHERE w <> ''
  )::tsquery;
END
$$;

-- Generated: every insert, edit and delete (content '') keeps it current, with no change to the
-- statements that write messages; adding it computes it for every existing message (the backfill).
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS (
  relay_search_vector(content, group_id, sender_id, receiver_id)
) STORED;
CREATE INDEX messages_search_idx ON messages USING gin (search);

CREATE TABLE blocks (
  blocker_id integer NOT NULL REFERENCES users (id),
  blocked_id integer NOT NULL REFERENCES users (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (blocker_id, blocked_id),
  CHECK (blocker_id <> blocked_id)
);
CREATE INDEX blocks_recent_idx ON blocks (blocker_id, created_at DESC, blocked_id DESC);

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

-- A message's words, lower-cased: runs of letters and digits (PROTOCOL.md v1.2 "Search").
-- Lower-casing and "what is a letter" go through ICU's root locale, named explicitly, so they do
-- not depend on the database's LC_CTYPE: in a database created with LC_CTYPE 'C', lower() leaves
-- "Привет" as it is and the regex sees no letters in it. Needs a PostgreSQL built with ICU (the
-- embedded one and Debian's are). Words are cut to 200 code points (the longest a query holds), so
-- no lexeme reaches tsvector's 2 KiB limit and a prefix of up to 200 still matches.
-- IMMUTABLE as far as ICU's case mapping is stable (as for any ICU collation); a major ICU upgrade
-- that changed it would call for rebuilding the column, like a collation's index.
CREATE FUNCTION relay_search_words(content text) RETURNS text[]
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN array(
    SELECT left(w, 200)
    FROM regexp_split_to_table(lower(content COLLATE "und-x-icu"), '[^[:alnum:]]+') AS w
    WHERE w <> ''
  );

-- A message's conversation as the prefix of its lexemes ('#' never starts a word): each word is
-- kept as '<conversation>:<word>' ('#g7:hello', '#d3.9:hello'). A search names the caller's
-- conversations in its tsquery, so the prefix scans of the GIN index read only those
-- conversations' words: the work grows with what the caller may read, never with the whole table.
-- (A separate conversation lexeme AND-ed with plain words would make a prefix like 'a':* collect
-- every matching message of every user before the intersection.)
CREATE FUNCTION relay_search_conversation(group_id integer, sender_id integer, receiver_id integer) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN CASE WHEN group_id IS NOT NULL THEN '#g' || group_id
              ELSE '#d' || least(sender_id, receiver_id) || '.' || greatest(sender_id, receiver_id) END || ':';

CREATE FUNCTION relay_search_vector(content text, group_id integer, sender_id integer, receiver_id integer) RETURNS tsvector
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  RETURN array_to_tsvector(array(
    SELECT relay_search_conversation(group_id, sender_id, receiver_id) || w FROM unnest(relay_search_words(content)) AS w
  ));

-- Every query word as a prefix in any of `conversations` (their relay_search_conversation
-- prefixes), all words required: ('#g1:hel':* | '#d2.5:hel':*) & ('#g1:wor':* | '#d2.5:wor':*).
-- A message's lexemes share one conversation, so each word matches within the same one. Null
-- (matches nothing) when the query has no word or there is no conversation.
CREATE FUNCTION relay_search_query(query text, conversations text[]) RETURNS tsquery
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN (
    SELECT string_agg('(' || (SELECT string_agg(quote_literal(c || w) || ':*', ' | ') FROM unnest(conversations) AS c) || ')', ' & ')::tsquery
    FROM unnest(relay_search_words(query)) AS w
  );

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

-- Files (protocol v1.2 "Files"): uploads, and the attachments that messages carry.
-- Access paths added:
--   GET /files/{id}            files primary key; then, unless the caller uploaded it, the messages
--                              that carry it (message_attachments by file_id) and the caller's
--                              membership of their conversation (group_members primary key)
--   quota                      sum of files by owner_id: files_owner_idx (size included: index-only)
--   account deletion           files by owner_id: files_owner_idx
--   send with attachments      files primary key (ownership), insert into message_attachments
--   message rows               message_attachments primary key (message_id, position) → files key
--   orphan sweep               files by created_at (files_created_idx), each checked for a carrier
--                              through message_attachments_file_idx
--   delete a message           message_attachments primary key (message_id prefix)

CREATE TABLE files (
  -- 128 random bits, base64url: the id is also what makes a file unguessable.
  id           text PRIMARY KEY,
  owner_id     integer NOT NULL REFERENCES users (id),
  name         text NOT NULL,
  size         bigint NOT NULL CHECK (size > 0),
  content_type text NOT NULL,
  sha256       text NOT NULL,
  width        integer,
  height       integer,
  has_thumbnail boolean NOT NULL DEFAULT false,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_owner_idx ON files (owner_id) INCLUDE (size);
CREATE INDEX files_created_idx ON files (created_at);

-- A message's files in the order the sender gave them. Deleting a message deletes its rows here
-- (edits.ts), which makes its files orphans that the sweeper collects after FILE_ORPHAN_TTL.
CREATE TABLE message_attachments (
  message_id bigint NOT NULL REFERENCES messages (id),
  position   smallint NOT NULL,
  file_id    text NOT NULL REFERENCES files (id),
  PRIMARY KEY (message_id, position)
);
CREATE INDEX message_attachments_file_idx ON message_attachments (file_id);

-- A message's attachments as the JSON array its rows carry, with signed URLs. The URL is signed
-- with HMAC-SHA256 written out from sha256() (RFC 2104: H(k ^ opad || H(k ^ ipad || m))), so the
-- statements that build message rows as JSON text (historyReads.ts) sign in the same statement,
-- with the key's two pads as parameters (never stored). signing.ts computes the same in Node.
CREATE FUNCTION relay_file_sig(kind text, file_id text, exp bigint, ipad bytea, opad bytea) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT encode(sha256(opad || sha256(ipad || convert_to(kind || ':' || file_id || ':' || exp, 'UTF8'))), 'hex')
$$;

CREATE FUNCTION relay_attachments(msg bigint, exp bigint, ipad bytea, opad bytea) RETURNS json
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT coalesce(json_agg(json_build_object(
    'id', f.id, 'name', f.name, 'size', f.size, 'contentType', f.content_type, 'width', f.width, 'height', f.height,
    'url', '/files/' || f.id || '?exp=' || exp || '&sig=' || relay_file_sig('f', f.id, exp, ipad, opad),
    'thumbnailUrl', CASE WHEN f.has_thumbnail
      THEN '/files/' || f.id || '/thumbnail?exp=' || exp || '&sig=' || relay_file_sig('t', f.id, exp, ipad, opad) END,
    'createdAt', to_char(f.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
  ) ORDER BY a.position), '[]'::json)
  FROM message_attachments a JOIN files f ON f.id = a.file_id
  WHERE a.message_id = msg
$$;

import type postgres from 'postgres';
import type { Sql } from './client.js';

import type { FileSigner } from '../files/signing.js';

type Fragment = postgres.Fragment;

/** What the statements need to sign attachment URLs in SQL (009_files.sql, relay_attachments). */
export interface UrlSigning { exp: number; ipad: Buffer; opad: Buffer }
export const urlSigning = (signer: FileSigner): UrlSigning => ({ exp: signer.expiry(), ...signer.pads });

/**
 * `attachments`: the message's files with signed URLs, in its order ([] when none, and once it is
 * deleted: a delete detaches them). One probe of message_attachments' primary key per row.
 */
export const attachmentsJson = (sql: Sql, k: UrlSigning, id: Fragment = sql`m.id`) =>
  sql`relay_attachments(${id}, ${k.exp}::bigint, ${k.ipad}::bytea, ${k.opad}::bytea)`;

/*
 * The v1.2 parts of a message row (PROTOCOL.md "Replies and mentions", "Reactions"), written once
 * as SQL and used by every statement that shows a message: sends, edits, both histories, getPinned
 * (and searchMessages). Each is a column expression over a message row aliased `m` (or the
 * expressions given), producing json the row takes as it is, whether the rows are written to JSON
 * text by row_to_json (the histories) or read by postgres.js into objects (sends, edits).
 */

/** ISO 8601 text as Date.prototype.toISOString writes it (the histories' timestamps). */
export const isoText = (sql: Sql, ts: Fragment) =>
  sql`to_char(${ts} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * `replyTo`: null, or the replied-to message as it is now: its first 100 code points (left() counts
 * characters), "" once deleted (a delete erases the content), and its sender's current name. One
 * primary-key probe, only for rows that reply (a CASE runs its subquery only when reached).
 */
export const replyToJson = (sql: Sql, replyToId: Fragment = sql`m.reply_to_id`) => sql`
  case when ${replyToId} is null then null else (
    select json_build_object('id', r.id, 'seq', r.seq, 'senderId', r.sender_id, 'senderName', ru.first_name,
      'content', left(r.content, 100), 'deletedAt', ${isoText(sql, sql`r.deleted_at`)})
    from messages r join users ru on ru.id = r.sender_id
    where r.id = ${replyToId}
  ) end`;

/** `mentions`: ascending member ids ([] in dialogs and when none). */
export const mentionsJson = (sql: Sql, mentions: Fragment = sql`m.mentions`) =>
  sql`coalesce(to_json(${mentions}), '[]'::json)`;

/**
 * `reactions` as reader `me` sees them: [{emoji, count, me}] in first-appearance order (the stored
 * order, 007). Read from the row itself: a row without reactions costs a null test, one whose reader
 * holds none of them a copy of its `reactions_view`; a row the reader reacted to takes the view's
 * elements (`..."me":false}`, 11 characters at the end) and sets `me` where the holders include it.
 */
export const reactionsJson = (sql: Sql, me: Fragment, m: Fragment = sql`m`) => sql`
  case when ${m}.reactions is null then '[]'::json
       when not (${m}.reactors @> array[${me}]) then ${m}.reactions_view
       -- The reader's own: the stored view's elements (escaped once, when written), me set where it holds one.
       else (select ('[' || string_agg(case when (x->1) @> to_jsonb(${me}) then left(w.v::text, -11) || '"me":true}' else w.v::text end,
                                      ',' order by y.i) || ']')::json
             from jsonb_array_elements(${m}.reactions) with ordinality as y(x, i)
             join json_array_elements(${m}.reactions_view) with ordinality as w(v, j) on w.j = y.i) end`;

/**
 * The columns a reactions change writes (reactions and its two read forms, 007), from the new
 * list `next` (an expression over the row being updated).
 */
export const reactionColumns = (sql: Sql, next: Fragment) =>
  sql`(reactions, reactions_view, reactors) = (select r, relay_reactions_view(r), relay_reactors(r) from (select ${next} as r) n)`;

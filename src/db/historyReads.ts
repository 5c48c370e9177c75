import type postgres from 'postgres';
import type { Sql } from './client.js';
import { createBatcher } from './batch.js';
import { JsonText } from '../protocol.js';
import { attachmentsJson, mentionsJson, reactionsJson, replyToJson, urlSigning, type UrlSigning } from './messageRows.js';
import type { FileInfo, Reaction, ReplyTo } from '../../client/src/wire.js';
import type { FileSigner } from '../files/signing.js';

/*
 * The three history reads (chat list, dialog history, group history), written for speed:
 *
 * - The database writes each reply's `data` as JSON text (row_to_json per row, joined in order:
 *   the bytes JSON.stringify would make, keys in column order), which the frame takes as it is.
 *   No row objects, no Date per timestamp: timestamps are formatted in SQL as toISOString does,
 *   to_char(<timestamptz> at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') (milliseconds
 *   truncated, as V8 truncates microseconds). The expression is written out in each statement: a
 *   fragment would be rebuilt on every call.
 * - Pages by number (the common case) are batched like a send: the requests of one event-loop
 *   turn are one statement, one row per request. Each request's work sits in a lateral subquery
 *   (index probes per request), so the plan does not depend on how many came. Lateral joins, not
 *   scalar subqueries: the same aggregate as a scalar subquery cost the backend about 3 times
 *   the CPU per call (measured, 400 against 110-190 µs for a one-item dialog batch).
 * - Their input is one jsonb parameter read by jsonb_to_recordset, whose row estimate (100) is the
 *   same whatever the batch: the generic plan then costs what a custom one does, and PostgreSQL
 *   keeps the prepared statement on it instead of planning each call (an array's length is known
 *   to a custom plan, which made every batch a fresh plan of about a millisecond).
 * - A page is a range of seqs: seq is gapless and in id order per conversation, so page p of
 *   size n is seq (last_seq - (p - 1) * n - n, last_seq - (p - 1) * n], read from the
 *   (conversation, seq) unique indexes with no LIMIT or OFFSET.
 * - The cursors (beforeId, afterId) are rarer and stay one statement per request.
 */

export interface Page { limit: number; offset: number; beforeId?: number; afterId?: number }

/** The v1.2 fields of every history row (messageRows.ts writes them). */
interface RowV12 { replyTo: ReplyTo | null; mentions: number[]; reactions: Reaction[]; attachments: FileInfo[] }

/** getlatestMessageGroup rows (the brief's names), v1.1 and v1.2 fields included. */
export interface GroupHistoryRow extends RowV12 {
  id: number; sender_id: number; senderName: string; group_id: number; created_at: string; content: string;
  seq: number; editedAt: string | null; deletedAt: string | null;
}

/** getlatestMessageDialog rows (`receverName` sic, the brief's spelling). */
export interface DialogHistoryRow extends RowV12 {
  id: number; sender_id: number; receiver_id: number; receverName: string; senderName: string;
  content: string; created_at: string; seq: number; editedAt: string | null; deletedAt: string | null;
}

/** listLastMessage rows. */
export interface ChatRow {
  id: number | null; senderId: number | null; senderName: string | null;
  receiverId: number | null; receiverName: string | null;
  groupId: number | null; groupName: string | null;
  content: string | null; createdAt: string; updatedAt: string | null; deletedAt: string | null;
  seq: number | null; unreadCount: number; lastReadId: number | null; peerLastReadId: number | null;
  blocked: boolean;
  mentionCount: number;
  muted: boolean; mutedUntil: string | null;
  attachmentName: string | null;
}

/** A group history for a member; null data: not a member (FORBIDDEN). */
export interface GroupHistory { data: JsonText<GroupHistoryRow[]> | null }

export interface ChatListItem { userId: number; skip: number; take: number }
export interface DialogPageItem { me: number; lo: number; hi: number; skip: number; take: number }
export interface GroupPageItem { userId: number; groupId: number; skip: number; take: number }

type Fragment = postgres.Fragment;

interface DataRow { ord: number; data: string | null }

/** The batch as jsonb_to_recordset reads it: the items with their place (`ord`, from 1). */
const asJson = (sql: Sql, items: readonly object[]) => sql.json(items.map((item, i) => ({ ord: i + 1, ...item })));

/** One statement's rows back in the order of its items (a missing row reads as no data). */
const inOrder = (rows: readonly DataRow[], count: number): (string | null)[] => {
  const out = new Array<string | null>(count).fill(null);
  for (const row of rows) out[row.ord - 1] = row.data;
  return out;
};

// Exported, like the other batched statements, for the query-plan checks.

/**
 * The chat list of each item's user: one row per conversation (each dialog partner, each group),
 * most recent activity first, `take` of them after `skip`. The conversation row holds a copy of its
 * newest message (006_chat_list_last_message.sql) and its last seq beside the caller's marker:
 * unreadCount is their difference, and no conversation costs a probe into `messages`. Each
 * membership reaches its group by key through a lateral subquery that `offset 0` keeps from being
 * flattened (flattened, the planner hashed the whole `groups` table on every call). Names: only the
 * one that is not the caller's is looked up per row (the partner's, or a group message's sender);
 * the caller's once.
 */
export const chatListStatement = (sql: Sql, items: readonly ChatListItem[]) => sql<DataRow[]>`
  select v.ord, coalesce(h.data, '[]') as data
  from jsonb_to_recordset(${asJson(sql, items)}) as v(ord int, "userId" int, skip bigint, take bigint)
  left join lateral (
    select '[' || string_agg(row_to_json(r)::text, ',' order by x.pos) || ']' as data
    from (
      select row_number() over (order by coalesce(c.created_at, c.joined_at) desc, c.id desc nulls last, c.group_id) as pos, c.*
      from (
        -- A dialog's last receiver is the side that did not send it (both sides are the caller in a note to oneself).
        select d.last_message_id as id, d.last_sender_id as sender_id,
               case when d.last_sender_id = d.user_lo then d.user_hi else d.user_lo end as receiver_id,
               null::int as group_id, null::text as group_name, d.last_content as content, d.last_created_at as created_at,
               d.last_updated_at as updated_at, d.last_deleted_at as deleted_at, null::timestamptz as joined_at, d.last_seq,
               d.lo_last_read_id as read_id, d.lo_last_read_seq as read_seq, d.hi_last_read_id as peer_read_id,
               null::bigint[] as mention_seqs
        from dialogs d where d.user_lo = v."userId" and d.last_message_id is not null
        union all
        select d.last_message_id, d.last_sender_id, case when d.last_sender_id = d.user_lo then d.user_hi else d.user_lo end,
               null, null, d.last_content, d.last_created_at, d.last_updated_at, d.last_deleted_at, null, d.last_seq,
               d.hi_last_read_id, d.hi_last_read_seq, d.lo_last_read_id, null
        from dialogs d where d.user_hi = v."userId" and d.user_lo <> v."userId" and d.last_message_id is not null
        union all
        select g.last_message_id, g.last_sender_id, null, gm.group_id, g.name, g.last_content, g.last_created_at,
               g.last_updated_at, g.last_deleted_at, gm.joined_at, g.last_seq, gm.last_read_id, gm.last_read_seq, null,
               gm.mention_seqs
        from group_members gm
        cross join lateral (
          select g.name, g.last_message_id, g.last_sender_id, g.last_content, g.last_created_at, g.last_updated_at,
                 g.last_deleted_at, g.last_seq
          from groups g where g.id = gm.group_id offset 0
        ) g
        where gm.user_id = v."userId"
      ) c
    ) x
    left join lateral (
      -- v1.2: the caller's mute of this conversation, unless it ran out (010_push.sql).
      select true as found, cm.muted_until from conversation_mutes cm
      where cm.user_id = v."userId" and cm.group_id = coalesce(x.group_id, 0)
        and cm.peer_id = case when x.group_id is not null then 0 when x.sender_id = v."userId" then x.receiver_id else x.sender_id end
        and (cm.muted_until is null or cm.muted_until > now())
    ) mu on true
    cross join lateral (
      select x.id, x.sender_id as "senderId",
             case when x.sender_id = v."userId" then (select first_name from users where id = v."userId")
                  else (select first_name from users where id = x.sender_id) end as "senderName",
             x.receiver_id as "receiverId",
             case when x.receiver_id is null then null
                  when x.receiver_id = v."userId" then (select first_name from users where id = v."userId")
                  else (select first_name from users where id = x.receiver_id) end as "receiverName",
             x.group_id as "groupId", x.group_name as "groupName", x.content,
             to_char(coalesce(x.created_at, x.joined_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt",
             to_char(x.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt",
             to_char(x.deleted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt",
             case when x.id is not null then x.last_seq end as seq, greatest(x.last_seq - x.read_seq, 0) as "unreadCount",
             x.read_id as "lastReadId", x.peer_read_id as "peerLastReadId",
             -- v1.2: the caller blocks this dialog's partner (the side that is not the caller).
             x.group_id is null and exists (
               select 1 from blocks b where b.blocker_id = v."userId"
                 and b.blocked_id = case when x.sender_id = v."userId" then x.receiver_id else x.sender_id end
             ) as blocked,
             -- The member's unread mentions are kept beside its marker (007): no probe into messages.
             case when x.mention_seqs is null then 0
                  else (select count(*)::int from unnest(x.mention_seqs) as s where s > x.read_seq) end as "mentionCount",
             coalesce(mu.found, false) as muted, to_char(mu.muted_until at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "mutedUntil",
             -- A message of files only: the chat list shows its first file's name (one key probe,
             -- only for those).
             case when x.content = '' and x.deleted_at is null then (
               select f.name from message_attachments a join files f on f.id = a.file_id
               where a.message_id = x.id order by a.position limit 1) end as "attachmentName"
    ) r
    where x.pos > v.skip and x.pos <= v.skip + v.take
  ) h on true`;

/** The v1.2 columns of a history row of message `m`, reactions as reader `me` sees them. */
const rowV12Columns = (sql: Sql, me: Fragment, k: UrlSigning) =>
  sql`${replyToJson(sql)} as "replyTo", ${mentionsJson(sql)} as mentions, ${reactionsJson(sql, me)} as reactions,
      ${attachmentsJson(sql, k)} as attachments`;

/**
 * A dialog's messages as reply rows, read by `me`, with the two names from its `dialogs` row `d`
 * (joined once, not per message). The caller adds the page's bounds on `m` and `d`, and may add
 * columns after `extra`. Timestamps are written by PostgreSQL in the exact text
 * `Date.prototype.toISOString` gives.
 */
export const dialogMessages = (sql: Sql, me: Fragment, k: UrlSigning, extra: Fragment = sql``) => sql`
  select m.id, m.sender_id, m.receiver_id,
         case when m.receiver_id = d.user_lo then ulo.first_name else uhi.first_name end as "receverName",
         case when m.sender_id = d.user_lo then ulo.first_name else uhi.first_name end as "senderName",
         m.content, to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, m.seq,
         to_char(m.edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "editedAt",
         to_char(m.deleted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt",
         ${rowV12Columns(sql, me, k)} ${extra}
  from dialogs d
  join users ulo on ulo.id = d.user_lo
  join users uhi on uhi.id = d.user_hi
  join messages m on m.receiver_id is not null
    and least(m.sender_id, m.receiver_id) = d.user_lo and greatest(m.sender_id, m.receiver_id) = d.user_hi`;

/** A group message `m` as a reply row's columns, read by `me`. */
export const groupMessageColumns = (sql: Sql, me: Fragment, k: UrlSigning) => sql`
  m.id, m.sender_id, (select first_name from users where id = m.sender_id) as "senderName", m.group_id,
  to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, m.content, m.seq,
  to_char(m.edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "editedAt",
  to_char(m.deleted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt",
  ${rowV12Columns(sql, me, k)}`;

/** Newest first, a page of each item's dialog (lo, hi), from its `dialogs` row: the two names are read once there. */
export const dialogPagesStatement = (sql: Sql, items: readonly DialogPageItem[], k: UrlSigning) => sql<DataRow[]>`
  select v.ord, coalesce(p.data, '[]') as data
  from jsonb_to_recordset(${asJson(sql, items)}) as v(ord int, me int, lo int, hi int, skip bigint, take bigint)
  left join lateral (
    select '[' || string_agg(row_to_json(h)::text, ',' order by h.seq desc) || ']' as data
    from (
      ${dialogMessages(sql, sql`v.me`, k)}
        and m.seq > d.last_seq - v.skip - v.take and m.seq <= d.last_seq - v.skip
      where d.user_lo = v.lo and d.user_hi = v.hi
    ) h
  ) p on true`;

/** Newest first, a page of each item's group if its user is a member (data null if not). */
export const groupPagesStatement = (sql: Sql, items: readonly GroupPageItem[], k: UrlSigning) => sql<DataRow[]>`
  select v.ord, case when member.ok then coalesce(p.data, '[]') end as data
  from jsonb_to_recordset(${asJson(sql, items)}) as v(ord int, "userId" int, "groupId" int, skip bigint, take bigint)
  cross join lateral (
    -- offset 0: read once; flattened, the check ran twice (for the flag and to guard the messages).
    select exists (select 1 from group_members gm where gm.group_id = v."groupId" and gm.user_id = v."userId") as ok offset 0
  ) member
  left join lateral (
    select '[' || string_agg(row_to_json(h)::text, ',' order by h.seq desc) || ']' as data
    from (
      select ${groupMessageColumns(sql, sql`v."userId"`, k)}
      from groups g
      join messages m on m.group_id = g.id and m.seq > g.last_seq - v.skip - v.take and m.seq <= g.last_seq - v.skip
      where member.ok and g.id = v."groupId"
    ) h
  ) p on true`;

/**
 * A cursor page's pieces: the bound on message `m`, its order, and the same order for the
 * aggregate over the page's rows `h` (oldest first after `afterId`, newest first before `beforeId`).
 */
function cursor(sql: Sql, page: Page) {
  const after = page.afterId !== undefined;
  return {
    bound: after ? sql`and m.id > ${page.afterId ?? 0}` : sql`and m.id < ${page.beforeId ?? 0}`,
    order: after ? sql`order by m.id asc` : sql`order by m.id desc`,
    agg: after ? sql`order by h.id asc` : sql`order by h.id desc`,
  };
}

/** One dialog by cursor: `limit` messages older than `beforeId` (newest first) or newer than `afterId` (oldest first). */
export function dialogCursorStatement(sql: Sql, me: number, peer: number, page: Page, k: UrlSigning) {
  const { bound, order, agg } = cursor(sql, page);
  return sql<{ data: string }[]>`
    select coalesce((
      select '[' || string_agg(row_to_json(h)::text, ',' ${agg}) || ']'
      from (
        ${dialogMessages(sql, sql`${me}::int`, k)}
        where d.user_lo = ${Math.min(me, peer)}::int and d.user_hi = ${Math.max(me, peer)}::int ${bound}
        ${order} limit ${page.limit}
      ) h
    ), '[]') as data`;
}

/** One group by cursor, as dialogCursorStatement; data null if `me` is not a member. */
export function groupCursorStatement(sql: Sql, me: number, groupId: number, page: Page, k: UrlSigning) {
  const { bound, order, agg } = cursor(sql, page);
  return sql<{ data: string | null }[]>`
    select case when exists (select 1 from group_members gm where gm.group_id = ${groupId} and gm.user_id = ${me})
      then coalesce((
        select '[' || string_agg(row_to_json(h)::text, ',' ${agg}) || ']'
        from (
          select ${groupMessageColumns(sql, sql`${me}::int`, k)}
          from messages m
          where m.group_id = ${groupId} ${bound}
          ${order} limit ${page.limit}
        ) h
      ), '[]') end as data`;
}

// Requests per statement, and statements in flight at once per kind (batch.ts).
const BATCHING = { maxBatch: 100, depth: 2 };

/** `signer`: message rows carry their files' URLs, signed in the statements that read them. */
export function createHistoryReads(sql: Sql, signer: FileSigner) {
  const chatLists = createBatcher(
    async (items: ChatListItem[]) => inOrder(await chatListStatement(sql, items), items.length), BATCHING);
  const dialogPages = createBatcher(
    async (items: DialogPageItem[]) => inOrder(await dialogPagesStatement(sql, items, urlSigning(signer)), items.length), BATCHING);
  const groupPages = createBatcher(
    async (items: GroupPageItem[]) => inOrder(await groupPagesStatement(sql, items, urlSigning(signer)), items.length), BATCHING);

  return {
    /** listLastMessage: `limit` conversations after `offset`, most recent activity first. */
    async chatList(me: number, limit: number, offset: number): Promise<JsonText<ChatRow[]>> {
      return new JsonText(await chatLists({ userId: me, skip: offset, take: limit }) ?? '[]');
    },

    /** Both directions of one dialog, newest first (oldest first after `afterId`). */
    async dialogHistory(me: number, peer: number, page: Page): Promise<JsonText<DialogHistoryRow[]>> {
      if (page.afterId === undefined && page.beforeId === undefined) {
        const lo = Math.min(me, peer);
        const hi = Math.max(me, peer);
        return new JsonText(await dialogPages({ me, lo, hi, skip: page.offset, take: page.limit }) ?? '[]');
      }
      const [row] = await dialogCursorStatement(sql, me, peer, page, urlSigning(signer));
      return new JsonText(row?.data ?? '[]');
    },

    /** A group's history, newest first (oldest first after `afterId`); data null if `me` is not a member. */
    async groupHistory(me: number, groupId: number, page: Page): Promise<GroupHistory> {
      if (page.afterId === undefined && page.beforeId === undefined) {
        const data = await groupPages({ userId: me, groupId, skip: page.offset, take: page.limit });
        return { data: data === null ? null : new JsonText(data) };
      }
      const [row] = await groupCursorStatement(sql, me, groupId, page, urlSigning(signer));
      return { data: row?.data == null ? null : new JsonText(row.data) };
    },
  };
}

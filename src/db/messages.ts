import type { Sql } from './client.js';
import { createSends } from './sends.js';
import { createReadMarkers } from './readMarkers.js';
import { createEdits } from './edits.js';

export type { GroupSend, PrivateSend, StoredGroupMessage, StoredPrivateMessage, SendOutcome } from './sends.js';

export interface Page { limit: number; offset: number; beforeId?: number; afterId?: number }

/*
 * Timestamps leave the database as the text JSON.stringify would make of them
 * (Date.prototype.toISOString: UTC, milliseconds, truncated like V8 truncates microseconds): the
 * reply is built without a Date per value, which cost more than the rest of the row's encoding.
 * The expression is written out in each statement (a fragment would be rebuilt on every call):
 *   to_char(<timestamptz> at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
 */

export interface GroupHistoryRow {
  id: number | null; sender_id: number | null; senderName: string | null; group_id: number | null;
  created_at: string | null; content: string | null; seq: number | null; editedAt: string | null; deletedAt: string | null;
}

export interface DialogHistoryRow {
  id: number; sender_id: number; receiver_id: number; receverName: string; senderName: string;
  content: string; created_at: string; seq: number; editedAt: string | null; deletedAt: string | null;
}

export interface ChatRow {
  id: number | null; senderId: number | null; senderName: string | null;
  receiverId: number | null; receiverName: string | null;
  groupId: number | null; groupName: string | null;
  content: string | null; createdAt: string; updatedAt: string | null; deletedAt: string | null;
  seq: number | null; unreadCount: number; lastReadId: number | null; peerLastReadId: number | null;
}

export function createMessages(sql: Sql) {
  return {
    ...createSends(sql),
    ...createReadMarkers(sql),
    ...createEdits(sql),

    /**
     * Newest first; `afterId` pages forward (oldest first) for catching up after a reconnect.
     * The caller's membership is read in the same statement: the first row's `member` says
     * whether `me` may see the group, and the messages are only read if so. A member of a group
     * without messages gets one row of nulls but `member`.
     *
     * A page by number is a range of seqs: seq is gapless and in id order within a group, so the
     * newest `limit` after `offset` are seq (last_seq - offset - limit, last_seq - offset], read
     * from the (group_id, seq) index with no LIMIT or OFFSET. That also keeps the prepared
     * statement on its generic plan: with `limit $n` the planner guessed 10 % of the group's rows
     * for the generic plan, found it dearer than a custom one and planned the query anew on every
     * call (about two thirds of its database time, bench/README.md).
     */
    groupHistory(me: number, groupId: number, page: Page) {
      if (page.afterId === undefined && page.beforeId === undefined) {
        return sql<(GroupHistoryRow & { member: boolean })[]>`
          select gm.user_id is not null as member, h.*
          from (select 1) one
          left join group_members gm on gm.group_id = ${groupId} and gm.user_id = ${me}
          left join lateral (
            select m.id, m.sender_id, s.first_name as "senderName", m.group_id,
                   to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, m.content, m.seq,
                   to_char(m.edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "editedAt",
                   to_char(m.deleted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt"
            from groups g
            join messages m on m.group_id = g.id
              and m.seq > g.last_seq - ${page.offset + page.limit}::bigint and m.seq <= g.last_seq - ${page.offset}::bigint
            join users s on s.id = m.sender_id
            where gm.user_id is not null and g.id = ${groupId}
            order by m.seq desc
          ) h on true`;
      }
      const order = page.afterId !== undefined ? sql`order by m.id asc` : sql`order by m.id desc`;
      const bound = page.afterId !== undefined ? sql`and m.id > ${page.afterId}` : sql`and m.id < ${page.beforeId ?? 0}`;
      return sql<(GroupHistoryRow & { member: boolean })[]>`
        select gm.user_id is not null as member, h.*
        from (select 1) one
        left join group_members gm on gm.group_id = ${groupId} and gm.user_id = ${me}
        left join lateral (
          select m.id, m.sender_id, s.first_name as "senderName", m.group_id,
                 to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, m.content, m.seq,
                 to_char(m.edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "editedAt",
                 to_char(m.deleted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt"
          from messages m join users s on s.id = m.sender_id
          where gm.user_id is not null and m.group_id = ${groupId} ${bound}
          ${order} limit ${page.limit}
        ) h on true`;
    },

    /**
     * Both directions of one dialog, from its `dialogs` row (every pair that exchanged a message
     * has one): the two names are read once there instead of twice per message. A page by number
     * is a range of seqs, as in groupHistory; the cursors walk the (least, greatest, id) index.
     */
    dialogHistory(me: number, peer: number, page: Page): Promise<DialogHistoryRow[]> {
      const lo = Math.min(me, peer);
      const hi = Math.max(me, peer);
      const cols = sql`
        m.id, m.sender_id, m.receiver_id,
        case when m.receiver_id = d.user_lo then ulo.first_name else uhi.first_name end as "receverName",
        case when m.sender_id = d.user_lo then ulo.first_name else uhi.first_name end as "senderName",
        m.content, to_char(m.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at, m.seq,
        to_char(m.edited_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "editedAt",
        to_char(m.deleted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt"
        from dialogs d
        join users ulo on ulo.id = d.user_lo
        join users uhi on uhi.id = d.user_hi
        join messages m on m.receiver_id is not null
          and least(m.sender_id, m.receiver_id) = d.user_lo and greatest(m.sender_id, m.receiver_id) = d.user_hi`;
      const pair = sql`d.user_lo = ${lo}::int and d.user_hi = ${hi}::int`;
      if (page.afterId !== undefined) {
        return sql<DialogHistoryRow[]>`select ${cols} where ${pair} and m.id > ${page.afterId} order by m.id asc limit ${page.limit}`;
      }
      if (page.beforeId !== undefined) {
        return sql<DialogHistoryRow[]>`select ${cols} where ${pair} and m.id < ${page.beforeId} order by m.id desc limit ${page.limit}`;
      }
      return sql<DialogHistoryRow[]>`select ${cols} where ${pair}
        and m.seq > d.last_seq - ${page.offset + page.limit}::bigint and m.seq <= d.last_seq - ${page.offset}::bigint
        order by m.seq desc`;
    },

    /**
     * One row per conversation: each dialog partner and each group of the caller. The
     * conversation row points at its newest message and holds its last seq; the caller's marker
     * sits beside it (group_members, or the caller's side of dialogs): unreadCount is their
     * difference, and the newest message is one primary-key probe.
     *
     * Names: each row looks up only the name that is not the caller's (the partner's, or a group
     * message's sender), and the caller's is read once per call (an uncorrelated subquery). Each
     * membership reaches its group by primary key through a lateral subquery that `offset 0`
     * keeps from being flattened: flattened, the planner hashed the whole `groups` table (a
     * sequential scan of every group, most of the statement's time, on every call).
     */
    chatList(me: number, limit: number, offset: number): Promise<ChatRow[]> {
      return sql<ChatRow[]>`
        with convs as (
          select null::int as group_id, null::text as group_name, null::timestamptz as joined_at, d.last_message_id, d.last_seq,
                 d.lo_last_read_id as read_id, d.lo_last_read_seq as read_seq, d.hi_last_read_id as peer_read_id
          from dialogs d where d.user_lo = ${me} and d.last_message_id is not null
          union all
          select null, null, null, d.last_message_id, d.last_seq, d.hi_last_read_id, d.hi_last_read_seq, d.lo_last_read_id
          from dialogs d where d.user_hi = ${me} and d.user_lo <> ${me} and d.last_message_id is not null
          union all
          select gm.group_id, g.name, gm.joined_at, g.last_message_id, g.last_seq, gm.last_read_id, gm.last_read_seq, null
          from group_members gm
          cross join lateral (select g.name, g.last_message_id, g.last_seq from groups g where g.id = gm.group_id offset 0) g
          where gm.user_id = ${me}
        )
        select m.id, m.sender_id as "senderId",
               case when m.sender_id = ${me} then (select first_name from users where id = ${me})
                    else (select first_name from users where id = m.sender_id) end as "senderName",
               m.receiver_id as "receiverId",
               case when m.receiver_id is null then null when m.receiver_id = ${me} then (select first_name from users where id = ${me})
                    else (select first_name from users where id = m.receiver_id) end as "receiverName",
               c.group_id as "groupId", c.group_name as "groupName", m.content,
               to_char(coalesce(m.created_at, c.joined_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "createdAt",
               to_char(m.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "updatedAt",
               to_char(m.deleted_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "deletedAt",
               m.seq, greatest(c.last_seq - c.read_seq, 0) as "unreadCount",
               c.read_id as "lastReadId", c.peer_read_id as "peerLastReadId"
        from convs c
        left join messages m on m.id = c.last_message_id
        order by coalesce(m.created_at, c.joined_at) desc, m.id desc nulls last, c.group_id
        limit ${limit} offset ${offset}`;
    },
  };
}

export type Messages = ReturnType<typeof createMessages>;

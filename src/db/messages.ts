import type { Sql } from './client.js';
import { createSends } from './sends.js';
import { createReadMarkers } from './readMarkers.js';
import { createEdits } from './edits.js';

export type { GroupSend, PrivateSend, StoredGroupMessage, StoredPrivateMessage, SendOutcome } from './sends.js';

export interface Page { limit: number; offset: number; beforeId?: number; afterId?: number }

export interface GroupHistoryRow {
  id: number | null; sender_id: number | null; senderName: string | null; group_id: number | null;
  created_at: Date | null; content: string | null; seq: number | null; editedAt: Date | null; deletedAt: Date | null;
}

export interface DialogHistoryRow {
  id: number; sender_id: number; receiver_id: number; receverName: string; senderName: string;
  content: string; created_at: Date; seq: number; editedAt: Date | null; deletedAt: Date | null;
}

export interface ChatRow {
  id: number | null; senderId: number | null; senderName: string | null;
  receiverId: number | null; receiverName: string | null;
  groupId: number | null; groupName: string | null;
  content: string | null; createdAt: Date; updatedAt: Date | null; deletedAt: Date | null;
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
     */
    groupHistory(me: number, groupId: number, page: Page) {
      const order = page.afterId !== undefined ? sql`order by m.id asc` : sql`order by m.id desc`;
      const bound = page.afterId !== undefined ? sql`and m.id > ${page.afterId}`
        : page.beforeId !== undefined ? sql`and m.id < ${page.beforeId}` : sql``;
      const offset = page.afterId !== undefined || page.beforeId !== undefined ? 0 : page.offset;
      return sql<(GroupHistoryRow & { member: boolean })[]>`
        select gm.user_id is not null as member, h.*
        from (select 1) one
        left join group_members gm on gm.group_id = ${groupId} and gm.user_id = ${me}
        left join lateral (
          select m.id, m.sender_id, s.first_name as "senderName", m.group_id, m.created_at, m.content,
                 m.seq, m.edited_at as "editedAt", m.deleted_at as "deletedAt"
          from messages m join users s on s.id = m.sender_id
          where gm.user_id is not null and m.group_id = ${groupId} ${bound}
          ${order} limit ${page.limit} offset ${offset}
        ) h on true`;
    },

    /** Both directions of one dialog, through the (least, greatest, id) index. */
    dialogHistory(me: number, peer: number, page: Page): Promise<DialogHistoryRow[]> {
      const lo = Math.min(me, peer);
      const hi = Math.max(me, peer);
      const cols = sql`
        m.id, m.sender_id, m.receiver_id, r.first_name as "receverName", s.first_name as "senderName",
        m.content, m.created_at, m.seq, m.edited_at as "editedAt", m.deleted_at as "deletedAt"
        from messages m join users s on s.id = m.sender_id join users r on r.id = m.receiver_id`;
      const pair = sql`m.receiver_id is not null
        and least(m.sender_id, m.receiver_id) = ${lo}::int and greatest(m.sender_id, m.receiver_id) = ${hi}::int`;
      if (page.afterId !== undefined) {
        return sql<DialogHistoryRow[]>`select ${cols} where ${pair} and m.id > ${page.afterId} order by m.id asc limit ${page.limit}`;
      }
      if (page.beforeId !== undefined) {
        return sql<DialogHistoryRow[]>`select ${cols} where ${pair} and m.id < ${page.beforeId} order by m.id desc limit ${page.limit}`;
      }
      return sql<DialogHistoryRow[]>`select ${cols} where ${pair} order by m.id desc limit ${page.limit} offset ${page.offset}`;
    },

    /**
     * One row per conversation: each dialog partner and each group of the caller. The
     * conversation row points at its newest message and holds its last seq; the caller's marker
     * sits beside it (group_members, or the caller's side of dialogs): unreadCount is their
     * difference, and the newest message is one primary-key probe. The group's name comes with
     * its row in `convs`: joining `groups` a second time for it made the planner hash the whole
     * table (a sequential scan of every group per call, EXPLAIN in bench/README.md).
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
          from group_members gm join groups g on g.id = gm.group_id
          where gm.user_id = ${me}
        )
        select m.id, m.sender_id as "senderId", s.first_name as "senderName",
               m.receiver_id as "receiverId", r.first_name as "receiverName",
               c.group_id as "groupId", c.group_name as "groupName",
               m.content, coalesce(m.created_at, c.joined_at) as "createdAt",
               m.updated_at as "updatedAt", m.deleted_at as "deletedAt",
               m.seq, greatest(c.last_seq - c.read_seq, 0) as "unreadCount",
               c.read_id as "lastReadId", c.peer_read_id as "peerLastReadId"
        from convs c
        left join messages m on m.id = c.last_message_id
        left join users s on s.id = m.sender_id
        left join users r on r.id = m.receiver_id
        order by coalesce(m.created_at, c.joined_at) desc, m.id desc nulls last, c.group_id
        limit ${limit} offset ${offset}`;
    },
  };
}

export type Messages = ReturnType<typeof createMessages>;

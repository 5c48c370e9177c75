import type { Sql } from './client.js';
import { createBatcher } from './batch.js';

// Element type oids for sql.array: explicit, so an all-null column still has a type.
const INT4 = 23;
const TEXT = 25;

export interface GroupSend { senderId: number; groupId: number; content: string; clientMessageId: string | null }
export interface PrivateSend { senderId: number; receiverId: number; content: string; clientMessageId: string | null }

export interface StoredGroupMessage {
  id: number; groupId: number; senderId: number; content: string; createdAt: Date;
  groupName: string; senderName: string;
}
export interface StoredPrivateMessage {
  id: number; senderId: number; receiverId: number; content: string; createdAt: Date; senderName: string;
}

/**
 * `stored`: written now (push it); `duplicate`: the same clientMessageId was used before for
 * this very message (reply with it, push nothing); `conflict`: that id names another message;
 * `refused`: not a member / no such receiver.
 */
export type SendOutcome<M> =
  | { kind: 'stored'; message: M }
  | { kind: 'duplicate'; message: M }
  | { kind: 'conflict' }
  | { kind: 'refused' };

export interface Page { limit: number; offset: number; beforeId?: number; afterId?: number }

export interface GroupHistoryRow {
  id: number | null; sender_id: number | null; senderName: string | null; group_id: number | null;
  created_at: Date | null; content: string | null;
}

export interface ChatRow {
  id: number | null; senderId: number | null; senderName: string | null;
  receiverId: number | null; receiverName: string | null;
  groupId: number | null; groupName: string | null;
  content: string | null; createdAt: Date; updatedAt: Date | null; deletedAt: Date | null;
}

interface Existing {
  id: number; senderId: number; receiverId: number | null; groupId: number | null;
  content: string; createdAt: Date; senderName: string; groupName: string | null;
}

export function createMessages(sql: Sql) {
  const existingByClientId = async (senderId: number, clientMessageId: string): Promise<Existing | undefined> => {
    const [row] = await sql<Existing[]>`
      select m.id, m.sender_id as "senderId", m.receiver_id as "receiverId", m.group_id as "groupId",
             m.content, m.created_at as "createdAt", s.first_name as "senderName", g.name as "groupName"
      from messages m join users s on s.id = m.sender_id left join groups g on g.id = m.group_id
      where m.sender_id = ${senderId} and m.client_message_id = ${clientMessageId}`;
    return row;
  };

  /**
   * One send's outcome from its batch row: written now, or not written — refused, or its
   * clientMessageId seen before. A retry of a message that was stored gets it back (even if
   * the sender has left the group since); the same id for another message is a conflict.
   */
  const settle = async <M>(
    item: { senderId: number; content: string; clientMessageId: string | null },
    row: { id: number | null; createdAt: Date | null; senderName: string | null; groupName?: string | null } | undefined,
    sameTarget: (prior: Existing) => boolean,
    build: (id: number, createdAt: Date, names: { senderName: string; groupName: string | null }) => M,
  ): Promise<SendOutcome<M>> => {
    if (row?.id != null && row.createdAt) {
      return { kind: 'stored', message: build(row.id, row.createdAt, { senderName: row.senderName ?? '', groupName: row.groupName ?? null }) };
    }
    const prior = item.clientMessageId === null ? undefined : await existingByClientId(item.senderId, item.clientMessageId);
    if (!prior) return { kind: row?.id == null ? 'refused' : 'conflict' };
    if (!sameTarget(prior) || prior.content !== item.content) return { kind: 'conflict' };
    return { kind: 'duplicate', message: build(prior.id, prior.createdAt, prior) };
  };

  /** Membership is checked by the insert itself: a row that is not joined to a membership is not written. */
  const writeGroupBatch = async (items: GroupSend[]) => {
    const rows = await sql<{
      ord: number; id: number | null; groupName: string | null; senderName: string | null; createdAt: Date | null;
    }[]>`
      with v as (
        select * from unnest(
          ${sql.array(items.map((i) => i.senderId), INT4)}::int[],
          ${sql.array(items.map((i) => i.groupId), INT4)}::int[],
          ${sql.array(items.map((i) => i.content), TEXT)}::text[],
          ${sql.array(items.map((i) => i.clientMessageId), TEXT)}::text[]
        ) with ordinality as v(sender_id, group_id, content, client_message_id, ord)
      ), ok as (
        select v.*, nextval('messages_id_seq') as id, g.name as group_name, u.first_name as sender_name
        from v
        join group_members gm on gm.group_id = v.group_id and gm.user_id = v.sender_id
        join groups g on g.id = v.group_id
        join users u on u.id = v.sender_id
      ), ins as (
        insert into messages (id, sender_id, group_id, content, client_message_id)
        select id, sender_id, group_id, content, client_message_id from ok order by id
        on conflict do nothing
        returning id, created_at
      )
      select v.ord::int as ord, ok.id, ok.group_name as "groupName", ok.sender_name as "senderName",
             ins.created_at as "createdAt"
      from v left join ok on ok.ord = v.ord left join ins on ins.id = ok.id
      order by v.ord`;
    return Promise.all(items.map((item, i) => settle(item, rows[i], (prior) => prior.groupId === item.groupId,
      (id, createdAt, names): StoredGroupMessage => ({
        id, groupId: item.groupId, senderId: item.senderId, content: item.content, createdAt,
        groupName: names.groupName ?? '', senderName: names.senderName,
      }))));
  };

  /** The receiver must be an active account; the dialog row is created with the first message. */
  const writePrivateBatch = async (items: PrivateSend[]) => {
    const rows = await sql<{ ord: number; id: number | null; senderName: string | null; createdAt: Date | null }[]>`
      with v as (
        select * from unnest(
          ${sql.array(items.map((i) => i.senderId), INT4)}::int[],
          ${sql.array(items.map((i) => i.receiverId), INT4)}::int[],
          ${sql.array(items.map((i) => i.content), TEXT)}::text[],
          ${sql.array(items.map((i) => i.clientMessageId), TEXT)}::text[]
        ) with ordinality as v(sender_id, receiver_id, content, client_message_id, ord)
      ), ok as (
        select v.*, nextval('messages_id_seq') as id, s.first_name as sender_name
        from v
        join users r on r.id = v.receiver_id and r.deleted_at is null
        join users s on s.id = v.sender_id and s.deleted_at is null
      ), ins as (
        insert into messages (id, sender_id, receiver_id, content, client_message_id)
        select id, sender_id, receiver_id, content, client_message_id from ok order by id
        on conflict do nothing
        returning id, sender_id, receiver_id, created_at
      ), d as (
        -- Sorted so that concurrent batches (other nodes) take key locks in one order: no deadlock.
        insert into dialogs (user_lo, user_hi)
        select distinct least(sender_id, receiver_id), greatest(sender_id, receiver_id) from ins order by 1, 2
        on conflict do nothing
      )
      select v.ord::int as ord, ok.id, ok.sender_name as "senderName", ins.created_at as "createdAt"
      from v left join ok on ok.ord = v.ord left join ins on ins.id = ok.id
      order by v.ord`;
    return Promise.all(items.map((item, i) => settle(item, rows[i], (prior) => prior.receiverId === item.receiverId,
      (id, createdAt, names): StoredPrivateMessage => ({
        id, senderId: item.senderId, receiverId: item.receiverId, content: item.content, createdAt, senderName: names.senderName,
      }))));
  };

  return {
    sendToGroup: createBatcher(writeGroupBatch),
    sendPrivate: createBatcher(writePrivateBatch),

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
          select m.id, m.sender_id, s.first_name as "senderName", m.group_id, m.created_at, m.content
          from messages m join users s on s.id = m.sender_id
          where gm.user_id is not null and m.group_id = ${groupId} ${bound}
          ${order} limit ${page.limit} offset ${offset}
        ) h on true`;
    },

    /** Both directions of one dialog, through the (least, greatest, id) index. */
    dialogHistory(me: number, peer: number, page: Page) {
      const lo = Math.min(me, peer);
      const hi = Math.max(me, peer);
      const cols = sql`
        m.id, m.sender_id, m.receiver_id, r.first_name as "receverName", s.first_name as "senderName",
        m.content, m.created_at
        from messages m join users s on s.id = m.sender_id join users r on r.id = m.receiver_id`;
      const pair = sql`m.receiver_id is not null
        and least(m.sender_id, m.receiver_id) = ${lo}::int and greatest(m.sender_id, m.receiver_id) = ${hi}::int`;
      if (page.afterId !== undefined) {
        return sql`select ${cols} where ${pair} and m.id > ${page.afterId} order by m.id asc limit ${page.limit}`;
      }
      if (page.beforeId !== undefined) {
        return sql`select ${cols} where ${pair} and m.id < ${page.beforeId} order by m.id desc limit ${page.limit}`;
      }
      return sql`select ${cols} where ${pair} order by m.id desc limit ${page.limit} offset ${page.offset}`;
    },

    /**
     * One row per conversation: each dialog partner and each group of the caller, with its
     * newest message found through the history indexes (one index probe per conversation).
     */
    chatList(me: number, limit: number, offset: number): Promise<ChatRow[]> {
      return sql<ChatRow[]>`
        with convs as (
          select null::int as group_id, null::timestamptz as joined_at, lm.id as last_id
          from (
            select user_hi as peer from dialogs where user_lo = ${me}
            union all
            select user_lo from dialogs where user_hi = ${me} and user_lo <> ${me}
          ) d
          cross join lateral (
            select m.id from messages m
            where m.receiver_id is not null
              and least(m.sender_id, m.receiver_id) = least(${me}::int, d.peer)
              and greatest(m.sender_id, m.receiver_id) = greatest(${me}::int, d.peer)
            order by m.id desc limit 1
          ) lm
          union all
          select gm.group_id, gm.joined_at, lm.id
          from group_members gm
          left join lateral (
            select m.id from messages m where m.group_id = gm.group_id order by m.id desc limit 1
          ) lm on true
          where gm.user_id = ${me}
        )
        select m.id, m.sender_id as "senderId", s.first_name as "senderName",
               m.receiver_id as "receiverId", r.first_name as "receiverName",
               c.group_id as "groupId", g.name as "groupName",
               m.content, coalesce(m.created_at, c.joined_at) as "createdAt",
               m.updated_at as "updatedAt", m.deleted_at as "deletedAt"
        from convs c
        left join messages m on m.id = c.last_id
        left join users s on s.id = m.sender_id
        left join users r on r.id = m.receiver_id
        left join groups g on g.id = c.group_id
        order by coalesce(m.created_at, c.joined_at) desc, m.id desc nulls last, c.group_id
        limit ${limit} offset ${offset}`;
    },
  };
}

export type Messages = ReturnType<typeof createMessages>;

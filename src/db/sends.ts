import type { Sql } from './client.js';
import { retryRolledBack } from './retry.js';
import { createBatcher } from './batch.js';
import { replyToJson } from './messageRows.js';
import type { ReplyTo } from '../../client/src/wire.js';

// Element type oids for sql.array: explicit, so an all-null column still has a type.
const INT4 = 23;
const INT8 = 20;
const TEXT = 25;

/** An int[] as array literal text, one per batch item (unnest cannot take an array of arrays of different lengths). */
const intArrayText = (ids: readonly number[] | null): string | null => (ids === null ? null : `{${ids.join(',')}}`);

/**
 * `mentions`: distinct ids as asked (the statement keeps the current members); `replyToId`: null for none.
 * `files`: ids of files the sender uploaded (checked before), in order, stored with the message.
 */
export interface GroupSend {
  senderId: number; groupId: number; content: string; clientMessageId: string | null;
  replyToId: number | null; mentions: number[] | null; files?: readonly string[];
}
export interface PrivateSend {
  senderId: number; receiverId: number; content: string; clientMessageId: string | null; replyToId: number | null; files?: readonly string[];
}

// A send's file ids as one text element (ids are base64url: no commas); null for none.
const filesOf = (items: readonly { files?: readonly string[] }[]) =>
  items.map((i) => (i.files && i.files.length > 0 ? i.files.join(',') : null));

/** Both send statements' step that stores each new message's files (`numbered.files`), in the order given (009_files.sql). */
const attachFiles = (sql: Sql) => sql`
    insert into message_attachments (message_id, position, file_id)
    select n.id, a.pos, a.file_id from numbered n
    cross join lateral unnest(string_to_array(n.files, ',')) with ordinality as a(file_id, pos)
    where n.files is not null`;

/** `replyTo` as PROTOCOL.md v1.2 shows it, made by the statement (messageRows.ts), its deletedAt as ISO text. */
export interface StoredGroupMessage {
  id: number; seq: number; groupId: number; senderId: number; content: string; createdAt: Date;
  groupName: string; senderName: string; replyTo: ReplyTo | null; mentions: number[];
}
export interface StoredPrivateMessage {
  id: number; seq: number; senderId: number; receiverId: number; content: string; createdAt: Date; senderName: string;
  replyTo: ReplyTo | null;
}

/**
 * `stored`: written now (push it); `duplicate`: the same clientMessageId was used before for
 * this very message (reply with it, push nothing); `conflict`: that id names another message;
 * `refused`: not a member / no such receiver; `reply-not-found`: replyToId is not a message of
 * that conversation that is not deleted.
 */
export type SendOutcome<M> =
  | { kind: 'stored'; message: M }
  | { kind: 'duplicate'; message: M }
  | { kind: 'conflict' }
  | { kind: 'refused' }
  | { kind: 'reply-not-found' };

/** A private send may also be refused by a block (v1.2): `by` whose block it is. */
export type PrivateSendOutcome = SendOutcome<StoredPrivateMessage> | { kind: 'blocked'; by: 'sender' | 'receiver' };

interface Existing {
  id: number; seq: number; senderId: number; receiverId: number | null; groupId: number | null;
  content: string; createdAt: Date; senderName: string; groupName: string | null;
  replyTo: ReplyTo | null; mentions: number[] | null;
}

/** `admitted` (the sender may send there) and `replyOk` are only read for a row that was not written. */
interface BatchRow {
  ord: number; id: number | null; seq: number | null; createdAt: Date | null;
  senderName: string | null; groupName?: string | null; replyTo: ReplyTo | null; mentions?: number[] | null;
  admitted: boolean | null; replyOk: boolean | null;
}

/** `blockedBy`: a send refused by a block (v1.2), the sender's own or the receiver's. */
interface PrivateBatchRow extends BatchRow { needsDialog: boolean; blockedBy: 'sender' | 'receiver' | null }

/**
 * Sends, group-committed: one statement per batch stores its messages, draws their seqs, moves
 * the conversation's pointer and the sender's read marker (and, v1.2, adds each mention to the
 * mentioned member's unread mentions), all or nothing (so a crash leaves no hole). The seq contract lives in the statement's order of work:
 *   1. the conversation rows are locked (`for no key update`: sorted, so two batches never
 *      deadlock, and not against the key-share locks of foreign-key checks, e.g. a member added);
 *   2. only then are message ids drawn: a batch that waited for the lock draws larger ids than
 *      the one it waited for, so within a conversation id order is seq order on every node;
 *   3. seq = the row's last_seq + the message's rank by id in the batch; the row gets the new
 *      last_seq, last_message_id and its copy of that newest message (sender, content, times:
 *      what the chat list shows), in that one update.
 * The lock lasts as long as the statement: one round trip.
 *
 * The planner cannot size these CTEs (it guesses one row or a few), so a join of two of them may
 * become a nested loop comparing every pair: batch size squared, 180 ms of a 1,000-send batch.
 * Each join here therefore has an indexed table or a single CTE on one side, and the reply is read
 * from `numbered` (created_at is set there to the statement's now(), which the column default
 * would give) rather than joined back to the insert's RETURNING.
 */
/**
 * (Exported, like the other statements, for the query-plan checks.)
 * Membership is checked by the statement itself: a row not joined to a membership is not
 * written. A clientMessageId already stored, or repeated within the batch, is left out before
 * seqs are drawn (settle answers it as a duplicate or a conflict).
 */
export const groupSendStatement = (sql: Sql, items: GroupSend[], outbox = false) => sql<BatchRow[]>`
  with v as (
    select * from unnest(
      ${sql.array(items.map((i) => i.senderId), INT4)}::int[],
      ${sql.array(items.map((i) => i.groupId), INT4)}::int[],
      ${sql.array(items.map((i) => i.content), TEXT)}::text[],
      ${sql.array(items.map((i) => i.clientMessageId), TEXT)}::text[],
      ${sql.array(items.map((i) => i.replyToId), INT8)}::bigint[],
      ${sql.array(items.map((i) => intArrayText(i.mentions)), TEXT)}::text[],
      ${sql.array(filesOf(items), TEXT)}::text[]
    ) with ordinality as v(sender_id, group_id, content, client_message_id, reply_to_id, mentions_asked, files, ord)
  ), fresh as (
    -- A reply must be to a message of the same group that is not deleted; mentions keep the
    -- current members only, ascending (null: none).
    select distinct on (v.sender_id, coalesce('c' || v.client_message_id, 'o' || v.ord)) v.*, u.first_name as sender_name,
           case when v.mentions_asked is not null then (
             select array_agg(k.id order by k.id) from unnest(v.mentions_asked::int[]) as k(id)
             where exists (select 1 from group_members mm where mm.group_id = v.group_id and mm.user_id = k.id)
           ) end as mentions
    from v
    join group_members gm on gm.group_id = v.group_id and gm.user_id = v.sender_id
    join users u on u.id = v.sender_id
    left join messages rt on rt.id = v.reply_to_id
    where (v.client_message_id is null or not exists (
      select 1 from messages m where m.sender_id = v.sender_id and m.client_message_id = v.client_message_id))
      and (v.reply_to_id is null or (rt.group_id = v.group_id and rt.deleted_at is null))
    order by v.sender_id, coalesce('c' || v.client_message_id, 'o' || v.ord), v.ord
  ), locked as materialized (
    select g.id, g.name, g.last_seq from groups g
    where g.id in (select group_id from fresh)
    order by g.id
    for no key update
  ), ok as materialized (
    select f.*, nextval('messages_id_seq') as id, l.name as group_name, l.last_seq as base
    from fresh f join locked l on l.id = f.group_id
  ), numbered as materialized (
    select ok.*, ok.base + row_number() over (partition by ok.group_id order by ok.id) as seq,
           row_number() over (partition by ok.group_id order by ok.id) = count(*) over (partition by ok.group_id) as newest,
           now() as created_at
    from ok
  ), ins as (
    insert into messages (id, seq, sender_id, group_id, content, client_message_id, created_at, reply_to_id, mentions)
    select id, seq, sender_id, group_id, content, client_message_id, created_at, reply_to_id, mentions from numbered order by id
  ), att as (${attachFiles(sql)}
  ), bump as (
    -- The pointer, and the copy of the newest message the chat list reads (its updated_at is
    -- its created_at: both now()).
    update groups g set last_seq = c.seq, last_message_id = c.id, last_sender_id = c.sender_id, last_content = c.content,
      last_created_at = c.created_at, last_updated_at = c.created_at, last_deleted_at = null
    from (
      select group_id, max(seq) as seq, max(id) as id, max(sender_id) filter (where newest) as sender_id,
             max(content) filter (where newest) as content, max(created_at) as created_at
      from numbered group by group_id
    ) c
    where g.id = c.group_id
  ), outbox as (
    -- Notifications (push/): durable with the message, expanded into recipients by the workers.
    insert into push_outbox (message_id) select id from numbered where ${outbox}::boolean
  ), touched as (
    -- Per member, what this batch changes in its row (one update per row and statement): the
    -- sender's marker moves to its newest message here, a mentioned member (not the sender,
    -- whose marker passes it) gets the message's seq among its unread mentions (007).
    select group_id, user_id, max(id) as read_id, max(seq) as read_seq,
           array_agg(mention_seq order by mention_seq) filter (where mention_seq is not null) as mention_seqs
    from (
      select group_id, sender_id as user_id, id, seq, null::bigint as mention_seq from numbered
      union all
      select n.group_id, k.id, null, null, n.seq from numbered n cross join unnest(n.mentions) as k(id) where k.id <> n.sender_id
    ) x
    group by group_id, user_id
  ), readers as materialized (
    -- Member rows are locked sorted, after every group row (numbered needs them all), as markRead
    -- batches lock them: the two never wait on each other in a cycle.
    select gm.group_id, gm.user_id, c.read_id, c.read_seq, c.mention_seqs from group_members gm
    join touched c on c.group_id = gm.group_id and c.user_id = gm.user_id
    order by gm.group_id, gm.user_id
    for no key update of gm
  ), marker as (
    -- Markers move forward only; the unread mentions drop those the marker has passed.
    update group_members gm set
      last_read_id = case when r.read_seq > gm.last_read_seq then r.read_id else gm.last_read_id end,
      last_read_seq = greatest(gm.last_read_seq, coalesce(r.read_seq, 0)),
      mention_seqs = case when r.mention_seqs is null then gm.mention_seqs
        else array(select s from unnest(gm.mention_seqs) as s where s > gm.last_read_seq) || r.mention_seqs end
    from readers r
    where gm.group_id = r.group_id and gm.user_id = r.user_id and (gm.last_read_seq < r.read_seq or r.mention_seqs is not null)
  )
  select v.ord::int as ord, n.id, n.seq, n.group_name as "groupName", n.sender_name as "senderName",
         n.created_at as "createdAt", ${replyToJson(sql, sql`n.reply_to_id`)} as "replyTo", n.mentions,
         case when n.id is null then exists (
           select 1 from group_members gm where gm.group_id = v.group_id and gm.user_id = v.sender_id) end as admitted,
         case when n.id is null then v.reply_to_id is null or exists (
           select 1 from messages rt where rt.id = v.reply_to_id and rt.group_id = v.group_id and rt.deleted_at is null) end as "replyOk"
  from v left join numbered n on n.ord = v.ord
  order by v.ord`;

/**
 * The receiver must be an active account. The dialog row is locked like a group's; a pair
 * without one yet (its first message) gets `needsDialog`, and is written again once
 * `createDialogs` has made the row.
 */
export const privateSendStatement = (sql: Sql, items: PrivateSend[], outbox = false) => sql<PrivateBatchRow[]>`
  with v as (
    select * from unnest(
      ${sql.array(items.map((i) => i.senderId), INT4)}::int[],
      ${sql.array(items.map((i) => i.receiverId), INT4)}::int[],
      ${sql.array(items.map((i) => i.content), TEXT)}::text[],
      ${sql.array(items.map((i) => i.clientMessageId), TEXT)}::text[],
      ${sql.array(items.map((i) => i.replyToId), INT8)}::bigint[],
      ${sql.array(filesOf(items), TEXT)}::text[]
    ) with ordinality as v(sender_id, receiver_id, content, client_message_id, reply_to_id, files, ord)
  ), fresh as (
    select distinct on (v.sender_id, coalesce('c' || v.client_message_id, 'o' || v.ord)) v.*,
           least(v.sender_id, v.receiver_id) as lo, greatest(v.sender_id, v.receiver_id) as hi,
           s.first_name as sender_name
    from v
    join users r on r.id = v.receiver_id and r.deleted_at is null
    join users s on s.id = v.sender_id and s.deleted_at is null
    left join messages rt on rt.id = v.reply_to_id
    where (v.client_message_id is null or not exists (
      select 1 from messages m where m.sender_id = v.sender_id and m.client_message_id = v.client_message_id))
      -- A reply must be to a message of the same dialog that is not deleted.
      and (v.reply_to_id is null or (rt.receiver_id is not null and rt.deleted_at is null
        and least(rt.sender_id, rt.receiver_id) = least(v.sender_id, v.receiver_id)
        and greatest(rt.sender_id, rt.receiver_id) = greatest(v.sender_id, v.receiver_id)))
      -- v1.2: nothing is stored across a block, either way (two probes of the blocks key).
      and not exists (select 1 from blocks b where b.blocker_id = v.receiver_id and b.blocked_id = v.sender_id)
      and not exists (select 1 from blocks b where b.blocker_id = v.sender_id and b.blocked_id = v.receiver_id)
    order by v.sender_id, coalesce('c' || v.client_message_id, 'o' || v.ord), v.ord
  ), locked as materialized (
    select d.user_lo, d.user_hi, d.last_seq from dialogs d
    where (d.user_lo, d.user_hi) in (select lo, hi from fresh)
    order by d.user_lo, d.user_hi
    for no key update
  ), ok as materialized (
    select f.*, nextval('messages_id_seq') as id, l.last_seq as base
    from fresh f join locked l on l.user_lo = f.lo and l.user_hi = f.hi
  ), numbered as materialized (
    select ok.*, ok.base + row_number() over (partition by ok.lo, ok.hi order by ok.id) as seq,
           row_number() over (partition by ok.lo, ok.hi order by ok.id) = count(*) over (partition by ok.lo, ok.hi) as newest,
           now() as created_at
    from ok
  ), ins as (
    insert into messages (id, seq, sender_id, receiver_id, content, client_message_id, created_at, reply_to_id)
    select id, seq, sender_id, receiver_id, content, client_message_id, created_at, reply_to_id from numbered order by id
  ), outbox as (
    insert into push_outbox (message_id) select id from numbered where ${outbox}::boolean
  ), att as (${attachFiles(sql)}
  ), bump as (
    -- One update per dialog row (a row cannot be updated twice in a statement): the pointer and
    -- the copy of the newest message (as for groups), and each side's marker when that side sent
    -- here (forward only; seq order is id order).
    update dialogs d set last_seq = c.seq, last_message_id = c.id, last_sender_id = c.sender_id, last_content = c.content,
      last_created_at = c.created_at, last_updated_at = c.created_at, last_deleted_at = null,
      lo_last_read_seq = greatest(d.lo_last_read_seq, coalesce(c.lo_seq, 0)),
      lo_last_read_id = case when c.lo_seq > d.lo_last_read_seq then c.lo_id else d.lo_last_read_id end,
      hi_last_read_seq = greatest(d.hi_last_read_seq, coalesce(c.hi_seq, 0)),
      hi_last_read_id = case when c.hi_seq > d.hi_last_read_seq then c.hi_id else d.hi_last_read_id end
    from (
      select lo, hi, max(seq) as seq, max(id) as id, max(sender_id) filter (where newest) as sender_id,
             max(content) filter (where newest) as content, max(created_at) as created_at,
             max(seq) filter (where sender_id = lo) as lo_seq, max(id) filter (where sender_id = lo) as lo_id,
             max(seq) filter (where sender_id = hi) as hi_seq, max(id) filter (where sender_id = hi) as hi_id
      from numbered group by lo, hi
    ) c
    where d.user_lo = c.lo and d.user_hi = c.hi
  )
  select v.ord::int as ord, n.id, n.seq, n.sender_name as "senderName", n.created_at as "createdAt",
         ${replyToJson(sql, sql`n.reply_to_id`)} as "replyTo",
         (n.id is null and f.ord is not null) as "needsDialog",
         -- Only for a send left out (rare), which block refused it: the sender's own comes first.
         case when f.ord is null then (
           select case when b.blocker_id = v.sender_id then 'sender' else 'receiver' end
           from blocks b
           where (b.blocker_id = v.sender_id and b.blocked_id = v.receiver_id)
              or (b.blocker_id = v.receiver_id and b.blocked_id = v.sender_id)
           order by b.blocker_id = v.sender_id desc
           limit 1
         ) end as "blockedBy",
         case when n.id is null then exists (select 1 from users r where r.id = v.receiver_id and r.deleted_at is null) end as admitted,
         case when n.id is null then v.reply_to_id is null or exists (
           select 1 from messages rt where rt.id = v.reply_to_id and rt.receiver_id is not null and rt.deleted_at is null
             and least(rt.sender_id, rt.receiver_id) = least(v.sender_id, v.receiver_id)
             and greatest(rt.sender_id, rt.receiver_id) = greatest(v.sender_id, v.receiver_id)) end as "replyOk"
  from v left join fresh f on f.ord = v.ord left join numbered n on n.ord = v.ord
  order by v.ord`;

export interface SendOptions {
  /** Write each stored message's push_outbox row in the same statement (PUSH_ENABLED). */
  outbox?: boolean;
  /** Called after a batch that stored messages committed (the push worker is kicked). */
  onStored?: () => void;
}

/** The send batchers: each batch one of the statements above, then each send's outcome. */
export function createSends(sql: Sql, { outbox = false, onStored }: SendOptions = {}) {
  const existingByClientId = async (senderId: number, clientMessageId: string): Promise<Existing | undefined> => {
    const [row] = await sql<Existing[]>`
      select m.id, m.seq, m.sender_id as "senderId", m.receiver_id as "receiverId", m.group_id as "groupId",
             m.content, m.created_at as "createdAt", s.first_name as "senderName", g.name as "groupName",
             ${replyToJson(sql)} as "replyTo", m.mentions
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
    row: BatchRow | undefined,
    sameTarget: (prior: Existing) => boolean,
    build: (id: number, seq: number, createdAt: Date, got: Pick<Existing, 'senderName' | 'groupName' | 'replyTo' | 'mentions'>) => M,
  ): Promise<SendOutcome<M>> => {
    if (row?.id != null && row.seq != null && row.createdAt) {
      return {
        kind: 'stored',
        message: build(row.id, row.seq, row.createdAt, {
          senderName: row.senderName ?? '', groupName: row.groupName ?? null, replyTo: row.replyTo, mentions: row.mentions ?? null,
        }),
      };
    }
    const prior = item.clientMessageId === null ? undefined : await existingByClientId(item.senderId, item.clientMessageId);
    if (!prior) return row?.admitted && row.replyOk === false ? { kind: 'reply-not-found' } : { kind: 'refused' };
    if (!sameTarget(prior) || prior.content !== item.content) return { kind: 'conflict' };
    return { kind: 'duplicate', message: build(prior.id, prior.seq, prior.createdAt, prior) };
  };

  /** The dialog rows of first messages, sorted so that concurrent batches take key locks in one order. */
  const createDialogs = (pairs: PrivateSend[]) => sql`
    insert into dialogs (user_lo, user_hi)
    select distinct least(s, r), greatest(s, r)
    from unnest(${sql.array(pairs.map((p) => p.senderId), INT4)}::int[], ${sql.array(pairs.map((p) => p.receiverId), INT4)}::int[]) as t(s, r)
    order by 1, 2
    on conflict do nothing`;

  const storeGroup = async (items: GroupSend[]) => {
    const rows = await retryRolledBack(() => groupSendStatement(sql, items, outbox));
    if (onStored && rows.some((r) => r.id !== null)) onStored();
    return Promise.all(items.map((item, i) => settle(item, rows[i], (prior) => prior.groupId === item.groupId,
      (id, seq, createdAt, got): StoredGroupMessage => ({
        id, seq, groupId: item.groupId, senderId: item.senderId, content: item.content, createdAt,
        groupName: got.groupName ?? '', senderName: got.senderName, replyTo: got.replyTo, mentions: got.mentions ?? [],
      }))));
  };

  const storePrivate = async (items: PrivateSend[]): Promise<PrivateSendOutcome[]> => {
    let rows: PrivateBatchRow[] = await retryRolledBack(() => privateSendStatement(sql, items, outbox));
    const first = items.filter((_, i) => rows[i]?.needsDialog);
    if (first.length > 0) {
      await createDialogs(first);
      const again = await retryRolledBack(() => privateSendStatement(sql, first, outbox));
      let k = 0;
      rows = rows.map((row) => (row.needsDialog ? again[k++]! : row));
    }
    if (onStored && rows.some((r) => r.id !== null)) onStored();
    return Promise.all(items.map(async (item, i): Promise<PrivateSendOutcome> => {
      const outcome = await settle(item, rows[i], (prior) => prior.receiverId === item.receiverId,
        (id, seq, createdAt, got): StoredPrivateMessage => ({
          id, seq, senderId: item.senderId, receiverId: item.receiverId, content: item.content, createdAt, senderName: got.senderName,
          replyTo: got.replyTo,
        }));
      // A resend of a message stored before the block is still answered with it (settle found it);
      // a block outranks a bad replyToId.
      const by = rows[i]?.blockedBy;
      return (outcome.kind === 'refused' || outcome.kind === 'reply-not-found') && by ? { kind: 'blocked', by } : outcome;
    }));
  };

  return {
    sendToGroup: createBatcher(storeGroup),
    sendPrivate: createBatcher(storePrivate),
  };
}

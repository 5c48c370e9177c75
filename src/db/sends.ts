import type { Sql } from './client.js';
import { retryRolledBack } from './retry.js';
import { createBatcher } from './batch.js';

// Element type oids for sql.array: explicit, so an all-null column still has a type.
const INT4 = 23;
const TEXT = 25;

/** `files`: ids of files the sender uploaded (checked before), in order, stored with the message. */
export interface GroupSend { senderId: number; groupId: number; content: string; clientMessageId: string | null; files?: readonly string[] }
export interface PrivateSend { senderId: number; receiverId: number; content: string; clientMessageId: string | null; files?: readonly string[] }

// A send's file ids as one text element (ids are base64url: no commas); null for none.
const filesOf = (items: readonly { files?: readonly string[] }[]) =>
  items.map((i) => (i.files && i.files.length > 0 ? i.files.join(',') : null));

export interface StoredGroupMessage {
  id: number; seq: number; groupId: number; senderId: number; content: string; createdAt: Date;
  groupName: string; senderName: string;
}
export interface StoredPrivateMessage {
  id: number; seq: number; senderId: number; receiverId: number; content: string; createdAt: Date; senderName: string;
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

interface Existing {
  id: number; seq: number; senderId: number; receiverId: number | null; groupId: number | null;
  content: string; createdAt: Date; senderName: string; groupName: string | null;
}

interface BatchRow {
  ord: number; id: number | null; seq: number | null; createdAt: Date | null;
  senderName: string | null; groupName?: string | null;
}

/**
 * Sends, group-committed: one statement per batch stores its messages, draws their seqs, moves
 * the conversation's pointer and the sender's read marker, all or nothing (so a crash leaves no
 * hole). The seq contract lives in the statement's order of work:
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
export function createSends(sql: Sql) {
  const existingByClientId = async (senderId: number, clientMessageId: string): Promise<Existing | undefined> => {
    const [row] = await sql<Existing[]>`
      select m.id, m.seq, m.sender_id as "senderId", m.receiver_id as "receiverId", m.group_id as "groupId",
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
    row: BatchRow | undefined,
    sameTarget: (prior: Existing) => boolean,
    build: (id: number, seq: number, createdAt: Date, names: { senderName: string; groupName: string | null }) => M,
  ): Promise<SendOutcome<M>> => {
    if (row?.id != null && row.seq != null && row.createdAt) {
      return { kind: 'stored', message: build(row.id, row.seq, row.createdAt, { senderName: row.senderName ?? '', groupName: row.groupName ?? null }) };
    }
    const prior = item.clientMessageId === null ? undefined : await existingByClientId(item.senderId, item.clientMessageId);
    if (!prior) return { kind: 'refused' };
    if (!sameTarget(prior) || prior.content !== item.content) return { kind: 'conflict' };
    return { kind: 'duplicate', message: build(prior.id, prior.seq, prior.createdAt, prior) };
  };

  /**
   * Membership is checked by the statement itself: a row not joined to a membership is not
   * written. A clientMessageId already stored, or repeated within the batch, is left out before
   * seqs are drawn (settle answers it as a duplicate or a conflict).
   */
  const writeGroupBatch = (items: GroupSend[]) => sql<BatchRow[]>`
    with v as (
      select * from unnest(
        ${sql.array(items.map((i) => i.senderId), INT4)}::int[],
        ${sql.array(items.map((i) => i.groupId), INT4)}::int[],
        ${sql.array(items.map((i) => i.content), TEXT)}::text[],
        ${sql.array(items.map((i) => i.clientMessageId), TEXT)}::text[],
        ${sql.array(filesOf(items), TEXT)}::text[]
      ) with ordinality as v(sender_id, group_id, content, client_message_id, files, ord)
    ), fresh as (
      select distinct on (v.sender_id, coalesce('c' || v.client_message_id, 'o' || v.ord)) v.*, u.first_name as sender_name
      from v
      join group_members gm on gm.group_id = v.group_id and gm.user_id = v.sender_id
      join users u on u.id = v.sender_id
      where v.client_message_id is null or not exists (
        select 1 from messages m where m.sender_id = v.sender_id and m.client_message_id = v.client_message_id)
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
      insert into messages (id, seq, sender_id, group_id, content, client_message_id, created_at)
      select id, seq, sender_id, group_id, content, client_message_id, created_at from numbered order by id
    ), att as (
      -- The message's files, in the order given (009_files.sql), in the statement that stores it.
      insert into message_attachments (message_id, position, file_id)
      select n.id, a.pos, a.file_id from numbered n
      cross join lateral unnest(string_to_array(n.files, ',')) with ordinality as a(file_id, pos)
      where n.files is not null
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
    ), newest as (
      select distinct on (group_id, sender_id) group_id, sender_id, id, seq
      from numbered order by group_id, sender_id, seq desc
    ), readers as materialized (
      -- Markers are locked sorted, after every group row (numbered needs them all), as markRead
      -- batches lock them: the two never wait on each other in a cycle.
      select gm.group_id, gm.user_id, c.id, c.seq from group_members gm
      join newest c on c.group_id = gm.group_id and c.sender_id = gm.user_id
      order by gm.group_id, gm.user_id
      for no key update of gm
    ), marker as (
      -- Sending moves the sender's marker to its newest message here (forward only).
      update group_members gm set last_read_id = r.id, last_read_seq = r.seq
      from readers r
      where gm.group_id = r.group_id and gm.user_id = r.user_id and gm.last_read_seq < r.seq
    )
    select v.ord::int as ord, n.id, n.seq, n.group_name as "groupName", n.sender_name as "senderName",
           n.created_at as "createdAt"
    from v left join numbered n on n.ord = v.ord
    order by v.ord`;

  /**
   * The receiver must be an active account. The dialog row is locked like a group's; a pair
   * without one yet (its first message) gets `needsDialog`, and is written again once
   * `createDialogs` has made the row.
   */
  const writePrivateBatch = (items: PrivateSend[]) => sql<(BatchRow & { needsDialog: boolean })[]>`
    with v as (
      select * from unnest(
        ${sql.array(items.map((i) => i.senderId), INT4)}::int[],
        ${sql.array(items.map((i) => i.receiverId), INT4)}::int[],
        ${sql.array(items.map((i) => i.content), TEXT)}::text[],
        ${sql.array(items.map((i) => i.clientMessageId), TEXT)}::text[],
        ${sql.array(filesOf(items), TEXT)}::text[]
      ) with ordinality as v(sender_id, receiver_id, content, client_message_id, files, ord)
    ), fresh as (
      select distinct on (v.sender_id, coalesce('c' || v.client_message_id, 'o' || v.ord)) v.*,
             least(v.sender_id, v.receiver_id) as lo, greatest(v.sender_id, v.receiver_id) as hi,
             s.first_name as sender_name
      from v
      join users r on r.id = v.receiver_id and r.deleted_at is null
      join users s on s.id = v.sender_id and s.deleted_at is null
      where v.client_message_id is null or not exists (
        select 1 from messages m where m.sender_id = v.sender_id and m.client_message_id = v.client_message_id)
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
      insert into messages (id, seq, sender_id, receiver_id, content, client_message_id, created_at)
      select id, seq, sender_id, receiver_id, content, client_message_id, created_at from numbered order by id
    ), att as (
      -- The message's files, in the order given (009_files.sql), in the statement that stores it.
      insert into message_attachments (message_id, position, file_id)
      select n.id, a.pos, a.file_id from numbered n
      cross join lateral unnest(string_to_array(n.files, ',')) with ordinality as a(file_id, pos)
      where n.files is not null
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
           (n.id is null and f.ord is not null) as "needsDialog"
    from v left join fresh f on f.ord = v.ord left join numbered n on n.ord = v.ord
    order by v.ord`;

  /** The dialog rows of first messages, sorted so that concurrent batches take key locks in one order. */
  const createDialogs = (pairs: PrivateSend[]) => sql`
    insert into dialogs (user_lo, user_hi)
    select distinct least(s, r), greatest(s, r)
    from unnest(${sql.array(pairs.map((p) => p.senderId), INT4)}::int[], ${sql.array(pairs.map((p) => p.receiverId), INT4)}::int[]) as t(s, r)
    order by 1, 2
    on conflict do nothing`;

  const storeGroup = async (items: GroupSend[]) => {
    const rows = await retryRolledBack(() => writeGroupBatch(items));
    return Promise.all(items.map((item, i) => settle(item, rows[i], (prior) => prior.groupId === item.groupId,
      (id, seq, createdAt, names): StoredGroupMessage => ({
        id, seq, groupId: item.groupId, senderId: item.senderId, content: item.content, createdAt,
        groupName: names.groupName ?? '', senderName: names.senderName,
      }))));
  };

  const storePrivate = async (items: PrivateSend[]): Promise<SendOutcome<StoredPrivateMessage>[]> => {
    let rows: (BatchRow & { needsDialog: boolean })[] = await retryRolledBack(() => writePrivateBatch(items));
    const first = items.filter((_, i) => rows[i]?.needsDialog);
    if (first.length > 0) {
      await createDialogs(first);
      const again = await retryRolledBack(() => writePrivateBatch(first));
      let k = 0;
      rows = rows.map((row) => (row.needsDialog ? again[k++]! : row));
    }
    return Promise.all(items.map((item, i) => settle(item, rows[i], (prior) => prior.receiverId === item.receiverId,
      (id, seq, createdAt, names): StoredPrivateMessage => ({
        id, seq, senderId: item.senderId, receiverId: item.receiverId, content: item.content, createdAt, senderName: names.senderName,
      }))));
  };

  return {
    sendToGroup: createBatcher(storeGroup),
    sendPrivate: createBatcher(storePrivate),
  };
}

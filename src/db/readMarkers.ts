import type { Sql } from './client.js';
import { createBatcher } from './batch.js';
import { retryRolledBack } from './retry.js';

// Element type oids for sql.array.
const INT4 = 23;
const INT8 = 20;

/** The caller's marker in one conversation after a markRead, and whether this request moved it. */
export interface ReadState {
  lastReadId: number | null;
  lastReadSeq: number;
  unreadCount: number;
  moved: boolean;
  readerName: string;
}

/** `not-member`: not in that group (FORBIDDEN); `not-found`: no such message there (NOT_FOUND). */
export type MarkOutcome = { ok: true; state: ReadState } | { ok: false; reason: 'not-member' | 'not-found' };

export interface GroupMark { userId: number; groupId: number; messageId: number }
export interface DialogMark { userId: number; peerId: number; messageId: number }

interface MarkRow {
  ord: number; member: boolean; found: boolean; moved: boolean; lastReadId: number | null; lastReadSeq: number | null;
  lastSeq: number | null; readerName: string | null;
}

function outcome(row: MarkRow | undefined): MarkOutcome {
  if (!row?.member) return { ok: false, reason: 'not-member' };
  if (!row.found) return { ok: false, reason: 'not-found' };
  const lastReadSeq = row.lastReadSeq ?? 0;
  return {
    ok: true,
    state: {
      lastReadId: row.lastReadId, lastReadSeq, unreadCount: Math.max(0, (row.lastSeq ?? 0) - lastReadSeq),
      moved: row.moved, readerName: row.readerName ?? '',
    },
  };
}

/*
 * markRead is group-committed like a send: a batch of marks is one statement and one commit.
 * Per (conversation, reader) the furthest message asked in the batch wins, and a marker only
 * moves forward (`< seq`, checked again on the row's latest version if another node moved it
 * meanwhile). The rows are locked first, sorted (`for no key update`), then updated: two batches on
 * two nodes take their locks in one order and never deadlock; a send batch locks a group's
 * markers only after its group row, in the same sorted order.
 */

/** Group marks: membership, the message in that group, and the marker, per item (exported for the query-plan checks). */
export const groupMarksStatement = (sql: Sql, items: GroupMark[]) => sql<MarkRow[]>`
  with v as (
    select * from unnest(
      ${sql.array(items.map((i) => i.userId), INT4)}::int[],
      ${sql.array(items.map((i) => i.groupId), INT4)}::int[],
      ${sql.array(items.map((i) => i.messageId), INT8)}::bigint[]
    ) with ordinality as v(user_id, group_id, message_id, ord)
  ), t as (
    select v.ord, v.user_id, v.group_id, gm.user_id is not null as member, gm.last_read_seq as old_seq, m.id, m.seq
    from v
    left join group_members gm on gm.group_id = v.group_id and gm.user_id = v.user_id
    left join messages m on m.id = v.message_id and m.group_id = v.group_id
  ), target as (
    select distinct on (group_id, user_id) group_id, user_id, id, seq
    from t where member and id is not null
    order by group_id, user_id, seq desc
  ), locked as materialized (
    select gm.group_id, gm.user_id from group_members gm
    join target x on x.group_id = gm.group_id and x.user_id = gm.user_id
    order by gm.group_id, gm.user_id
    for no key update of gm
  ), upd as (
    update group_members gm set last_read_id = x.id, last_read_seq = x.seq
    from target x join locked l on l.group_id = x.group_id and l.user_id = x.user_id
    where gm.group_id = x.group_id and gm.user_id = x.user_id and gm.last_read_seq < x.seq
    returning gm.group_id, gm.user_id, gm.last_read_id, gm.last_read_seq
  )
  select t.ord::int as ord, t.member, t.id is not null as found,
         (u.last_read_id is not null and u.last_read_id = t.id and coalesce(t.old_seq, 0) < t.seq) as moved,
         coalesce(u.last_read_id, gm.last_read_id) as "lastReadId", coalesce(u.last_read_seq, gm.last_read_seq) as "lastReadSeq",
         g.last_seq as "lastSeq", r.first_name as "readerName"
  from t
  left join upd u on u.group_id = t.group_id and u.user_id = t.user_id
  left join group_members gm on gm.group_id = t.group_id and gm.user_id = t.user_id
  left join groups g on g.id = t.group_id
  left join users r on r.id = t.user_id
  order by t.ord`;

/**
 * Dialog marks. A dialog's markers are columns of its one row (lo_* for user_lo, hi_* for
 * user_hi, both in a note to oneself), and a statement can update a row only once: the batch's
 * marks are folded per dialog first, each side its furthest message.
 */
export const dialogMarksStatement = (sql: Sql, items: DialogMark[]) => sql<MarkRow[]>`
  with v as (
    select *, least(user_id, peer_id) as lo, greatest(user_id, peer_id) as hi from unnest(
      ${sql.array(items.map((i) => i.userId), INT4)}::int[],
      ${sql.array(items.map((i) => i.peerId), INT4)}::int[],
      ${sql.array(items.map((i) => i.messageId), INT8)}::bigint[]
    ) with ordinality as v(user_id, peer_id, message_id, ord)
  ), t as (
    select v.ord, v.user_id, v.lo, v.hi, m.id, m.seq, d.user_lo is not null as dialog,
           case when v.user_id = v.lo then d.lo_last_read_seq else d.hi_last_read_seq end as old_seq
    from v
    left join messages m on m.id = v.message_id and m.receiver_id is not null
      and least(m.sender_id, m.receiver_id) = v.lo and greatest(m.sender_id, m.receiver_id) = v.hi
    left join dialogs d on d.user_lo = v.lo and d.user_hi = v.hi
  ), target as (
    select lo, hi,
           max(seq) filter (where user_id = lo) as lo_seq, max(id) filter (where user_id = lo) as lo_id,
           max(seq) filter (where user_id = hi) as hi_seq, max(id) filter (where user_id = hi) as hi_id
    from t where id is not null and dialog group by lo, hi
  ), locked as materialized (
    select d.user_lo, d.user_hi from dialogs d
    join target x on x.lo = d.user_lo and x.hi = d.user_hi
    order by d.user_lo, d.user_hi
    for no key update of d
  ), upd as (
    update dialogs d set
      lo_last_read_id = case when x.lo_seq > d.lo_last_read_seq then x.lo_id else d.lo_last_read_id end,
      lo_last_read_seq = greatest(d.lo_last_read_seq, coalesce(x.lo_seq, 0)),
      hi_last_read_id = case when x.hi_seq > d.hi_last_read_seq then x.hi_id else d.hi_last_read_id end,
      hi_last_read_seq = greatest(d.hi_last_read_seq, coalesce(x.hi_seq, 0))
    from target x join locked l on l.user_lo = x.lo and l.user_hi = x.hi
    where d.user_lo = x.lo and d.user_hi = x.hi
      and (x.lo_seq > d.lo_last_read_seq or x.hi_seq > d.hi_last_read_seq)
    returning d.user_lo, d.user_hi, d.last_seq, d.lo_last_read_id, d.lo_last_read_seq, d.hi_last_read_id, d.hi_last_read_seq
  ), now_ as (
    select t.ord, t.user_id, t.id, t.seq, t.old_seq, t.dialog,
           coalesce(u.last_seq, d.last_seq) as last_seq,
           case when t.user_id = t.lo then coalesce(u.lo_last_read_id, d.lo_last_read_id)
                else coalesce(u.hi_last_read_id, d.hi_last_read_id) end as read_id,
           case when t.user_id = t.lo then coalesce(u.lo_last_read_seq, d.lo_last_read_seq)
                else coalesce(u.hi_last_read_seq, d.hi_last_read_seq) end as read_seq,
           u.user_lo is not null as updated
    from t
    left join upd u on u.user_lo = t.lo and u.user_hi = t.hi
    left join dialogs d on d.user_lo = t.lo and d.user_hi = t.hi
  )
  select n.ord::int as ord, true as member, n.id is not null and n.dialog as found,
         (n.updated and n.read_id = n.id and coalesce(n.old_seq, 0) < n.seq) as moved,
         n.read_id as "lastReadId", n.read_seq as "lastReadSeq", n.last_seq as "lastSeq", r.first_name as "readerName"
  from now_ n left join users r on r.id = n.user_id
  order by n.ord`;

export function createReadMarkers(sql: Sql) {
  const markGroups = createBatcher(async (items: GroupMark[]) => (await retryRolledBack(() => groupMarksStatement(sql, items))).map(outcome));
  const markDialogs = createBatcher(async (items: DialogMark[]) => (await retryRolledBack(() => dialogMarksStatement(sql, items))).map(outcome));
  return {
    markGroupRead: (userId: number, groupId: number, messageId: number): Promise<MarkOutcome> =>
      markGroups({ userId, groupId, messageId }),
    markDialogRead: (userId: number, peerId: number, messageId: number): Promise<MarkOutcome> =>
      markDialogs({ userId, peerId, messageId }),
  };
}

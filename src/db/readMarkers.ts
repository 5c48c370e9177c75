import type { Sql } from './client.js';

/** The caller's marker in one conversation after a markRead, and whether it moved. */
export interface ReadState {
  lastReadId: number | null;
  lastReadSeq: number;
  unreadCount: number;
  moved: boolean;
  readerName: string;
}

/** `member: false`: not in that group (FORBIDDEN); `found: false`: no such message there (NOT_FOUND). */
export type MarkOutcome = { ok: true; state: ReadState } | { ok: false; reason: 'not-member' | 'not-found' };

interface MarkRow {
  member: boolean; found: boolean; moved: boolean; lastReadId: number | null; lastReadSeq: number | null;
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

/** The group markRead statement (exported for the query-plan checks). */
export const markGroupReadStatement = (sql: Sql, me: number, groupId: number, messageId: number) => sql<MarkRow[]>`
  with gm as (
    select gm.last_read_id, gm.last_read_seq from group_members gm where gm.group_id = ${groupId} and gm.user_id = ${me}
  ), t as (
    select m.id, m.seq from messages m where m.id = ${messageId} and m.group_id = ${groupId}
  ), upd as (
    update group_members gm set last_read_id = t.id, last_read_seq = t.seq
    from t
    where gm.group_id = ${groupId} and gm.user_id = ${me} and gm.last_read_seq < t.seq
    returning gm.last_read_id, gm.last_read_seq
  )
  select exists (select 1 from gm) as member, exists (select 1 from t) as found, exists (select 1 from upd) as moved,
         coalesce((select last_read_id from upd), (select last_read_id from gm)) as "lastReadId",
         coalesce((select last_read_seq from upd), (select last_read_seq from gm)) as "lastReadSeq",
         (select last_seq from groups where id = ${groupId}) as "lastSeq",
         (select first_name from users where id = ${me}) as "readerName"`;

/** A dialog's markers are columns of its row: the caller's side is lo_* or hi_* (both in a note to oneself). */
export function markDialogReadStatement(sql: Sql, me: number, peer: number, messageId: number) {
  const lo = Math.min(me, peer);
  const hi = Math.max(me, peer);
  return sql<MarkRow[]>`
  with t as (
    select m.id, m.seq from messages m
    where m.id = ${messageId} and m.receiver_id is not null
      and least(m.sender_id, m.receiver_id) = ${lo}::int and greatest(m.sender_id, m.receiver_id) = ${hi}::int
  ), d as (
    select d.last_seq, case when d.user_lo = ${me}::int then d.lo_last_read_id else d.hi_last_read_id end as read_id,
           case when d.user_lo = ${me}::int then d.lo_last_read_seq else d.hi_last_read_seq end as read_seq
    from dialogs d where d.user_lo = ${lo}::int and d.user_hi = ${hi}::int
  ), upd as (
    update dialogs d set
      lo_last_read_id = case when d.user_lo = ${me}::int and d.lo_last_read_seq < t.seq then t.id else d.lo_last_read_id end,
      lo_last_read_seq = case when d.user_lo = ${me}::int then greatest(d.lo_last_read_seq, t.seq) else d.lo_last_read_seq end,
      hi_last_read_id = case when d.user_hi = ${me}::int and d.hi_last_read_seq < t.seq then t.id else d.hi_last_read_id end,
      hi_last_read_seq = case when d.user_hi = ${me}::int then greatest(d.hi_last_read_seq, t.seq) else d.hi_last_read_seq end
    from t
    where d.user_lo = ${lo}::int and d.user_hi = ${hi}::int
      and case when d.user_lo = ${me}::int then d.lo_last_read_seq else d.hi_last_read_seq end < t.seq
    returning d.last_seq,
      case when d.user_lo = ${me}::int then d.lo_last_read_id else d.hi_last_read_id end as read_id,
      case when d.user_lo = ${me}::int then d.lo_last_read_seq else d.hi_last_read_seq end as read_seq
  )
  select true as member, exists (select 1 from t) and exists (select 1 from d) as found,
         exists (select 1 from upd) as moved,
         coalesce((select read_id from upd), (select read_id from d)) as "lastReadId",
         coalesce((select read_seq from upd), (select read_seq from d)) as "lastReadSeq",
         coalesce((select last_seq from upd), (select last_seq from d)) as "lastSeq",
         (select first_name from users where id = ${me}) as "readerName"`;
}

/**
 * markRead: one statement that checks membership, finds the message in that conversation and
 * moves the caller's marker forward only (`where ... < seq`: an older message changes nothing).
 * The answer is the marker after the statement, and unreadCount from the conversation's last_seq.
 */
export function createReadMarkers(sql: Sql) {
  return {
    async markGroupRead(me: number, groupId: number, messageId: number): Promise<MarkOutcome> {
      const [row] = await markGroupReadStatement(sql, me, groupId, messageId);
      return outcome(row);
    },

    async markDialogRead(me: number, peer: number, messageId: number): Promise<MarkOutcome> {
      const [row] = await markDialogReadStatement(sql, me, peer, messageId);
      return outcome(row);
    },
  };
}

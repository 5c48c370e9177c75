import type { Sql } from './client.js';
import { target } from './edits.js';
import { dialogMessages, groupMessageColumns } from './historyReads.js';
import { isoText, urlSigning, type UrlSigning } from './messageRows.js';
import type { FileSigner } from '../files/signing.js';
import { JsonText } from '../protocol.js';
import type { DialogHistoryRow, GroupHistoryRow } from './historyReads.js';

/** At most this many pinned messages per conversation (PROTOCOL.md v1.2 "Pins"). */
export const MAX_PINNED = 50;

export interface PinResult {
  messageId: number; seq: number; senderId: number; receiverId: number | null; groupId: number | null;
  pinnedAt: Date | null; pinnedBy: number | null; actorName: string;
}

/**
 * `changed`: pinned / unpinned now (push it); `unchanged`: it already was: answer, push nothing;
 * `forbidden`: a group member who is neither owner nor admin; `full`: a 51st pin (CONFLICT);
 * `not-found`: unknown, deleted, or outside the caller's conversations.
 */
export type PinOutcome =
  | { kind: 'changed' | 'unchanged'; result: PinResult }
  | { kind: 'forbidden' }
  | { kind: 'full' }
  | { kind: 'not-found' };

interface PinRow extends PinResult { visible: boolean; allowed: boolean; changed: boolean; full: boolean }

/** Who may pin: either side of a dialog; in a group its owner and admins. */
const mayPin = (sql: Sql) => sql`(t.group_id is null or t.role in ('owner', 'admin'))`;

/**
 * Pin, after pinLockStatement in the same transaction: the count of the conversation's pins (its
 * partial index) is read with a snapshot taken after the lock, so two pins racing for the 50th
 * place cannot both get it.
 */
export const pinStatement = (sql: Sql, me: number, messageId: number) => sql<PinRow[]>`
  with t as (${target(sql, me, messageId)}), pins as (
    -- Two counts, each the shape of one partial index (an OR of both would read neither).
    select (select count(*) from messages m join t on m.group_id = t.group_id where m.pinned_at is not null)
         + (select count(*) from messages m join t on t.receiver_id is not null
              and least(m.sender_id, m.receiver_id) = least(t.sender_id, t.receiver_id)
              and greatest(m.sender_id, m.receiver_id) = greatest(t.sender_id, t.receiver_id)
            where m.pinned_at is not null and m.receiver_id is not null) as n
  ), upd as (
    update messages m set pinned_at = now(), pinned_by = ${me}
    from t, pins
    where m.id = t.id and m.deleted_at is null and m.pinned_at is null and ${mayPin(sql)} and pins.n < ${MAX_PINNED}
    returning m.pinned_at, m.pinned_by
  )
  select t.deleted_at is null as visible, ${mayPin(sql)} as allowed, upd.pinned_at is not null as changed,
         t.pinned_at is null and pins.n >= ${MAX_PINNED} as full,
         t.id as "messageId", t.seq, t.sender_id as "senderId", t.receiver_id as "receiverId", t.group_id as "groupId",
         coalesce(upd.pinned_at, t.pinned_at) as "pinnedAt", coalesce(upd.pinned_by, t.pinned_by) as "pinnedBy",
         (select first_name from users where id = ${me}) as "actorName"
  from t cross join pins left join upd on true`;

/** Locks the conversation row of a message the caller can see (groups / dialogs primary key) for pinStatement. */
export const pinLockStatement = (sql: Sql, me: number, messageId: number) => sql`
  with t as (${target(sql, me, messageId)}), g as (
    select g.id from groups g join t on g.id = t.group_id for no key update of g
  ), d as (
    select d.user_lo from dialogs d join t on t.receiver_id is not null
      and d.user_lo = least(t.sender_id, t.receiver_id) and d.user_hi = greatest(t.sender_id, t.receiver_id)
    for no key update of d
  )
  select (select count(*) from g) + (select count(*) from d) as locked`;

export const unpinStatement = (sql: Sql, me: number, messageId: number) => sql<PinRow[]>`
  with t as (${target(sql, me, messageId)}), upd as (
    update messages m set pinned_at = null, pinned_by = null
    from t
    where m.id = t.id and m.pinned_at is not null and ${mayPin(sql)}
    returning m.id
  )
  select t.deleted_at is null as visible, ${mayPin(sql)} as allowed, upd.id is not null as changed, false as full,
         t.id as "messageId", t.seq, t.sender_id as "senderId", t.receiver_id as "receiverId", t.group_id as "groupId",
         null::timestamptz as "pinnedAt", null::int as "pinnedBy", (select first_name from users where id = ${me}) as "actorName"
  from t left join upd on true`;

/** A group's pinned messages as its history rows plus pinnedAt/pinnedBy, most recently pinned first; null: not a member. */
export const groupPinnedStatement = (sql: Sql, me: number, groupId: number, k: UrlSigning) => sql<{ data: string | null }[]>`
  select case when exists (select 1 from group_members gm where gm.group_id = ${groupId} and gm.user_id = ${me})
    then coalesce((
      select '[' || string_agg(row_to_json(h)::text, ',' order by h."pinnedAt" desc, h.id desc) || ']'
      from (
        select ${groupMessageColumns(sql, sql`${me}::int`, k)},
               ${isoText(sql, sql`m.pinned_at`)} as "pinnedAt", m.pinned_by as "pinnedBy"
        from messages m
        where m.group_id = ${groupId} and m.pinned_at is not null
      ) h
    ), '[]') end as data`;

/** A dialog's pinned messages, as groupPinnedStatement. */
export const dialogPinnedStatement = (sql: Sql, me: number, peer: number, k: UrlSigning) => sql<{ data: string }[]>`
  select coalesce((
    select '[' || string_agg(row_to_json(h)::text, ',' order by h."pinnedAt" desc, h.id desc) || ']'
    from (
      ${dialogMessages(sql, sql`${me}::int`, k, sql`, ${isoText(sql, sql`m.pinned_at`)} as "pinnedAt", m.pinned_by as "pinnedBy"`)}
        and m.pinned_at is not null
      where d.user_lo = ${Math.min(me, peer)}::int and d.user_hi = ${Math.max(me, peer)}::int
    ) h
  ), '[]') as data`;

function outcome(row: PinRow | undefined): PinOutcome {
  if (!row?.visible) return { kind: 'not-found' };
  if (!row.allowed) return { kind: 'forbidden' };
  const { visible: _v, allowed: _a, changed, full, ...result } = row;
  if (!changed && full) return { kind: 'full' };
  return { kind: changed ? 'changed' : 'unchanged', result };
}

type Pinned<R> = R & { pinnedAt: string; pinnedBy: number | null };

export function createPins(sql: Sql, signer: FileSigner) {
  return {
    async pinMessage(me: number, messageId: number): Promise<PinOutcome> {
      const [row] = await sql.begin(async (tx) => {
        await pinLockStatement(tx as unknown as Sql, me, messageId);
        return pinStatement(tx as unknown as Sql, me, messageId);
      });
      return outcome(row);
    },
    async unpinMessage(me: number, messageId: number): Promise<PinOutcome> {
      const [row] = await unpinStatement(sql, me, messageId);
      return outcome(row);
    },
    async groupPinned(me: number, groupId: number): Promise<JsonText<Pinned<GroupHistoryRow>[]> | null> {
      const [row] = await groupPinnedStatement(sql, me, groupId, urlSigning(signer));
      return row?.data == null ? null : new JsonText(row.data);
    },
    async dialogPinned(me: number, peer: number): Promise<JsonText<Pinned<DialogHistoryRow>[]>> {
      const [row] = await dialogPinnedStatement(sql, me, peer, urlSigning(signer));
      return new JsonText(row?.data ?? '[]');
    },
  };
}

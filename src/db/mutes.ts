import type { Sql } from './client.js';

/** A conversation as conversation_mutes keys it: (groupId, 0) or (0, peerId). */
export interface MuteTarget { receiverId: number | null; groupId: number | null }

/**
 * `ok` with the caller's name (the push's senderName); `not-member`: a group the caller is not in;
 * `no-peer`: no such active account.
 */
export type MuteOutcome = { kind: 'ok'; name: string } | { kind: 'not-member' } | { kind: 'no-peer' };

interface Row { name: string | null; allowed: boolean }

/**
 * conversation_mutes (010_push.sql). One statement per change: the check that the conversation is
 * the caller's and the write, so a mute never lands on a group the caller just left.
 */
export function createMutes(sql: Sql) {
  const outcome = (row: Row | undefined, target: MuteTarget): MuteOutcome => {
    if (row?.allowed && row.name !== null) return { kind: 'ok', name: row.name };
    return target.groupId !== null ? { kind: 'not-member' } : { kind: 'no-peer' };
  };

  const allowed = (userId: number, t: MuteTarget) => t.groupId !== null
    ? sql`exists (select 1 from group_members where group_id = ${t.groupId} and user_id = ${userId})`
    : sql`exists (select 1 from users where id = ${t.receiverId} and deleted_at is null)`;

  return {
    /** Mutes until `until` (null: until unmuted); muting again replaces the time. */
    async mute(userId: number, t: MuteTarget, until: Date | null): Promise<MuteOutcome> {
      const [row] = await sql<Row[]>`
        with ok as (select ${allowed(userId, t)} as allowed), ins as (
          insert into conversation_mutes (user_id, group_id, peer_id, muted_until)
          select ${userId}, ${t.groupId ?? 0}, ${t.receiverId ?? 0}, ${until} from ok where ok.allowed
          on conflict (user_id, group_id, peer_id) do update set muted_until = excluded.muted_until
        )
        select (select first_name from users where id = ${userId}) as name, ok.allowed from ok`;
      return outcome(row, t);
    },

    async unmute(userId: number, t: MuteTarget): Promise<MuteOutcome> {
      const [row] = await sql<Row[]>`
        with ok as (select ${allowed(userId, t)} as allowed), del as (
          delete from conversation_mutes
          where user_id = ${userId} and group_id = ${t.groupId ?? 0} and peer_id = ${t.receiverId ?? 0}
            and (select allowed from ok)
        )
        select (select first_name from users where id = ${userId}) as name, ok.allowed from ok`;
      return outcome(row, t);
    },
  };
}

export type Mutes = ReturnType<typeof createMutes>;

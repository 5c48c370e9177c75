import type { Sql } from './client.js';

// Element type oids for sql.array: explicit, so an empty array still has a type.
const INT4 = 23;
const INT8 = 20;

export interface Seen { id: number; lastSeenAt: Date | null }
/** A user whose presence changed: its name, whether the account is deleted, and its dialog partners. */
export interface Partners { userId: number; name: string; deleted: boolean; partnerIds: number[] }

/**
 * The presence access paths (users.last_seen_at, dialogs, group_members), kept apart from the
 * per-table modules because they serve one feature: who may see whom, and who is told.
 */
export function createPresenceStore(sql: Sql) {
  return {
    /**
     * Of `ids`, the active accounts `me` may see (itself, a dialog partner, or someone in a group
     * with `me`), with when they were last seen.
     */
    visible(me: number, ids: number[]): Promise<Seen[]> {
      return sql<Seen[]>`
        select u.id, u.last_seen_at as "lastSeenAt"
        from users u
        where u.id = any(${sql.array(ids, INT4)}::int[]) and u.deleted_at is null
        -- v1.2: across a block, either way, nobody is shown.
        and not exists (select 1 from blocks b where b.blocker_id = ${me} and b.blocked_id = u.id)
        and not exists (select 1 from blocks b where b.blocker_id = u.id and b.blocked_id = ${me})
        and (
          u.id = ${me}
          or exists (select 1 from dialogs d where d.user_lo = least(u.id, ${me}::int) and d.user_hi = greatest(u.id, ${me}::int))
          or exists (
            select 1 from group_members mine join group_members theirs on theirs.group_id = mine.group_id and theirs.user_id = u.id
            where mine.user_id = ${me}
          )
        )`;
    },

    /** When each account's last socket closed (ms since epoch), one statement for many. */
    async setLastSeen(items: { userId: number; at: number }[]): Promise<void> {
      if (items.length === 0) return;
      await sql`
        update users u set last_seen_at = to_timestamp(v.at / 1000.0)
        from unnest(${sql.array(items.map((i) => i.userId), INT4)}::int[], ${sql.array(items.map((i) => i.at), INT8)}::bigint[]) as v(id, at)
        where u.id = v.id and u.deleted_at is null`;
    },

    /**
     * Dialog partners of each of `ids` (who gets their `presence` pushes, each on its own topic:
     * so a block is honoured by leaving the pair out here, at no cost to the frame, encoded once), with the user's name:
     * one row per user (a mass connect or disconnect asks for thousands at once; a row per
     * partner cost the server a row to decode each). A deleted account's partners are told too:
     * it goes offline for good.
     */
    partners(ids: number[]): Promise<Partners[]> {
      if (ids.length === 0) return Promise.resolve([]);
      // Driven by the users' primary key, then both dialog indexes per user. A partner is found
      // through one index only (user_lo <= user_hi, a dialog with oneself left out), so `union all`
      // needs no deduplication.
      return sql<Partners[]>`
        select u.id as "userId", u.first_name as name, u.deleted_at is not null as deleted,
               array(
                 select p.id from (
                   select user_hi as id from dialogs where user_lo = u.id and user_hi <> u.id
                   union all
                   select user_lo from dialogs where user_hi = u.id and user_lo <> u.id
                 ) p
                 -- v1.2: a partner across a block, either way, is not told (nor is it in the list).
                 where not exists (select 1 from blocks b where b.blocker_id = u.id and b.blocked_id = p.id)
                   and not exists (select 1 from blocks b where b.blocker_id = p.id and b.blocked_id = u.id)
               ) as "partnerIds"
        from users u
        where u.id = any(${sql.array(ids, INT4)}::int[])`;
    },
  };
}

export type PresenceStore = ReturnType<typeof createPresenceStore>;

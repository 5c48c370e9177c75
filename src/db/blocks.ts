import type { Sql } from './client.js';

/** A row of getBlockedUsers. */
export interface BlockedUser { userId: number; firstName: string; lastName: string | null; blockedAt: Date }

/**
 * `changed`: the block was made (or lifted) now: push it to the blocker's other connections;
 * `unchanged`: it already was so (nothing to push); `not-found`: no such active account.
 */
export type BlockOutcome = { kind: 'changed'; actorName: string } | { kind: 'unchanged' } | { kind: 'not-found' };

/**
 * The `blocks` table (008_search_blocking.sql): who blocks whom. Its effects are read where they
 * apply, in the statements that already run there (the private send, typing, presence, the chat
 * list), by the primary key in each direction: no extra round trip on those paths.
 */
export function createBlocks(sql: Sql) {
  return {
    /** Blocks an active account (a deleted one is not found); blocking again changes nothing. */
    async block(me: number, target: number): Promise<BlockOutcome> {
      const [row] = await sql<{ found: boolean; changed: boolean; actorName: string }[]>`
        with t as (select id from users where id = ${target} and deleted_at is null), ins as (
          insert into blocks (blocker_id, blocked_id) select ${me}, id from t
          on conflict do nothing
          returning 1
        )
        select exists (select 1 from t) as found, exists (select 1 from ins) as changed,
               (select first_name from users where id = ${me}) as "actorName"`;
      if (!row?.found) return { kind: 'not-found' };
      return row.changed ? { kind: 'changed', actorName: row.actorName } : { kind: 'unchanged' };
    },

    /**
     * Lifts a block, also of an account deleted since (it is still in the blocker's list). An id
     * that is neither blocked nor an active account is not found.
     */
    async unblock(me: number, target: number): Promise<BlockOutcome> {
      const [row] = await sql<{ found: boolean; changed: boolean; actorName: string }[]>`
        with del as (delete from blocks where blocker_id = ${me} and blocked_id = ${target} returning 1)
        select exists (select 1 from del) as changed,
               exists (select 1 from users where id = ${target} and deleted_at is null) as found,
               (select first_name from users where id = ${me}) as "actorName"`;
      if (row?.changed) return { kind: 'changed', actorName: row.actorName };
      return row?.found ? { kind: 'unchanged' } : { kind: 'not-found' };
    },

    /** Most recently blocked first (blocks_recent_idx), with the accounts' current names. */
    list(me: number, limit: number, offset: number): Promise<BlockedUser[]> {
      return sql<BlockedUser[]>`
        select b.blocked_id as "userId", u.first_name as "firstName", u.last_name as "lastName", b.created_at as "blockedAt"
        from blocks b join users u on u.id = b.blocked_id
        where b.blocker_id = ${me}
        order by b.created_at desc, b.blocked_id desc
        limit ${limit} offset ${offset}`;
    },
  };
}

export type Blocks = ReturnType<typeof createBlocks>;

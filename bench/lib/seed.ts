/**
 * Seeding bench data straight through SQL: sign-up over HTTP hashes passwords with argon2 on
 * purpose, far too slow for 10,000 accounts. Each seeder writes one `INSERT ... SELECT
 * generate_series` with explicit ids after the current maximum (so it also works on a
 * database that already has rows) and moves the identity sequence past them.
 */
import type postgres from 'postgres';
import { sqlEmail, sqlFirstName } from './identity.js';

/** Ids first .. first + count - 1. */
export interface IdRange {
  readonly first: number;
  readonly count: number;
}

/** Groups on a ring of users: member i of group g is user (g * size + i) mod users. */
export interface GroupLayout {
  readonly users: IdRange;
  readonly groups: IdRange;
  readonly size: number;
}

export function groupId(layout: GroupLayout, groupIndex: number): number {
  return layout.groups.first + groupIndex;
}

export function groupMember(layout: GroupLayout, groupIndex: number, memberIndex: number): number {
  return layout.users.first + ((groupIndex * layout.size + memberIndex) % layout.users.count);
}

async function nextId(sql: postgres.Sql, table: 'users' | 'groups' | 'messages'): Promise<number> {
  const [row] = await sql<{ next: string }[]>`select coalesce(max(id), 0) + 1 as next from ${sql(table)}`;
  return Number(row?.next ?? 1);
}

async function moveSequence(sql: postgres.Sql, table: 'users' | 'groups' | 'messages', lastId: number): Promise<void> {
  await sql`select setval(pg_get_serial_sequence(${table}, 'id'), ${lastId})`;
}

/**
 * Referential checks are triggers; as a superuser the seed switches them off for its own
 * session (the rows are consistent by construction), which halves the time of 1M messages.
 */
async function skipTriggers(sql: postgres.ReservedSql): Promise<void> {
  try {
    await sql`set session_replication_role = replica`;
  } catch {
    // Not a superuser (a --url database): keep the checks, only slower.
  }
}

export async function seedUsers(sql: postgres.Sql, count: number): Promise<IdRange> {
  const first = await nextId(sql, 'users');
  const last = first + count - 1;
  await sql.unsafe(
    `insert into users (id, email, first_name) select i, ${sqlEmail('i')}, ${sqlFirstName('i')} from generate_series($1::int, $2::int) i`,
    [first, last],
  );
  await moveSequence(sql, 'users', last);
  return { first, count };
}

export async function seedGroups(sql: postgres.Sql, users: IdRange, groups: number, size: number): Promise<GroupLayout> {
  if (size > users.count) throw new Error(`a group of ${size} needs at least as many users (have ${users.count})`);
  const first = await nextId(sql, 'groups');
  const layout: GroupLayout = { users, groups: { first, count: groups }, size };
  const ringMember = (g: string, i: string): string => `${users.first} + ((${g} * ${size} + ${i}) % ${users.count})`;
  await sql.unsafe(
    `insert into groups (id, name, created_by) select $1::int + g, 'g' || ($1::int + g), ${ringMember('g', '0')} from generate_series(0, $2::int - 1) g`,
    [first, groups],
  );
  await sql.unsafe(
    `insert into group_members (group_id, user_id) select $1::int + g, ${ringMember('g', 'i')} from generate_series(0, $2::int - 1) g, generate_series(0, $3::int - 1) i`,
    [first, groups, size],
  );
  await moveSequence(sql, 'groups', first + groups - 1);
  return layout;
}

/** Dialogs on the same ring: user u talks with u ± 1 .. u ± reach, so `2 * reach` partners each. */
export interface DialogLayout {
  readonly users: IdRange;
  readonly reach: number;
}

export async function seedDialogs(sql: postgres.Sql, users: IdRange, reach: number): Promise<DialogLayout> {
  await sql.unsafe(
    `insert into dialogs (user_lo, user_hi)
       select least(a, b), greatest(a, b) from (
         select $1::int + u as a, $1::int + ((u + d) % $2::int) as b
         from generate_series(0, $2::int - 1) u, generate_series(1, $3::int) d
       ) pairs where a <> b
     on conflict do nothing`,
    [users.first, users.count, reach],
  );
  return { users, reach };
}

/**
 * Dialogs giving every user exactly `partners` dialog partners (presence pushes go to them):
 * u ± 1 .. u ± floor(partners / 2) on the ring, and for an odd count also the user opposite on
 * the ring (u + count / 2; an even user count is needed for that, else one user gets one more).
 */
export async function seedPartners(sql: postgres.Sql, users: IdRange, partners: number): Promise<void> {
  const reach = Math.floor(partners / 2);
  if (reach > 0) await seedDialogs(sql, users, reach);
  if (partners % 2 === 1 && users.count >= 2) {
    await sql.unsafe(
      `insert into dialogs (user_lo, user_hi)
         select $1::int + u, $1::int + u + $2::int / 2 from generate_series(0, $2::int / 2 - 1) u
       on conflict do nothing`,
      [users.first, users.count],
    );
  }
}

/**
 * `count` messages, alternating between a group message (round-robin over groups and their
 * members) and a private one (round-robin over dialogs, each direction in turn), with
 * creation times one second apart so that id order and time order agree.
 *
 * Each message's seq follows from the layout (the j-th message of a conversation has seq j + 1,
 * ids ascending), as the server would have drawn it on the scenario's fresh database; then each
 * conversation row gets its last_seq and last_message_id (and, from sql/006, its copy of that
 * message). Read markers stay at nothing read.
 */
export async function seedMessages(sql: postgres.Sql, groups: GroupLayout, dialogs: DialogLayout, count: number): Promise<IdRange> {
  const first = await nextId(sql, 'messages');
  const U = groups.users.count;
  const G = groups.groups.count;
  const dialogCount = dialogs.users.count * dialogs.reach;
  const uFirst = groups.users.first;
  const session = await sql.reserve();
  try {
    await skipTriggers(session);
      await session.unsafe(
        `insert into messages (id, seq, sender_id, receiver_id, group_id, content, created_at, updated_at)
         select $1::bigint + n,
           case when n % 2 = 0 then k / ${G} else k / ${dialogCount} end + 1,
           case when n % 2 = 0 then ${uFirst} + (((k % ${G}) * ${groups.size} + (k / ${G}) % ${groups.size}) % ${U})
                when (k / ${dialogCount}) % 2 = 0 then ${uFirst} + (k % ${dialogCount}) % ${U}
                else ${uFirst} + ((k % ${dialogCount}) % ${U} + (k % ${dialogCount}) / ${U} + 1) % ${U} end,
           case when n % 2 = 0 then null
                when (k / ${dialogCount}) % 2 = 0 then ${uFirst} + ((k % ${dialogCount}) % ${U} + (k % ${dialogCount}) / ${U} + 1) % ${U}
                else ${uFirst} + (k % ${dialogCount}) % ${U} end,
           case when n % 2 = 0 then ${groups.groups.first} + k % ${G} else null end,
           'seeded message ' || n || ': the quick brown fox jumps over the lazy dog',
           now() - make_interval(secs => $2::int - n),
           now() - make_interval(secs => $2::int - n)
         from (select n, n / 2 as k from generate_series(0, $2::int - 1) n) s`,
        [first, count],
      );
    // The copy of the newest message (sql/006) the chat list reads, as the send statement writes
    // it; left out on a schema without it (a server built before 006, run with --entry).
    const [schema] = await session<{ copy: boolean }[]>`
      select exists (select 1 from information_schema.columns
                     where table_schema = current_schema() and table_name = 'groups' and column_name = 'last_content') as copy`;
    const copy = schema?.copy === true
      ? `, last_sender_id = m.sender_id, last_content = m.content, last_created_at = m.created_at,
         last_updated_at = m.updated_at, last_deleted_at = m.deleted_at`
      : '';
    await session.unsafe(
      `update groups g set last_seq = c.seq, last_message_id = c.id ${copy}
       from (select group_id, max(seq) as seq, max(id) as id from messages where group_id is not null group by group_id) c
       join messages m on m.id = c.id
       where g.id = c.group_id`,
    );
    await session.unsafe(
      `update dialogs d set last_seq = c.seq, last_message_id = c.id ${copy}
       from (select least(sender_id, receiver_id) as lo, greatest(sender_id, receiver_id) as hi, max(seq) as seq, max(id) as id
             from messages where receiver_id is not null group by 1, 2) c
       join messages m on m.id = c.id
       where d.user_lo = c.lo and d.user_hi = c.hi`,
    );
  } finally {
    session.release();
  }
  await moveSequence(sql, 'messages', first + count - 1);
  return { first, count };
}

/**
 * v1.2 reactions (sql/007) on every `every`-th message: two emoji, held by the sender and one or two
 * others, with their read forms, as addReaction stores them. Needs a v1.2 schema (not on a server built before 007).
 */
export async function seedReactions(sql: postgres.Sql, every: number): Promise<number> {
  const [schema] = await sql<{ has: boolean }[]>`
    select exists (select 1 from information_schema.columns
                   where table_schema = current_schema() and table_name = 'messages' and column_name = 'reactions') as has`;
  if (schema?.has !== true) throw new Error('--mix v12 needs a server with sql/007 (messages.reactions)');
  const result = await sql.unsafe(
    `update messages set (reactions, reactions_view, reactors) = (
       select r, relay_reactions_view(r), relay_reactors(r) from (select jsonb_build_array(
         jsonb_build_array('👍', jsonb_build_array(sender_id, sender_id + 1)),
         jsonb_build_array('🎉', jsonb_build_array(sender_id + 2))) as r) n)
     where id % ${every} = 0`,
  );
  return result.count;
}

/** Fresh statistics and visibility map, as a long-running database would have: plans and index-only scans depend on them. */
export async function analyze(sql: postgres.Sql): Promise<void> {
  await sql.unsafe('vacuum analyze users, groups, group_members, dialogs, messages');
}

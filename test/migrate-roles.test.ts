// The group roles migration (sql/002_group_roles.sql) on a database that already has groups:
// each group's creator owns it, or its longest-standing member where the creator left; everyone
// else is a member. Run with the server's own migrate(), first with 001 only, then with all.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { defaultMigrationsDir, migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/log.js';
import type { Sql } from '../src/db/client.js';

let db: TestDatabase | undefined;
let sql: postgres.Sql | undefined;
const dir = mkdtempSync(path.join(tmpdir(), 'relay-migrations-'));

after(async () => {
  await sql?.end();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

test('existing groups get roles: the creator owns it, else the longest-standing member', async () => {
  db = await createTestDatabase('migrate_roles');
  sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  const log = createLogger('silent');
  copyFileSync(path.join(defaultMigrationsDir(), '001_schema.sql'), path.join(dir, '001_schema.sql'));
  await migrate(sql as unknown as Sql, log, dir);

  await sql`insert into users (id, email, first_name) select i, 'u' || i || '@example.com', 'U' || i from generate_series(1, 5) i`;
  // Group 1: creator 1 still in it, joined first. Group 2: creator 2 left; 4 joined before 3.
  // Group 3: creator 5 is in it but joined after 1.
  await sql`insert into groups (id, name, created_by) values (1, 'a', 1), (2, 'b', 2), (3, 'c', 5)`;
  await sql`insert into group_members (group_id, user_id, joined_at) values
    (1, 1, '2024-01-01'), (1, 2, '2024-01-02'), (1, 3, '2024-01-03'),
    (2, 3, '2024-02-03'), (2, 4, '2024-02-02'),
    (3, 1, '2024-03-01'), (3, 5, '2024-03-02')`;

  await migrate(sql as unknown as Sql, log);
  const rows = await sql<{ g: number; u: number; role: string }[]>`
    select group_id as g, user_id as u, role from group_members order by group_id, user_id`;
  assert.deepEqual(rows.map((r) => [r.g, r.u, r.role]), [
    [1, 1, 'owner'], [1, 2, 'member'], [1, 3, 'member'],
    [2, 3, 'member'], [2, 4, 'owner'],
    [3, 1, 'member'], [3, 5, 'owner'],
  ]);
  // One owner per group is enforced from now on.
  await assert.rejects(sql`update group_members set role = 'owner' where group_id = 1 and user_id = 2`, /group_members_one_owner/);
  await assert.rejects(sql`update group_members set role = 'king' where group_id = 1 and user_id = 2`, /group_members_role_check/);
  // And presence's column is there, empty.
  const [seen] = await sql<{ n: number }[]>`select count(*)::int as n from users where last_seen_at is not null`;
  assert.equal(seen!.n, 0);
});

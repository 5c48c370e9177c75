// Upgrading a v1.1 database full of data to v1.2 search and blocking: 001..006 are applied and
// filled (dialogs, groups, several thousand messages in several scripts, an edit and a delete made
// the v1.1 way), then the server starts on it and applies 008_search_blocking.sql (and 007 when
// present). Every existing message becomes searchable over a socket: its current content, not a
// deleted one, in the scope of its readers; and blocking works on the upgraded data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { http, socketPool, type Client } from './helpers/client.js';
import { ok, errorOf } from './helpers/protocol.js';
import { migrate, defaultMigrationsDir } from '../src/db/migrate.js';
import { hashPassword } from '../src/auth/passwords.js';
import { createLogger } from '../src/log.js';
import type { Sql } from '../src/db/client.js';

let db: TestDatabase;
let sql: postgres.Sql;
let relay: RelayProcess | undefined;
let v11Dir: string;
const sockets = socketPool();
const BULK = 3000;

let ids: { ann: number; bob: number; cid: number; team: number; edited: number; deleted: number; privet: number };

before(async () => {
  db = await createTestDatabase('search_upgrade');
  sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  v11Dir = await mkdtemp(path.join(tmpdir(), 'relay-v11-sql-'));
  const released = (await readdir(defaultMigrationsDir())).filter((f) => /^00[1-6]_.+\.sql$/.test(f)).sort();
  assert.equal(released.length, 6);
  for (const f of released) await copyFile(path.join(defaultMigrationsDir(), f), path.join(v11Dir, f));
  assert.deepEqual(await migrate(sql as unknown as Sql, createLogger('silent'), v11Dir), released);

  // v1.1 data written as v1.1 wrote it: messages with their seqs, the conversation rows pointing at
  // (and copying) their newest message.
  const hash = await hashPassword('password123');
  const [ann, bob, cid] = await sql<{ id: number }[]>`
    insert into users (email, password_hash, first_name)
    values ('ann@v11.test', ${hash}, 'Ann'), ('bob@v11.test', ${hash}, 'Bob'), ('cid@v11.test', ${hash}, 'Cid')
    returning id`;
  const [team] = await sql<{ id: number }[]>`insert into groups (name, created_by) values ('team', ${ann!.id}) returning id`;
  await sql`insert into group_members (group_id, user_id, role) values (${team!.id}, ${ann!.id}, 'owner'), (${team!.id}, ${bob!.id}, 'member')`;
  await sql`insert into dialogs (user_lo, user_hi) values (${Math.min(ann!.id, bob!.id)}, ${Math.max(ann!.id, bob!.id)}),
    (${Math.min(bob!.id, cid!.id)}, ${Math.max(bob!.id, cid!.id)})`;
  // Bulk: alternating between the group, ann-bob and bob-cid.
  await sql`
    insert into messages (sender_id, receiver_id, group_id, content, seq)
    select case i % 3 when 0 then ${ann!.id}::int when 1 then ${bob!.id}::int else ${cid!.id}::int end,
           case i % 3 when 0 then null when 1 then ${ann!.id}::int else ${bob!.id}::int end,
           case i % 3 when 0 then ${team!.id}::int end,
           'Bulk message number ' || i || case when i % 100 = 0 then ' Привет' else '' end,
           i / 3 + 1
    from generate_series(0, ${BULK - 1}) as i`;
  const [privet] = await sql<{ id: number }[]>`
    insert into messages (sender_id, receiver_id, content, seq)
    values (${ann!.id}, ${bob!.id}, 'ПРИВЕТ, Боб! Straße', ${BULK / 3 + 1}) returning id::int`;
  const [edited] = await sql<{ id: number }[]>`
    insert into messages (sender_id, group_id, content, seq, edited_at) values (${ann!.id}, ${team!.id}, 'after the edit', ${BULK / 3 + 1}, now())
    returning id::int`;
  const [deleted] = await sql<{ id: number }[]>`
    insert into messages (sender_id, group_id, content, seq, deleted_at) values (${bob!.id}, ${team!.id}, '', ${BULK / 3 + 2}, now())
    returning id::int`;
  await sql`update groups g set last_seq = m.seq, last_message_id = m.id, last_sender_id = m.sender_id, last_content = m.content,
    last_created_at = m.created_at, last_updated_at = m.updated_at, last_deleted_at = m.deleted_at
    from messages m where m.id = ${deleted!.id} and g.id = ${team!.id}`;
  await sql`update dialogs d set last_seq = l.seq, last_message_id = l.id, last_sender_id = l.sender_id, last_content = l.content,
    last_created_at = l.created_at, last_updated_at = l.updated_at
    from (select distinct on (least(sender_id, receiver_id), greatest(sender_id, receiver_id)) * from messages
          where receiver_id is not null order by least(sender_id, receiver_id), greatest(sender_id, receiver_id), id desc) l
    where d.user_lo = least(l.sender_id, l.receiver_id) and d.user_hi = greatest(l.sender_id, l.receiver_id)`;
  ids = { ann: ann!.id, bob: bob!.id, cid: cid!.id, team: team!.id, edited: edited!.id, deleted: deleted!.id, privet: privet!.id };
});

after(async () => {
  sockets.terminateAll();
  await relay?.stop();
  await sql?.end();
  await rm(v11Dir, { recursive: true, force: true });
  await db?.drop();
});

async function login(email: string): Promise<Client> {
  const res = await http(relay!.http, 'POST', '/auth/login', { body: { email, password: 'password123' } });
  assert.equal(res.status, 200);
  return sockets.connect(relay!.ws, res.body.token as string);
}

test('the server applies 008 to a v1.1 database: every existing message gets its search words', async () => {
  relay = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000' });
  assert.ok(relay.logs.some((l) => l.msg === 'migration applied' && l.migration === '008_search_blocking.sql'));
  const [counts] = await sql<{ all: number; indexed: number; bulk: number }[]>`
    select count(*)::int as all, count(*) filter (where search is not null)::int as indexed,
           count(*) filter (where search @@ relay_search_query('bulk mess',
             array(select distinct relay_search_conversation(group_id, sender_id, receiver_id) from messages)))::int as bulk
    from messages`;
  assert.deepEqual(counts, { all: BULK + 3, indexed: BULK + 3, bulk: BULK });
});

test('after the upgrade: old messages are found over a socket, in their readers\' scope, current content only', async () => {
  const ann = await login('ann@v11.test');
  const cid = await login('cid@v11.test');
  // ann: the group (every third) and the ann-bob dialog (every third); not bob-cid.
  const hundreds = await ok(ann, 'searchMessages', { query: 'прив', limit: 100 });
  const expected = [];
  for (let i = 0; i < BULK; i += 100) if (i % 3 !== 2) expected.push(i);
  assert.deepEqual(hundreds.map((r: any) => r.content).sort(),
    [...expected.map((i) => `Bulk message number ${i} Привет`), 'ПРИВЕТ, Боб! Straße'].sort());
  assert.equal(hundreds[0].id, ids.privet, 'newest first');
  assert.deepEqual(hundreds[0].highlights, [[0, 6]]);
  const cidHits = await ok(cid, 'searchMessages', { query: 'привет', limit: 100 });
  assert.deepEqual(cidHits.map((r: any) => r.content).sort(),
    Array.from({ length: BULK / 100 }, (_, k) => k * 100).filter((i) => i % 3 === 2).map((i) => `Bulk message number ${i} Привет`).sort());
  // A number is a word too, and one message among thousands is found by it.
  const [one] = await ok(ann, 'searchMessages', { query: 'number 1503' });
  assert.equal(one.content, 'Bulk message number 1503');
  assert.deepEqual(await ok(ann, 'searchMessages', { query: 'number 1505' }), [], 'bob-cid, not ann\'s');
  // Edited: its current content; deleted: never.
  assert.deepEqual((await ok(ann, 'searchMessages', { query: 'after edit', groupId: ids.team })).map((r: any) => r.id), [ids.edited]);
  assert.deepEqual(await ok(ann, 'searchMessages', { query: 'stra', groupId: ids.team }), []);
  assert.deepEqual((await ok(ann, 'searchMessages', { query: 'stra', receiverId: ids.bob })).map((r: any) => r.id), [ids.privet]);
  // Paging through thousands with beforeId.
  let beforeId: number | undefined;
  let seen = 0;
  for (;;) {
    const page = await ok(cid, 'searchMessages', { query: 'bulk', limit: 100, ...(beforeId ? { beforeId } : {}) });
    if (page.length === 0) break;
    seen += page.length;
    beforeId = page.at(-1).id;
  }
  assert.equal(seen, BULK / 3, 'every bob-cid message, once');
});

test('after the upgrade: blocking works on the old dialogs', async () => {
  const ann = await login('ann@v11.test');
  const bob = await login('bob@v11.test');
  await ok(bob, 'blockUser', { userId: ids.ann });
  const refused = await errorOf(ann, 'privateMessage', { receiverId: ids.bob, content: 'still there?' }, 'FORBIDDEN');
  assert.equal(refused.message, 'This user does not accept your messages');
  const bobRows = await ok(bob, 'listLastMessage', {});
  assert.deepEqual(bobRows.map((r: any) => [r.groupId ?? (r.senderId === ids.bob ? r.receiverId : r.senderId), r.blocked]).sort(),
    [[ids.ann, true], [ids.cid, false], [ids.team, false]].sort());
  assert.ok((await ok(ann, 'searchMessages', { query: 'привет', receiverId: ids.bob })).length > 0, 'the history stays searchable');
});

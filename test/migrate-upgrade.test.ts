// Upgrading a v1 database: only 001 and 002 are applied, v1 data is written the way v1 wrote it,
// then the server starts on it and applies 003_conversation_state.sql (and the later ones: 006 copies
// each conversation's newest message into its row). Existing messages get
// their seqs in id order per conversation, every existing member's marker starts at its
// conversation's newest message, nothing is lost; and the upgraded data works over a socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { http, socketPool, type Client } from './helpers/client.js';
import { ok } from './helpers/protocol.js';
import { migrate, defaultMigrationsDir } from '../src/db/migrate.js';
import { hashPassword } from '../src/auth/passwords.js';
import { createLogger } from '../src/log.js';
import type { Sql } from '../src/db/client.js';

let db: TestDatabase;
let sql: postgres.Sql;
let relay: RelayProcess | undefined;
let v1Dir: string;
const sockets = socketPool();

interface V1 { ann: number; bob: number; cid: number; team: number; quiet: number; empty: number }
let v1: V1;
let before003: { id: number; content: string; sender_id: number }[];

before(async () => {
  db = await createTestDatabase('upgrade');
  sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  v1Dir = await mkdtemp(path.join(tmpdir(), 'relay-v1-sql-'));
  for (const f of ['001_schema.sql', '002_group_roles.sql']) await copyFile(path.join(defaultMigrationsDir(), f), path.join(v1Dir, f));
  const applied = await migrate(sql as unknown as Sql, createLogger('silent'), v1Dir);
  assert.deepEqual(applied, ['001_schema.sql', '002_group_roles.sql']);

  const hash = await hashPassword('password123');
  const [ann, bob, cid] = await sql<{ id: number }[]>`
    insert into users (email, password_hash, first_name)
    values ('ann@v1.test', ${hash}, 'Ann'), ('bob@v1.test', ${hash}, 'Bob'), ('cid@v1.test', ${hash}, 'Cid')
    returning id`;
  const [team, quiet, empty] = await sql<{ id: number }[]>`
    insert into groups (name, created_by) values ('team', ${ann!.id}), ('quiet', ${bob!.id}), ('empty', ${cid!.id}) returning id`;
  v1 = { ann: ann!.id, bob: bob!.id, cid: cid!.id, team: team!.id, quiet: quiet!.id, empty: empty!.id };
  await sql`
    insert into group_members (group_id, user_id, role) values
      (${v1.team}, ${v1.ann}, 'owner'), (${v1.team}, ${v1.bob}, 'member'), (${v1.team}, ${v1.cid}, 'member'),
      (${v1.quiet}, ${v1.bob}, 'owner'), (${v1.quiet}, ${v1.cid}, 'member'), (${v1.empty}, ${v1.cid}, 'owner')`;
  // Interleaved conversations, both directions of dialogs, a note to oneself, a deleted message.
  const plan: [number, number | null, number | null][] = [];
  for (let i = 0; i < 30; i++) {
    const k = i % 6;
    if (k === 0) plan.push([v1.ann, null, v1.team]);
    if (k === 1) plan.push([i % 4 === 1 ? v1.ann : v1.bob, i % 4 === 1 ? v1.bob : v1.ann, null]);
    if (k === 2) plan.push([v1.cid, null, v1.quiet]);
    if (k === 3) plan.push([v1.bob, null, v1.team]);
    if (k === 4) plan.push([v1.cid, v1.ann, null]);
    if (k === 5) plan.push([v1.bob, v1.bob, null]);
  }
  for (const [i, [sender, receiver, group]] of plan.entries()) {
    await sql`insert into messages (sender_id, receiver_id, group_id, content) values (${sender}, ${receiver}, ${group}, ${`v1 message ${i}`})`;
  }
  await sql`update messages set deleted_at = now() where id = (select min(id) from messages where group_id = ${v1.quiet})`;
  // Newest messages that changed after they were sent: 006 copies them as they are now.
  await sql`update messages set deleted_at = now(), updated_at = now() where id = (select max(id) from messages where receiver_id = sender_id)`;
  await sql`
    update messages set content = 'v1 message, edited', updated_at = now() + interval '1 minute'
    where id = (select max(id) from messages where group_id = ${v1.team})`;
  await sql`
    insert into dialogs (user_lo, user_hi)
    select distinct least(sender_id, receiver_id), greatest(sender_id, receiver_id) from messages where receiver_id is not null`;
  before003 = [...await sql<{ id: number; content: string; sender_id: number }[]>`select id::int, content, sender_id from messages order by id`];
});

after(async () => {
  sockets.terminateAll();
  await relay?.stop();
  await sql?.end();
  await rm(v1Dir, { recursive: true, force: true });
  await db?.drop();
});

test('the server upgrades a v1 database with 003: seqs in id order, markers at the newest, nothing lost', async () => {
  relay = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000' });
  assert.ok(relay.logs.some((l) => l.msg === 'migration applied' && l.migration === '003_conversation_state.sql'));

  const after003 = await sql<{ id: number; content: string; sender_id: number; seq: number; conv: string }[]>`
    select id::int, content, sender_id, seq::int,
           coalesce('g' || group_id, 'd' || least(sender_id, receiver_id) || '-' || greatest(sender_id, receiver_id)) as conv
    from messages order by id`;
  assert.deepEqual(after003.map(({ id, content, sender_id }) => ({ id, content, sender_id })), before003, 'every message kept as it was');
  const byConv = new Map<string, number[]>();
  for (const m of after003) byConv.set(m.conv, [...(byConv.get(m.conv) ?? []), m.seq]);
  assert.equal(byConv.size, 5, 'two groups with messages and three dialogs');
  for (const [conv, seqs] of byConv) assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `${conv}: 1..n in id order`);

  const groups = await sql<{ id: number; last_seq: number; last_message_id: number | null }[]>`
    select id, last_seq::int, last_message_id::int from groups order by id`;
  for (const g of groups) {
    const mine = after003.filter((m) => m.conv === `g${g.id}`);
    assert.deepEqual([g.last_seq, g.last_message_id], [mine.length, mine.at(-1)?.id ?? null], `group ${g.id}`);
  }
  const members = await sql<{ group_id: number; last_read_id: number | null; last_read_seq: number }[]>`
    select group_id, last_read_id::int, last_read_seq::int from group_members`;
  for (const gm of members) {
    const g = groups.find((x) => x.id === gm.group_id)!;
    assert.deepEqual([gm.last_read_id, gm.last_read_seq], [g.last_message_id, g.last_seq], `member of ${gm.group_id}: marker at the newest`);
  }
  const dialogs = await sql<{ lo: number; hi: number; last_seq: number; last_message_id: number; lo_id: number; lo_seq: number; hi_id: number; hi_seq: number }[]>`
    select user_lo as lo, user_hi as hi, last_seq::int, last_message_id::int, lo_last_read_id::int as lo_id,
           lo_last_read_seq::int as lo_seq, hi_last_read_id::int as hi_id, hi_last_read_seq::int as hi_seq from dialogs`;
  assert.equal(dialogs.length, 3);
  for (const d of dialogs) {
    const mine = after003.filter((m) => m.conv === `d${d.lo}-${d.hi}`);
    const newest = mine.at(-1)!;
    assert.deepEqual([d.last_seq, d.last_message_id, d.lo_id, d.lo_seq, d.hi_id, d.hi_seq],
      [mine.length, newest.id, newest.id, newest.seq, newest.id, newest.seq], `dialog ${d.lo}-${d.hi}`);
  }
});

test('006 copies each conversation\'s newest message into its row, as it is (edited, deleted)', async () => {
  assert.ok(relay!.logs.some((l) => l.msg === 'migration applied' && l.migration === '006_chat_list_last_message.sql'));
  for (const table of ['groups', 'dialogs'] as const) {
    const rows = await sql<{ copied: number; differ: number; empty: number }[]>`
      select count(m.id)::int as copied,
             count(*) filter (where m.id is not null and (c.last_sender_id, c.last_content, c.last_created_at, c.last_updated_at, c.last_deleted_at)
               is distinct from (m.sender_id, m.content, m.created_at, m.updated_at, m.deleted_at))::int as differ,
             count(*) filter (where m.id is null and num_nonnulls(c.last_sender_id, c.last_content, c.last_created_at, c.last_updated_at, c.last_deleted_at) > 0)::int as empty
      from ${sql(table)} c left join messages m on m.id = c.last_message_id`;
    assert.deepEqual(rows[0], { copied: table === 'groups' ? 2 : 3, differ: 0, empty: 0 }, table);
  }
  const [edited] = await sql<{ content: string; changed: boolean }[]>`
    select last_content as content, last_updated_at > last_created_at as changed from groups where id = ${v1.team}`;
  assert.deepEqual(edited, { content: 'v1 message, edited', changed: true });
  const [note] = await sql<{ deleted: boolean }[]>`select last_deleted_at is not null as deleted from dialogs where user_lo = user_hi`;
  assert.deepEqual(note, { deleted: true });
});

test('after the upgrade: nothing unread, and the next message continues the seq', async () => {
  const login = async (email: string): Promise<Client> => {
    const res = await http(relay!.http, 'POST', '/auth/login', { body: { email, password: 'password123' } });
    assert.equal(res.status, 200);
    return sockets.connect(relay!.ws, res.body.token as string);
  };
  const ann = await login('ann@v1.test');
  const cid = await login('cid@v1.test');
  for (const c of [ann, cid]) {
    const rows = await ok(c, 'listLastMessage', { limit: 100 });
    assert.ok(rows.length >= 2);
    for (const r of rows) assert.equal(r.unreadCount, 0, `no wall of unread: ${JSON.stringify(r)}`);
  }
  const cidRows = await ok(cid, 'listLastMessage', { limit: 100 });
  const emptyRow = cidRows.find((r: any) => r.groupId === v1.empty);
  assert.deepEqual([emptyRow.seq, emptyRow.lastReadId], [null, null]);
  const teamRow = cidRows.find((r: any) => r.groupId === v1.team);
  assert.equal(teamRow.content, 'v1 message, edited');
  assert.ok(teamRow.updatedAt > teamRow.createdAt, 'its copy keeps the edit time');
  const next = await ok(ann, 'messageInGroup', { groupId: v1.team, content: 'after the upgrade' });
  assert.equal(next.seq, teamRow.seq + 1);
  assert.equal((await ok(cid, 'listLastMessage', { limit: 100 })).find((r: any) => r.groupId === v1.team).unreadCount, 1);
  const dm = await ok(cid, 'privateMessage', { receiverId: v1.ann, content: 'after, privately' });
  const annDialog = (await ok(ann, 'listLastMessage', { limit: 100 })).find((r: any) => r.id === dm.id);
  assert.equal(annDialog.seq, dm.seq);
  assert.deepEqual([annDialog.content, annDialog.senderId, annDialog.receiverId, annDialog.createdAt], ['after, privately', v1.cid, v1.ann, dm.createdAt]);
  assert.equal(annDialog.unreadCount, 1);
  const quiet = await ok(cid, 'getlatestMessageGroup', { groupId: v1.quiet, limit: 100 });
  assert.deepEqual(quiet.map((r: any) => r.seq), quiet.map((_: unknown, i: number) => quiet.length - i));
  assert.ok(quiet.at(-1).deletedAt !== null, 'the v1 deletion is kept');
});

// Upgrading a v1.1 database (001..006 applied, full of conversations: groups with roles and read
// markers, dialogs both ways, notes to oneself, edited and deleted messages) to v1.2: the server
// applies 007_replies_reactions_pins.sql on start. Nothing is lost or changed, every old row reads
// as no reply, no mentions, no reactions, not pinned, mentionCount 0; and replies, mentions,
// reactions and pins work on the old messages over a socket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
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

const USERS = 30;
const GROUPS = 6;
const MESSAGES = 3000;

let db: TestDatabase;
let sql: postgres.Sql;
let relay: RelayProcess | undefined;
let v11Dir: string;
const sockets = socketPool();
let snapshot: Record<string, string>;

/** Every column 001..006 made, per table. */
const OLD_COLUMNS = {
  users: 'id, email, password_hash, first_name, last_name, token_version, created_at, updated_at, deleted_at, last_seen_at',
  groups: 'id, name, created_by, created_at, last_seq, last_message_id, last_sender_id, last_content, last_created_at, last_updated_at, last_deleted_at',
  group_members: 'group_id, user_id, joined_at, role, last_read_id, last_read_seq',
  dialogs: 'user_lo, user_hi, created_at, last_seq, last_message_id, lo_last_read_id, lo_last_read_seq, hi_last_read_id, hi_last_read_seq, ' +
    'last_sender_id, last_content, last_created_at, last_updated_at, last_deleted_at',
  messages: 'id, sender_id, receiver_id, group_id, content, client_message_id, created_at, updated_at, deleted_at, seq, edited_at',
};

/** Every old column of every table as text, rows sorted: what 007 must leave as it was. */
const dump = async (): Promise<Record<string, string>> => {
  const out: Record<string, string> = {};
  for (const [t, cols] of Object.entries(OLD_COLUMNS)) {
    const [row] = await sql.unsafe<{ t: string }[]>(
      `select coalesce(string_agg(x, E'\\n' order by x), '') as t from (select (${cols})::text as x from ${t}) y`);
    out[t] = row!.t;
  }
  return out;
};

before(async () => {
  db = await createTestDatabase('upgrade_v12');
  sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  v11Dir = await mkdtemp(path.join(tmpdir(), 'relay-v11-sql-'));
  const released = (await readdir(defaultMigrationsDir())).filter((f) => /^00[1-6]_.*\.sql$/.test(f)).sort();
  assert.equal(released.length, 6);
  for (const f of released) await copyFile(path.join(defaultMigrationsDir(), f), path.join(v11Dir, f));
  assert.deepEqual(await migrate(sql as unknown as Sql, createLogger('silent'), v11Dir), released);

  // v1.1 data, kept the way the v1.1 server keeps it (seq per conversation, pointers and copies, markers).
  const hash = await hashPassword('password123');
  await sql.unsafe(`
    insert into users (email, password_hash, first_name)
      select 'user' || i || '@v11.test', '${hash}', 'User' || i from generate_series(1, ${USERS}) i;
    insert into groups (name, created_by) select 'Group ' || g, g from generate_series(1, ${GROUPS}) g;
    insert into group_members (group_id, user_id, role)
      select g, 1 + (g + k) % ${USERS}, case when k = 0 then 'owner' when k = 1 then 'admin' else 'member' end
      from generate_series(1, ${GROUPS}) g, generate_series(0, 7) k;
    -- Two thirds group messages from members, one third dialogs (both ways, some notes to oneself).
    insert into messages (sender_id, group_id, receiver_id, content, created_at, seq)
      select case when i % 3 < 2 then 1 + ((i % ${GROUPS}) + 1 + i % 8) % ${USERS} else 1 + i % ${USERS} end,
             case when i % 3 < 2 then 1 + i % ${GROUPS} end,
             case when i % 3 = 2 then 1 + (i / 7) % ${USERS} end,
             'v1.1 message ' || i, now() - (${MESSAGES} - i) * interval '1 second', -i
      from generate_series(1, ${MESSAGES}) i;
    update messages m set seq = n.seq from (
      select id, row_number() over (partition by group_id,
        case when receiver_id is not null then least(sender_id, receiver_id) end,
        case when receiver_id is not null then greatest(sender_id, receiver_id) end order by id) as seq from messages
    ) n where m.id = n.id;
    update messages set content = 'edited ' || id, edited_at = now(), updated_at = now() where id % 17 = 0;
    update messages set content = '', deleted_at = now(), updated_at = now() where id % 23 = 0;
    insert into dialogs (user_lo, user_hi)
      select distinct least(sender_id, receiver_id), greatest(sender_id, receiver_id) from messages where receiver_id is not null;
    update groups g set last_seq = l.seq, last_message_id = l.id, last_sender_id = l.sender_id, last_content = l.content,
      last_created_at = l.created_at, last_updated_at = l.updated_at, last_deleted_at = l.deleted_at from (
      select distinct on (group_id) * from messages where group_id is not null order by group_id, id desc
    ) l where g.id = l.group_id;
    update dialogs d set last_seq = l.seq, last_message_id = l.id, last_sender_id = l.sender_id, last_content = l.content,
      last_created_at = l.created_at, last_updated_at = l.updated_at, last_deleted_at = l.deleted_at,
      lo_last_read_id = l.id, lo_last_read_seq = l.seq, hi_last_read_id = l.prev_id, hi_last_read_seq = case when l.prev_id is null then 0 else l.seq - 3 end from (
      select distinct on (least(sender_id, receiver_id), greatest(sender_id, receiver_id))
        least(sender_id, receiver_id) as lo, greatest(sender_id, receiver_id) as hi, *,
        lag(id, 3) over (partition by least(sender_id, receiver_id), greatest(sender_id, receiver_id) order by id) as prev_id
      from messages where receiver_id is not null
      order by least(sender_id, receiver_id), greatest(sender_id, receiver_id), id desc
    ) l where d.user_lo = l.lo and d.user_hi = l.hi;
    update group_members gm set last_read_id = g.last_message_id, last_read_seq = g.last_seq - (gm.user_id % 5)
      from groups g where g.id = gm.group_id;
  `);
  snapshot = await dump();
});

after(async () => {
  sockets.terminateAll();
  await relay?.stop();
  await sql?.end();
  await rm(v11Dir, { recursive: true, force: true });
  await db?.drop();
});

const login = async (n: number): Promise<Client> => {
  const res = await http(relay!.http, 'POST', '/auth/login', { body: { email: `user${n}@v11.test`, password: 'password123' } });
  assert.equal(res.status, 200);
  return sockets.connect(relay!.ws, res.body.token as string);
};

test('the server upgrades a v1.1 database with 007: every existing column as it was; the new ones empty', async () => {
  relay = await startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000' });
  assert.ok(relay.logs.some((l) => l.msg === 'migration applied' && l.migration === '007_replies_reactions_pins.sql'));
  assert.deepEqual(await dump(), snapshot, 'every row of every table, every old column, as it was');
  assert.equal(snapshot.messages!.split('\n').length, MESSAGES);
  const [fresh] = await sql<{ n: number }[]>`
    select count(*)::int as n from messages
    where num_nonnulls(reply_to_id, mentions, reactions, reactions_view, reactors, pinned_at, pinned_by) > 0`;
  assert.equal(fresh!.n, 0);
  const [gm] = await sql<{ n: number }[]>`select count(*)::int as n from group_members where mention_seqs is not null`;
  assert.equal(gm!.n, 0);
});

test('after the upgrade, old rows read as no reply, no mentions, no reactions; unread counts unchanged; mentionCount 0', async () => {
  const c = await login(3);
  const rows = await ok(c, 'listLastMessage', { limit: 100 });
  assert.ok(rows.length >= 3);
  for (const r of rows) assert.equal(r.mentionCount, 0);
  const group = rows.find((r: any) => r.groupId !== null);
  const [member] = await sql<{ seq: number; last: number }[]>`
    select gm.last_read_seq::int as seq, g.last_seq::int as last from group_members gm join groups g on g.id = gm.group_id
    where gm.group_id = ${group.groupId} and gm.user_id = 3`;
  assert.equal(group.unreadCount, member!.last - member!.seq, 'unreadCount as before');
  const history = await ok(c, 'getlatestMessageGroup', { groupId: group.groupId, limit: 100 });
  assert.equal(history.length, 100);
  for (const h of history) assert.deepEqual([h.replyTo, h.mentions, h.reactions], [null, [], []]);
  assert.ok(history.some((h: any) => h.deletedAt !== null) && history.some((h: any) => h.editedAt !== null));
  const dialog = rows.find((r: any) => r.groupId === null);
  const peer = dialog.senderId === 3 ? dialog.receiverId : dialog.senderId;
  for (const h of await ok(c, 'getlatestMessageDialog', { receiverId: peer, limit: 100 })) {
    assert.deepEqual([h.replyTo, h.mentions, h.reactions], [null, [], []]);
  }
  assert.deepEqual(await ok(c, 'getPinned', { groupId: group.groupId }), []);
});

test('replies, mentions, reactions and pins work on the old messages', async () => {
  // Group 1's members: users 2..9 (owner 2, admin 3).
  const owner = await login(2);
  const member = await login(5);
  const history = await ok(member, 'getlatestMessageGroup', { groupId: 1, limit: 5 });
  const old = history.find((h: any) => h.deletedAt === null);
  const reply = await ok(member, 'messageInGroup', { groupId: 1, content: 'to an old one', replyToId: old.id, mentions: [2, 3, 99] });
  assert.deepEqual([reply.replyTo.id, reply.replyTo.seq, reply.replyTo.content, reply.mentions], [old.id, old.seq, old.content, [2, 3]]);
  assert.equal(reply.seq, history[0].seq + 1, 'the seq continues');
  const r = await ok(member, 'addReaction', { messageId: old.id, emoji: '👍' });
  assert.deepEqual(r.reactions, [{ emoji: '👍', count: 1, me: true }]);
  await ok(owner, 'pinMessage', { messageId: old.id });
  const pinned = await ok(member, 'getPinned', { groupId: 1 });
  assert.deepEqual([pinned.length, pinned[0].id, pinned[0].reactions[0].count], [1, old.id, 1]);
  const ownerRow = (await ok(owner, 'listLastMessage', { limit: 100 })).find((x: any) => x.groupId === 1);
  assert.equal(ownerRow.mentionCount, 1);
});

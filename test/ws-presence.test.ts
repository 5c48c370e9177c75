// Typing and presence on one node (PROTOCOL.md v1.1 "Typing and presence", pushes `typing` and
// `presence`). The grace is shortened to 1 s through PRESENCE_GRACE_MS so the tests run quickly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { Client, http, signUp, sleep, type Account } from './helpers/client.js';
import { useRelay, assertIsoDate, ok, assertPush, errorOf, assertNoPush, count, QUIET_MS } from './helpers/protocol.js';

const GRACE_MS = 1000;
const env = { AUTH_RATE_PER_MINUTE: '100000', PRESENCE_GRACE_MS: String(GRACE_MS), PRESENCE_SWEEP_MS: '100' };
const fx = useRelay('ws_presence', env);
const { connect } = fx;

/** Two accounts that share a dialog (a message from a to b). */
async function partners(aName: string, bName: string): Promise<[Account, Account, Client]> {
  const a = await signUp(fx.relay.http, aName);
  const b = await signUp(fx.relay.http, bName);
  const a1 = await connect(a);
  await ok(a1, 'privateMessage', { receiverId: b.id, content: 'hi' });
  return [a, b, a1];
}

const isPresence = (userId: number, online: boolean) => (d: any) => d.userId === userId && d.online === online;

test('presence: a dialog partner is told when a user comes online and, after the grace, goes offline; a stranger is told nothing', async () => {
  const [a, b, a1] = await partners('Alma', 'Boris');
  const s = await signUp(fx.relay.http, 'Stranger');
  const s1 = await connect(s);
  const a2 = await connect(a);

  const b1 = await connect(b);
  for (const c of [a1, a2]) {
    const d = assertPush(await c.push('presence', isPresence(b.id, true)), 'presence', null as unknown as string, 'Boris');
    assert.deepEqual(d, { userId: b.id, online: true, lastSeenAt: null });
  }
  const closedAt = Date.now();
  await b1.close();
  const off = (await a1.push('presence', isPresence(b.id, false), GRACE_MS + 3000)).params.data;
  assert.ok(Date.now() - closedAt >= GRACE_MS - 50, 'not before the grace is over');
  assertIsoDate(off.lastSeenAt, 'lastSeenAt');
  assert.ok(Math.abs(Date.parse(off.lastSeenAt) - closedAt) < 1000, 'lastSeenAt is when the socket closed');
  await sleep(QUIET_MS);
  for (const c of [a1, a2]) {
    assert.equal(count(c, 'presence', (d) => d.userId === b.id), 2, 'once per change');
  }
  assert.equal(count(s1, 'presence', () => true), 0, 'the stranger got no presence push');

  // getPresence then shows the stored time.
  const [row] = await ok(a1, 'getPresence', { userIds: [b.id] });
  assert.deepEqual(row, { userId: b.id, online: false, lastSeenAt: off.lastSeenAt });
});

test('presence: a reconnect within the grace, or closing one of several sockets, shows nothing', async () => {
  const [, b, a1] = await partners('Carla', 'Dmitri');
  const b1 = await connect(b);
  await a1.push('presence', isPresence(b.id, true));
  // A page reload: closed and open again well within the grace.
  await b1.close();
  await sleep(GRACE_MS / 4);
  const b2 = await connect(b);
  const b3 = await connect(b);
  await b2.close();
  await sleep(GRACE_MS + 500);
  assert.equal(count(a1, 'presence', (d) => d.userId === b.id), 1, 'only the first online');
  assert.deepEqual(await ok(a1, 'getPresence', { userIds: [b.id] }), [{ userId: b.id, online: true, lastSeenAt: null }]);
  // During the grace the user is still online.
  await b3.close();
  assert.deepEqual(await ok(a1, 'getPresence', { userIds: [b.id] }), [{ userId: b.id, online: true, lastSeenAt: null }]);
  await a1.push('presence', isPresence(b.id, false), GRACE_MS + 3000);
});

test('getPresence: the caller, dialog partners and group mates are shown; a stranger or an unknown id is offline with no lastSeenAt', async () => {
  const [a, b, a1] = await partners('Eva', 'Farid');
  const g = await signUp(fx.relay.http, 'Gina');
  const s = await signUp(fx.relay.http, 'Sven');
  const b1 = await connect(b);
  const g1 = await connect(g);
  const s1 = await connect(s);
  const { groupId } = await ok(a1, 'newGroup', { groupName: 'Mates' });
  await ok(a1, 'addUserInGroup', { groupId, userId: g.id });

  const ids = [s.id, 2147483647, b.id, a.id, g.id];
  const rows = await ok(a1, 'getPresence', { userIds: ids });
  assert.deepEqual(rows, [
    { userId: s.id, online: false, lastSeenAt: null },
    { userId: 2147483647, online: false, lastSeenAt: null },
    { userId: b.id, online: true, lastSeenAt: null },
    { userId: a.id, online: true, lastSeenAt: null },
    { userId: g.id, online: true, lastSeenAt: null },
  ]);
  // The stranger sees nothing of A either, and is never pushed A's presence.
  assert.deepEqual(await ok(s1, 'getPresence', { userIds: [a.id, s.id] }), [
    { userId: a.id, online: false, lastSeenAt: null },
    { userId: s.id, online: true, lastSeenAt: null },
  ]);
  // Group mates may ask, but presence pushes go to dialog partners only.
  assert.equal(count(g1, 'presence', (d) => d.userId === a.id), 0);
  await b1.close();
  await a1.push('presence', isPresence(b.id, false), GRACE_MS + 3000);
  assert.equal(count(s1, 'presence', () => true), 0);

  for (const bad of [{}, { userIds: [] }, { userIds: [1, 1] }, { userIds: Array.from({ length: 101 }, (_, i) => i + 1) },
    { userIds: [1.5] }, { userIds: ['1'] }, { userIds: 1 }, { userIds: [0] }]) {
    const f = await errorOf(a1, 'getPresence', bad, 'VALIDATION');
    assert.match(f.message, /userIds/);
  }
  assert.equal((await ok(a1, 'getPresence', { userIds: Array.from({ length: 100 }, (_, i) => i + 1) })).length, 100);
});

test('lastSeenAt is kept in PostgreSQL: another server on the same database reports it', async () => {
  const [a, b] = await partners('Hana', 'Ivan');
  const b1 = await connect(b);
  await sleep(100);
  await b1.close();
  await sleep(GRACE_MS + 700);
  const db = postgres(fx.db.url, { max: 1, onnotice: () => undefined });
  let stored: Date | null;
  try {
    [{ stored }] = (await db`select last_seen_at as stored from users where id = ${b.id}`) as unknown as [{ stored: Date | null }];
  } finally {
    await db.end();
  }
  assert.ok(stored instanceof Date, 'stored in users.last_seen_at');
  const other = await fx.startAnother({ DATABASE_URL: fx.db.url, ...env });
  const c = await Client.connect(other.ws, a.token);
  try {
    const [row] = (await c.request('getPresence', { userIds: [b.id] })).params.data;
    assert.deepEqual(row, { userId: b.id, online: false, lastSeenAt: stored.toISOString() });
  } finally {
    await c.close();
  }
});

test('typing in a dialog: the partner gets it with its own id as receiverId; not the typer\'s connections; once a second', async () => {
  const [a, b, a1] = await partners('Jana', 'Karl');
  const a2 = await connect(a);
  const b1 = await connect(b);
  const b2 = await connect(b);
  const s = await signUp(fx.relay.http, 'Stan');
  const s1 = await connect(s);

  assert.equal(await ok(a1, 'typing', { receiverId: b.id }), null);
  for (const c of [b1, b2]) {
    const d = assertPush(await c.push('typing', (x) => x.userId === a.id), 'typing', null as unknown as string, 'Jana');
    assert.deepEqual(d, { userId: a.id, receiverId: b.id, groupId: null });
  }
  // Within the second: answered, not pushed.
  for (let i = 0; i < 5; i++) assert.equal(await ok(a1, 'typing', { receiverId: b.id, groupId: null }), null);
  assert.equal(await ok(a2, 'typing', { receiverId: b.id }), null);
  await sleep(QUIET_MS);
  assert.equal(count(b1, 'typing', (x) => x.userId === a.id), 1);
  for (const c of [a1, a2, s1]) assert.equal(count(c, 'typing', () => true), 0, 'neither the typer nor a stranger');
  // A second later it goes out again; the other direction is a separate throttle.
  await sleep(1000);
  await ok(a1, 'typing', { receiverId: b.id });
  await ok(b1, 'typing', { receiverId: a.id });
  await b2.wait((f) => f.type === 'typing' && count(b2, 'typing', (x) => x.userId === a.id) === 2, 3000, 'second typing');
  const back = assertPush(await a1.push('typing', (x) => x.userId === b.id), 'typing', null as unknown as string, 'Karl');
  assert.deepEqual(back, { userId: b.id, receiverId: a.id, groupId: null });
  await assertNoPush(b2, 'typing', (x) => x.userId === b.id, 'the typer\'s other connection');

  let f = await errorOf(a1, 'typing', { receiverId: 2147483647 }, 'NOT_FOUND');
  assert.match(f.message, /not found/i);
  f = await errorOf(a1, 'typing', {}, 'VALIDATION');
  assert.match(f.message, /exactly one of receiverId or groupId/);
  await errorOf(a1, 'typing', { receiverId: null, groupId: null }, 'VALIDATION');
  await errorOf(a1, 'typing', { receiverId: b.id, groupId: 1 }, 'VALIDATION');
  await errorOf(a1, 'typing', { receiverId: 1.5 }, 'VALIDATION');
});

test('typing in a group: the other members get it, not the typer\'s connections; members only, at once after a removal', async () => {
  const o = await signUp(fx.relay.http, 'Lea');
  const m = await signUp(fx.relay.http, 'Marc');
  const n = await signUp(fx.relay.http, 'Nils');
  const x = await signUp(fx.relay.http, 'Xaver');
  const o1 = await connect(o);
  const o2 = await connect(o);
  const m1 = await connect(m);
  const n1 = await connect(n);
  const x1 = await connect(x);
  const { groupId } = await ok(o1, 'newGroup', { groupName: 'Typists' });
  await ok(o1, 'addUserInGroup', { groupId, userId: m.id });
  await ok(o1, 'addUserInGroup', { groupId, userId: n.id });

  // A burst: ten in a row, one push.
  for (let i = 0; i < 10; i++) assert.equal(await ok(m1, 'typing', { groupId }), null);
  for (const c of [o1, o2, n1]) {
    const d = assertPush(await c.push('typing', (y) => y.userId === m.id), 'typing', null as unknown as string, 'Marc');
    assert.deepEqual(d, { userId: m.id, receiverId: null, groupId });
  }
  await sleep(QUIET_MS);
  for (const c of [o1, o2, n1]) assert.equal(count(c, 'typing', (y) => y.userId === m.id), 1, 'one push for the burst');
  assert.equal(count(m1, 'typing', () => true), 0);
  assert.equal(count(x1, 'typing', () => true), 0);
  // The typer's own other connection is not told.
  await ok(o1, 'typing', { groupId });
  await m1.push('typing', (y) => y.userId === o.id);
  await assertNoPush(o2, 'typing', (y) => y.userId === o.id, 'the typer\'s other connection');

  let f = await errorOf(x1, 'typing', { groupId }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
  f = await errorOf(x1, 'typing', { groupId: 2147483647 }, 'FORBIDDEN');
  // Removed while throttled (it typed less than a second ago): refused at once all the same.
  await ok(n1, 'typing', { groupId });
  await ok(o1, 'removeUserFromGroup', { groupId, userId: n.id });
  await n1.push('removeUserFromGroup', (y) => y.userId === n.id);
  f = await errorOf(n1, 'typing', { groupId }, 'FORBIDDEN');
  assert.equal(f.message, 'User is not a member of this group');
});

test('a deleted account goes offline for its partners, with no lastSeenAt', async () => {
  const [a, b, a1] = await partners('Olga', 'Pavel');
  const b1 = await connect(b);
  await a1.push('presence', isPresence(b.id, true));
  const res = await http(fx.relay.http, 'DELETE', '/profile', { token: b.token });
  assert.equal(res.status, 200);
  await b1.closed;
  const off = await a1.push('presence', isPresence(b.id, false), GRACE_MS + 3000);
  assert.deepEqual(off.params.data, { userId: b.id, online: false, lastSeenAt: null });
  assert.deepEqual(await ok(a1, 'getPresence', { userIds: [b.id, a.id] }), [
    { userId: b.id, online: false, lastSeenAt: null },
    { userId: a.id, online: true, lastSeenAt: null },
  ]);
});

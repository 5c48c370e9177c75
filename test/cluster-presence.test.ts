// Presence, typing, group roles and removal across nodes: Relay processes sharing one database
// and relaying through the machine's Redis under a prefix of this file's own, or
// (cluster-presence.redis-cluster.test.ts) through a Redis Cluster of the file's own, where the
// presence claims live in hash-tagged buckets spread over the shards. Presence timings are
// shortened through PRESENCE_* settings (grace 1 s; a node's claims live 3 s unrenewed).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { Client, signUp, sleep, socketPool, type Account } from './helpers/client.js';
import { QUIET_MS, okLoose, count, expectOnce, testPubSub } from './helpers/protocol.js';
import { startBroker, type TestBroker } from './helpers/broker.js';

const GRACE_MS = 1000;
const NODE_TTL_MS = 3000;
const SWEEP_MS = 200;

const kind = testPubSub() === 'redis-cluster' ? 'redis-cluster' : 'redis';
let broker: TestBroker;
let db: TestDatabase;
let env: Record<string, string>;
let nodes: RelayProcess[] = [];
const sockets = socketPool();

before(async () => {
  [db, broker] = await Promise.all([createTestDatabase(`cluster_presence_${kind.replace('-', '_')}`), startBroker(kind)]);
  env = {
    DATABASE_URL: db.url, ...broker.env, AUTH_RATE_PER_MINUTE: '100000',
    PRESENCE_GRACE_MS: String(GRACE_MS), PRESENCE_NODE_TTL_MS: String(NODE_TTL_MS), PRESENCE_SWEEP_MS: String(SWEEP_MS),
  };
  const first = await startRelay(env);
  nodes = [first, await startRelay(env)];
});

after(async () => {
  sockets.terminateAll();
  await Promise.all(nodes.map((n) => n.stop()));
  // Drops the file's keys from the shared Redis, or the whole cluster.
  await broker?.stop();
  await db?.drop();
});

const connect = (n: RelayProcess, account: Account): Promise<Client> => sockets.connect(n.ws, account.token);

const isPresence = (userId: number, online: boolean) => (d: any) => d.userId === userId && d.online === online;

/** Two accounts sharing a dialog. */
async function pair(a: string, b: string): Promise<[Account, Account]> {
  const x = await signUp(nodes[0]!.http, a);
  const y = await signUp(nodes[0]!.http, b);
  const c = await connect(nodes[0]!, x);
  await okLoose(c, 'privateMessage', { receiverId: y.id, content: 'hello' });
  await c.close();
  return [x, y];
}

test('presence across nodes: online with the first socket anywhere, offline after the last one anywhere, each pushed once (not once per node)', async () => {
  const [a, b] = await pair('Ada', 'Bea');
  const a0 = await connect(nodes[0]!, a);
  const a1 = await connect(nodes[1]!, a);
  await sleep(QUIET_MS);

  const b0 = await connect(nodes[0]!, b);
  await expectOnce([a0, a1], 'presence', isPresence(b.id, true), QUIET_MS);
  // A second socket on the other node: still one online.
  const b1 = await connect(nodes[1]!, b);
  await b0.close();
  await sleep(GRACE_MS + 1000);
  for (const c of [a0, a1]) assert.equal(count(c, 'presence', (d) => d.userId === b.id), 1, 'a socket left on node 1: nothing');
  const fromNode0 = (await a0.request('getPresence', { userIds: [b.id] })).params.data;
  assert.deepEqual(fromNode0, [{ userId: b.id, online: true, lastSeenAt: null }], 'node 0 knows B is online on node 1');

  // A reconnect on the other node within the grace: nothing.
  await b1.close();
  await sleep(GRACE_MS / 4);
  const b2 = await connect(nodes[0]!, b);
  await sleep(GRACE_MS + 1000);
  for (const c of [a0, a1]) assert.equal(count(c, 'presence', (d) => d.userId === b.id), 1, 'a reconnect within the grace: nothing');

  const closedAt = Date.now();
  await b2.close();
  await expectOnce([a0, a1], 'presence', isPresence(b.id, false), QUIET_MS);
  const off = a1.pushes('presence').find((f) => isPresence(b.id, false)(f.params.data))!.params;
  assert.equal(off.senderName, 'Bea');
  assert.ok(Math.abs(Date.parse(off.data.lastSeenAt) - closedAt) < 1000, 'lastSeenAt is the close time');
  const seen = (await a1.request('getPresence', { userIds: [b.id] })).params.data;
  assert.deepEqual(seen, [{ userId: b.id, online: false, lastSeenAt: off.data.lastSeenAt }]);
});

test('a stranger on another node is told nothing and sees nothing', async () => {
  const [a, b] = await pair('Cid', 'Dee');
  const s = await signUp(nodes[0]!.http, 'Stranger');
  const s1 = await connect(nodes[1]!, s);
  const a1 = await connect(nodes[1]!, a);
  const b0 = await connect(nodes[0]!, b);
  await a1.push('presence', isPresence(b.id, true));
  assert.deepEqual((await s1.request('getPresence', { userIds: [b.id, a.id] })).params.data, [
    { userId: b.id, online: false, lastSeenAt: null },
    { userId: a.id, online: false, lastSeenAt: null },
  ]);
  await b0.close();
  await a1.push('presence', isPresence(b.id, false), GRACE_MS + 3000);
  assert.equal(count(s1, 'presence', () => true), 0);
});

test('a node killed with SIGKILL: its users go offline (within the claim lifetime), told once by a surviving node', async () => {
  const [a, b] = await pair('Eli', 'Fay');
  const doomed = await startRelay(env);
  const a0 = await connect(nodes[0]!, a);
  const a1 = await connect(nodes[1]!, a);
  const b2 = await Client.connect(doomed.ws, b.token);
  await expectOnce([a0, a1], 'presence', isPresence(b.id, true), QUIET_MS);

  // Sockets stay open long enough for renewals to happen, then the node dies without closing them.
  await sleep(NODE_TTL_MS);
  const killedAt = Date.now();
  doomed.proc.kill('SIGKILL');
  await doomed.exited;
  b2.ws.terminate();
  const off = await a0.push('presence', isPresence(b.id, false), 60_000);
  const took = Date.now() - killedAt;
  assert.ok(took <= NODE_TTL_MS + 2 * SWEEP_MS + 1000, `offline ${took} ms after the kill`);
  await sleep(QUIET_MS);
  for (const c of [a0, a1]) assert.equal(count(c, 'presence', isPresence(b.id, false)), 1, 'once');
  // lastSeenAt: the dead node's last renewal, before the kill.
  const seenAt = Date.parse(off.params.data.lastSeenAt);
  assert.ok(seenAt <= killedAt && killedAt - seenAt <= NODE_TTL_MS, 'lastSeenAt is the last time the node vouched for it');
  assert.deepEqual((await a1.request('getPresence', { userIds: [b.id] })).params.data,
    [{ userId: b.id, online: false, lastSeenAt: off.params.data.lastSeenAt }]);

  // Back on a living node: online again, once.
  const b0 = await connect(nodes[0]!, b);
  for (const c of [a0, a1]) await c.wait(() => count(c, 'presence', isPresence(b.id, true)) === 2, 3000, 'online again');
  await sleep(QUIET_MS);
  for (const c of [a0, a1]) assert.equal(count(c, 'presence', isPresence(b.id, true)), 2, 'online again, once');
  await b0.close();
});

test('typing across nodes: one push per member, none to the typer\'s connections on any node', async () => {
  const o = await signUp(nodes[0]!.http, 'Gus');
  const m = await signUp(nodes[0]!.http, 'Hal');
  const o0 = await connect(nodes[0]!, o);
  const o1 = await connect(nodes[1]!, o);
  const m1 = await connect(nodes[1]!, m);
  const { groupId } = await okLoose(o0, 'newGroup', { groupName: 'Typing' });
  await okLoose(o0, 'addUserInGroup', { groupId, userId: m.id });
  await m1.push('addUserInGroup', (d) => d.groupId === groupId);
  for (let i = 0; i < 5; i++) await okLoose(o0, 'typing', { groupId });
  await expectOnce([m1], 'typing', (d) => d.userId === o.id && d.groupId === groupId, QUIET_MS);
  assert.equal(count(o1, 'typing', () => true), 0);
  await okLoose(m1, 'typing', { receiverId: o.id });
  await expectOnce([o0, o1], 'typing', (d) => d.userId === m.id && d.receiverId === o.id && d.groupId === null, QUIET_MS);
});

test('roles across nodes: rename, role changes, removal (the removed user\'s sockets on every node stop at once) and ownership passing on', async () => {
  const o = await signUp(nodes[0]!.http, 'Ivy');
  const a = await signUp(nodes[0]!.http, 'Jon');
  const m = await signUp(nodes[0]!.http, 'Kim');
  const o0 = await connect(nodes[0]!, o);
  const a1 = await connect(nodes[1]!, a);
  const m0 = await connect(nodes[0]!, m);
  const m1 = await connect(nodes[1]!, m);
  const { groupId } = await okLoose(o0, 'newGroup', { groupName: 'Cluster club' });
  await okLoose(o0, 'addUserInGroup', { groupId, userId: a.id });
  await okLoose(o0, 'addUserInGroup', { groupId, userId: m.id });
  await Promise.all([a1, m0, m1].map((c) => c.push('addUserInGroup', (d) => d.groupId === groupId && d.userId !== o.id, 3000)));
  await m1.push('addUserInGroup', (d) => d.userId === m.id);

  await okLoose(o0, 'setMemberRole', { groupId, userId: a.id, role: 'admin' });
  await expectOnce([a1, m0, m1], 'setMemberRole', (d) => d.userId === a.id && d.role === 'admin', QUIET_MS);

  await okLoose(a1, 'renameGroup', { groupId, groupName: 'Renamed' });
  await expectOnce([o0, m0, m1], 'renameGroup', (d) => d.groupName === 'Renamed', QUIET_MS);

  // Two admins' changes race on two nodes: the role check is in the statement, so the demoted
  // admin's removal is refused or done before the demotion, never after.
  const [demote, remove] = await Promise.all([
    o0.request('setMemberRole', { groupId, userId: a.id, role: 'member' }),
    a1.request('removeUserFromGroup', { groupId, userId: m.id }),
  ]);
  assert.equal(demote.success, true);
  if (remove.success === true) {
    await expectOnce([o0, m0, m1], 'removeUserFromGroup', (d) => d.userId === m.id && d.userName === 'Kim', QUIET_MS);
  } else {
    assert.equal(remove.code, 'FORBIDDEN');
    assert.match(remove.message, /owner or an admin/);
    await okLoose(o0, 'removeUserFromGroup', { groupId, userId: m.id });
    await expectOnce([a1, m0, m1], 'removeUserFromGroup', (d) => d.userId === m.id && d.userName === 'Kim', QUIET_MS);
  }
  const after = await okLoose(o0, 'messageInGroup', { groupId, content: 'Kim is gone' });
  await a1.push('messageInGroup', (d) => d.id === after.id);
  await sleep(QUIET_MS);
  for (const c of [m0, m1]) assert.equal(count(c, 'messageInGroup', (d) => d.id === after.id), 0, 'no push after the removal, on either node');

  // The owner leaves: the earliest remaining member (no admins now) owns it, pushed once across nodes.
  await okLoose(o0, 'leaveGroup', { groupId });
  await expectOnce([a1], 'setMemberRole', (d) => d.userId === a.id && d.role === 'owner', QUIET_MS);
  assert.equal((await okLoose(a1, 'getGroup', { groupId })).ownerId, a.id);
});

test('a node stopped gracefully (SIGTERM): its users go offline after the grace, as if they had closed', async () => {
  const [a, b] = await pair('Ines', 'Jack');
  const leaving = await startRelay(env);
  const a0 = await connect(nodes[0]!, a);
  const b2 = await Client.connect(leaving.ws, b.token);
  await a0.push('presence', isPresence(b.id, true));
  const stoppedAt = Date.now();
  assert.equal(await leaving.stop('SIGTERM'), 0);
  await b2.closed;
  const off = await a0.push('presence', isPresence(b.id, false), GRACE_MS + 5000);
  const took = Date.now() - stoppedAt;
  assert.ok(took >= GRACE_MS - 100 && took < NODE_TTL_MS + GRACE_MS, `offline ${took} ms after the stop`);
  assert.ok(Math.abs(Date.parse(off.params.data.lastSeenAt) - stoppedAt) < 1500, 'lastSeenAt is when the node closed the socket');
});

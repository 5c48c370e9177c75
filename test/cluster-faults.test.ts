import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { Client, http, signUp, sleep, type Account } from './helpers/client.js';
import { QUIET_MS, okLoose, count, expectOnce } from './helpers/protocol.js';
import { OwnRedis, testPrefix } from './helpers/redis.js';
import { eventually } from './helpers/kit.js';

// Two Relay nodes relaying through a Redis of this file's own, which the tests kill and start
// again; the shared Redis on 6379 is not touched.

const SETTLE_MS = QUIET_MS;

let db: TestDatabase;
let redis: OwnRedis;
let prefix: string;
const started: RelayProcess[] = [];
const extra: OwnRedis[] = [];
const clients: Client[] = [];
let a: RelayProcess;
let b: RelayProcess;

before(async () => {
  db = await createTestDatabase('cluster_faults');
  redis = await OwnRedis.start();
  prefix = testPrefix();
  a = await start(redis.url);
  b = await start(redis.url);
});

after(async () => {
  await Promise.all(clients.map((c) => (c.closeCode === undefined ? c.close() : undefined)));
  await Promise.all(started.map((n) => n.stop()));
  await Promise.all([redis, ...extra].map((r) => r?.kill()));
  await db?.drop();
});

async function start(redisUrl: string): Promise<RelayProcess> {
  const n = await startRelay({ DATABASE_URL: db.url, REDIS_URL: redisUrl, REDIS_PREFIX: prefix });
  started.push(n);
  return n;
}

async function connect(n: RelayProcess, account: Account): Promise<Client> {
  const c = await Client.connect(n.ws, account.token);
  clients.push(c);
  return c;
}


const readyIs = (n: RelayProcess, status: number) => async (): Promise<boolean> => {
  const res = await http(n.http, 'GET', '/ready');
  return res.status === status && res.body.relay === (status === 200);
};

const logged = (n: RelayProcess, msg: string): number => n.logs.filter((l) => l.msg === msg).length;

test('Redis killed and restarted: nodes stay up, /ready follows it, writes commit, delivery resumes', async () => {
  const ann = await signUp(a.http, 'Ann');
  const bob = await signUp(a.http, 'Bob');
  const cat = await signUp(a.http, 'Cat');
  const dan = await signUp(a.http, 'Dan');
  const annA = await connect(a, ann);
  const annA2 = await connect(a, ann);
  const bobB = await connect(b, bob);
  const { groupId } = await okLoose(annA, 'newGroup', { groupName: 'survivors' });
  await okLoose(annA, 'addUserInGroup', { groupId, userId: bob.id });
  // A group whose only other member has no socket yet: node B needs its topic only later.
  const { groupId: lateId } = await okLoose(annA, 'newGroup', { groupName: 'late' });
  await okLoose(annA, 'addUserInGroup', { groupId: lateId, userId: cat.id });

  const first = await okLoose(annA, 'privateMessage', { receiverId: bob.id, content: 'before' });
  await expectOnce([bobB], 'privateMessage', (d) => d.id === first.id, SETTLE_MS);

  await redis.kill();
  await Promise.all([eventually('A reports the relay down', readyIs(a, 503), { timeoutMs: 5000, everyMs: 100 }), eventually('B reports the relay down', readyIs(b, 503), { timeoutMs: 5000, everyMs: 100 })]);

  // Writes keep working; this node's own sockets still get the pushes.
  const lost = await okLoose(annA, 'privateMessage', { receiverId: bob.id, content: 'during the outage' });
  const lostInGroup = await okLoose(annA, 'messageInGroup', { groupId, content: 'group, during the outage' });
  await expectOnce([annA2], 'privateMessage', (d) => d.id === lost.id, SETTLE_MS);
  await expectOnce([annA2], 'messageInGroup', (d) => d.id === lostInGroup.id, SETTLE_MS);
  // A socket opened during the outage: its topics are new to node B.
  const catB = await connect(b, cat);
  assert.equal((await http(b.http, 'GET', '/health')).status, 200);

  await redis.restart();
  await Promise.all([eventually('A is ready again', readyIs(a, 200), { timeoutMs: 10_000, everyMs: 100 }), eventually('B is ready again', readyIs(b, 200), { timeoutMs: 10_000, everyMs: 100 })]);

  // Topics subscribed before the outage, in both directions.
  const pm = await okLoose(annA, 'privateMessage', { receiverId: bob.id, content: 'after' });
  await expectOnce([bobB, annA2], 'privateMessage', (d) => d.id === pm.id, SETTLE_MS);
  const gm = await okLoose(annA, 'messageInGroup', { groupId, content: 'group, after' });
  await expectOnce([bobB, annA2], 'messageInGroup', (d) => d.id === gm.id, SETTLE_MS);
  const answer = await okLoose(bobB, 'privateMessage', { receiverId: ann.id, content: 'back' });
  await expectOnce([annA, annA2], 'privateMessage', (d) => d.id === answer.id, SETTLE_MS);
  // Topics that node B came to need during the outage.
  const late = await okLoose(annA, 'messageInGroup', { groupId: lateId, content: 'late group' });
  await expectOnce([catB], 'messageInGroup', (d) => d.id === late.id, SETTLE_MS);
  const toCat = await okLoose(annA, 'privateMessage', { receiverId: cat.id, content: 'hello cat' });
  await expectOnce([catB], 'privateMessage', (d) => d.id === toCat.id, SETTLE_MS);
  // Control events cross nodes again.
  const danB = await connect(b, dan);
  await okLoose(annA, 'addUserInGroup', { groupId, userId: dan.id });
  await expectOnce([danB, bobB], 'addUserInGroup', (d) => d.groupId === groupId && d.userId === dan.id, SETTLE_MS);

  // What was published during the outage is not relayed late (nothing piles up), and the
  // database has it: Bob catches up with history.
  assert.equal(count(bobB, 'privateMessage', (d) => d.id === lost.id), 0);
  assert.equal(count(bobB, 'messageInGroup', (d) => d.id === lostInGroup.id), 0);
  const history = await okLoose(bobB, 'getlatestMessageDialog', { receiverId: ann.id, afterId: first.id });
  assert.deepEqual(history.map((m: any) => m.id), [lost.id, pm.id, answer.id]);
  const groupHistory = await okLoose(bobB, 'getlatestMessageGroup', { groupId, afterId: lostInGroup.id - 1 });
  assert.equal(groupHistory[0].id, lostInGroup.id);

  for (const n of [a, b]) {
    assert.equal(n.proc.exitCode, null, 'the node is still running');
    assert.equal(logged(n, 'cluster relay down: pushes to other nodes are lost until it recovers'), 1, 'the outage is logged once');
    assert.equal(logged(n, 'cluster relay recovered'), 1, 'the recovery is logged once');
    const metrics = (await http(n.http, 'GET', '/metrics')).body as string;
    assert.match(metrics, /^relay_cluster_relay_connected 1$/m);
  }
  const dropped = /^relay_cluster_relays_dropped_total (\d+)$/m.exec((await http(a.http, 'GET', '/metrics')).body as string);
  assert.ok(dropped && Number(dropped[1]) >= 2, 'the relays lost during the outage are counted');
});

test('a Redis that stops answering is noticed, /ready says so, and delivery resumes when it answers again', async () => {
  const gil = await signUp(a.http, 'Gil');
  const hub = await signUp(a.http, 'Hub');
  const gilA = await connect(a, gil);
  const hubB = await connect(b, hub);
  const before = await okLoose(gilA, 'privateMessage', { receiverId: hub.id, content: 'before the freeze' });
  await expectOnce([hubB], 'privateMessage', (d) => d.id === before.id, SETTLE_MS);

  redis.pause();
  try {
    // No connection closes: the heartbeat finds the silence (ping every 2 s, 5 s without answer).
    await Promise.all([eventually('A reports the relay down', readyIs(a, 503), { timeoutMs: 12_000, everyMs: 100 }), eventually('B reports the relay down', readyIs(b, 503), { timeoutMs: 12_000, everyMs: 100 })]);
    const during = await okLoose(gilA, 'privateMessage', { receiverId: hub.id, content: 'during the freeze' });
    assert.ok(during.id > before.id, 'writes commit while Redis does not answer');
  } finally {
    redis.resume();
  }
  await Promise.all([eventually('A is ready again', readyIs(a, 200), { timeoutMs: 10_000, everyMs: 100 }), eventually('B is ready again', readyIs(b, 200), { timeoutMs: 10_000, everyMs: 100 })]);
  const after = await okLoose(hubB, 'privateMessage', { receiverId: gil.id, content: 'after the freeze' });
  await expectOnce([gilA], 'privateMessage', (d) => d.id === after.id, SETTLE_MS);
  for (const n of [a, b]) assert.equal(n.proc.exitCode, null, 'the node is still running');
});

test('a node started while Redis is unreachable serves, reports 503, and joins once Redis is up', async () => {
  const own = await OwnRedis.reserve();
  extra.push(own);
  const c = await start(own.url);
  assert.equal(c.proc.exitCode, null);
  assert.ok(await readyIs(c, 503)());
  assert.match((await http(c.http, 'GET', '/metrics')).body as string, /^relay_cluster_relay_connected 0$/m);
  // It serves HTTP and WebSocket requests meanwhile.
  const eve = await signUp(c.http, 'Eve');
  const fay = await signUp(c.http, 'Fay');
  const eveC = await connect(c, eve);
  const fayC = await connect(c, fay);

  await own.restart();
  await eventually('the late node is ready', readyIs(c, 200), { timeoutMs: 10_000, everyMs: 100 });
  const pm = await okLoose(eveC, 'privateMessage', { receiverId: fay.id, content: 'local, relayed and echoed' });
  await expectOnce([fayC], 'privateMessage', (d) => d.id === pm.id, SETTLE_MS);
  assert.equal(logged(c, 'cluster relay connected'), 1);
});

test('control events lost in an outage are repaired when the relay recovers', async () => {
  const eve = await signUp(a.http, 'Eve');
  const fay = await signUp(a.http, 'Fay');
  const gus = await signUp(a.http, 'Gus');
  const eveB = await connect(b, eve);
  const fayA = await connect(a, fay);
  const fayB = await connect(b, fay);
  const gusB = await connect(b, gus);
  const { groupId } = await okLoose(fayA, 'newGroup', { groupName: 'repair' });
  await okLoose(fayA, 'addUserInGroup', { groupId, userId: gus.id });
  await gusB.push('addUserInGroup', (d) => d.groupId === groupId);

  await redis.kill();
  await eventually('B reports the relay down', readyIs(b, 503), { timeoutMs: 5000, everyMs: 100 });
  // Made on node A while node B cannot hear about them.
  const changed = await http(a.http, 'PATCH', '/profile/password', { token: eve.token, body: { oldPassword: eve.password, newPassword: 'a-new-password' } });
  assert.equal(changed.status, 200);
  const other = await okLoose(fayA, 'newGroup', { groupName: 'joined during outage' });
  await okLoose(fayA, 'addUserInGroup', { groupId: other.groupId, userId: gus.id });
  const gusA = await connect(a, gus);
  await okLoose(gusA, 'leaveGroup', { groupId });
  await sleep(SETTLE_MS);
  assert.equal(eveB.closeCode, undefined, 'node B could not know yet');

  await redis.restart();
  await eventually('B is ready again', readyIs(b, 200), { timeoutMs: 10_000, everyMs: 100 });
  assert.equal(await Promise.race([eveB.closed, sleep(3000).then(() => -1)]), 4003, 'the revoked socket on B is closed');

  // Gus's socket on B left `repair` and joined the new group, as the database says.
  await eventually('the re-check ran on B', async () => logged(b, 'sockets re-checked after the relay outage') >= 1, { timeoutMs: 5000, everyMs: 100 });
  const left = await okLoose(fayA, 'messageInGroup', { groupId, content: 'after gus left' });
  const joined = await okLoose(fayA, 'messageInGroup', { groupId: other.groupId, content: 'for the new group' });
  await expectOnce([fayB], 'messageInGroup', (d) => d.id === left.id, SETTLE_MS);
  await expectOnce([gusB], 'messageInGroup', (d) => d.id === joined.id, SETTLE_MS);
  assert.equal(count(gusB, 'messageInGroup', (d) => d.id === left.id), 0, 'no messages of a group Gus left');
});

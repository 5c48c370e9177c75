// Two Relay nodes on a Redis Cluster of this file's own (3 masters + 3 replicas, sharded pub/sub):
// what only a cluster does to the relay. A master is killed (its replica takes over) and a slot is
// migrated to another master while sockets are subscribed to channels in it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { http, signUp, socketPool, type Account, type Client } from './helpers/client.js';
import { QUIET_MS, okLoose, count, expectOnce } from './helpers/protocol.js';
import { startBroker, type TestBroker } from './helpers/broker.js';
import type { OwnRedisCluster } from './helpers/redis-cluster.js';
import { eventually } from './helpers/kit.js';
import { keySlot } from '../src/pubsub/slot.js';

let db: TestDatabase;
let broker: TestBroker;
let cluster: OwnRedisCluster;
let a: RelayProcess;
let b: RelayProcess;
const sockets = socketPool();

before(async () => {
  [db, broker] = await Promise.all([createTestDatabase('cluster_sharded'), startBroker('redis-cluster')]);
  cluster = broker.cluster!;
  const env = { DATABASE_URL: db.url, ...broker.env };
  a = await startRelay(env);
  b = await startRelay(env);
});

after(async () => {
  sockets.terminateAll();
  await Promise.all([a?.stop(), b?.stop()]);
  await broker?.stop();
  await db?.drop();
});

const connect = (n: RelayProcess, account: Account): Promise<Client> => sockets.connect(n.ws, account.token);

const ready = (n: RelayProcess) => async (): Promise<boolean> => {
  const res = await http(n.http, 'GET', '/ready');
  return res.status === 200 && res.body.relay === true;
};
const logged = (n: RelayProcess, msg: string): number => n.logs.filter((l) => l.msg === msg).length;
const channel = (topic: string): string => broker.prefix + topic;
const owner = (i: number): number => cluster.nodes[i]!.port;

test('the relay holds each channel on the master that owns its slot, one subscription per node', async () => {
  const ann = await signUp(a.http, 'Ann');
  const bob = await signUp(a.http, 'Bob');
  await connect(a, ann);
  await connect(b, ann);
  await connect(b, bob);
  await eventually('both nodes hold u:ann', async () => (await broker.subscribers(`u:${ann.id}`)) === 2);
  await eventually('node B holds u:bob', async () => (await broker.subscribers(`u:${bob.id}`)) === 1);
  // The slot the relay computes is the cluster's own.
  for (const topic of [`u:${ann.id}`, `u:${bob.id}`, 'g:1', 'g:2147483647']) {
    assert.equal(keySlot(channel(topic)), Number(await cluster.call(owner(0), 'CLUSTER', 'KEYSLOT', channel(topic))), topic);
  }
  // Nowhere else: every other master has no subscriber of it.
  const annOwner = await cluster.ownerOf(keySlot(channel(`u:${ann.id}`)));
  for (const m of await cluster.masters()) {
    if (m.port === annOwner.port) continue;
    const [, n] = (await cluster.call(m.port, 'PUBSUB', 'SHARDNUMSUB', channel(`u:${ann.id}`))) as [string, number];
    assert.equal(Number(n), 0, `master ${m.port} does not hold a channel it does not own`);
  }
});

test('a slot migrated while sockets are subscribed: the subscriptions follow it, pushes keep coming once', async () => {
  const cat = await signUp(a.http, 'Cat');
  const dan = await signUp(a.http, 'Dan');
  const catA = await connect(a, cat);
  const danB = await connect(b, dan);
  const { groupId } = await okLoose(catA, 'newGroup', { groupName: 'migrating' });
  await okLoose(catA, 'addUserInGroup', { groupId, userId: dan.id });
  await danB.push('addUserInGroup', (d) => d.groupId === groupId);
  const topic = `g:${groupId}`;
  await eventually('both nodes hold the group', async () => (await broker.subscribers(topic)) === 2);
  const first = await okLoose(catA, 'messageInGroup', { groupId, content: 'before the move' });
  await expectOnce([danB], 'messageInGroup', (d) => d.id === first.id, QUIET_MS);

  const slot = keySlot(channel(topic));
  const from = await cluster.ownerOf(slot);
  const to = (await cluster.masters()).find((m) => m.port !== from.port)!;
  await cluster.migrateSlot(slot, to);
  assert.equal((await cluster.ownerOf(slot)).port, to.port);

  // Both nodes resubscribe on the new owner (Redis dropped them on the old one).
  await eventually('both nodes hold the group on its new master', async () => {
    const [, n] = (await cluster.call(to.port, 'PUBSUB', 'SHARDNUMSUB', channel(topic))) as [string, number];
    return Number(n) === 2;
  }, { timeoutMs: 10_000, everyMs: 100 });
  await Promise.all([eventually('A ready', ready(a), { timeoutMs: 10_000, everyMs: 100 }), eventually('B ready', ready(b), { timeoutMs: 10_000, everyMs: 100 })]);
  const [, left] = (await cluster.call(from.port, 'PUBSUB', 'SHARDNUMSUB', channel(topic))) as [string, number];
  assert.equal(Number(left), 0, 'nothing left on the old owner');
  assert.ok([a, b].every((n) => logged(n, 'slots left this shard: reconnecting its subscriber') >= 1), 'both nodes saw the slot leave');

  const after = await okLoose(catA, 'messageInGroup', { groupId, content: 'after the move' });
  await expectOnce([danB], 'messageInGroup', (d) => d.id === after.id, QUIET_MS);
  const back = await okLoose(danB, 'messageInGroup', { groupId, content: 'and back' });
  await expectOnce([catA], 'messageInGroup', (d) => d.id === back.id, QUIET_MS);
  assert.equal(count(danB, 'messageInGroup', (d) => d.id === first.id), 1, 'nothing delivered twice');
});

test('a master killed mid-test: its replica takes over, pushes resume, nothing acknowledged is lost from PostgreSQL', async () => {
  const eve = await signUp(a.http, 'Eve');
  const fay = await signUp(a.http, 'Fay');
  const eveA = await connect(a, eve);
  const fayB = await connect(b, fay);
  const { groupId } = await okLoose(eveA, 'newGroup', { groupName: 'failover' });
  await okLoose(eveA, 'addUserInGroup', { groupId, userId: fay.id });
  await fayB.push('addUserInGroup', (d) => d.groupId === groupId);
  const topic = `g:${groupId}`;
  const first = await okLoose(eveA, 'messageInGroup', { groupId, content: 'before the crash' });
  await expectOnce([fayB], 'messageInGroup', (d) => d.id === first.id, QUIET_MS);

  const victim = await cluster.ownerOf(keySlot(channel(topic)));
  const recoveredBefore = logged(b, 'cluster relay recovered');
  // Sends keep going while the master dies and its replica is promoted: each acknowledged one
  // must be in PostgreSQL, whatever the relay did with its push.
  const acknowledged: number[] = [];
  let sending = true;
  const sender = (async () => {
    for (let i = 0; sending; i++) {
      const reply = await eveA.request('messageInGroup', { groupId, content: `during ${i}` });
      if (reply.success) acknowledged.push(reply.params.data.id as number);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  await cluster.kill(victim.port);
  try {
    await eventually('a replica serves the slot', async () => (await cluster.ownerOf(keySlot(channel(topic))).catch(() => victim)).port !== victim.port, { timeoutMs: 20_000, everyMs: 200 });
    await cluster.waitHealthy();
    await Promise.all([eventually('A ready', ready(a), { timeoutMs: 15_000, everyMs: 100 }), eventually('B ready', ready(b), { timeoutMs: 15_000, everyMs: 100 })]);
  } finally {
    sending = false;
    await sender;
  }
  assert.ok(acknowledged.length >= 5, `sends went on during the failover (${acknowledged.length})`);
  await eventually('both nodes hold the group on the promoted replica', async () => (await broker.subscribers(topic)) === 2, { timeoutMs: 10_000, everyMs: 100 });

  // Pushes resume, both ways, once.
  const after = await okLoose(eveA, 'messageInGroup', { groupId, content: 'after the failover' });
  await expectOnce([fayB], 'messageInGroup', (d) => d.id === after.id, QUIET_MS);
  const back = await okLoose(fayB, 'privateMessage', { receiverId: eve.id, content: 'still there' });
  await expectOnce([eveA], 'privateMessage', (d) => d.id === back.id, QUIET_MS);

  // Every acknowledged write is in PostgreSQL, read there directly; the member sees them in history.
  const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
  try {
    const rows = await sql<{ id: number }[]>`select id from messages where id in ${sql(acknowledged.map(String))}`;
    assert.equal(rows.length, acknowledged.length, 'every acknowledged message is stored');
  } finally {
    await sql.end();
  }
  const history = await okLoose(fayB, 'getlatestMessageGroup', { groupId, afterId: first.id, limit: 100 });
  const seen = new Set(history.map((m: any) => m.id));
  for (const id of acknowledged) assert.ok(seen.has(id), `message ${id} is in the history`);

  // The outage was noticed and repaired (the sockets re-checked) on the node that lost the channel.
  await eventually('B logged the recovery', async () => logged(b, 'cluster relay recovered') > recoveredBefore);
  await eventually('B re-checked its sockets', async () => logged(b, 'sockets re-checked after the relay outage') >= 1);
  for (const n of [a, b]) assert.equal(n.proc.exitCode, null, 'the node is still running');
});

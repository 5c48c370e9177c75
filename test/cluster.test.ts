import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayProcess } from './helpers/server.js';
import { Client, http, signUp, sleep, type Account } from './helpers/client.js';
import { QUIET_MS, okLoose, count, expectOnce, useRelay } from './helpers/protocol.js';

// Three Relay processes sharing one database and relaying through a broker: the machine's Redis
// under a channel prefix of this file's own, or (cluster.redis-cluster.test.ts) a Redis Cluster of
// the file's own, with sharded pub/sub. One contract, two brokers.

/** Long enough for a duplicate (a local delivery plus a relayed echo) to show up. */
const SETTLE_MS = QUIET_MS;

const fx = useRelay('cluster', {}, undefined, { nodes: 3, broker: true });

const node = (i: number): RelayProcess => fx.nodes[i]!;

const connect = (i: number, account: Account): Promise<Client> => fx.connect(account, 'header', node(i).ws);

async function expectNone(cs: Client[], type: string, match: (data: any) => boolean): Promise<void> {
  await sleep(SETTLE_MS);
  for (const [i, c] of cs.entries()) assert.equal(count(c, type, match), 0, `client #${i}: no ${type} push`);
}

/**
 * Creates a group and adds `members`. Across nodes a membership takes effect once the member's
 * sockets got the addUserInGroup push (their node then holds the group's Redis subscription):
 * `joined` are the sockets to wait for before anything is sent to the group.
 */
async function newGroup(c: Client, name: string, members: Account[], joined: Client[] = []): Promise<number> {
  const { groupId } = await okLoose(c, 'newGroup', { groupName: name });
  for (const m of members) await okLoose(c, 'addUserInGroup', { groupId, userId: m.id });
  await Promise.all(joined.map((j) => j.push('addUserInGroup', (d) => d.groupId === groupId, 3000)));
  return groupId as number;
}

test('every node is ready with the relay connected', async () => {
  for (const n of fx.nodes) {
    const ready = await http(n.http, 'GET', '/ready');
    assert.equal(ready.status, 200);
    assert.equal(ready.body.relay, true);
    const metrics = await http(n.http, 'GET', '/metrics');
    assert.match(metrics.body as string, /^relay_cluster_relay_connected 1$/m);
    assert.ok(n.logs.some((l) => l.msg === 'listening' && l.cluster === true && l.broker === fx.broker?.kind));
  }
});

/** How many Redis connections (one per node at most) are subscribed to a topic's channel. */
const subscribers = (topic: string): Promise<number> => fx.broker!.subscribers(topic);

async function expectSubscribers(topic: string, n: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while ((await subscribers(topic)) !== n) {
    if (Date.now() > deadline) assert.equal(await subscribers(topic), n, `Redis subscribers of ${topic}`);
    await sleep(20);
  }
}

test('a node subscribes in Redis once per topic its connections need, and unsubscribes after the last one', async () => {
  const pat = await signUp(node(0).http, 'Pat');
  const quin = await signUp(node(0).http, 'Quin');
  const user = `u:${pat.id}`;
  await expectSubscribers(user, 0);
  const patA1 = await connect(0, pat);
  const patA2 = await connect(0, pat);
  await expectSubscribers(user, 1);
  const patB = await connect(1, pat);
  await expectSubscribers(user, 2);

  const quinC = await connect(2, quin);
  const groupId = await newGroup(quinC, 'counted', [pat]);
  await patB.push('addUserInGroup', (d) => d.groupId === groupId);
  await expectSubscribers(`g:${groupId}`, 3);

  await patA1.close();
  await sleep(SETTLE_MS);
  assert.equal(await subscribers(user), 2, 'node A still has a connection of Pat');
  await patA2.close();
  await expectSubscribers(user, 1);
  await expectSubscribers(`g:${groupId}`, 2);
  await okLoose(patB, 'leaveGroup', { groupId });
  await expectSubscribers(`g:${groupId}`, 1);
  await patB.close();
  await expectSubscribers(user, 0);
});

test('a private message reaches the receiver on another node, and the sender\'s other devices, once', async () => {
  const ann = await signUp(node(0).http, 'Ann');
  const bob = await signUp(node(0).http, 'Bob');
  const annA = await connect(0, ann);
  const annC = await connect(2, ann);
  const bobB = await connect(1, bob);

  const sent = await okLoose(annA, 'privateMessage', { receiverId: bob.id, content: 'hi from A' });
  const match = (d: any): boolean => d.id === sent.id;
  await expectOnce([bobB, annC], 'privateMessage', match, SETTLE_MS);
  assert.equal(count(annA, 'privateMessage', match), 0, 'never to the connection that sent it');
  const push = bobB.pushes('privateMessage').find((f) => match(f.params.data))!;
  assert.deepEqual(push.params, { data: sent, message: 'hi from A', senderName: 'Ann' });

  // And back, from the other node.
  const reply = await okLoose(bobB, 'privateMessage', { receiverId: ann.id, content: 'hi from B' });
  await expectOnce([annA, annC], 'privateMessage', (d) => d.id === reply.id, SETTLE_MS);
});

test('group messages reach members on every node once; never the sending connection', async () => {
  const cat = await signUp(node(0).http, 'Cat');
  const dan = await signUp(node(0).http, 'Dan');
  const eve = await signUp(node(0).http, 'Eve');
  const catA = await connect(0, cat);
  const danB = await connect(1, dan);
  const eveC = await connect(2, eve);
  const groupId = await newGroup(catA, 'three nodes', [dan, eve], [danB, eveC]);

  const fromC = await okLoose(eveC, 'messageInGroup', { groupId, content: 'from C' });
  await expectOnce([catA, danB], 'messageInGroup', (d) => d.id === fromC.id, SETTLE_MS);
  assert.equal(count(eveC, 'messageInGroup', (d) => d.id === fromC.id), 0);

  const fromA = await okLoose(catA, 'messageInGroup', { groupId, content: 'from A' });
  await expectOnce([danB, eveC], 'messageInGroup', (d) => d.id === fromA.id, SETTLE_MS);
  assert.equal(count(catA, 'messageInGroup', (d) => d.id === fromA.id), 0);
});

test('a user with a connection on each node gets each push once on each', async () => {
  const fay = await signUp(node(0).http, 'Fay');
  const gus = await signUp(node(0).http, 'Gus');
  const fays = [await connect(0, fay), await connect(1, fay), await connect(2, fay)];
  const gusA = await connect(0, gus);

  // A private push, from the node of one of them.
  const pm = await okLoose(gusA, 'privateMessage', { receiverId: fay.id, content: 'to every device' });
  await expectOnce(fays, 'privateMessage', (d) => d.id === pm.id, SETTLE_MS);

  // newGroup: the creator's other connections, on every node, join and are told once.
  const { groupId } = await okLoose(fays[1]!, 'newGroup', { groupName: 'everywhere' });
  await expectOnce([fays[0]!, fays[2]!], 'newGroup', (d) => d.groupId === groupId, SETTLE_MS);
  assert.equal(count(fays[1]!, 'newGroup', (d) => d.groupId === groupId), 0);
  await okLoose(fays[1]!, 'addUserInGroup', { groupId, userId: gus.id });

  const gm = await okLoose(gusA, 'messageInGroup', { groupId, content: 'group, every device' });
  await expectOnce(fays, 'messageInGroup', (d) => d.id === gm.id, SETTLE_MS);

  // Sent from one of Fay's devices: her two others get it once, the sender none.
  const own = await okLoose(fays[2]!, 'messageInGroup', { groupId, content: 'from my third device' });
  await expectOnce([fays[0]!, fays[1]!, gusA], 'messageInGroup', (d) => d.id === own.id, SETTLE_MS);
  assert.equal(count(fays[2]!, 'messageInGroup', (d) => d.id === own.id), 0);
});

test('adding a user subscribes their open connections on other nodes, with one push each', async () => {
  const hal = await signUp(node(0).http, 'Hal');
  const ivy = await signUp(node(0).http, 'Ivy');
  const jon = await signUp(node(0).http, 'Jon');
  const halA = await connect(0, hal);
  const ivyB = await connect(1, ivy);
  const jonB = await connect(1, jon);
  const jonC = await connect(2, jon);
  const groupId = await newGroup(halA, 'growing', [ivy]);
  await ivyB.push('addUserInGroup', (d) => d.groupId === groupId && d.userId === ivy.id);

  await okLoose(halA, 'addUserInGroup', { groupId, userId: jon.id });
  const added = (d: any): boolean => d.groupId === groupId && d.userId === jon.id;
  // Members (other node) and the newcomer's sockets (two other nodes): once each.
  await expectOnce([ivyB, jonB, jonC], 'addUserInGroup', added, SETTLE_MS);
  assert.equal(count(halA, 'addUserInGroup', added), 0);

  // The already-open sockets of Jon now get the group's messages.
  const m = await okLoose(halA, 'messageInGroup', { groupId, content: 'welcome' });
  await expectOnce([ivyB, jonB, jonC], 'messageInGroup', (d) => d.id === m.id, SETTLE_MS);
  const back = await okLoose(jonC, 'messageInGroup', { groupId, content: 'thanks' });
  await expectOnce([halA, ivyB, jonB], 'messageInGroup', (d) => d.id === back.id, SETTLE_MS);
});

test('leaving unsubscribes the leaver\'s connections on every node', async () => {
  const kim = await signUp(node(0).http, 'Kim');
  const lou = await signUp(node(0).http, 'Lou');
  const kimA = await connect(0, kim);
  const louB = await connect(1, lou);
  const louC = await connect(2, lou);
  const groupId = await newGroup(kimA, 'shrinking', [lou], [louB, louC]);
  const before = await okLoose(kimA, 'messageInGroup', { groupId, content: 'before' });
  await expectOnce([louB, louC], 'messageInGroup', (d) => d.id === before.id, SETTLE_MS);

  await okLoose(louB, 'leaveGroup', { groupId });
  const left = (d: any): boolean => d.groupId === groupId && d.userId === lou.id;
  await expectOnce([kimA, louC], 'leaveGroup', left, SETTLE_MS);
  assert.equal(count(louB, 'leaveGroup', left), 0);

  const after = await okLoose(kimA, 'messageInGroup', { groupId, content: 'after' });
  // A private message from the same node afterwards: once it arrived, the group message would have.
  const marker = await okLoose(kimA, 'privateMessage', { receiverId: lou.id, content: 'marker' });
  await Promise.all([louB, louC].map((c) => c.push('privateMessage', (d) => d.id === marker.id)));
  await expectNone([louB, louC], 'messageInGroup', (d) => d.id === after.id);
});

test('deleting an account closes its sockets on every node (4003) within a second, and members are told once', async () => {
  const max = await signUp(node(0).http, 'Max');
  const ned = await signUp(node(0).http, 'Ned');
  const nedB = await connect(1, ned);
  const maxes = [await connect(0, max), await connect(1, max), await connect(2, max)];
  const groupId = await newGroup(maxes[2]!, 'farewell', [ned]);
  await nedB.push('addUserInGroup', (d) => d.groupId === groupId);

  const res = await http(node(0).http, 'DELETE', '/profile', { token: max.token });
  assert.equal(res.status, 200);
  const closed = await Promise.race([Promise.all(maxes.map((c) => c.closed)), sleep(1000).then(() => 'too slow')]);
  assert.deepEqual(closed, [4003, 4003, 4003]);
  await expectOnce([nedB], 'leaveGroup', (d) => d.groupId === groupId && d.userId === max.id, SETTLE_MS);
});

test('changing a password closes the sockets on the other nodes (4003) within a second', async () => {
  const oli = await signUp(node(0).http, 'Oli');
  const olis = [await connect(0, oli), await connect(1, oli), await connect(2, oli)];
  const res = await http(node(1).http, 'PATCH', '/profile/password', {
    token: oli.token, body: { oldPassword: oli.password, newPassword: 'another password' },
  });
  assert.equal(res.status, 200);
  const closed = await Promise.race([Promise.all(olis.map((c) => c.closed)), sleep(1000).then(() => 'too slow')]);
  assert.deepEqual(closed, [4003, 4003, 4003]);
  // The fresh token connects anywhere.
  const again = await connect(2, { ...oli, token: res.body.token });
  assert.equal(again.closeCode, undefined);
});

// Notifications across a cluster (PROTOCOL.md v1.2): two nodes on one database and one Redis.
// "No open socket on any node" is exact (a socket on the other node counts), each notification
// reaches each subscription once whichever worker takes it, folding and "dropped if read" hold
// across nodes, and notifications queued while the servers stop are delivered after a restart.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import webpush from 'web-push';
import { http, signUp, sleep } from './helpers/client.js';
import { useRelay, ok, okLoose } from './helpers/protocol.js';
import { startPushService } from './helpers/pushService.js';
import { pushEnv, received, subscribe } from './helpers/push.js';

const keys = webpush.generateVAPIDKeys();
const env = pushEnv({ VAPID_PUBLIC_KEY: keys.publicKey, VAPID_PRIVATE_KEY: keys.privateKey, VAPID_SUBJECT: 'mailto:ops@example.com' });
const service = await startPushService();
service.publicKey = keys.publicKey;
const fx = useRelay('push_cluster', env, undefined, { nodes: 2, broker: true });
after(() => service.close());
const node = (i: number) => fx.nodes[i]!;
const QUIET = 800;

test('both nodes serve the same VAPID key (from the environment)', async () => {
  for (const n of fx.nodes) assert.equal((await http(n.http, 'GET', '/push/key')).body.publicKey, keys.publicKey);
});

test('a user connected to the other node is not notified; once its last socket there closes, it is', async () => {
  const ann = await signUp(node(0).http, 'Ann');
  const bob = await signUp(node(0).http, 'Bob');
  const sub = service.subscribe();
  await subscribe(node(1).http, bob, sub);
  const a = await fx.connect(ann, 'header', node(0).ws);
  const b = await fx.connect(bob, 'header', node(1).ws);
  await sleep(200);
  await okLoose(a, 'privateMessage', { receiverId: bob.id, content: 'you are on node 1' });
  await b.push('privateMessage');
  await sleep(QUIET);
  assert.equal(sub.received.length, 0, 'connected on another node: no notification');
  await b.close();
  await sleep(300);
  const m = await okLoose(a, 'privateMessage', { receiverId: bob.id, content: 'now you are gone' });
  await received(sub, 1);
  assert.equal(sub.received[0]!.payload.id, m.id);
  assert.equal(sub.received[0]!.vapidError, null);
});

test('senders on both nodes, workers on both nodes: each subscription gets each notification once', async () => {
  const senders = await Promise.all([signUp(node(0).http, 'S0'), signUp(node(1).http, 'S1')]);
  const conns = await Promise.all(senders.map((s, i) => fx.connect(s, 'header', node(i).ws)));
  const people = await Promise.all(Array.from({ length: 12 }, (_, i) => signUp(node(i % 2).http, `R${i}`)));
  const subs = people.map(() => service.subscribe());
  await Promise.all(people.map((p, i) => subscribe(node(i % 2).http, p, subs[i]!)));
  // One message to each recipient from each sender: two dialogs per recipient, so two notifications.
  const sent = await Promise.all(people.flatMap((p) => conns.map((c) => okLoose(c, 'privateMessage', { receiverId: p.id, content: `hi ${p.firstName}` }))));
  await Promise.all(subs.map((s) => received(s, 2)));
  await sleep(QUIET);
  const ids = new Set(sent.map((m) => m.id));
  for (const [i, s] of subs.entries()) {
    assert.equal(s.received.length, 2, `recipient ${i}: exactly two notifications`);
    assert.equal(new Set(s.received.map((r) => r.payload.id)).size, 2, `recipient ${i}: no duplicate`);
    for (const r of s.received) assert.ok(ids.has(r.payload.id));
  }
});

test('folding and "dropped if read" across nodes', async () => {
  const ann = await signUp(node(0).http, 'Cy');
  const bob = await signUp(node(0).http, 'Di');
  const sub = service.subscribe();
  await subscribe(node(0).http, bob, sub);
  const a0 = await fx.connect(ann, 'header', node(0).ws);
  const a1 = await fx.connect(ann, 'header', node(1).ws);
  await okLoose(a0, 'privateMessage', { receiverId: bob.id, content: 'one (node 0)' });
  await received(sub, 1);
  await okLoose(a1, 'privateMessage', { receiverId: bob.id, content: 'two (node 1)' });
  const m3 = await okLoose(a0, 'privateMessage', { receiverId: bob.id, content: 'three (node 0)' });
  await received(sub, 2);
  assert.ok(sub.received[1]!.at - sub.received[0]!.at >= 1400, 'folded into one, after the window');
  assert.equal(sub.received[1]!.payload.id, m3.id);
  await sleep(1700);

  // A message from node 1, read on node 0 before its (folded) notification is due: dropped.
  await okLoose(a1, 'privateMessage', { receiverId: bob.id, content: 'four' });
  await received(sub, 3);
  const m5 = await okLoose(a1, 'privateMessage', { receiverId: bob.id, content: 'five' });
  const b0 = await fx.connect(bob, 'header', node(0).ws);
  await ok(b0, 'markRead', { receiverId: ann.id, messageId: m5.id });
  await b0.close();
  await sleep(2200);
  assert.equal(sub.received.length, 3, 'the read one was dropped');
});

test('a node killed with its sockets open: its users become notifiable once its rows lapse (PUSH_NODE_TTL_MS)', async () => {
  const ann = await signUp(node(0).http, 'Hu');
  const bob = await signUp(node(0).http, 'Io');
  const sub = service.subscribe();
  await subscribe(node(0).http, bob, sub);
  const doomed = await fx.startAnother({ DATABASE_URL: fx.db.url, ...env, REDIS_PREFIX: fx.broker!.env.REDIS_PREFIX, PUSH_NODE_TTL_MS: '3000' });
  const a = await fx.connect(ann, 'header', node(0).ws);
  await fx.connect(bob, 'header', doomed.ws);
  await sleep(300);
  await okLoose(a, 'privateMessage', { receiverId: bob.id, content: 'on the doomed node' });
  await sleep(QUIET);
  assert.equal(sub.received.length, 0, 'connected to the third node: not notified');
  await doomed.stop('SIGKILL');
  await sleep(3500);
  const m = await okLoose(a, 'privateMessage', { receiverId: bob.id, content: 'after the crash' });
  await received(sub, 1);
  assert.equal(sub.received[0]!.payload.id, m.id);
});

test('notifications queued while the servers stop are delivered after they start again', async () => {
  const ann = await signUp(node(0).http, 'Eda');
  const bob = await signUp(node(0).http, 'Fin');
  const cal = await signUp(node(0).http, 'Gil');
  const bobSub = service.subscribe();
  const calSub = service.subscribe();
  // Bob's service fails for now (a retry is queued); Cal's notification will be folded, waiting.
  bobSub.script = [{ status: 503, retryAfter: '3' }];
  await subscribe(node(0).http, bob, bobSub);
  await subscribe(node(0).http, cal, calSub);
  const a = await fx.connect(ann, 'header', node(0).ws);
  const mb = await okLoose(a, 'privateMessage', { receiverId: bob.id, content: 'for Bob' });
  await okLoose(a, 'privateMessage', { receiverId: cal.id, content: 'for Cal 1' });
  await received(calSub, 1);
  await received(bobSub, 1);
  const mc = await okLoose(a, 'privateMessage', { receiverId: cal.id, content: 'for Cal 2' });
  await sleep(200);
  await Promise.all(fx.nodes.map((n) => n.stop()));
  assert.equal(calSub.received.length, 1, 'the folded one had not gone yet');

  const again = await fx.startAnother({ DATABASE_URL: fx.db.url, ...env });
  await received(calSub, 2, 10_000);
  await received(bobSub, 2, 10_000);
  assert.equal(calSub.received[1]!.payload.id, mc.id);
  assert.equal(bobSub.received[1]!.payload.id, mb.id);
  assert.equal(bobSub.received[1]!.vapidError, null);
  await again.stop();
});

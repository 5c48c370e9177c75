// Notifications to offline devices (PROTOCOL.md v1.2), one node: who is notified and with what
// (Web Push checked by the tests' own push service: VAPID and RFC 8291 decryption; the signed
// webhook), folding, "dropped if read", mutes, subscriptions and their limits, SSRF refusals.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { http, signUp, sleep, type Account } from './helpers/client.js';
import { useRelay, ok } from './helpers/protocol.js';
import { assertHttpError, eventually } from './helpers/kit.js';
import { startPushService } from './helpers/pushService.js';
import { metric, pushEnv, received, subscribe } from './helpers/push.js';
import { pdf, upload } from './helpers/files.js';

const SECRET = 'webhook-secret-for-tests-0123456789';
const service = await startPushService(SECRET);
const fx = useRelay('push_delivery', pushEnv({ PUSH_WEBHOOK_URL: `${service.origin}/hook`, PUSH_WEBHOOK_SECRET: SECRET }), async (f) => {
  service.publicKey = (await http(f.relay.http, 'GET', '/push/key')).body.publicKey;
});
const base = (): string => fx.relay.http;
after(() => service.close());

/** Long enough for the worker (polling every 100 ms) to have notified if it were going to. */
const QUIET = 800;

const hooksFor = (userId: number) => service.hooks.filter((h) => h.body.userId === userId);

test('GET /push/key: the VAPID application server key', async () => {
  const res = await http(base(), 'GET', '/push/key');
  assert.equal(res.status, 200);
  assert.match(res.body.publicKey, /^[\w-]{87}$/);
  assert.equal(Buffer.from(res.body.publicKey, 'base64url')[0], 4, 'an uncompressed P-256 point');
});

test('an offline recipient gets a Web Push (VAPID-signed, encrypted per RFC 8291) and the signed webhook; online ones and the sender do not', async () => {
  const ann = await signUp(base(), 'Ann');
  const bob = await signUp(base(), 'Bob');
  const cat = await signUp(base(), 'Cat');
  const bobSub = service.subscribe();
  const annSub = service.subscribe();
  const catSub = service.subscribe();
  await subscribe(base(), bob, bobSub);
  await subscribe(base(), ann, annSub);
  await subscribe(base(), cat, catSub);
  const a = await fx.connect(ann);
  const c = await fx.connect(cat);

  const long = 'é'.repeat(150);
  const m = await ok(a, 'privateMessage', { receiverId: bob.id, content: long });
  await received(bobSub, 1);
  const [got] = bobSub.received;
  assert.equal(got!.vapidError, null);
  assert.deepEqual(got!.payload, {
    type: 'message', id: m.id, seq: 1, senderId: ann.id, senderName: 'Ann', receiverId: bob.id, groupId: null, groupName: null,
    preview: 'é'.repeat(100), unreadCount: 1,
  });
  assert.equal(got!.headers.ttl, '86400');
  assert.equal(got!.headers.urgency, 'high', 'dialogs are urgent');

  await eventually('the webhook got it', () => hooksFor(bob.id).length === 1);
  const [hook] = hooksFor(bob.id);
  assert.equal(hook!.signatureOk, true);
  assert.deepEqual(hook!.body, { ...got!.payload, userId: bob.id });

  // A group: Bob (offline) is notified, Cat (online) and Ann (the sender) are not.
  const g = await ok(a, 'newGroup', { groupName: 'Crew' });
  await ok(a, 'addUserInGroup', { groupId: g.groupId, userId: bob.id });
  await ok(a, 'addUserInGroup', { groupId: g.groupId, userId: cat.id });
  const gm = await ok(c, 'messageInGroup', { groupId: g.groupId, content: 'hello crew' });
  await received(bobSub, 2);
  assert.deepEqual(bobSub.received[1]!.payload, {
    type: 'message', id: gm.id, seq: 1, senderId: cat.id, senderName: 'Cat', receiverId: null, groupId: g.groupId, groupName: 'Crew',
    preview: 'hello crew', unreadCount: 1,
  });
  assert.equal(bobSub.received[1]!.headers.urgency, 'normal');
  await sleep(QUIET);
  assert.equal(annSub.received.length, 0, 'an online member (and the sender) is not notified');
  assert.equal(catSub.received.length, 0, 'the sender is not notified');
  assert.equal(hooksFor(ann.id).length + hooksFor(cat.id).length, 0);
  assert.ok(await metric(base(), 'relay_push_sent_total', 'via="webpush"') >= 2);
  assert.ok(await metric(base(), 'relay_push_sent_total', 'via="webhook"') >= 2);
  assert.ok(await metric(base(), 'relay_push_delivery_seconds_count') >= 4, 'delivery latency observed');
  const text = (await http<string>(base(), 'GET', '/metrics')).body;
  assert.match(text, /^relay_push_queue_depth \d+$/m);
});

test('a message of files only is previewed by its first file\'s name', async () => {
  const dan = await signUp(base(), 'Dan');
  const eve = await signUp(base(), 'Eve');
  const eveSub = service.subscribe();
  await subscribe(base(), eve, eveSub);
  const file = await upload(base(), dan.token, 'plan.pdf', pdf());
  assert.equal(file.status, 201);
  const d = await fx.connect(dan);
  const m = await ok(d, 'privateMessage', { receiverId: eve.id, content: '', attachments: [file.body.id] });
  await received(eveSub, 1);
  assert.equal(eveSub.received[0]!.payload.id, m.id);
  assert.equal(eveSub.received[0]!.payload.preview, 'plan.pdf');
});

test('a user whose last socket just closed is notified (no presence grace here); a user with a socket is not', async () => {
  const ann = await signUp(base(), 'Ana');
  const bob = await signUp(base(), 'Bo');
  const bobSub = service.subscribe();
  await subscribe(base(), bob, bobSub);
  const a = await fx.connect(ann);
  const b = await fx.connect(bob);
  await ok(a, 'privateMessage', { receiverId: bob.id, content: 'while you are here' });
  await sleep(QUIET);
  assert.equal(bobSub.received.length, 0, 'connected: no notification');

  await b.close();
  await sleep(300);
  // Presence still shows Bob online (the 10 s grace); notifications do not wait for it.
  const [p] = await ok(a, 'getPresence', { userIds: [bob.id] });
  assert.equal(p.online, true);
  const m = await ok(a, 'privateMessage', { receiverId: bob.id, content: 'gone?' });
  await received(bobSub, 1);
  assert.equal(bobSub.received[0]!.payload.id, m.id);
  assert.equal(bobSub.received[0]!.payload.unreadCount, 2);
});

test('folding: the first goes at once, a burst within 5 s (here 1.5 s) goes as one notification of the newest, when the window is over', async () => {
  const ann = await signUp(base(), 'Fay');
  const bob = await signUp(base(), 'Gus');
  const bobSub = service.subscribe();
  await subscribe(base(), bob, bobSub);
  const a = await fx.connect(ann);
  const folded0 = await metric(base(), 'relay_push_dropped_total', 'reason="folded"');

  const t0 = Date.now();
  const m1 = await ok(a, 'privateMessage', { receiverId: bob.id, content: 'one' });
  await received(bobSub, 1);
  assert.ok(bobSub.received[0]!.at - t0 < 2000, 'after a quiet spell: within 2 s');
  assert.equal(bobSub.received[0]!.payload.id, m1.id);
  await ok(a, 'privateMessage', { receiverId: bob.id, content: 'two' });
  await ok(a, 'privateMessage', { receiverId: bob.id, content: 'three' });
  const m4 = await ok(a, 'privateMessage', { receiverId: bob.id, content: 'four' });
  await received(bobSub, 2);
  const second = bobSub.received[1]!;
  assert.ok(second.at - bobSub.received[0]!.at >= 1400, `the further one waits for the window (${second.at - bobSub.received[0]!.at} ms)`);
  assert.deepEqual([second.payload.id, second.payload.preview, second.payload.unreadCount], [m4.id, 'four', 4]);
  await sleep(2000);
  assert.equal(bobSub.received.length, 2, 'no message is notified twice, nothing else comes');
  assert.ok(await metric(base(), 'relay_push_dropped_total', 'reason="folded"') >= folded0 + 2);
});

test('a notification not yet sent is dropped when the recipient reads up to its message meanwhile', async () => {
  const ann = await signUp(base(), 'Hal');
  const bob = await signUp(base(), 'Ivy');
  const bobSub = service.subscribe();
  await subscribe(base(), bob, bobSub);
  const a = await fx.connect(ann);
  const read0 = await metric(base(), 'relay_push_dropped_total', 'reason="read"');
  await ok(a, 'privateMessage', { receiverId: bob.id, content: 'first' });
  await received(bobSub, 1);
  const m2 = await ok(a, 'privateMessage', { receiverId: bob.id, content: 'second' });
  // Waiting for the window: Bob reads it on another device (that opens and closes a socket).
  await sleep(200);
  const b = await fx.connect(bob);
  await ok(b, 'markRead', { receiverId: ann.id, messageId: m2.id });
  await b.close();
  await sleep(2000);
  assert.equal(bobSub.received.length, 1, 'the read message is not notified');
  assert.equal(await metric(base(), 'relay_push_dropped_total', 'reason="read"'), read0 + 1);
});

test('a muted conversation does not notify; unmuted, or once the mute ran out, it does', async () => {
  const ann = await signUp(base(), 'Jo');
  const bob = await signUp(base(), 'Kim');
  const bobSub = service.subscribe();
  await subscribe(base(), bob, bobSub);
  const a = await fx.connect(ann);
  const g = await ok(a, 'newGroup', { groupName: 'Loud' });
  await ok(a, 'addUserInGroup', { groupId: g.groupId, userId: bob.id });
  const b = await fx.connect(bob);
  await ok(b, 'muteConversation', { groupId: g.groupId });
  await ok(b, 'muteConversation', { receiverId: ann.id, until: new Date(Date.now() + 2500).toISOString() });
  await b.close();
  await sleep(300);
  await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'muted group' });
  await ok(a, 'privateMessage', { receiverId: bob.id, content: 'muted dialog' });
  await sleep(QUIET);
  assert.equal(bobSub.received.length, 0, 'muted: nothing');

  await sleep(2000);
  const d = await ok(a, 'privateMessage', { receiverId: bob.id, content: 'mute ran out' });
  await received(bobSub, 1);
  assert.equal(bobSub.received[0]!.payload.id, d.id);

  const b2 = await fx.connect(bob);
  await ok(b2, 'unmuteConversation', { groupId: g.groupId });
  await b2.close();
  await sleep(300);
  const gm = await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'unmuted' });
  await received(bobSub, 2);
  assert.equal(bobSub.received[1]!.payload.id, gm.id);
});

test('subscriptions: the same endpoint updates, at most 10 per account (the oldest goes), DELETE stops them, validation and SSRF refusals', async () => {
  const ann = await signUp(base(), 'Lou');
  const bob = await signUp(base(), 'Max');
  const subs = Array.from({ length: 11 }, () => service.subscribe());
  const first = await subscribe(base(), bob, subs[0]!);
  assert.equal(await subscribe(base(), bob, subs[0]!), first, 'the same endpoint again: the same subscription');
  for (const s of subs.slice(1)) await subscribe(base(), bob, s);
  const gone = await http(base(), 'DELETE', '/push/subscriptions', { token: bob.token, body: { endpoint: subs[10]!.endpoint } });
  assert.equal(gone.status, 204);

  const a = await fx.connect(ann);
  await ok(a, 'privateMessage', { receiverId: bob.id, content: 'to every device' });
  for (const s of subs.slice(1, 10)) await received(s, 1);
  await sleep(QUIET);
  assert.equal(subs[0]!.received.length, 0, 'the oldest of 11 was dropped');
  assert.equal(subs[10]!.received.length, 0, 'a deleted subscription gets nothing');

  const bad = (endpoint: unknown, keys: unknown = subs[1]!.keys) =>
    http(base(), 'POST', '/push/subscriptions', { token: ann.token, body: { endpoint, keys } });
  for (const endpoint of ['https://evil.example.com/push', 'http://localhost:9/push', 'http://127.0.0.2/push', 'ftp://127.0.0.1/x',
    'http://user:pw@127.0.0.1/x', 'not a url', 'https://fcm.googleapis.com.evil.example/x']) {
    assertHttpError(await bad(endpoint), 400, 'VALIDATION', { what: endpoint });
  }
  assertHttpError(await bad(`${service.origin}/x`, { p256dh: 'short', auth: subs[1]!.keys.auth }), 400, 'VALIDATION');
  assertHttpError(await bad(`${service.origin}/x`, null), 400, 'VALIDATION');
  assertHttpError(await http(base(), 'POST', '/push/subscriptions', { body: { endpoint: subs[1]!.endpoint, keys: subs[1]!.keys } }), 401, 'UNAUTHORIZED');
  assertHttpError(await http(base(), 'DELETE', '/push/subscriptions', { body: { endpoint: subs[1]!.endpoint } }), 401, 'UNAUTHORIZED');
});

test('a password change, or the account\'s deletion, deletes the account\'s subscriptions', async () => {
  const ann = await signUp(base(), 'Ned');
  const bob: Account = await signUp(base(), 'Oda');
  const cat: Account = await signUp(base(), 'Pia');
  const g = await ok(await fx.connect(ann), 'newGroup', { groupName: 'Gone' });
  const bobSub = service.subscribe();
  const catSub = service.subscribe();
  await subscribe(base(), bob, bobSub);
  await subscribe(base(), cat, catSub);
  const res = await http(base(), 'PATCH', '/profile/password', { token: bob.token, body: { oldPassword: bob.password, newPassword: 'another-password-1' } });
  assert.equal(res.status, 200);
  assert.equal((await http(base(), 'DELETE', '/profile', { token: cat.token })).status, 200);
  const a = await fx.connect(ann);
  await ok(a, 'privateMessage', { receiverId: bob.id, content: 'anyone?' });
  await ok(a, 'messageInGroup', { groupId: g.groupId, content: 'anyone here?' });
  await sleep(QUIET);
  assert.equal(bobSub.received.length, 0);
  assert.equal(catSub.received.length, 0);
  // The endpoint of a deleted subscription may be registered again (by whoever holds it).
  assert.equal((await http(base(), 'POST', '/push/subscriptions', { token: ann.token, body: { endpoint: catSub.endpoint, keys: catSub.keys } })).status, 201);
});

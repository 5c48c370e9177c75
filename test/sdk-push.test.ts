// The SDK's v1.2 notification parts against a real server: getPushKey, subscribePush /
// unsubscribePush (a notification reaches the subscription, then no more), mute / unmute with
// their events on the other devices and the chat list's muted / mutedUntil.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError, RelayHttp } from 'relay-client';
import { signUp, sleep } from './helpers/client.js';
import { useRelay } from './helpers/protocol.js';
import { sdk, Recorder } from './helpers/sdk.js';
import { startPushService } from './helpers/pushService.js';
import { pushEnv, received } from './helpers/push.js';

const service = await startPushService();
const fx = useRelay('sdk_push', pushEnv());
after(() => service.close());

test('getPushKey, subscribePush, unsubscribePush', async () => {
  const api = new RelayHttp(fx.relay.http);
  service.publicKey = await api.getPushKey();
  assert.match(service.publicKey, /^[\w-]{87}$/);
  const ann = await signUp(fx.relay.http, 'Ann');
  const bob = await signUp(fx.relay.http, 'Bob');
  const sub = service.subscribe();
  const { id } = await api.subscribePush(bob.token, { endpoint: sub.endpoint, keys: sub.keys });
  assert.ok(Number.isInteger(id));
  const bad = await api.subscribePush(bob.token, { endpoint: 'https://evil.example/x', keys: sub.keys }).catch((e: unknown) => e);
  assert.ok(bad instanceof RelayError && bad.code === 'VALIDATION' && bad.status === 400);

  const a = sdk(fx.relay.ws, ann.token);
  await a.connect();
  const m = await a.sendPrivate(bob.id, 'ping');
  await received(sub, 1);
  assert.equal(sub.received[0]!.payload.id, m.id);

  await api.unsubscribePush(bob.token, sub.endpoint);
  await sleep(1700);
  await a.sendPrivate(bob.id, 'pong');
  await sleep(800);
  assert.equal(sub.received.length, 1, 'no notification after unsubscribePush');
});

test('mute and unmute: replies, events on the other device, the chat list', async () => {
  const ann = await signUp(fx.relay.http, 'Cy');
  const bob = await signUp(fx.relay.http, 'Di');
  const a1 = sdk(fx.relay.ws, ann.token);
  const a2 = sdk(fx.relay.ws, ann.token);
  const rec = new Recorder(a2, ['muteConversation', 'unmuteConversation']);
  await Promise.all([a1.connect(), a2.connect()]);
  await a1.sendPrivate(bob.id, 'hello');
  const until = new Date(Date.now() + 8 * 3_600_000);
  const muted = await a1.mute({ receiverId: bob.id }, until);
  assert.deepEqual(muted, { receiverId: bob.id, groupId: null, muted: true, mutedUntil: until.toISOString() });
  const ev = await rec.wait('muteConversation');
  assert.deepEqual(ev.data, muted);
  assert.equal(ev.senderName, 'Cy');
  const [row] = await a1.listChats();
  assert.deepEqual([row!.muted, row!.mutedUntil], [true, until.toISOString()]);
  const un = await a1.unmute({ receiverId: bob.id });
  assert.deepEqual(un, { receiverId: bob.id, groupId: null, muted: false, mutedUntil: null });
  assert.deepEqual((await rec.wait('unmuteConversation')).data, un);
  assert.deepEqual(await a1.mute({ receiverId: bob.id }), { receiverId: bob.id, groupId: null, muted: true, mutedUntil: null }, 'for ever');
});

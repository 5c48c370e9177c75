// Notifications when push services misbehave (PROTOCOL.md v1.2): 500 then 201 (retried, delivered
// once), 429 with Retry-After (honoured), 410 (the subscription is deleted), a service that never
// answers (timed out and retried; sends are not slowed), a redirect (not followed), an endless
// body (not read past a small limit). Counted in /metrics.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { http, signUp, sleep, type Client } from './helpers/client.js';
import { useRelay, ok } from './helpers/protocol.js';
import { startPushService, type TestSubscription } from './helpers/pushService.js';
import { metric, pushEnv, received, subscribe } from './helpers/push.js';
import { eventually } from './helpers/kit.js';

const service = await startPushService();
// PUSH_CONCURRENCY 4: a hanging service fills the slots; sends must not notice.
const fx = useRelay('push_failures', pushEnv({ PUSH_CONCURRENCY: '4', PUSH_TIMEOUT_MS: '2000' }), async (f) => {
  service.publicKey = (await http(f.relay.http, 'GET', '/push/key')).body.publicKey;
});
const base = (): string => fx.relay.http;
after(() => service.close());

/** A fresh offline recipient with one subscription, and a connected sender. */
async function pair(script: TestSubscription['script'], then?: TestSubscription['then']): Promise<{ sub: TestSubscription; send: (content: string) => Promise<any>; sender: Client; bobId: number }> {
  const ann = await signUp(base(), 'Ann');
  const bob = await signUp(base(), 'Bob');
  const sub = service.subscribe();
  sub.script = script;
  if (then) sub.then = then;
  await subscribe(base(), bob, sub);
  const sender = await fx.connect(ann);
  return { sub, sender, bobId: bob.id, send: (content) => ok(sender, 'privateMessage', { receiverId: bob.id, content }) };
}

test('500 then 201: retried with backoff, delivered once', async () => {
  const retried0 = await metric(base(), 'relay_push_retried_total');
  const { sub, send } = await pair([{ status: 500 }, { status: 503, body: 'busy' }]);
  const m = await send('try again');
  await received(sub, 3);
  await sleep(800);
  assert.equal(sub.received.length, 3, 'nothing after the 201');
  for (const r of sub.received) assert.equal(r.payload.id, m.id);
  assert.ok(sub.received[2]!.at - sub.received[1]!.at >= 100, 'a backoff between attempts');
  assert.ok(await metric(base(), 'relay_push_retried_total') >= retried0 + 2);
});

test('429 with Retry-After: the next attempt waits for it', async () => {
  const { sub, send } = await pair([{ status: 429, retryAfter: '2' }]);
  await send('slow down');
  await received(sub, 2, 6000);
  const gap = sub.received[1]!.at - sub.received[0]!.at;
  assert.ok(gap >= 1900, `waited ${gap} ms for a Retry-After of 2 s`);
});

test('410: the subscription is deleted and gets nothing more', async () => {
  const gone0 = await metric(base(), 'relay_push_failed_total', 'reason="gone"');
  const { sub, send } = await pair([{ status: 410 }]);
  await send('are you there');
  await received(sub, 1);
  await eventually('counted as gone', async () => (await metric(base(), 'relay_push_failed_total', 'reason="gone"')) === gone0 + 1);
  await sleep(1800);
  await send('after the fold window');
  await sleep(1000);
  assert.equal(sub.received.length, 1, 'nothing posted to a deleted subscription');
});

test('a service that never answers: each attempt times out and is retried, and sends are not slowed', async () => {
  const hung = await Promise.all(Array.from({ length: 6 }, () => pair([], { hang: true })));
  await Promise.all(hung.map((h) => h.send('into the void')));
  await eventually('every slot holds a hanging request', () => hung.reduce((n, h) => n + h.sub.received.length, 0) >= 4);
  // All 4 delivery slots hang now: sending stays as fast as ever.
  const { sender } = hung[0]!;
  const other = await signUp(base(), 'Zed');
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) await ok(sender, 'privateMessage', { receiverId: other.id, content: `quick ${i}` });
  const perSend = (performance.now() - t0) / 20;
  assert.ok(perSend < 100, `a send took ${perSend.toFixed(1)} ms on average while pushes hang`);
  // Timed out after 2 s, given up by the server, and tried again.
  await eventually('a hanging request was abandoned and retried', () => hung.some((h) => h.sub.abandoned >= 1 && h.sub.received.length >= 2), { timeoutMs: 12_000 });
  for (const h of hung) h.sub.then = { status: 201 };
});

test('a redirect is not followed; an endless body is not read to its end', async () => {
  const refused0 = await metric(base(), 'relay_push_failed_total', 'reason="refused"');
  const r = await pair([{ redirectTo: `${service.origin}/elsewhere` }]);
  await r.send('go elsewhere');
  await received(r.sub, 1);
  await eventually('the 307 counted as a refusal', async () => (await metric(base(), 'relay_push_failed_total', 'reason="refused"')) >= refused0 + 1);
  assert.deepEqual(service.strays, [], 'the redirect target was never requested');

  const sent0 = await metric(base(), 'relay_push_sent_total', 'via="webpush"');
  const e = await pair([{ endlessBody: true }]);
  await e.send('talkative service');
  await received(e.sub, 1);
  await eventually('the endless answer was cut (its connection closed)', () => e.sub.cut === 1, { timeoutMs: 10_000 });
  assert.ok(await metric(base(), 'relay_push_sent_total', 'via="webpush"') >= sent0 + 1);
  // Read to its end it would have run into the 2 s timeout: a network error, retried. It was not.
  await sleep(2500);
  assert.equal(e.sub.received.length, 1, 'a 201 with a long body is a delivery, not a failure');
});

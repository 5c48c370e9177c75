// The protocol's bounds as the SDK meets them, against a real server: a request that can never be
// accepted (content over 4096 code points, a frame over 64 KiB) rejects at once with a clear
// RelayError and never leaves the client; and when the server does close a socket with 1009, the
// frame that caused it is rejected, never resent (it would close the socket again, forever).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RelayError, type RelayClient } from 'relay-client';
import { signUp } from './helpers/client.js';
import { useRelay } from './helpers/protocol.js';
import { sdk, Recorder } from './helpers/sdk.js';

const fx = useRelay('sdk_limits', { AUTH_RATE_PER_MINUTE: '100000' });

async function rejection(p: Promise<unknown>): Promise<{ err: RelayError; ms: number }> {
  const start = Date.now();
  const err = await p.then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  assert.ok(err instanceof RelayError, `a RelayError, got ${String(err)}`);
  return { err, ms: Date.now() - start };
}

const contents = async (c: RelayClient, peer: number): Promise<string[]> =>
  (await c.dialogHistory(peer, { limit: 100 })).map((m) => m.content).reverse();

test('over the protocol bounds: rejected at once with VALIDATION or PAYLOAD_TOO_LARGE, nothing sent, the socket stays open', async () => {
  const a = await signUp(fx.relay.http, 'Big');
  const b = await signUp(fx.relay.http, 'Small');
  // A short send timeout: without the checks the 70,000 characters would be retried until it.
  const c = sdk(fx.relay.ws, a.token, { sendTimeoutMs: 4000, requestTimeoutMs: 4000 });
  const rec = new Recorder(c, ['state', 'reconnecting']);
  await c.connect();

  const huge = await rejection(c.sendPrivate(b.id, 'x'.repeat(70_000)));
  assert.equal(huge.err.code, 'VALIDATION', huge.err.message);
  assert.equal(huge.err.type, 'privateMessage');
  assert.match(huge.err.message, /content is 70000 code points; at most 4096/);
  assert.ok(huge.ms < 500, `at once, not after retries (${huge.ms} ms)`);
  assert.equal(c.queuedSends, 0, 'not queued');

  // Lengths count code points: 4096 emoji (8192 UTF-16 units) are accepted, 4097 are not.
  const emoji = '😀'.repeat(4096);
  assert.equal((await c.sendToGroup((await c.createGroup('Bounds')).groupId, emoji)).content, emoji);
  assert.equal((await rejection(c.sendPrivate(b.id, `${emoji}😀`))).err.code, 'VALIDATION');
  const sent = await c.sendPrivate(b.id, 'fits');
  assert.equal((await rejection(c.editMessage(sent.id, 'y'.repeat(5000)))).err.code, 'VALIDATION');
  assert.equal((await rejection(c.sendPrivate(b.id, 'ok', { clientMessageId: 'k'.repeat(65) }))).err.code, 'VALIDATION');

  // A frame over 64 KiB whatever its content (here a read): PAYLOAD_TOO_LARGE, at once.
  const frame = await rejection(c.getPresence(Array.from({ length: 9000 }, (_, i) => i + 1_000_000_000)));
  assert.equal(frame.err.code, 'PAYLOAD_TOO_LARGE', frame.err.message);
  assert.match(frame.err.message, /getPresence frame is \d+ bytes; the server takes at most 65536/);
  assert.ok(frame.ms < 500);

  assert.deepEqual(rec.all('reconnecting'), [], 'the socket was never closed');
  assert.equal(c.state, 'open');
  assert.deepEqual(await contents(c, b.id), ['fits'], 'only what fits was sent');
});

test('1009: the frame the server refused is rejected with PAYLOAD_TOO_LARGE and not resent; the sends beside it are stored once', async () => {
  const a = await signUp(fx.relay.http, 'Over');
  const b = await signUp(fx.relay.http, 'Peer');
  // A client that believes the server takes more than it does (e.g. configured for another
  // server): its frames over 64 KiB reach this one, which closes the socket with 1009.
  const c = sdk(fx.relay.ws, a.token, { sendTimeoutMs: 5000, limits: { contentCodePoints: 1_000_000, frameBytes: 10_000_000 } });
  const rec = new Recorder(c, ['reconnecting', 'open']);
  await c.connect();

  const before = c.sendPrivate(b.id, 'before');
  const huge = rejection(c.sendPrivate(b.id, 'x'.repeat(70_000)));
  const after = c.sendPrivate(b.id, 'after');
  const { err } = await huge;
  assert.equal(err.code, 'PAYLOAD_TOO_LARGE', err.message);
  assert.match(err.message, /closed the connection \(1009\)/);
  await Promise.all([before, after]);
  await rec.wait('open', (e) => e.reconnected);

  // One 1009 and no more: had the frame been resent, the socket would close again at each open.
  assert.deepEqual(rec.all('reconnecting').map((e) => e.code), [1009]);
  assert.deepEqual(await contents(c, b.id), ['before', 'after'], 'each stored once, the refused one never');
  assert.deepEqual(rec.all('reconnecting').map((e) => e.code), [1009], 'still one close after a round trip');
  assert.equal(c.queuedSends, 0);
  assert.equal(c.state, 'open');
});

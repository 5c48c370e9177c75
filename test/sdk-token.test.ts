// Token renewal against a real server whose tokens live 3 s: the README's getToken (a refresh of
// the current token, which needs it still valid) keeps a client signed in across expiries, asked
// ahead of each one; a getToken that fails ends in a clear state instead of a silent loop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readToken, RelayError, RelayHttp } from 'relay-client';
import { signUp, sleep } from './helpers/client.js';
import { useRelay } from './helpers/protocol.js';
import { sdk, Recorder } from './helpers/sdk.js';

const fx = useRelay('sdk_token', { AUTH_RATE_PER_MINUTE: '100000', JWT_TTL: '3' });

test('the README\'s getToken, http.refresh(current), keeps the client signed in across expiries; sends go on, each stored once', async () => {
  const a = await signUp(fx.relay.http, 'Renewer');
  const b = await signUp(fx.relay.http, 'Partner');
  const http = new RelayHttp(fx.relay.http);
  const { token } = await http.login({ email: a.email, password: a.password });
  /** For each call: how long before the current token's expiry getToken was asked. */
  const aheadMs: number[] = [];
  const c = sdk(fx.relay.ws, token, {
    getToken: async (current) => {
      aheadMs.push(readToken(current).exp! * 1000 - Date.now());
      return (await http.refresh(current)).token;
    },
  });
  const rec = new Recorder(c, ['reconnecting', 'open', 'closed', 'error']);
  await c.connect();

  // About 8 s: two or three expiries of a 3 s token, with sends before, across and after each.
  const sent: string[] = [];
  const deadline = Date.now() + 8000;
  for (let i = 1; Date.now() < deadline; i++) {
    sent.push(`m${i}`);
    await c.sendPrivate(b.id, `m${i}`);
    await sleep(200);
  }

  assert.deepEqual(rec.all('error'), [], 'getToken never failed');
  assert.deepEqual(rec.all('closed'), []);
  const expiries = rec.all('reconnecting').filter((e) => e.code === 4001).length;
  assert.ok(expiries >= 2, `the token expired under the client at least twice (${expiries})`);
  assert.ok(aheadMs.length >= expiries, `getToken asked for each expiry (${aheadMs.length} calls)`);
  assert.ok(aheadMs.every((ms) => ms > 0), `asked while the token was still valid: ${aheadMs.map((ms) => Math.round(ms)).join(', ')} ms ahead`);
  assert.notEqual(c.token, token, 'the client uses the renewed token');
  assert.equal(c.state, 'open');
  const history = (await c.dialogHistory(b.id, { limit: 100 })).map((m) => m.content).reverse();
  assert.deepEqual(history, sent, 'every send stored once, in order');
});

test('a getToken that fails: an error event, closed 4001, and the sends waiting reject instead of hanging', async () => {
  const a = await signUp(fx.relay.http, 'Stranded');
  const b = await signUp(fx.relay.http, 'Waiter');
  const http = new RelayHttp(fx.relay.http);
  let asked = 0;
  // Logging in again with a password changed elsewhere, say: it cannot succeed by retrying.
  const c = sdk(fx.relay.ws, a.token, {
    getToken: async () => { asked++; return (await http.login({ email: a.email, password: 'not-the-password' })).token; },
  });
  const rec = new Recorder(c, ['reconnecting', 'closed', 'error', 'connecting']);
  let waiting: Promise<unknown> | undefined;
  // A send made the moment the socket drops (4001) waits in the queue for the reconnect.
  c.on('reconnecting', () => { waiting ??= c.sendPrivate(b.id, 'while offline').catch((e: unknown) => e); });
  await c.connect();

  const closed = await rec.wait('closed', () => true, 8000);
  assert.equal(closed.code, 4001);
  assert.match(closed.reason, /^getToken failed: /);
  assert.equal(c.state, 'closed');
  const errors = rec.all('error');
  assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'UNAUTHORIZED'), JSON.stringify(errors.map((e) => [e.code, e.message])));
  assert.ok(waiting, 'a send was made while reconnecting');
  const err = await waiting;
  assert.ok(err instanceof RelayError, `rejected, got ${String(err)}`);
  assert.equal(err.code, 'UNAUTHORIZED', err.message);
  assert.match(err.message, /getToken failed/);
  assert.equal(c.queuedSends, 0);

  // And it stays closed: no reconnect attempts, no more getToken calls.
  const [connects, calls] = [rec.all('connecting').length, asked];
  await sleep(1500);
  assert.equal(rec.all('connecting').length, connects);
  assert.equal(asked, calls);
});

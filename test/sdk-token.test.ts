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

/** Logging in again with a password changed elsewhere, say: a getToken that cannot succeed by retrying. */
const failingGetToken = (http: RelayHttp, email: string, calls: { n: number }) => async (): Promise<string> => {
  calls.n++;
  return (await http.login({ email, password: 'not-the-password' })).token;
};

test('a getToken that fails after a 4001: an error event, closed 4001, and the sends waiting reject instead of hanging', async () => {
  // Tokens of 5 s here: the client opens with this one (more than the 2 s margin left) before it expires.
  const five = await fx.startAnother({ DATABASE_URL: fx.db.url, AUTH_RATE_PER_MINUTE: '100000', JWT_TTL: '5' });
  const http = new RelayHttp(five.http);
  const b = await signUp(five.http, 'Waiter');
  const a = await signUp(five.http, 'Stranded');
  const calls = { n: 0 };
  const c = sdk(five.ws, a.token, { getToken: failingGetToken(http, a.email, calls) });
  const rec = new Recorder(c, ['reconnecting', 'closed', 'error', 'connecting', 'open']);
  let waiting: Promise<unknown> | undefined;
  // A send made the moment the socket drops (4001) waits in the queue for the reconnect.
  c.on('reconnecting', () => { waiting ??= c.sendPrivate(b.id, 'while offline').catch((e: unknown) => e); });
  await c.connect();

  const closed = await rec.wait('closed', () => true, 10_000);
  assert.equal(closed.code, 4001);
  assert.match(closed.reason, /^getToken failed: /);
  assert.equal(c.state, 'closed');
  assert.deepEqual(rec.all('reconnecting').map((e) => e.code), [4001], 'closed by the server once, then no retry');
  const errors = rec.all('error');
  assert.ok(errors.length >= 1 && errors.every((e) => e.code === 'UNAUTHORIZED'), JSON.stringify(errors.map((e) => [e.code, e.message])));
  assert.ok(waiting, 'a send was made while reconnecting');
  const err = await waiting;
  assert.ok(err instanceof RelayError, `rejected, got ${String(err)}`);
  assert.equal(err.code, 'UNAUTHORIZED', err.message);
  assert.match(err.message, /getToken failed/);
  assert.equal(c.queuedSends, 0);

  // And it stays closed: no reconnect attempts, no more getToken calls.
  const [connects, asked] = [rec.all('connecting').length, calls.n];
  await sleep(1500);
  assert.equal(rec.all('connecting').length, connects);
  assert.equal(calls.n, asked);
});

test('a getToken that fails when the token expired before connecting: connect and the queued send reject at once', async () => {
  const a = await signUp(fx.relay.http, 'Late');
  const b = await signUp(fx.relay.http, 'Other');
  const calls = { n: 0 };
  const c = sdk(fx.relay.ws, a.token, { getToken: failingGetToken(new RelayHttp(fx.relay.http), a.email, calls) });
  const rec = new Recorder(c, ['closed', 'error', 'connecting']);
  const queued = c.sendPrivate(b.id, 'queued before connecting').catch((e: unknown) => e);
  await sleep(readToken(a.token).exp! * 1000 + 100 - Date.now());

  // Bounded: a client looping on getToken would leave connect pending for ever.
  const timeout = new Promise((resolve) => setTimeout(() => resolve(new Error('connect still pending after 10 s')), 10_000).unref());
  const refused = await Promise.race([c.connect().then(() => new Error('connect resolved'), (e: unknown) => e), timeout]);
  assert.ok(refused instanceof RelayError && refused.code === 'CLOSED', String(refused));
  const err = await queued;
  assert.ok(err instanceof RelayError && err.code === 'UNAUTHORIZED', String(err));
  assert.deepEqual(rec.all('closed').map((e) => e.code), [4001]);
  assert.equal(rec.all('error').length, 1);
  assert.equal(calls.n, 1);
  await sleep(500);
  assert.equal(rec.all('connecting').length, 1, 'no retry');
});

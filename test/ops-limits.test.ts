// Issue #6, limits: per-connection request rate, login attempts, connections per user, idle
// sockets, request body and header sizes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { Client, http, signUp, sleep } from './helpers/client.js';
import { RawSocket } from './helpers/raw-ws.js';

const IDLE_SECONDS = 8;
const RATE = 5;
const BURST = 10;
const MAX_CONNECTIONS = 3;
const MAX_BODY = 1024;
const AUTH_PER_MINUTE = 3;

let db: TestDatabase;
let relay: RelayProcess;
let authRelay: RelayProcess;
before(async () => {
  db = await createTestDatabase('ops_limits');
  [relay, authRelay] = await Promise.all([
    startRelay({
      DATABASE_URL: db.url, WS_RATE_PER_SECOND: String(RATE), WS_RATE_BURST: String(BURST),
      MAX_CONNECTIONS_PER_USER: String(MAX_CONNECTIONS), WS_IDLE_TIMEOUT: String(IDLE_SECONDS),
      MAX_BODY_BYTES: String(MAX_BODY), AUTH_RATE_PER_MINUTE: '1000',
    }),
    // Its own process: the login limits count per IP too, and every test here comes from 127.0.0.1.
    startRelay({ DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: String(AUTH_PER_MINUTE) }),
  ]);
});
after(async () => {
  await relay?.stop();
  await authRelay?.stop();
  await db?.drop();
});


/** Sends raw bytes on a fresh TCP connection; resolves with what came back before the server closed (or 3 s passed). */
async function rawHttp(port: number, payload: string | Buffer): Promise<{ text: string; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let closed = false;
  socket.on('data', (d: Buffer) => { text += d.toString('latin1'); });
  socket.on('error', () => undefined);
  const done = new Promise<void>((resolve) => socket.once('close', () => { closed = true; resolve(); }));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(payload);
  await Promise.race([done, sleep(3000)]);
  socket.destroy();
  return { text, closed };
}

test('a burst over WS_RATE_BURST gets RATE_LIMITED with retryAfterMs and the requestId; hammering on closes with 1008', async () => {
  const a = await signUp(relay.http, 'Hammer');
  const c = await Client.connect(relay.ws, a.token);
  const replies = await Promise.all(Array.from({ length: 30 }, () => c.request('listLastMessage', {})));
  const ok = replies.filter((r) => r.success === true);
  const limited = replies.filter((r) => r.code === 'RATE_LIMITED');
  assert.ok(ok.length >= BURST && ok.length <= BURST + 1, `${ok.length} of 30 passed the bucket`);
  assert.equal(ok.length + limited.length, 30);
  for (const r of limited) {
    assert.equal(r.error, true);
    assert.equal(r.type, 'listLastMessage');
    assert.equal(typeof r.retryAfterMs, 'number');
    assert.ok(r.retryAfterMs > 0 && r.retryAfterMs <= 1000, `retryAfterMs ${r.retryAfterMs}`);
  }
  // Replies keep request order, refused ones included, and each carries its own requestId.
  assert.deepEqual(replies.map((r) => r.requestId), Array.from({ length: 30 }, (_, i) => i + 1));

  // A client that ignores the answer and keeps going is closed with 1008.
  for (let i = 0; i < 200 && c.closeCode === undefined; i++) c.sendRaw(JSON.stringify({ type: 'listLastMessage', params: {}, requestId: `h${i}` }));
  const code = await Promise.race([c.closed, sleep(5000).then(() => 'still open')]);
  assert.equal(code, 1008);
  const metrics = String((await http(relay.http, 'GET', '/metrics')).body);
  assert.match(metrics, /relay_rate_limited_total\{kind="ws"\} [1-9]/);
});

test('a client that waits retryAfterMs is served again and stays connected', async () => {
  const a = await signUp(relay.http, 'Polite');
  const c = await Client.connect(relay.ws, a.token);
  const replies = await Promise.all(Array.from({ length: BURST + 3 }, () => c.request('listLastMessage', {})));
  const refused = replies.find((r) => r.code === 'RATE_LIMITED');
  assert.ok(refused, 'the bucket ran dry');
  for (let i = 0; i < 3; i++) {
    await sleep(refused.retryAfterMs + 20);
    assert.equal((await c.request('listLastMessage', {})).success, true);
  }
  assert.equal(c.closeCode, undefined);
  await c.close();
});

test('login attempts per email, then per IP, answer 429 with Retry-After', async () => {
  const a = await signUp(authRelay.http, 'Target'); // one attempt on this email and this IP
  const login = (email: string, password: string) => http(authRelay.http, 'POST', '/auth/login', { body: { email, password } });
  for (let i = 1; i < AUTH_PER_MINUTE; i++) assert.equal((await login(a.email, 'wrong password')).status, 401);
  for (const email of [a.email, a.email.toUpperCase()]) {
    // Past the limit even the right password is refused: the limit is what stops guessing.
    const res = await login(email, a.password);
    assert.equal(res.status, 429);
    assert.equal(res.body.code, 'RATE_LIMITED');
    assert.equal(res.body.error, true);
    const retryAfter = Number(res.headers.get('retry-after'));
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60, `Retry-After: ${res.headers.get('retry-after')}`);
  }
  // Another email from the same IP is not limited by that one's count...
  assert.equal((await login(`other.${randomBytes(4).toString('hex')}@example.com`, 'whatever1')).status, 401);
  // ...but the IP has its own limit, five times the per-email one; sign-up shares it.
  let attempts = AUTH_PER_MINUTE + 3;
  let status = 0;
  while (attempts < AUTH_PER_MINUTE * 5 + 2 && status !== 429) {
    status = (await login(`spray.${randomBytes(4).toString('hex')}@example.com`, 'whatever1')).status;
    attempts++;
  }
  assert.equal(status, 429, `no 429 after ${attempts} attempts from one IP`);
  const signUpRes = await http(authRelay.http, 'POST', '/auth/sign-up', { body: { email: `late.${randomBytes(4).toString('hex')}@example.com`, password: 'password123', firstName: 'Late' } });
  assert.equal(signUpRes.status, 429);
  assert.ok(Number(signUpRes.headers.get('retry-after')) >= 1);
  const metrics = String((await http(authRelay.http, 'GET', '/metrics')).body);
  assert.match(metrics, /relay_rate_limited_total\{kind="auth"\} [1-9]/);
});

test('MAX_CONNECTIONS_PER_USER: the upgrade past it gets 429; closing one makes room', async () => {
  const a = await signUp(relay.http, 'Many');
  const open: Client[] = [];
  for (let i = 0; i < MAX_CONNECTIONS; i++) open.push(await Client.connect(relay.ws, a.token));
  await assert.rejects(Client.connect(relay.ws, a.token), (err: { status?: number }) => err.status === 429);
  await assert.rejects(Client.connect(relay.ws, a.token, 'protocol'), (err: { status?: number }) => err.status === 429);
  // Another account is not affected.
  const b = await signUp(relay.http, 'Other');
  await (await Client.connect(relay.ws, b.token)).close();
  await open.pop()!.close();
  await sleep(50);
  open.push(await Client.connect(relay.ws, a.token));
  assert.equal((await open[0]!.request('listLastMessage', {})).success, true);
  for (const c of open) await c.close();
});

test('request bodies past MAX_BODY_BYTES get 413, announced or streamed', async () => {
  const big = JSON.stringify({ email: 'x@example.com', password: 'p'.repeat(MAX_BODY) });
  const announced = await http(relay.http, 'POST', '/auth/login', { raw: big, headers: { 'content-type': 'application/json' } });
  assert.equal(announced.status, 413);
  assert.equal(announced.body.code, 'PAYLOAD_TOO_LARGE');

  // No Content-Length: chunks, until the server answers and stops it.
  const socket = net.connect(relay.port, '127.0.0.1');
  let answer = '';
  socket.on('data', (d: Buffer) => { answer += d.toString(); });
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write('POST /auth/sign-up HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
  for (let i = 0; i < 64 && !socket.destroyed && answer === ''; i++) {
    socket.write(`200\r\n${'x'.repeat(512)}\r\n`);
    await sleep(5);
  }
  await Promise.race([closed, sleep(3000)]);
  socket.destroy();
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.match(answer, /PAYLOAD_TOO_LARGE/);

  // Just under the limit is read and judged on its content.
  const fits = await http(relay.http, 'POST', '/auth/login', { body: { email: 'nobody@example.com', password: 'p'.repeat(MAX_BODY - 100) } });
  assert.equal(fits.status, 401);
});

test('huge or too many headers are refused without harm to the server', async (t) => {
  const huge = `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(256 * 1024)}\r\n\r\n`;
  const many = `GET /health HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 400 }, (_, i) => `X-H${i}: v\r\n`).join('')}\r\n`;
  const longUrl = `GET /health?${'q'.repeat(128 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`;
  const bigUpgrade = `GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n` +
    `Sec-WebSocket-Version: 13\r\nAuthorization: Bearer ${'t'.repeat(200 * 1024)}\r\n\r\n`;
  for (const [what, payload] of Object.entries({ huge, many, longUrl, bigUpgrade })) {
    const { text, closed } = await rawHttp(relay.port, payload);
    const status = /^HTTP\/1\.1 (\d{3})/.exec(text)?.[1];
    t.diagnostic(`${what}: ${status ?? 'no answer'}${closed ? ', connection closed' : ''}`);
    // Refused: an error status (431 and 400 are both fair) or the connection closed unanswered; never a success.
    assert.ok(status === undefined ? closed : Number(status) >= 400, `${what}: ${status ?? 'no answer'}, closed: ${closed}`);
  }
  assert.equal(relay.proc.exitCode, null);
  assert.equal((await http(relay.http, 'GET', '/health')).status, 200);
});

test('idle sockets: a client that answers pings stays past WS_IDLE_TIMEOUT; one that never answers is dropped', async (t) => {
  const a = await signUp(relay.http, 'Idle');
  const started = Date.now();
  let pings = 0;
  const polite = new WebSocket(relay.ws, { headers: { authorization: `Bearer ${a.token}` } });
  polite.on('ping', () => pings++);
  let politeClosed: number | undefined;
  polite.on('close', (code) => { politeClosed = code; });
  await new Promise((resolve, reject) => { polite.once('open', resolve); polite.once('error', reject); });
  const silent = await RawSocket.open(relay.port, a.token);

  await Promise.race([silent.ended, sleep(22_000)]);
  const droppedAfter = Date.now() - started;
  assert.ok(droppedAfter < 22_000, 'the socket that never answered pings is still open after 22 s');
  assert.ok(droppedAfter >= (IDLE_SECONDS - 4) * 1000, `dropped after ${droppedAfter} ms, before the idle timeout`);
  assert.ok(silent.pings >= 1, 'the server pinged before dropping it');
  t.diagnostic(`silent socket: ${silent.pings} ping(s), dropped after ${droppedAfter} ms, close frame ${silent.closeCode ?? 'none'}`);

  // The ws client answered the same pings (the library does) and is still there after two timeouts.
  await sleep(Math.max(0, 2 * IDLE_SECONDS * 1000 - (Date.now() - started)));
  assert.ok(pings >= 1, 'the server pinged the polite client');
  assert.equal(politeClosed, undefined);
  assert.equal(polite.readyState, WebSocket.OPEN);
  const reply = await new Promise<Record<string, unknown>>((resolve) => {
    polite.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()) as Record<string, unknown>));
    polite.send(JSON.stringify({ type: 'listLastMessage', params: {}, requestId: 1 }));
  });
  assert.equal(reply.success, true);
  polite.close();
});

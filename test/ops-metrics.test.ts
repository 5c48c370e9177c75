// Issue #6, /metrics: Prometheus text from prom-client with every family operators need, and the
// counters move when the things they count happen.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { Client, http, signUp, sleep } from './helpers/client.js';
import { RawSocket } from './helpers/raw-ws.js';

let db: TestDatabase;
let relay: RelayProcess;
before(async () => {
  db = await createTestDatabase('ops_metrics');
  relay = await startRelay({
    DATABASE_URL: db.url, WS_RATE_PER_SECOND: '20', WS_RATE_BURST: '40', MAX_CONNECTIONS_PER_USER: '2',
    AUTH_RATE_PER_MINUTE: '4',
  });
});
after(async () => {
  await relay?.stop();
  await db?.drop();
});

interface Scrape {
  types: Map<string, string>;
  /** `name{a="1",b="2"}` (labels sorted) → value */
  samples: Map<string, number>;
  contentType: string | null;
}

async function scrape(r: RelayProcess = relay): Promise<Scrape> {
  const res = await http<string>(r.http, 'GET', '/metrics');
  assert.equal(res.status, 200);
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) { types.set(type[1]!, type[2]!); continue; }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not Prometheus text: ${line}`);
    const labels = m[2] ? m[2].split(/,(?=\w+=")/).sort().join(',') : '';
    samples.set(labels ? `${m[1]}{${labels}}` : m[1]!, Number(m[3]));
  }
  return { types, samples, contentType: res.headers.get('content-type') };
}

const value = (s: Scrape, key: string): number => s.samples.get(key) ?? 0;

test('/metrics has every family, in Prometheus text format', async () => {
  const s = await scrape();
  assert.match(s.contentType ?? '', /^text\/plain; version=0\.0\.4/);
  const families: Record<string, string> = {
    relay_ws_connections: 'gauge',
    relay_ws_frames_received_total: 'counter',
    relay_ws_requests_total: 'counter',
    relay_pushes_published_total: 'counter',
    relay_ws_handler_seconds: 'histogram',
    relay_ws_handler_errors_total: 'counter',
    relay_db_queries_total: 'counter',
    relay_db_queries_in_flight: 'gauge',
    relay_db_pool_max: 'gauge',
    relay_db_available: 'gauge',
    relay_db_errors_total: 'counter',
    relay_ws_backpressure_closes_total: 'counter',
    relay_rate_limited_total: 'counter',
    relay_cluster_relay_connected: 'gauge',
    relay_process_resident_memory_bytes: 'gauge',
    relay_nodejs_eventloop_lag_seconds: 'gauge',
    relay_nodejs_heap_size_used_bytes: 'gauge',
  };
  for (const [name, type] of Object.entries(families)) assert.equal(s.types.get(name), type, name);
  assert.equal(value(s, 'relay_db_pool_max'), 10);
  assert.equal(value(s, 'relay_db_available'), 1);
  assert.equal(value(s, 'relay_cluster_relay_connected'), 1, 'no cluster: the relay counts as connected');
  assert.ok(s.samples.has('relay_db_queries_in_flight'));
});

test('counters move: connections, requests by type and outcome, pushes, latency, queries, limits', async () => {
  const before0 = await scrape();
  const [a, b, c] = [await signUp(relay.http, 'Ann'), await signUp(relay.http, 'Bob'), await signUp(relay.http, 'Cy')];
  const ca = await Client.connect(relay.ws, a.token);
  const cb = await Client.connect(relay.ws, b.token);
  assert.equal(value(await scrape(), 'relay_ws_connections'), value(before0, 'relay_ws_connections') + 2);

  const groupId = (await ca.request('newGroup', { groupName: 'metrics' })).params.data.groupId as number;
  await ca.request('addUserInGroup', { groupId, userId: b.id });
  for (let i = 0; i < 3; i++) assert.equal((await ca.request('messageInGroup', { groupId, content: `m${i}` })).success, true);
  assert.equal((await ca.request('privateMessage', { receiverId: b.id, content: 'hi' })).success, true);
  assert.equal((await ca.request('messageInGroup', { groupId, content: '   ' })).code, 'VALIDATION');
  assert.equal((await ca.request('messageInGroup', { groupId: 999_999, content: 'x' })).code, 'FORBIDDEN');
  // A query PostgreSQL refuses (unique email) is a failed query, and a client error, not a server one.
  assert.equal((await http(relay.http, 'POST', '/auth/sign-up', { body: { email: a.email, password: 'password123', firstName: 'Dup' } })).status, 409);

  // Limits: a socket over its burst, an upgrade over MAX_CONNECTIONS_PER_USER, logins over the attempt limit.
  const cc = await Client.connect(relay.ws, c.token);
  // Over the burst of 40, under the 50 refusals in a row that close a socket.
  const burst = await Promise.all(Array.from({ length: 75 }, () => cc.request('listLastMessage', {})));
  assert.ok(burst.some((r) => r.code === 'RATE_LIMITED'));
  const cc2 = await Client.connect(relay.ws, c.token);
  await assert.rejects(Client.connect(relay.ws, c.token), (err: { status?: number }) => err.status === 429);
  let loginStatus = 0;
  for (let i = 0; i < 6 && loginStatus !== 429; i++) {
    loginStatus = (await http(relay.http, 'POST', '/auth/login', { body: { email: c.email, password: 'wrong password' } })).status;
  }
  assert.equal(loginStatus, 429);

  const now = await scrape();
  const moved = (key: string, by = 1): void => {
    assert.ok(value(now, key) - value(before0, key) >= by, `${key}: ${value(before0, key)} → ${value(now, key)}`);
  };
  moved('relay_ws_frames_received_total', 70);
  moved('relay_ws_requests_total{outcome="ok",type="messageInGroup"}', 3);
  moved('relay_ws_requests_total{outcome="ok",type="newGroup"}');
  moved('relay_ws_requests_total{outcome="ok",type="privateMessage"}');
  moved('relay_ws_requests_total{outcome="VALIDATION",type="messageInGroup"}');
  moved('relay_ws_requests_total{outcome="FORBIDDEN",type="messageInGroup"}');
  moved('relay_ws_requests_total{outcome="ok",type="listLastMessage"}');
  moved('relay_pushes_published_total{type="messageInGroup"}', 3);
  moved('relay_pushes_published_total{type="privateMessage"}');
  moved('relay_pushes_published_total{type="addUserInGroup"}');
  moved('relay_ws_handler_seconds_count{type="messageInGroup"}', 5);
  assert.ok(now.samples.has('relay_ws_handler_seconds_bucket{le="0.005",type="messageInGroup"}'));
  assert.equal(value(now, 'relay_ws_handler_seconds_bucket{le="+Inf",type="messageInGroup"}'), value(now, 'relay_ws_handler_seconds_count{type="messageInGroup"}'));
  moved('relay_db_queries_total{outcome="ok"}', 10);
  moved('relay_db_queries_total{outcome="failed"}');
  assert.equal(value(now, 'relay_db_queries_total{outcome="unavailable"}'), 0);
  moved('relay_rate_limited_total{kind="ws"}');
  moved('relay_rate_limited_total{kind="connections"}');
  moved('relay_rate_limited_total{kind="auth"}');
  assert.equal(value(now, 'relay_ws_handler_errors_total'), 0);

  for (const cl of [ca, cb, cc, cc2]) await cl.close().catch(() => undefined);
  await sleep(100);
  assert.equal(value(await scrape(), 'relay_ws_connections'), value(before0, 'relay_ws_connections'));
});

test('a reader that stops reading moves the backpressure counter', async () => {
  const node = await startRelay({ DATABASE_URL: db.url, WS_MAX_BACKPRESSURE: '16384', WS_RATE_PER_SECOND: '100000', WS_RATE_BURST: '100000' });
  try {
    const before0 = value(await scrape(node), 'relay_ws_backpressure_closes_total');
    const [a, d] = [await signUp(node.http, 'Writer'), await signUp(node.http, 'Sleeper')];
    const ca = await Client.connect(node.ws, a.token);
    const groupId = (await ca.request('newGroup', { groupName: 'firehose' })).params.data.groupId as number;
    await ca.request('addUserInGroup', { groupId, userId: d.id });
    const stalled = (await RawSocket.open(node.port, d.token, { reading: false })).socket;
    const pad = 'x'.repeat(4000);
    let sent = 0;
    while (sent < 4000 && value(await scrape(node), 'relay_ws_backpressure_closes_total') === before0) {
      await Promise.all(Array.from({ length: 40 }, () => ca.request('messageInGroup', { groupId, content: `${sent++} ${pad}` }, 20_000)));
    }
    assert.equal(value(await scrape(node), 'relay_ws_backpressure_closes_total'), before0 + 1, `after ${sent} messages of 4 KB`);
    stalled.destroy();
    await ca.close();
  } finally {
    await node.stop();
  }
});

test('in cluster mode the Redis relay state is exported', async () => {
  const node = await startRelay({ DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: `ops-metrics-${randomBytes(3).toString('hex')}:` });
  try {
    let s = await scrape(node);
    for (let i = 0; i < 50 && value(s, 'relay_cluster_relay_connected') !== 1; i++) { await sleep(100); s = await scrape(node); }
    assert.equal(value(s, 'relay_cluster_relay_connected'), 1);
    assert.equal(s.types.get('relay_cluster_relay_connected'), 'gauge');
  } finally {
    await node.stop();
  }
});


// Issue #6, PostgreSQL outage: on a cluster of the test's own, stopped mid-load and started again.
// Requests that need the database fail fast with the "store unavailable" error, nothing is
// acknowledged that is not stored, the process stays up, and it recovers by itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { Client, http, signUp, sleep, type Frame } from './helpers/client.js';
import { eventually, freePort } from './helpers/kit.js';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const STORE_UNAVAILABLE = 'The message store is unavailable; try again shortly';

let dir: string;
let dataDir: string;
let port: number;
let relay: RelayProcess | undefined;
/** Every server started, stopped in `after` even if a test failed before stopping its own. */
const started: RelayProcess[] = [];

/** PostgreSQL refuses to run as root: as root, its tools run as the postgres OS user. */
function pgCommand(tool: string, args: string[]): [string, string[]] {
  const asRoot = process.getuid?.() === 0;
  return asRoot ? ['runuser', ['-u', 'postgres', '--', join(PG_BIN, tool), ...args]] : [join(PG_BIN, tool), args];
}

function pg(tool: string, args: string[]): string {
  const [cmd, argv] = pgCommand(tool, args);
  return execFileSync(cmd, argv, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * The same, without blocking this process: while the load runs, a reply that arrives during a
 * synchronous pg_ctl would be timed as late as pg_ctl took.
 */
async function pgAsync(tool: string, args: string[]): Promise<void> {
  const [cmd, argv] = pgCommand(tool, args);
  await promisify(execFile)(cmd, argv, { cwd: dir, encoding: 'utf8' });
}

const START_ARGS = (): string[] => ['-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '30',
  '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`, 'start'];
const STOP_NOW_ARGS = (): string[] => ['-D', dataDir, '-m', 'immediate', '-w', 'stop'];
const pgStart = (): string => pg('pg_ctl', START_ARGS());
const pgStopNow = (): string => pg('pg_ctl', STOP_NOW_ARGS());


before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relay-ops-pg-'));
  if (process.getuid?.() === 0) {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
    await chown(dir, id('-u'), id('-g'));
  }
  dataDir = join(dir, 'data');
  port = await freePort();
  pg('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  pgStart();
});

after(async () => {
  await Promise.all(started.map((r) => r.stop('SIGKILL')));
  try { pgStopNow(); } catch { /* already stopped */ }
  await rm(dir, { recursive: true, force: true });
});

test('PostgreSQL stopped mid-load: fast errors, nothing acknowledged unstored, /ready 503, and recovery on its own', async (t) => {
  const databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  relay = await startRelay({ DATABASE_URL: databaseUrl, WS_RATE_PER_SECOND: '100000', WS_RATE_BURST: '100000' });
  started.push(relay);
  const a = await signUp(relay.http, 'Ann');
  const b = await signUp(relay.http, 'Bob');
  const sender = await Client.connect(relay.ws, a.token);
  const readerWs = await Client.connect(relay.ws, b.token);
  const groupId = (await sender.request('newGroup', { groupName: 'outage' })).params.data.groupId as number;
  await sender.request('addUserInGroup', { groupId, userId: b.id });

  // Load: a send every 5 ms, each with its own clientMessageId; the time of each reply is kept.
  const sentAt = new Map<string, number>();
  const replies = new Map<string, { frame: Frame; ms: number; at: number }>();
  sender.ws.on('message', (data: Buffer) => {
    const frame = JSON.parse(data.toString()) as Frame;
    const id = frame.requestId;
    if (typeof id === 'string' && sentAt.has(id)) replies.set(id, { frame, ms: Date.now() - sentAt.get(id)!, at: Date.now() });
  });
  let n = 0;
  let loading = true;
  const load = (async () => {
    while (loading) {
      const id = `o${n++}`;
      sentAt.set(id, Date.now());
      sender.sendRaw(JSON.stringify({ type: 'messageInGroup', params: { groupId, content: `load ${id}`, clientMessageId: id }, requestId: id }));
      await sleep(5);
    }
  })();
  // Sends succeed before the outage (counted, not timed: a loaded machine is slower, not wrong).
  await eventually('20 sends are acknowledged before the outage', () => [...replies.values()].filter((r) => r.frame.success).length > 20, { timeoutMs: 15_000 });

  await pgAsync('pg_ctl', STOP_NOW_ARGS());
  const downAt = Date.now();
  await sleep(1500);

  // During the outage: WebSocket requests get the store-unavailable error, HTTP answers 503.
  const profile = await http(relay.http, 'GET', '/profile', { token: a.token });
  assert.equal(profile.status, 503);
  assert.deepEqual(profile.body, { error: true, message: STORE_UNAVAILABLE, code: 'UNAVAILABLE' });
  const login = await http(relay.http, 'POST', '/auth/login', { body: { email: a.email, password: a.password } });
  assert.equal(login.status, 503);
  assert.equal(login.body.code, 'UNAVAILABLE');
  const readyStarted = Date.now();
  const ready = await http(relay.http, 'GET', '/ready');
  assert.equal(ready.status, 503);
  assert.equal(ready.body.database, false);
  assert.ok(Date.now() - readyStarted < 3000, '/ready answers within its own deadline');
  assert.equal((await http(relay.http, 'GET', '/health')).status, 200);
  await assert.rejects(Client.connect(relay.ws, b.token), (err: { status?: number }) => err.status === 503);
  const history = await readerWs.request('getlatestMessageGroup', { groupId });
  assert.deepEqual({ ...history, requestId: undefined }, { error: true, type: 'getlatestMessageGroup', code: 'INTERNAL', message: STORE_UNAVAILABLE, requestId: undefined });

  // Sends from here on may meet the database coming back: "during the outage" ends now.
  const upAt = Date.now();
  await pgAsync('pg_ctl', START_ARGS());
  const startedAt = Date.now();
  // Recovery needs nothing from anyone: readiness comes back, and so do sends.
  let readyAgain = Number.NaN;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await sleep(100)) {
    if ((await http(relay.http, 'GET', '/ready')).status === 200) { readyAgain = Date.now() - startedAt; break; }
  }
  assert.ok(Number.isFinite(readyAgain), '/ready is 200 again within 15 s of PostgreSQL being back');
  await sleep(1000);
  loading = false;
  await load;
  for (const deadline = Date.now() + 10_000; replies.size < n && Date.now() < deadline;) await sleep(20);
  assert.equal(replies.size, n, 'every send got a reply');
  assert.equal(relay.proc.exitCode, null, 'the process stayed up');

  const all = [...replies.entries()];
  const failed = all.filter(([, r]) => !r.frame.success);
  const acked = all.filter(([, r]) => r.frame.success);
  const duringOutage = all.filter(([id]) => sentAt.get(id)! > downAt + 100 && sentAt.get(id)! < upAt);
  t.diagnostic(`${n} sends: ${acked.length} acknowledged, ${failed.length} failed; ${duringOutage.length} sent while down, slowest reply then ${Math.max(...duringOutage.map(([, r]) => r.ms))} ms; /ready back ${readyAgain} ms after PostgreSQL`);
  assert.ok(failed.length > 0, 'some sends met the outage');
  for (const [, r] of failed) {
    assert.deepEqual({ error: r.frame.error, code: r.frame.code, message: r.frame.message }, { error: true, code: 'INTERNAL', message: STORE_UNAVAILABLE });
  }
  assert.ok(duringOutage.length > 100);
  for (const [id, r] of duringOutage) {
    assert.equal(r.frame.success, undefined, `${id} succeeded while the database was down`);
    assert.ok(r.ms < 2000, `${id} waited ${r.ms} ms for its error`);
  }
  // After recovery, sends succeed again: the last 50 all did.
  assert.ok(all.slice(-50).every(([, r]) => r.frame.success === true), 'sends succeed after recovery');

  // Nothing acknowledged is missing; a failed send, resent with its clientMessageId, is stored once.
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => undefined });
  try {
    const rows = await sql<{ id: number; cid: string }[]>`select id::int, client_message_id as cid from messages where group_id = ${groupId}`;
    const stored = new Set(rows.map((r) => r.id));
    const missing = acked.filter(([, r]) => !stored.has(r.frame.params.data.id as number)).map(([id]) => id);
    assert.deepEqual(missing, [], 'acknowledged sends missing from the database');
    const retried = await Promise.all(failed.map(([id]) => sender.request('messageInGroup', { groupId, content: `load ${id}`, clientMessageId: id }, 10_000)));
    assert.ok(retried.every((r) => r.success === true), 'every failed send succeeds when resent');
    const [dupes] = await sql<{ n: number }[]>`
      select count(*)::int as n from (select client_message_id from messages where group_id = ${groupId}
      group by client_message_id having count(*) > 1) d`;
    assert.equal(dupes?.n, 0, 'no send is stored twice');
    const [count] = await sql<{ n: number }[]>`select count(*)::int as n from messages where group_id = ${groupId}`;
    assert.equal(count?.n, n);
  } finally {
    await sql.end();
  }
  assert.ok(relay.logs.some((l) => l.msg === 'database unavailable'), 'the outage is logged');
  assert.ok(!relay.logs.some((l) => l.msg === 'handler failed' || l.msg === 'request failed'), 'no outage error is reported as a bug');
  await sender.close();
  await readerWs.close();
  assert.equal(await relay.stop('SIGTERM'), 0);
});

/** The cluster's processes: the postmaster (first line of postmaster.pid) and its children. */
function clusterPids(): number[] {
  const postmaster = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = execFileSync('ps', ['-o', 'pid=', '--ppid', String(postmaster)], { encoding: 'utf8' })
    .split('\n').map((l) => Number(l.trim())).filter((p) => p > 0);
  return [postmaster, ...children];
}

test('a frozen PostgreSQL (SIGSTOP) costs a request at most the query deadline, then errors come at once', async (t) => {
  const databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  relay = await startRelay({ DATABASE_URL: databaseUrl, WS_RATE_PER_SECOND: '100000', WS_RATE_BURST: '100000' });
  started.push(relay);
  const a = await signUp(relay.http, 'Frozen');
  const c = await Client.connect(relay.ws, a.token);
  const groupId = (await c.request('newGroup', { groupName: 'ice' })).params.data.groupId as number;
  const pids = clusterPids();
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  let thawed = false;
  try {
    const frozenAt = Date.now();
    const sends = Array.from({ length: 5 }, (_, i) => {
      const sent = Date.now();
      return c.request('messageInGroup', { groupId, content: `frozen ${i}`, clientMessageId: `f${i}` }, 20_000)
        .then((r) => ({ r, ms: Date.now() - sent }));
    });
    const readyStarted = Date.now();
    assert.equal((await http(relay.http, 'GET', '/ready')).status, 503);
    assert.ok(Date.now() - readyStarted < 3000, '/ready does not hang on a frozen database');
    const results = await Promise.all(sends);
    t.diagnostic(`replies while frozen after ${results.map((x) => x.ms).join(', ')} ms`);
    for (const { r, ms } of results) {
      assert.deepEqual({ code: r.code, message: r.message }, { code: 'INTERNAL', message: STORE_UNAVAILABLE });
      assert.ok(ms < 13_000, `a reply took ${ms} ms`);
    }
    // Now that the database is known to be unreachable, errors come at once.
    const quick = Date.now();
    const again = await c.request('listLastMessage', {});
    assert.equal(again.code, 'INTERNAL');
    assert.ok(Date.now() - quick < 500, `error after ${Date.now() - quick} ms`);
    const profile = await http(relay.http, 'GET', '/profile', { token: a.token });
    assert.equal(profile.status, 503);
    assert.ok(Date.now() - frozenAt < 16_000);

    for (const pid of pids) process.kill(pid, 'SIGCONT');
    thawed = true;
    let back = false;
    for (const deadline = Date.now() + 10_000; !back && Date.now() < deadline; await sleep(100)) {
      back = (await http(relay.http, 'GET', '/ready')).status === 200;
    }
    assert.ok(back, '/ready is 200 again after the thaw');
    const retry = await c.request('messageInGroup', { groupId, content: 'frozen 0', clientMessageId: 'f0' });
    assert.equal(retry.success, true);
    assert.equal(relay.proc.exitCode, null);
  } finally {
    if (!thawed) for (const pid of pids) process.kill(pid, 'SIGCONT');
  }
  await c.close();
  assert.equal(await relay.stop('SIGTERM'), 0);
});

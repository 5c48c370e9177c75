// Issue #6, graceful shutdown: on SIGTERM/SIGINT readiness fails, new connections are refused,
// work in flight finishes and is acknowledged, sockets close with 1001, and the process exits 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay } from './helpers/server.js';
import { Client, http, signUp, sleep } from './helpers/client.js';

const GRACE_MS = 3000;

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase('ops_shutdown');
});
after(async () => {
  await db?.drop();
});

/** One HTTP/1.1 connection kept open, so that requests can still be made after the listener closed. */
class KeepAlive {
  private buf = '';
  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => { this.buf += d; });
    socket.on('error', () => undefined);
  }

  static async open(port: number): Promise<KeepAlive> {
    const socket = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject); });
    return new KeepAlive(socket);
  }

  /** Writes `head` (and `body`), then resolves with the answer. */
  send(head: string, body = ''): Promise<{ status: number; body: string }> {
    this.buf = '';
    this.socket.write(head + body);
    return this.answer();
  }

  async answer(timeoutMs = 10_000): Promise<{ status: number; body: string }> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.slice(0, end);
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          return { status: Number(head.slice(9, 12)), body: this.buf.slice(end + 4, end + 4 + length) };
        }
      }
      if (Date.now() > deadline || this.socket.destroyed) throw new Error(`no complete answer: ${JSON.stringify(this.buf.slice(0, 200))}`);
      await sleep(5);
    }
  }
}

/** Resolves with how a fresh TCP connection to `port` fares: refused, or accepted. */
function tryConnect(port: number): Promise<'refused' | 'accepted'> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve('accepted'); });
    s.once('error', () => resolve('refused'));
  });
}

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  test(`${signal}: readiness fails, new connections are refused, work in flight is acknowledged, sockets get 1001, exit 0`, async (t) => {
    const relay = await startRelay({ DATABASE_URL: db.url, SHUTDOWN_GRACE_MS: String(GRACE_MS), WS_RATE_PER_SECOND: '100000', WS_RATE_BURST: '100000' });
    try {
      const a = await signUp(relay.http, 'Sender');
      const b = await signUp(relay.http, 'Reader');
      const sender = await Client.connect(relay.ws, a.token);
      const readerWs = await Client.connect(relay.ws, b.token);
      const groupId = (await sender.request('newGroup', { groupName: 'last orders' })).params.data.groupId as number;
      await sender.request('addUserInGroup', { groupId, userId: b.id });

      const probe = await KeepAlive.open(relay.port);
      const ready = (): Promise<{ status: number; body: string }> => probe.send('GET /ready HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.equal((await ready()).status, 200);
      // A login whose body is still on its way: work in flight that shutdown must wait for.
      const slow = await KeepAlive.open(relay.port);
      const loginBody = JSON.stringify({ email: 'nobody@example.com', password: 'not the password' });
      slow.socket.write(`POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${loginBody.length}\r\n\r\n${loginBody.slice(0, 10)}`);
      await sleep(100);

      // A burst of sends, and the signal right behind it.
      const BURST = 300;
      for (let i = 0; i < BURST; i++) {
        sender.sendRaw(JSON.stringify({ type: 'messageInGroup', params: { groupId, content: `burst ${i}`, clientMessageId: `${signal}-${i}` }, requestId: `s${i}` }));
      }
      // The signal lands while the burst is being worked through: the first send is answered,
      // so the checks below are about real acknowledgements, not an empty set.
      await sender.wait((f) => f.requestId === 's0', 5000, 'the first send of the burst');
      const signalled = Date.now();
      relay.proc.kill(signal);

      // Once the signal is handled, readiness fails (on a connection opened before), and nobody new gets in.
      for (const deadline = Date.now() + 2000; !relay.logs.some((l) => l.msg === 'shutting down'); await sleep(2)) {
        assert.ok(Date.now() < deadline, 'the signal was not handled within 2 s');
      }
      const closing = await ready();
      assert.equal(closing.status, 503);
      assert.equal(JSON.parse(closing.body).status, 'closing');
      assert.equal(await tryConnect(relay.port), 'refused');

      // The login in flight is finished and answered.
      slow.socket.write(loginBody.slice(10));
      const login = await slow.answer();
      assert.equal(login.status, 401);

      const [senderCode, readerCode] = await Promise.all([sender.closed, readerWs.closed]);
      assert.equal(senderCode, 1001);
      assert.equal(readerCode, 1001);
      const exitCode = await relay.exited;
      const took = Date.now() - signalled;
      assert.equal(exitCode, 0);
      assert.ok(took < GRACE_MS + 3000, `shutdown took ${took} ms`);

      // Every send got a success reply or none (the socket closed first); every acknowledged one
      // is stored, and every stored one was acknowledged: nothing was committed and then not answered.
      const replies = sender.frames.filter((f) => typeof f.requestId === 'string' && f.requestId.startsWith('s'));
      const errors = replies.filter((f) => f.success !== true);
      assert.deepEqual(errors.slice(0, 3), [], 'no send is answered with an error');
      const acked = new Set(replies.map((f) => f.params.data.id as number));
      const sql = postgres(db.url, { max: 1, onnotice: () => undefined });
      const rows = await sql<{ id: number }[]>`select id::int from messages where group_id = ${groupId} and client_message_id like ${`${signal}-%`}`;
      await sql.end();
      const stored = new Set(rows.map((r) => r.id));
      t.diagnostic(`${signal}: ${acked.size} of ${BURST} sends acknowledged, ${stored.size} stored; exit ${exitCode} after ${took} ms`);
      assert.ok(acked.size >= 1, 'at least the first send was acknowledged');
      assert.deepEqual([...acked].filter((id) => !stored.has(id)), [], 'acknowledged but not stored');
      assert.deepEqual([...stored].filter((id) => !acked.has(id)), [], 'stored but never acknowledged');
      assert.ok(relay.logs.some((l) => l.msg === 'stopped'));
      probe.socket.destroy();
      slow.socket.destroy();
    } finally {
      await relay.stop('SIGKILL');
    }
  });
}

test('with the embedded database, SIGTERM stops Relay and its PostgreSQL, exit 0', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'relay-ops-embedded-'));
  try {
    const relay = await startRelay({ DATABASE_URL: undefined, DATA_DIR: dataDir, JWT_SECRET: undefined });
    try {
      assert.ok(relay.logs.some((l) => l.database === 'embedded'), 'Relay runs on the embedded database');
      const a = await signUp(relay.http, 'Embedded');
      const c = await Client.connect(relay.ws, a.token);
      const pidFile = join(dataDir, 'pg', 'postmaster.pid');
      assert.ok(existsSync(pidFile), 'PostgreSQL runs from DATA_DIR/pg');
      assert.equal((await http(relay.http, 'GET', '/ready')).status, 200);

      const signalled = Date.now();
      const code = await relay.stop('SIGTERM');
      const took = Date.now() - signalled;
      t.diagnostic(`exit ${code} after ${took} ms`);
      assert.equal(code, 0);
      assert.equal(await c.closed, 1001);
      assert.ok(took < 5000 + 3000, `shutdown took ${took} ms`);
      assert.equal(existsSync(pidFile), false, 'postmaster.pid is gone: PostgreSQL stopped cleanly');
      const left = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(dataDir));
      assert.deepEqual(left, [], 'no process left running on the data folder');
    } finally {
      await relay.stop('SIGKILL');
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

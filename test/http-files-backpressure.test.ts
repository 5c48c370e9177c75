// Issue 24 "Back-pressure: a slow disk or S3 pauses reading the socket", over real HTTP: the relay
// stores on S3 (s3rver) reached through a proxy of this file's own that lets the upload bodies
// through at a trickle, so storage is genuinely slow. A client that writes a large body as fast as
// its socket takes it must stall at about what storage holds in flight (two 5 MiB parts, the
// 256 KiB stream buffer, the kernel's socket buffers), not at the body's size; the relay's memory
// must not grow by the body; once storage speeds up, the upload completes intact.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { signUp, type Account } from './helpers/client.js';
import { assertLogsClean } from './helpers/kit.js';
import { startLocalS3, type LocalS3 } from './helpers/s3.js';
import { rssBytes } from '../bench/lib/procstat.js';

const MiB = 1024 * 1024;
const BODY = 64 * MiB;
// How fast the slow storage takes bytes until released.
const SLOW_BYTES_PER_SECOND = 512 * 1024;

interface SlowStorage {
  endpoint: string;
  /** Bytes that reached s3rver from the relay so far. */
  readonly received: number;
  /** From now on the bytes go through at full speed. */
  release(): void;
  close(): Promise<void>;
}

/**
 * A TCP proxy in front of s3rver that reads what the relay sends at SLOW_BYTES_PER_SECOND (a token
 * bucket: the relay's socket is paused while ahead of the rate), and answers at full speed.
 */
async function startSlowStorage(target: string): Promise<SlowStorage> {
  const { port: targetPort } = new URL(target);
  let received = 0;
  let slow = true;
  const started = Date.now();
  const open = new Set<net.Socket>();
  const waiting = new Set<() => void>();
  const server = net.createServer((relaySide) => {
    const s3Side = net.connect(Number(targetPort), '127.0.0.1');
    open.add(relaySide).add(s3Side);
    const drop = (): void => { relaySide.destroy(); s3Side.destroy(); open.delete(relaySide); open.delete(s3Side); };
    relaySide.on('data', (d: Buffer) => {
      received += d.length;
      s3Side.write(d);
      if (!slow) return;
      const ahead = received / SLOW_BYTES_PER_SECOND * 1000 - (Date.now() - started);
      if (ahead <= 0) return;
      relaySide.pause();
      const go = (): void => { clearTimeout(timer); waiting.delete(go); relaySide.resume(); };
      const timer = setTimeout(go, ahead);
      waiting.add(go);
    });
    s3Side.on('data', (d: Buffer) => relaySide.write(d));
    relaySide.on('close', drop).on('error', drop);
    s3Side.on('close', drop).on('error', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    get received() { return received; },
    release() { slow = false; for (const go of [...waiting]) go(); },
    close: () => new Promise((resolve) => { for (const s of open) s.destroy(); server.close(() => resolve()); }),
  };
}

interface RawUpload {
  /** Body bytes the kernel took from the client (write callbacks that fired). */
  readonly accepted: number;
  /** The status line and body of the answer. */
  answer: Promise<{ status: number; body: string }>;
  /** Cuts the connection (a failed test leaves nothing running). */
  close(): void;
}

/** POST /files with Content-Length, writing the body as fast as the socket takes it. */
function rawUpload(base: string, token: string, body: Buffer): RawUpload {
  const { port } = new URL(base);
  const socket = net.connect(Number(port), '127.0.0.1');
  let accepted = 0;
  let reply = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => { reply += d; });
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('close', () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(reply);
      if (!status) { reject(new Error(`no HTTP answer: ${JSON.stringify(reply.slice(0, 200))}`)); return; }
      resolve({ status: Number(status[1]), body: reply.slice(reply.indexOf('\r\n\r\n') + 4) });
    });
  });
  socket.write(
    `POST /files?name=big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
  );
  const CHUNK = 64 * 1024;
  let offset = 0;
  const pump = (): void => {
    while (offset < body.length) {
      const chunk = body.subarray(offset, offset + CHUNK);
      offset += chunk.length;
      if (!socket.write(chunk, () => { accepted += chunk.length; })) { socket.once('drain', pump); return; }
    }
  };
  socket.once('connect', pump);
  // Awaited by the test; a test that failed before it must not leave an unhandled rejection.
  answer.catch(() => undefined);
  return { get accepted() { return accepted; }, answer, close: () => socket.destroy() };
}

/** The relay process's resident memory, in bytes. */
function rss(pid: number): number {
  const bytes = rssBytes(pid);
  assert.ok(bytes !== null, 'the relay is running');
  return bytes;
}

/** Resolves once `value()` has not changed for `quietMs`, or after `maxMs`; returns its last value. */
async function settled(value: () => number, quietMs: number, maxMs: number): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline && Date.now() - since < quietMs) {
    await new Promise((r) => setTimeout(r, 50));
    if (value() !== last) { last = value(); since = Date.now(); }
  }
  return last;
}

describe('uploads: slow storage pauses reading the socket', () => {
  let db: TestDatabase;
  let s3: LocalS3;
  let storage: SlowStorage;
  let relay: RelayProcess;
  let alice: Account;

  before(async () => {
    db = await createTestDatabase('http_files_backpressure');
    s3 = await startLocalS3();
    storage = await startSlowStorage(s3.endpoint);
    relay = await startRelay({
      DATABASE_URL: db.url, AUTH_RATE_PER_MINUTE: '100000', ...s3.env, S3_ENDPOINT: storage.endpoint,
      MAX_UPLOAD_BYTES: String(BODY), UPLOAD_QUOTA_BYTES: String(256 * MiB),
    });
    alice = await signUp(relay.http, 'Alice');
  });
  after(async () => {
    await relay?.stop();
    await storage?.close();
    await s3?.stop();
    await db?.drop();
  });

  test('a fast client stalls while storage is slow, the relay holds far less than the body, and the file arrives whole', async () => {
    const body = randomBytes(BODY);
    const rssBefore = rss(relay.proc.pid!);
    const upload = rawUpload(relay.http, alice.token, body);
    try {
      // Loopback moves 64 MiB in well under a second: a relay that kept reading would have taken it
      // all by the time the client's writes go quiet.
      const accepted = await settled(() => upload.accepted, 1500, 10_000);
      const atStorage = storage.received;
      const grown = rss(relay.proc.pid!) - rssBefore;
      const figures = `client accepted ${(accepted / MiB).toFixed(1)} MiB, storage received ${(atStorage / MiB).toFixed(1)} MiB, relay RSS +${(grown / MiB).toFixed(1)} MiB of a ${BODY / MiB} MiB body`;
      console.log(figures);
      assert.ok(atStorage < 8 * MiB, `storage is slow, as the test needs: ${figures}`);
      // In flight at most: two 5 MiB parts, the 256 KiB stream buffer, and the socket buffers of
      // both kernels' ends (several MiB on loopback): measured 15-20 MiB; without back-pressure, all 64.
      assert.ok(accepted < BODY / 2, `the relay kept reading the socket: ${figures}`);
      // Measured: about +23 MiB with back-pressure (the parts and their copies), +71 MiB without.
      assert.ok(grown < BODY * 0.6, `the relay's memory grew with the body: ${figures}`);

      storage.release();
      const answer = await upload.answer;
      assert.equal(answer.status, 201, answer.body);
      const f = JSON.parse(answer.body) as { id: string; size: number; url: string };
      assert.equal(f.size, BODY);
      const redirect = await fetch(relay.http + f.url, { headers: { authorization: `Bearer ${alice.token}` }, redirect: 'manual' });
      assert.equal(redirect.status, 302);
      const stored = Buffer.from(await (await fetch(redirect.headers.get('location')!)).arrayBuffer());
      assert.equal(stored.length, BODY);
      assert.equal(createHash('sha256').update(stored).digest('hex'), createHash('sha256').update(body).digest('hex'), 'the bytes stored are the bytes sent');
    } finally {
      upload.close();
    }
  });

  test('the logs hold no error', () => {
    assertLogsClean(relay.logs, { expect: ['listening'] });
  });
});

// Issue #6, slow consumers: a reader that stops reading is closed with 1013 once its buffer passes
// WS_MAX_BACKPRESSURE; nobody else in its groups waits for it, and server memory stays bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { Client, http, signUp, sleep, type Account } from './helpers/client.js';
import { rawUpgrade, FrameDecoder } from './helpers/raw-ws.js';

const LIMIT = 65_536;
const CONTENT_CHARS = 4096;

let db: TestDatabase;
let relay: RelayProcess;
before(async () => {
  db = await createTestDatabase('ops_slow');
  relay = await startRelay({
    DATABASE_URL: db.url, WS_MAX_BACKPRESSURE: String(LIMIT),
    // The sender pipelines thousands of sends: the per-socket request rate is not under test here.
    WS_RATE_PER_SECOND: '100000', WS_RATE_BURST: '100000', AUTH_RATE_PER_MINUTE: '1000',
  });
});
after(async () => {
  await relay?.stop();
  await db?.drop();
});

const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

async function metric(name: string): Promise<number> {
  const res = await http<string>(relay.http, 'GET', '/metrics');
  const line = String(res.body).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

/**
 * A WebSocket client written by hand on a TCP socket, so that the test decides when (and whether)
 * it reads. Server frames are unmasked; only close frames are decoded.
 */
class RawReader {
  closeCode: number | undefined;
  /** Text frames read (pushes). */
  messages = 0;
  readonly ended: Promise<void>;
  private readonly frames = new FrameDecoder((opcode, payload) => {
    if (opcode === 0x1) this.messages++;
    if (opcode === 0x8 && payload.length >= 2) this.closeCode = payload.readUInt16BE(0);
  });

  private constructor(readonly socket: net.Socket, rest: Buffer) {
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (d: Buffer) => this.frames.feed(d));
    this.frames.feed(rest);
  }

  static async open(port: number, token: string): Promise<RawReader> {
    const { socket, rest } = await rawUpgrade(port, token);
    return new RawReader(socket, rest);
  }

  /** Stops reading: the kernel buffers fill, then the server's. */
  stall(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }
}

/** A reader that records, per message sequence number, that it arrived and how late. */
function reader(url: string, token: string, total: number, latencies: number[]): Promise<{ ws: WebSocket; seen: Uint8Array; count: () => number }> {
  const ws = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const seen = new Uint8Array(total);
  let count = 0;
  ws.on('message', (data: Buffer) => {
    // The content sits near the start of the push; decoding 200 bytes beats parsing 4 KB.
    const m = /"content":"m(\d+)@([\d.]+);/.exec(data.toString('latin1', 0, 200));
    if (!m) return;
    const seq = Number(m[1]);
    if (seen[seq]) return;
    seen[seq] = 1;
    count++;
    latencies.push(performance.now() - Number(m[2]));
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, seen, count: () => count }));
    ws.once('error', reject);
  });
}

function content(seq: number): string {
  const head = `m${seq}@${performance.now().toFixed(3)};`;
  return head + 'x'.repeat(CONTENT_CHARS - head.length);
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

test('a stalled reader among 50 members is closed once past WS_MAX_BACKPRESSURE; the other 49 get every message on time', async (t) => {
  const MAX_MESSAGES = 8000;
  const AFTER_CLOSE = 300;
  const members: Account[] = [];
  for (let i = 0; i < 50; i++) members.push(await signUp(relay.http, `Member${i}`));
  const admin = await Client.connect(relay.ws, members[0]!.token);
  const groupId = (await admin.request('newGroup', { groupName: 'busy room' })).params.data.groupId as number;
  for (const m of members.slice(1)) assert.equal((await admin.request('addUserInGroup', { groupId, userId: m.id })).success, true);
  await admin.close();

  const latencies: number[] = [];
  // Members 0..48 read; member 49 connects by hand and stops reading. The senders are second
  // devices of members 0..9 (so their reading sockets get every push too): replies on one
  // connection keep request order, so one sender alone would queue behind its own commits.
  const readers = await Promise.all(members.slice(0, 49).map((m) => reader(relay.ws, m.token, MAX_MESSAGES, latencies)));
  const stalled = await RawReader.open(relay.port, members[49]!.token);
  stalled.stall();
  const senders = await Promise.all(members.slice(0, 10).map((m) => Client.connect(relay.ws, m.token)));
  await sleep(200);
  assert.equal(await metric('relay_ws_connections'), 60);
  assert.equal(await metric('relay_ws_backpressure_closes_total'), 0);
  const rssBefore = rssKiB(relay.proc.pid!);

  // Paced sends (3 every 10 ms: ~300 messages of 4 KB a second), until the stalled socket is
  // closed, and then some more.
  let sent = 0;
  let closedAt: number | undefined;
  let watching = true;
  const watcher = (async () => {
    while (watching && closedAt === undefined) {
      if ((await metric('relay_ws_backpressure_closes_total')) >= 1) {
        closedAt = sent;
        // Read again at once: whatever the server queued before cutting us, the close frame included, arrives.
        stalled.resume();
      }
      await sleep(100);
    }
  })();
  const acks: Promise<Record<string, any>>[] = [];
  while (sent < MAX_MESSAGES && (closedAt === undefined || sent < closedAt + AFTER_CLOSE)) {
    for (let k = 0; k < 3; k++) {
      const seq = sent++;
      acks.push(senders[seq % senders.length]!.request('messageInGroup', { groupId, content: content(seq) }, 30_000));
    }
    await sleep(10);
  }
  watching = false;
  await watcher;
  const replies = await Promise.all(acks);
  assert.ok(closedAt !== undefined, `the stalled reader was never closed after ${sent} messages of 4 KB`);
  assert.deepEqual(replies.filter((r) => r.success !== true).slice(0, 3), [], 'every send is acknowledged');

  // Every active member gets every message.
  const deadline = Date.now() + 10_000;
  while (readers.some((r) => r.count() < sent) && Date.now() < deadline) await sleep(50);
  const short = readers.map((r, i) => ({ member: i, got: r.count() })).filter((r) => r.got < sent);
  assert.deepEqual(short, [], `each of the 49 readers gets all ${sent} messages`);
  assert.equal(latencies.length, 49 * sent);

  const sorted = latencies.sort((x, y) => x - y);
  const p50 = percentile(sorted, 50);
  const p99 = percentile(sorted, 99);
  const rssAfter = rssKiB(relay.proc.pid!);
  t.diagnostic(`sent ${sent} (stalled reader closed after ~${closedAt}); latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; RSS ${rssBefore} → ${rssAfter} KiB`);
  assert.ok(p99 < 200, `p99 delivery latency ${p99.toFixed(1)} ms`);

  // The server closed the stalled socket itself: the counter moved once, the gauge dropped by one,
  // and the socket, read again, ends having missed messages. (Its 1013 close frame only reaches it
  // if it drains what was queued before, which a reader that stopped reading does not: uWS drops a
  // frame past its buffer cap, the close frame too, and then cuts the connection.)
  assert.equal(await metric('relay_ws_backpressure_closes_total'), 1);
  assert.equal(await metric('relay_ws_connections'), 59);
  await Promise.race([stalled.ended, sleep(10_000).then(() => assert.fail('the stalled socket was never closed'))]);
  t.diagnostic(`stalled reader: ${stalled.messages} of ${sent} messages read before the connection ended; close frame ${stalled.closeCode ?? 'none'}`);
  assert.ok(stalled.messages < sent, 'the stalled reader did not get everything: it was cut off, not served');
  if (stalled.closeCode !== undefined) assert.equal(stalled.closeCode, 1013);
  assert.ok(rssAfter - rssBefore < 64 * 1024, `server RSS grew ${(rssAfter - rssBefore) / 1024} MiB`);

  for (const r of readers) r.ws.close();
  await Promise.all(senders.map((c) => c.close()));
});

test('thirty stalled readers cost the server a bounded amount of memory, and all are closed', async (t) => {
  const STALLED = 30;
  const MESSAGES = 2500;
  const before0 = await metric('relay_ws_backpressure_closes_total');
  const owner = await signUp(relay.http, 'Owner');
  const admin = await Client.connect(relay.ws, owner.token);
  const groupId = (await admin.request('newGroup', { groupName: 'firehose' })).params.data.groupId as number;
  const stalled: RawReader[] = [];
  for (let i = 0; i < STALLED; i++) {
    const m = await signUp(relay.http, `Stalled${i}`);
    assert.equal((await admin.request('addUserInGroup', { groupId, userId: m.id })).success, true);
    const r = await RawReader.open(relay.port, m.token);
    r.stall();
    stalled.push(r);
  }
  await sleep(200);
  const rssBefore = rssKiB(relay.proc.pid!);
  let rssPeak = rssBefore;
  // 2500 × 4 KB = 10 MB per reader, 300 MB for thirty if the server kept what they do not read.
  for (let sent = 0; sent < MESSAGES;) {
    const batch: Promise<Record<string, any>>[] = [];
    for (let k = 0; k < 50; k++) batch.push(admin.request('messageInGroup', { groupId, content: content(sent++) }, 30_000));
    for (const r of await Promise.all(batch)) assert.equal(r.success, true);
    rssPeak = Math.max(rssPeak, rssKiB(relay.proc.pid!));
  }
  const deadline = Date.now() + 5000;
  while ((await metric('relay_ws_backpressure_closes_total')) - before0 < STALLED && Date.now() < deadline) await sleep(100);
  assert.equal((await metric('relay_ws_backpressure_closes_total')) - before0, STALLED);
  t.diagnostic(`RSS ${rssBefore} KiB before, peak ${rssPeak} KiB`);
  assert.ok(rssPeak - rssBefore < 96 * 1024, `server RSS grew ${((rssPeak - rssBefore) / 1024).toFixed(1)} MiB for ${STALLED} stalled readers`);
  for (const r of stalled) r.socket.destroy();
  await admin.close();
});

/**
 * Slow consumers under load: one reader of a busy group of 50 stops reading while the others
 * read. The correctness test (test/ops-slow-consumer.test.ts) runs this and checks what must
 * hold on any machine (the stalled socket is closed, the others get everything); run as a tool,
 * it also holds the figures to targets that only mean something on a quiet machine:
 *
 *   npm run build && node dist/bench/tools/slow-consumer.js
 *
 * Targets: delivery p99 under 200 ms for the 49 readers; server RSS growth under 64 MiB while one
 * reader stalls, under 96 MiB while thirty do.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { Client, http, signUp, sleep, type Account, type Frame } from '../../test/helpers/client.js';
import { RawSocket } from '../../test/helpers/raw-ws.js';

export const CONTENT_CHARS = 4096;
export const LIMIT = 65_536;
/** The server environment the scenario assumes. */
export const SLOW_CONSUMER_ENV = {
  WS_MAX_BACKPRESSURE: String(LIMIT),
  // The senders pipeline thousands of sends: the per-socket request rate is not under test here.
  WS_RATE_PER_SECOND: '100000', WS_RATE_BURST: '100000', AUTH_RATE_PER_MINUTE: '1000',
};

export interface Target { http: string; ws: string; port: number; pid: number }

export const rssKiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

export async function metric(target: Target, name: string): Promise<number> {
  const res = await http<string>(target.http, 'GET', '/metrics');
  const line = String(res.body).split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
}

export const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;

/** A reader that records, per message sequence number, that it arrived and how late. */
function reader(url: string, token: string, total: number, latencies: number[]): Promise<{ ws: WebSocket; count: () => number }> {
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
    ws.once('open', () => resolve({ ws, count: () => count }));
    ws.once('error', reject);
  });
}

export function content(seq: number): string {
  const head = `m${seq}@${performance.now().toFixed(3)};`;
  return head + 'x'.repeat(CONTENT_CHARS - head.length);
}

export interface StalledReaderRun {
  sent: number;
  /** Messages sent when the close was seen (the metric moved). */
  closedAt: number | undefined;
  /** Replies to every send. */
  replies: Frame[];
  /** Per active reader: how many messages it got. */
  got: number[];
  /** Delivery latencies of every message to every active reader, sorted (ms). */
  latencies: number[];
  connectionsBefore: number;
  closesBefore: number;
  closesAfter: number;
  connectionsAfter: number;
  rssBefore: number;
  rssAfter: number;
  stalled: RawSocket;
}

/**
 * Members 0..48 read; member 49 connects by hand and stops reading. The senders are second
 * devices of members 0..9 (so their reading sockets get every push too): replies on one
 * connection keep request order, so one sender alone would queue behind its own commits.
 * Paced sends (3 every 10 ms: ~300 messages of 4 KB a second), until the stalled socket is
 * closed, and then `afterClose` more.
 */
export async function stalledReaderRun(target: Target, { maxMessages = 8000, afterClose = 300 } = {}): Promise<StalledReaderRun> {
  const members: Account[] = [];
  for (let i = 0; i < 50; i++) members.push(await signUp(target.http, `Member${i}`));
  const admin = await Client.connect(target.ws, members[0]!.token);
  const groupId = (await admin.request('newGroup', { groupName: 'busy room' })).params.data.groupId as number;
  for (const m of members.slice(1)) {
    const r = await admin.request('addUserInGroup', { groupId, userId: m.id });
    if (r.success !== true) throw new Error(`addUserInGroup failed: ${JSON.stringify(r)}`);
  }
  await admin.close();

  const latencies: number[] = [];
  const readers = await Promise.all(members.slice(0, 49).map((m) => reader(target.ws, m.token, maxMessages, latencies)));
  const stalled = await RawSocket.open(target.port, members[49]!.token, { reading: false });
  const senders = await Promise.all(members.slice(0, 10).map((m) => Client.connect(target.ws, m.token)));
  // The gauge counts an open socket once its `open` ran: wait for all 60, not a fixed time.
  for (const deadline = Date.now() + 5000; (await metric(target, 'relay_ws_connections')) < 60 && Date.now() < deadline;) await sleep(20);
  const connectionsBefore = await metric(target, 'relay_ws_connections');
  const closesBefore = await metric(target, 'relay_ws_backpressure_closes_total');
  const rssBefore = rssKiB(target.pid);

  let sent = 0;
  let closedAt: number | undefined;
  let watching = true;
  const watcher = (async () => {
    while (watching && closedAt === undefined) {
      if ((await metric(target, 'relay_ws_backpressure_closes_total')) > closesBefore) {
        closedAt = sent;
        // Read again at once: whatever the server queued before cutting us, the close frame included, arrives.
        stalled.resume();
      }
      await sleep(100);
    }
  })();
  const acks: Promise<Frame>[] = [];
  while (sent < maxMessages && (closedAt === undefined || sent < closedAt + afterClose)) {
    for (let k = 0; k < 3; k++) {
      const seq = sent++;
      acks.push(senders[seq % senders.length]!.request('messageInGroup', { groupId, content: content(seq) }, 30_000));
    }
    await sleep(10);
  }
  watching = false;
  await watcher;
  const replies = await Promise.all(acks);
  for (const deadline = Date.now() + 10_000; readers.some((r) => r.count() < sent) && Date.now() < deadline;) await sleep(50);
  const run: StalledReaderRun = {
    sent, closedAt, replies, got: readers.map((r) => r.count()), latencies: latencies.sort((x, y) => x - y),
    connectionsBefore, closesBefore,
    closesAfter: await metric(target, 'relay_ws_backpressure_closes_total'),
    connectionsAfter: await metric(target, 'relay_ws_connections'),
    rssBefore, rssAfter: rssKiB(target.pid), stalled,
  };
  for (const r of readers) r.ws.close();
  await Promise.all(senders.map((c) => c.close()));
  return run;
}

/** Thirty stalled readers of one group, 2500 messages of 4 KB: server RSS peak and closes. */
export async function manyStalledRun(target: Target, { stalledCount = 30, messages = 2500 } = {}) {
  const closesBefore = await metric(target, 'relay_ws_backpressure_closes_total');
  const owner = await signUp(target.http, 'Owner');
  const admin = await Client.connect(target.ws, owner.token);
  const groupId = (await admin.request('newGroup', { groupName: 'firehose' })).params.data.groupId as number;
  const stalled: RawSocket[] = [];
  for (let i = 0; i < stalledCount; i++) {
    const m = await signUp(target.http, `Stalled${i}`);
    const r = await admin.request('addUserInGroup', { groupId, userId: m.id });
    if (r.success !== true) throw new Error(`addUserInGroup failed: ${JSON.stringify(r)}`);
    stalled.push(await RawSocket.open(target.port, m.token, { reading: false }));
  }
  const rssBefore = rssKiB(target.pid);
  let rssPeak = rssBefore;
  const failed: Frame[] = [];
  // 2500 × 4 KB = 10 MB per reader, 300 MB for thirty if the server kept what they do not read.
  for (let sent = 0; sent < messages;) {
    const batch: Promise<Frame>[] = [];
    for (let k = 0; k < 50; k++) batch.push(admin.request('messageInGroup', { groupId, content: content(sent++) }, 30_000));
    for (const r of await Promise.all(batch)) if (r.success !== true) failed.push(r);
    rssPeak = Math.max(rssPeak, rssKiB(target.pid));
  }
  for (const deadline = Date.now() + 5000; (await metric(target, 'relay_ws_backpressure_closes_total')) - closesBefore < stalledCount && Date.now() < deadline;) await sleep(100);
  const closes = (await metric(target, 'relay_ws_backpressure_closes_total')) - closesBefore;
  for (const r of stalled) r.socket.destroy();
  await admin.close();
  return { closes, failed, rssBefore, rssPeak };
}

async function main(): Promise<number> {
  const { createTestDatabase } = await import('../../test/helpers/db.js');
  const { startRelay } = await import('../../test/helpers/server.js');
  const db = await createTestDatabase('bench_slow');
  const relay = await startRelay({ DATABASE_URL: db.url, ...SLOW_CONSUMER_ENV });
  const target = { http: relay.http, ws: relay.ws, port: relay.port, pid: relay.proc.pid! };
  const misses: string[] = [];
  try {
    const one = await stalledReaderRun(target);
    const p50 = percentile(one.latencies, 50);
    const p99 = percentile(one.latencies, 99);
    const grew = (one.rssAfter - one.rssBefore) / 1024;
    console.log(`one stalled reader of 50: sent ${one.sent}, closed after ~${one.closedAt}; delivery p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms; RSS +${grew.toFixed(1)} MiB`);
    if (p99 >= 200) misses.push(`p99 delivery ${p99.toFixed(1)} ms (target < 200 ms)`);
    if (grew >= 64) misses.push(`RSS grew ${grew.toFixed(1)} MiB with one stalled reader (target < 64 MiB)`);
    const many = await manyStalledRun(target);
    const peak = (many.rssPeak - many.rssBefore) / 1024;
    console.log(`thirty stalled readers: ${many.closes} closed; RSS peak +${peak.toFixed(1)} MiB`);
    if (peak >= 96) misses.push(`RSS peak +${peak.toFixed(1)} MiB with thirty stalled readers (target < 96 MiB)`);
  } finally {
    await relay.stop();
    await db.drop();
  }
  for (const m of misses) console.log(`MISSED: ${m}`);
  return misses.length === 0 ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exit(await main());

// Issue #6, slow consumers: a reader that stops reading is closed with 1013 once its buffer passes
// WS_MAX_BACKPRESSURE; nobody else in its groups waits for it, and server memory stays bounded.
// What holds on any machine is checked here; latency and memory targets are the bench's
// (bench/tools/slow-consumer.ts, which runs the same scenarios).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { manyStalledRun, percentile, SLOW_CONSUMER_ENV, stalledReaderRun, type Target } from '../bench/tools/slow-consumer.js';

let db: TestDatabase;
let relay: RelayProcess;
let target: Target;
before(async () => {
  db = await createTestDatabase('ops_slow');
  relay = await startRelay({ DATABASE_URL: db.url, ...SLOW_CONSUMER_ENV });
  target = { http: relay.http, ws: relay.ws, port: relay.port, pid: relay.proc.pid! };
});
after(async () => {
  await relay?.stop();
  await db?.drop();
});

test('a stalled reader among 50 members is closed once past WS_MAX_BACKPRESSURE; the other 49 get every message', async (t) => {
  const run = await stalledReaderRun(target);
  const { sent, closedAt, stalled } = run;
  assert.equal(run.connectionsBefore, 60);
  assert.equal(run.closesBefore, 0);
  assert.ok(closedAt !== undefined, `the stalled reader was never closed after ${sent} messages of 4 KB`);
  assert.deepEqual(run.replies.filter((r) => r.success !== true).slice(0, 3), [], 'every send is acknowledged');

  // Every active member gets every message.
  const short = run.got.map((got, member) => ({ member, got })).filter((r) => r.got < sent);
  assert.deepEqual(short, [], `each of the 49 readers gets all ${sent} messages`);
  assert.equal(run.latencies.length, 49 * sent);
  t.diagnostic(`sent ${sent} (stalled reader closed after ~${closedAt}); latency p50 ${percentile(run.latencies, 50).toFixed(1)} ms, ` +
    `p99 ${percentile(run.latencies, 99).toFixed(1)} ms; RSS ${run.rssBefore} → ${run.rssAfter} KiB (targets: bench/tools/slow-consumer.ts)`);

  // The server closed the stalled socket itself: the counter moved once, the gauge dropped by one,
  // and the connection ends. (Its 1013 close frame only reaches it if it drains what was queued
  // before, which a reader that stopped reading does not: uWS drops a frame past its buffer cap,
  // the close frame too, and then cuts the connection.)
  assert.equal(run.closesAfter, 1);
  assert.equal(run.connectionsAfter, 59);
  let ended = false;
  await Promise.race([stalled.ended.then(() => { ended = true; }), new Promise((r) => setTimeout(r, 10_000))]);
  assert.ok(ended, 'the stalled socket was never closed');
  t.diagnostic(`stalled reader: ${stalled.messages} of ${sent} messages read before the connection ended; close frame ${stalled.closeCode ?? 'none'}`);
  if (stalled.closeCode !== undefined) assert.equal(stalled.closeCode, 1013);
});

test('thirty stalled readers are all closed, and every send is still acknowledged', async (t) => {
  const run = await manyStalledRun(target);
  assert.deepEqual(run.failed.slice(0, 3), [], 'every send is acknowledged');
  assert.equal(run.closes, 30);
  t.diagnostic(`RSS ${run.rssBefore} KiB before, peak ${run.rssPeak} KiB (target: bench/tools/slow-consumer.ts)`);
});

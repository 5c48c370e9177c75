/**
 * The `soak` scenario at smoke size, on two nodes through Redis (npm test; the real soak takes
 * minutes and the machine's whole open-file budget, so it only runs when named). A file of its
 * own, not part of bench-smoke.test.ts: under a loaded `npm test` that file's five scenarios take
 * most of the per-file timeout by themselves.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canReach, DEFAULT_ADMIN_URL } from '../bench/lib/database.js';
import { num, runBench } from './helpers/bench.js';

const RUN_JS = fileURLToPath(new URL('../bench/run.js', import.meta.url));

interface Line {
  scenario: string;
  figures: Record<string, unknown>;
}

test('soak runs at smoke size on two nodes through Redis: every delivery arrives, per-node figures', { timeout: 120_000 }, async (t) => {
  const redisUrl = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  if (!(await canReach(process.env['BENCH_ADMIN_URL'] ?? DEFAULT_ADMIN_URL)) || !(await redisPongs(new URL(redisUrl)))) {
    t.skip('no PostgreSQL at 127.0.0.1:5432 or no Redis');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const out = join(dir, 'results.jsonl');
  try {
    // Three generator processes for two nodes: source addresses 127.0.0.2..4, each talking to both nodes.
    const { code, output } = await runBench([RUN_JS, 'soak', '--smoke', '--nodes', '2', '--procs', '3', '--out', out, '--server-env', `REDIS_URL=${redisUrl}`]);
    assert.equal(code, 0, output);
    const [line] = readFileSync(out, 'utf8').trim().split('\n').map((text) => JSON.parse(text) as Line);
    assert.equal(line?.scenario, 'soak', output);
    const soak = line?.figures ?? {};
    assert.equal(soak['connections'], 200, output);
    assert.equal(soak['generatorProcesses'], 3);
    assert.deepEqual(soak['sourceAddresses'], ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    assert.ok(num(soak['fileLimit']) > 200);
    assert.ok(num(soak['handshakesPerSecond']) > 0);
    // 10 active at 4/s for 2 s, half to a group of 5 (4 deliveries each), half private (1 each).
    assert.ok(num(soak['groupAcks']) > 0 && num(soak['privateAcks']) > 0, output);
    assert.equal(soak['expectedDeliveries'], num(soak['groupAcks']) * 4 + num(soak['privateAcks']));
    assert.equal(soak['dropped'], 0, output);
    assert.equal(soak['unanswered'], 0, output);
    assert.deepEqual(soak['errors'], {});
    assert.deepEqual(soak['closedByServer'], {});
    assert.ok(num((soak['delivery'] as Record<string, unknown>)['count']) > 0);
    const nodes = soak['nodes'] as Record<string, unknown>[];
    assert.equal(nodes.length, 2);
    for (const node of nodes) {
      assert.ok(num(node['eventLoopDelayP99Ms']) >= 0, output);
      const rss = node['rssMiB'] as Record<string, unknown>;
      for (const stage of ['before', '25', '50', '100', 'loaded']) assert.ok(num(rss[stage]) > 0, `rss at ${stage}`);
    }
    assert.ok(num((soak['load'] as Record<string, unknown>)['redisCores']) >= 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** Something answers PING at this redis:// address. */
async function redisPongs(url: URL): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(Number(url.port || 6379), url.hostname);
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (data: Buffer) => done(data.toString().startsWith('+PONG')));
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

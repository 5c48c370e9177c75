/**
 * The `search` scenario at smoke size (npm test; at full size it seeds 1M messages, so it only
 * runs when named): every round gets replies that carry rows, the plans are captured, and the CPU
 * per request is figured for the server and PostgreSQL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canReach, DEFAULT_ADMIN_URL } from '../bench/lib/database.js';
import { runBench } from './helpers/bench.js';
import { queries, word } from '../bench/lib/vocabulary.js';

const RUN_JS = fileURLToPath(new URL('../bench/run.js', import.meta.url));

test('the vocabulary: made-up words, queries of one or two prefixes, the same every run', () => {
  assert.deepEqual([word(0), word(1), word(24), word(600)], ['kaka', 'loka', 'kalo', 'kalolo']);
  for (const common of [false, true]) {
    const qs = queries(50, { common });
    assert.deepEqual(qs, queries(50, { common }));
    for (const q of qs) assert.match(q, /^[a-z]{3,6}( [a-z]{3,6})?$/);
  }
  assert.notDeepEqual(queries(50, { common: true }), queries(50, { common: false }));
});

test('search runs at smoke size: each round answers with rows, plans and CPU per request are reported', { timeout: 180_000 }, async (t) => {
  if (!(await canReach(process.env['BENCH_ADMIN_URL'] ?? DEFAULT_ADMIN_URL))) {
    t.skip('no PostgreSQL at 127.0.0.1:5432');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-'));
  const out = join(dir, 'results.jsonl');
  try {
    const { code, output } = await runBench([RUN_JS, 'search', '--smoke', '--out', out]);
    assert.equal(code, 0, output);
    const [line] = readFileSync(out, 'utf8').trim().split('\n').map((text) => JSON.parse(text) as { scenario: string; figures: Record<string, any> });
    assert.equal(line?.scenario, 'search', output);
    const f = line!.figures;
    for (const kind of ['listLastMessage', 'searchAll', 'searchGroup', 'searchAllCommon']) {
      assert.ok(f[kind].requestsPerSecond > 0, `${kind}: ${output}`);
      assert.ok(f[kind].rowsPerReply > 0, `${kind} finds rows: ${output}`);
      assert.deepEqual(f[kind].errors, {}, kind);
      assert.ok(f[kind].serverMicrosPerRequest > 0 && f[kind].databaseMicrosPerRequest > 0, kind);
    }
    for (const kind of ['searchAll', 'searchGroup', 'searchAllCommon']) {
      assert.equal(typeof f[`${kind}CpuVsListLastMessage`], 'number');
      const open = Object.entries(f).find(([k]) => k.startsWith(`${kind} at `))?.[1];
      assert.ok(open?.requestsPerSecond > 0, `${kind} at a fixed rate: ${output}`);
    }
    assert.match(f['explain'].searchAll, /Bitmap Index Scan on messages_search_idx/);
    assert.doesNotMatch(f['explain'].searchAll, /Seq Scan on messages/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

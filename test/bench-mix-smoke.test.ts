/**
 * Keeps `--mix v12` (replies, mentions and reactions in fanout and private, reactions on a third
 * of the history rows) from rotting: the three scenarios end to end at tiny sizes through the real
 * entry point, checking that every kind was sent and acknowledged without errors, and that a
 * reaction push counts as a delivery.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canReach, DEFAULT_ADMIN_URL } from '../bench/lib/database.js';
import { readDataId, isReactionPush } from '../bench/lib/mix.js';
import { num, runBench } from './helpers/bench.js';

const RUN_JS = fileURLToPath(new URL('../bench/run.js', import.meta.url));

type Line = { scenario: string; params: Record<string, unknown>; figures: Record<string, any> };

test('the mix reads message ids and tells reaction pushes from bytes', () => {
  assert.equal(readDataId(Buffer.from('{"type":"messageInGroup","success":true,"params":{"data":{"id":1234,"seq":2}}}')), 1234);
  assert.equal(readDataId(Buffer.from('{"type":"addReaction","success":true,"params":{"data":{"messageId":5}}}')), -1);
  assert.equal(isReactionPush(Buffer.from('{"type":"removeReaction","success":true}')), true);
  assert.equal(isReactionPush(Buffer.from('{"type":"messageInGroup","success":true}')), false);
});

test('--mix v12: fanout, private and history run with replies, mentions and reactions, without errors', async (t) => {
  if (!(await canReach(DEFAULT_ADMIN_URL))) return t.skip('no PostgreSQL on 127.0.0.1:5432');
  const dir = mkdtempSync(join(tmpdir(), 'relay-bench-mix-'));
  const out = join(dir, 'results.jsonl');
  try {
    const { code, output } = await runBench([RUN_JS, 'fanout', 'private', 'history', '--smoke', '--mix', 'v12', '--duration', '2', '--out', out]);
    assert.equal(code, 0, output);
    const lines = readFileSync(out, 'utf8').trim().split('\n').map((text) => JSON.parse(text) as Line);
    assert.deepEqual(lines.map((line) => line.scenario), ['fanout', 'private', 'history'], output);
    for (const line of lines) assert.equal(line.params['mix'], 'v12');
    const [fanout, priv, history] = lines.map((line) => line.figures);
    for (const mode of ['closed', 'open']) {
      const round = fanout?.[mode];
      assert.deepEqual(round.errors, {}, `${mode}: errors`);
      for (const kind of ['plain', 'reply', 'mention', 'reaction']) assert.ok(num(round.kinds[kind]) > 0, `${mode}: ${kind} sends ${JSON.stringify(round.kinds)}`);
      assert.ok(num(round.reactionDeliveries) > 0, `${mode}: reaction pushes delivered`);
      assert.equal(round.otherPushes, 0, `${mode}: every push recognised`);
    }
    assert.deepEqual(priv?.errors, {});
    assert.ok(num(priv?.repliesPerSecond) > 0 && num(priv?.reactionsPerSecond) > 0 && num(priv?.reactionPushesPerSecond) > 0, JSON.stringify(priv));
    assert.equal(priv?.otherPushes, 0);
    for (const kind of ['getlatestMessageDialog', 'getlatestMessageGroup']) {
      assert.deepEqual(history?.[kind].errors, {}, kind);
      assert.ok(num(history?.[kind].requestsPerSecond) > 0, kind);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// db/batch.ts: group commit, and ws/rateLimit.ts: the per-connection bucket. No database.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createBatcher } from '../src/db/batch.js';
import { takeToken } from '../src/ws/rateLimit.js';

test('calls made in one turn are written by one call, each caller gets its own result', async () => {
  const writes: number[][] = [];
  const add = createBatcher(async (items: number[]) => { writes.push(items); return items.map((n) => n * 10); });
  assert.deepEqual(await Promise.all([add(1), add(2), add(3)]), [10, 20, 30]);
  assert.deepEqual(writes, [[1, 2, 3]]);
});

test('calls made while the batches in flight are full wait for one, then go together', async () => {
  const writes: number[][] = [];
  let release: () => void = () => undefined;
  const add = createBatcher(async (items: number[]) => {
    writes.push(items);
    if (writes.length === 1) await new Promise<void>((r) => { release = r; });
    return items;
  }, { depth: 1 });
  const first = add(1);
  await new Promise((r) => setImmediate(r));
  const later = [add(2), add(3)];
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(writes, [[1]], 'nothing else is written while the first batch is in flight');
  release();
  assert.deepEqual(await Promise.all([first, ...later]), [1, 2, 3]);
  assert.deepEqual(writes, [[1], [2, 3]]);
});

test('a failed write rejects every caller of its batch, and only them', async () => {
  let n = 0;
  const add = createBatcher(async (items: string[]) => { if (n++ === 0) throw new Error('boom'); return items; });
  const results = await Promise.allSettled([add('a'), add('b')]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(await add('c'), 'c');
});

test('batches are cut at maxBatch', async () => {
  const sizes: number[] = [];
  const add = createBatcher(async (items: number[]) => { sizes.push(items.length); return items; }, { maxBatch: 2, depth: 1 });
  await Promise.all([1, 2, 3, 4, 5].map(add));
  assert.deepEqual(sizes, [2, 2, 1]);
});

test('up to depth batches are in flight; results are handed out in batch order whatever order they finish in', async () => {
  const writes: number[][] = [];
  const releases: (() => void)[] = [];
  const add = createBatcher(async (items: number[]) => {
    writes.push(items);
    await new Promise<void>((r) => releases.push(r));
    return items;
  }, { depth: 2 });
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  const order: number[] = [];
  const track = (p: Promise<number>): Promise<number> => p.then((n) => { order.push(n); return n; });
  const first = track(add(1));
  await turn();
  const second = track(add(2));
  await turn();
  const third = track(add(3));
  await turn();
  assert.deepEqual(writes, [[1], [2]], 'a second batch goes while the first is in flight; a third waits');
  releases[1]!();
  await turn();
  assert.deepEqual(order, [], 'the second batch finished first, but waits for the first to be handed out');
  releases[0]!();
  assert.deepEqual(await Promise.all([first, second]), [1, 2]);
  await turn();
  assert.deepEqual(writes, [[1], [2], [3]], 'the third goes once a batch is handed out');
  releases[2]!();
  assert.equal(await third, 3);
  assert.deepEqual(order, [1, 2, 3]);
});

test('a failed batch rejects its callers in its turn, after the batch before it is handed out', async () => {
  const releases: (() => void)[] = [];
  let n = 0;
  const add = createBatcher(async (items: string[]) => {
    const k = n++;
    await new Promise<void>((r) => releases.push(r));
    if (k === 1) throw new Error('boom');
    return items;
  });
  const order: string[] = [];
  const a = add('a').then((x) => { order.push(x); });
  await new Promise((r) => setImmediate(r));
  const b = add('b').catch(() => { order.push('b failed'); });
  await new Promise((r) => setImmediate(r));
  releases[1]!();
  await new Promise((r) => setImmediate(r));
  releases[0]!();
  await Promise.all([a, b]);
  assert.deepEqual(order, ['a', 'b failed']);
});

test('the rate bucket allows a burst, then refills at the rate', () => {
  const s = { rateAllowance: 3, rateRefilledAt: 0 };
  const take = (now: number): boolean => takeToken(s, 10, 3, now);
  assert.deepEqual([take(0), take(0), take(0), take(0)], [true, true, true, false]);
  assert.equal(take(50), false, 'half a token after 50 ms at 10/s');
  assert.equal(take(100), true, 'one token after 100 ms');
  assert.deepEqual([take(10_000), take(10_000), take(10_000), take(10_000)], [true, true, true, false], 'refill stops at the burst');
});

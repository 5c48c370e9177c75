// db/breaker.ts: fail fast while the database is down, a probe to close the breaker, and the
// query deadline, on fake timers (no database, no waiting).
import { test, mock, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { createGate, type GateOptions, type Start } from '../src/db/breaker.js';

const unreachable = (): Error => Object.assign(new Error('refused'), { code: 'ECONNREFUSED' });
const isUnavailable = (err: unknown): boolean => (err as { code?: string } | undefined)?.code === 'ECONNREFUSED';

afterEach(() => mock.timers.reset());

/** A gate whose probe answers as `probeOk` says; events are recorded. */
function gate(over: Partial<GateOptions> = {}) {
  mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
  const events: string[] = [];
  const probe = { ok: false, calls: 0 };
  const g = createGate({
    max: 4, isUnavailable, probeEveryMs: 250, deadlineMs: 10_000,
    probe: () => { probe.calls++; return probe.ok ? Promise.resolve(1) : Promise.reject(unreachable()); },
    onDown: () => events.push('down'), onUp: (ms) => events.push(`up after ${ms}`),
    ...over,
  });
  return { g, events, probe };
}

const succeed = (value: unknown): Start => (done) => done(true, value);
const fail = (err: unknown): Start => (done) => done(false, err);
/** A query that never answers until `answer` is called. */
function pending(): { start: Start; answer(ok: boolean, v: unknown): void } {
  let d: ((ok: boolean, v: unknown) => void) | undefined;
  return { start: (done) => { d = done; }, answer: (ok, v) => d?.(ok, v) };
}
const flush = async (): Promise<void> => { for (let i = 0; i < 5; i++) await Promise.resolve(); };

test('answers are counted: ok, refused by the database (failed), not reached (unavailable)', async () => {
  const { g } = gate();
  assert.equal(await g.run(succeed(7), true), 7);
  await assert.rejects(g.run(fail(Object.assign(new Error('dup'), { code: '23505' })), true), /dup/);
  assert.deepEqual({ ...g.stats }, { max: 4, inFlight: 0, ok: 1, failed: 1, unavailable: 0, shed: 0, available: true });
  g.end();
});

test('once unreachable, queries fail at once until a probe answers; then they run again', async () => {
  const { g, events, probe } = gate();
  await assert.rejects(g.run(fail(unreachable()), true), /refused/);
  assert.equal(g.stats.available, false);
  let ran = false;
  await assert.rejects(g.run((done) => { ran = true; done(true, 1); }, true), (err: { code?: string }) => err.code === 'DB_UNREACHABLE');
  assert.equal(ran, false, 'a query is not even started while the breaker is open');
  assert.equal(g.stats.shed, 1);

  mock.timers.tick(250);
  await flush();
  assert.equal(probe.calls, 1);
  assert.equal(g.stats.available, false, 'a failed probe keeps it open');

  probe.ok = true;
  mock.timers.tick(250);
  await flush();
  assert.equal(probe.calls, 2);
  assert.equal(g.stats.available, true);
  assert.deepEqual(events, ['down', 'up after 500']);
  assert.equal(await g.run(succeed('back'), true), 'back');
  mock.timers.tick(1000);
  assert.equal(probe.calls, 2, 'no probing once closed');
  g.end();
});

test('one probe at a time: a probe with no answer is not doubled', async () => {
  const never = new Promise<unknown>(() => undefined);
  let calls = 0;
  const { g } = gate({ probe: () => { calls++; return never; } });
  await assert.rejects(g.run(fail(unreachable()), true));
  mock.timers.tick(2500);
  await flush();
  assert.equal(calls, 1);
  g.end();
});

test('a query with no answer past the deadline fails as QUERY_TIMEOUT, and opens the breaker', async () => {
  const { g } = gate({ isUnavailable: (err) => ['ECONNREFUSED', 'QUERY_TIMEOUT'].includes((err as { code?: string }).code ?? '') });
  const q = pending();
  const result = g.run(q.start, true);
  mock.timers.tick(9_000);
  await flush();
  assert.equal(g.stats.inFlight, 1);
  mock.timers.tick(2_000);
  await assert.rejects(result, (err: { code?: string }) => err.code === 'QUERY_TIMEOUT');
  assert.equal(g.stats.unavailable, 1);
  assert.equal(g.stats.available, false);
  q.answer(true, 'late');
  assert.equal(g.stats.ok, 0, 'a late answer is not counted twice');
  assert.equal(g.stats.inFlight, 0);
  g.end();
});

test('transactions (no deadline) wait as long as they take', async () => {
  const { g } = gate();
  const q = pending();
  const result = g.run(q.start, false);
  mock.timers.tick(60_000);
  q.answer(true, 'done');
  assert.equal(await result, 'done');
  g.end();
});

// PRESENCE_* settings: the spec's defaults (10 s grace, offline within 60 s after a node dies),
// and values that would break that promise refused at start with a message naming them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config.js';

test('presence timings default to the protocol\'s: 10 s grace, 30 s node claims, 1 s sweeps', () => {
  const c = loadConfig({});
  assert.equal(c.PRESENCE_GRACE_MS, 10_000);
  assert.equal(c.PRESENCE_NODE_TTL_MS, 30_000);
  assert.equal(c.PRESENCE_SWEEP_MS, 1_000);
  // A dead node's users are offline within the claim lifetime plus one sweep: inside 60 s.
  assert.ok(c.PRESENCE_NODE_TTL_MS + c.PRESENCE_SWEEP_MS <= 60_000);
  const short = loadConfig({ PRESENCE_GRACE_MS: '500', PRESENCE_NODE_TTL_MS: '3000', PRESENCE_SWEEP_MS: '100' });
  assert.deepEqual([short.PRESENCE_GRACE_MS, short.PRESENCE_NODE_TTL_MS, short.PRESENCE_SWEEP_MS], [500, 3000, 100]);
});

test('presence timings out of range stop the start with a message naming the setting', () => {
  for (const [key, value] of [['PRESENCE_NODE_TTL_MS', '60000'], ['PRESENCE_SWEEP_MS', '20000'], ['PRESENCE_GRACE_MS', 'soon'], ['PRESENCE_GRACE_MS', '0']]) {
    assert.throws(() => loadConfig({ [key!]: value }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, new RegExp(`${key}="${value}": must`));
      return true;
    });
  }
});

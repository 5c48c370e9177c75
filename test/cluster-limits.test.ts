import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayProcess } from './helpers/server.js';
import { useRelay } from './helpers/protocol.js';
import { http, signUp } from './helpers/client.js';
import { testPrefix } from './helpers/redis.js';

// Login attempt limits are counted in Redis in cluster mode: two nodes give no more attempts than one.

const fx = useRelay('cluster_limits', { REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: testPrefix(), AUTH_RATE_PER_MINUTE: '3' }, undefined, { nodes: 2 });

test('attempts on one email are counted across nodes', async () => {
  const [a, b] = fx.nodes as [RelayProcess, RelayProcess];
  const ann = await signUp(a.http, 'Ann');
  const statuses: number[] = [];
  // Sign-up counted once against the email; then alternate nodes with wrong passwords.
  for (const n of [b, a, b]) {
    statuses.push((await http(n.http, 'POST', '/auth/login', { body: { email: ann.email, password: 'wrong-password' } })).status);
  }
  assert.deepEqual(statuses, [401, 401, 429]);
  const limited = await http(a.http, 'POST', '/auth/login', { body: { email: ann.email, password: ann.password } });
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) >= 1);
});

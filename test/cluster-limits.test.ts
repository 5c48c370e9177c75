import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RelayProcess } from './helpers/server.js';
import { useRelay } from './helpers/protocol.js';
import { http, signUp } from './helpers/client.js';

// Login attempt limits are counted in Redis in cluster mode: two nodes give no more attempts than
// one. On one Redis, or (cluster-limits.redis-cluster.test.ts) on a Redis Cluster: the counters
// are single keys, spread over the shards by their slots.

const fx = useRelay('cluster_limits', { AUTH_RATE_PER_MINUTE: '3' }, undefined, { nodes: 2, broker: true });

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

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { http, signUp } from './helpers/client.js';
import { testPrefix } from './helpers/redis.js';

// Login attempt limits are counted in Redis in cluster mode: two nodes give no more attempts than one.

let db: TestDatabase;
let nodes: RelayProcess[] = [];

before(async () => {
  db = await createTestDatabase('cluster_limits');
  const env = { DATABASE_URL: db.url, REDIS_URL: 'redis://127.0.0.1:6379', REDIS_PREFIX: testPrefix(), AUTH_RATE_PER_MINUTE: '3' };
  const first = await startRelay(env);
  nodes = [first, await startRelay(env)];
});

after(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await db?.drop();
});

test('attempts on one email are counted across nodes', async () => {
  const [a, b] = nodes as [RelayProcess, RelayProcess];
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

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { http, signUp } from './helpers/client.js';

let db: TestDatabase;
let relay: RelayProcess;
before(async () => {
  db = await createTestDatabase('smoke');
  relay = await startRelay({ DATABASE_URL: db.url });
});
after(async () => {
  await relay?.stop();
  await db?.drop();
});

test('a signed-up user reads their profile', async () => {
  const a = await signUp(relay.http, 'Smoke');
  const res = await http(relay.http, 'GET', '/profile', { token: a.token });
  assert.equal(res.status, 200);
  assert.equal(res.body.id, a.id);
  assert.equal(res.body.email, a.email);
});

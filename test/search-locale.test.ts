// Search must not depend on the database's locale (PROTOCOL.md v1.2 "Search": any script that
// has case). Two servers over real sockets: one on a database created with LC_CTYPE 'C' (where
// PostgreSQL's own lower() leaves "Привет" as it is and its regex sees no letter in it), one on
// the embedded PostgreSQL (no DATABASE_URL: its own cluster, C.UTF-8 of the builtin provider).
// The machine's default database (C.UTF-8 of the OS) is what the ws-search suites run on.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { BASE_URL } from './helpers/db.js';
import { startRelay, type RelayProcess } from './helpers/server.js';
import { signUp, socketPool } from './helpers/client.js';
import { ok } from './helpers/protocol.js';

const sockets = socketPool();
const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  sockets.terminateAll();
  for (const c of cleanups.reverse()) await c();
});

/** Sends in several scripts and searches them in lower and upper case. */
async function searchesEveryCasedScript(relay: RelayProcess): Promise<void> {
  const a = await signUp(relay.http, 'Ira');
  const b = await signUp(relay.http, 'Omer');
  const a1 = await sockets.connect(relay.ws, a.token);
  const ru = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'Привет, МИР!' });
  const el = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'ΚΑΛΗΜΕΡΑ' });
  const de = await ok(a1, 'privateMessage', { receiverId: b.id, content: 'ÜBER Straße' });
  const find = async (query: string): Promise<number[]> => (await ok(a1, 'searchMessages', { query })).map((r: any) => r.id);
  assert.deepEqual(await find('прив'), [ru.id]);
  assert.deepEqual(await find('ПРИВ мир'), [ru.id]);
  assert.deepEqual(await find('καλη'), [el.id]);
  assert.deepEqual(await find('über STRA'), [de.id]);
  assert.deepEqual(await find('ивет'), []);
  const [row] = await ok(a1, 'searchMessages', { query: 'мир' });
  assert.deepEqual(row.highlights, [[8, 11]]);
}

test('a database with LC_CTYPE C: прив finds Привет', async () => {
  const name = `relay_search_c_${randomBytes(4).toString('hex')}`;
  const admin = postgres(BASE_URL, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`create database "${name}" LC_CTYPE 'C' LC_COLLATE 'C' TEMPLATE template0`);
  cleanups.push(async () => {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
    await admin.end();
  });
  const url = new URL(BASE_URL);
  url.pathname = `/${name}`;
  const db = postgres(url.toString(), { max: 1, onnotice: () => undefined });
  cleanups.push(() => db.end());
  // The premise: in this database PostgreSQL's own case mapping knows no Cyrillic.
  const [premise] = await db`select datctype, lower('Привет') as lowered from pg_database where datname = current_database()`;
  assert.deepEqual(premise, { datctype: 'C', lowered: 'Привет' });

  const relay = await startRelay({ DATABASE_URL: url.toString(), AUTH_RATE_PER_MINUTE: '100000' });
  cleanups.push(() => relay.stop());
  await searchesEveryCasedScript(relay);
});

test('the embedded PostgreSQL: прив finds Привет', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'relay-search-embedded-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const relay = await startRelay({ DATA_DIR: dataDir, AUTH_RATE_PER_MINUTE: '100000' }, 120_000);
  cleanups.push(() => relay.stop());
  await searchesEveryCasedScript(relay);
});

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from './helpers/db.js';
import { startRelay, TEST_SECRET } from './helpers/server.js';

// uWebSockets.js falls back to a slow `ws` shim when its binary does not load (forced here with
// the package's own UWS_USE_FALLBACK switch): Relay must refuse to start on it unless told to.

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/main.js');
let db: TestDatabase | undefined;
after(async () => { await db?.drop(); });

test('on the fallback shim the server refuses to start and says why', async () => {
  const proc = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1', JWT_SECRET: TEST_SECRET, UWS_USE_FALLBACK: '1',
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const code = await new Promise<number | null>((resolve) => proc.once('exit', resolve));
  assert.equal(code, 1);
  assert.match(out, /native binary did not load/);
  assert.match(out, /UWS_ALLOW_FALLBACK=1/);
  assert.doesNotMatch(out, /"msg":"listening"/);
});

test('with UWS_ALLOW_FALLBACK=1 it starts on the shim anyway, and warns', async () => {
  db = await createTestDatabase('fallback');
  const relay = await startRelay({ DATABASE_URL: db.url, UWS_USE_FALLBACK: '1', UWS_ALLOW_FALLBACK: '1' });
  try {
    const warning = relay.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('fallback shim'));
    assert.ok(warning, 'a warning says it runs on the shim');
    assert.equal(warning.level, 40);
  } finally {
    await relay.stop();
  }
});

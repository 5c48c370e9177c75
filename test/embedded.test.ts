import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { access, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { pino, type Logger } from 'pino';
import postgres from 'postgres';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { eventually } from './helpers/kit.js';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'relay-embedded-'));
  dirs.push(dir);
  return dir;
}

function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: pino({ level: 'debug' }, { write: (line: string) => void lines.push(line) }) };
}

const quiet = pino({ level: 'silent' });

async function withSql<T>(url: string, fn: (sql: postgres.Sql) => Promise<T>): Promise<T> {
  const sql = postgres(url, { max: 1, connect_timeout: 5, onnotice: () => undefined });
  try {
    return await fn(sql);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(() => true, () => false);
}


/** True while the process exists and is not a zombie. */
async function running(pid: number): Promise<boolean> {
  const s = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return s !== undefined && s[s.lastIndexOf(')') + 2] !== 'Z';
}

/** As root, PostgreSQL runs as the postgres OS user. */
function serverUser(): { uid?: number; gid?: number } {
  if (process.getuid?.() !== 0) return {};
  const id = (flag: string): number => Number.parseInt(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }), 10);
  return { uid: id('-u'), gid: id('-g') };
}

// Another Relay process, so that it can be killed the way a crash or `docker kill` would.
const STARTER = `
const { startEmbeddedPostgres } = await import(process.env.RELAY_EMBEDDED);
const { pino } = await import(process.env.RELAY_PINO);
const db = await startEmbeddedPostgres({ dataDir: process.env.RELAY_DATA_DIR, log: pino({ level: 'silent' }) });
process.stdout.write(db.url + '\\n');
setInterval(() => {}, 60_000);
`;

/** TMPDIR: the package's initdb password file, left behind when the kill lands, goes to a folder we remove. */
async function spawnStarter(dataDir: string, detached: boolean): Promise<ChildProcess> {
  const scratch = await tempDir();
  return spawn(process.execPath, ['--input-type=module', '-e', STARTER], {
    env: {
      ...process.env,
      RELAY_EMBEDDED: new URL('../src/db/embedded.js', import.meta.url).href,
      RELAY_PINO: import.meta.resolve('pino'),
      RELAY_DATA_DIR: dataDir,
      TMPDIR: scratch,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
    detached,
  });
}

async function firstLine(child: ChildProcess): Promise<string> {
  assert.ok(child.stdout);
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit').then(() => Promise.reject(new Error('starter exited early')));
  const [line]: unknown[] = await Promise.race([once(lines, 'line'), exited]);
  lines.close();
  assert.equal(typeof line, 'string');
  return String(line);
}

async function killed(child: ChildProcess, group: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exit = once(child, 'exit');
  process.kill(group ? -child.pid : child.pid, 'SIGKILL');
  await exit;
}

test('keeps data across restarts, listens on 127.0.0.1 on a fresh port, never logs the password', async () => {
  const dir = await tempDir();
  const { log, lines } = memoryLogger();

  const first = await startEmbeddedPostgres({ dataDir: dir, log });
  const url = new URL(first.url);
  try {
    assert.equal(url.protocol, 'postgres:');
    assert.equal(url.hostname, '127.0.0.1');
    assert.equal(url.username, 'postgres');
    assert.equal(url.pathname, '/relay');
    assert.notEqual(url.port, '5432');
    assert.ok(url.password.length >= 16);
    await withSql(first.url, async (sql) => {
      await sql`CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)`;
      await sql`INSERT INTO notes VALUES (1, ${'Grüße ✓'})`;
      const [row] = await sql`SELECT current_setting('server_encoding') AS enc, lower('ÄÖ') AS low`;
      assert.deepEqual({ ...row }, { enc: 'UTF8', low: 'äö' });
    });
  } finally {
    await first.stop();
  }
  await first.stop();
  await assert.rejects(withSql(first.url, (sql) => sql`SELECT 1`), 'the server is down after stop()');

  const marker = await stat(join(dir, 'pg', 'relay-embedded.json'));
  assert.equal(marker.mode & 0o777, 0o600);
  if (process.getuid?.() === 0) assert.notEqual((await stat(join(dir, 'pg', 'PG_VERSION'))).uid, 0, 'root hands the cluster to the postgres user');

  const second = await startEmbeddedPostgres({ dataDir: dir, log });
  try {
    const again = new URL(second.url);
    assert.equal(again.password, url.password);
    const rows = await withSql(second.url, (sql) => sql`SELECT id, body FROM notes`);
    assert.deepEqual(rows.map((r) => ({ ...r })), [{ id: 1, body: 'Grüße ✓' }]);
  } finally {
    await second.stop();
  }

  const password = decodeURIComponent(url.password);
  assert.ok(lines.some((l) => l.includes('"port":')), 'the port is logged');
  assert.ok(lines.some((l) => l.includes('"pg":')), 'raw postgres output is logged at debug');
  assert.ok(!lines.some((l) => l.includes(password) || l.includes(url.password)), 'the password is never logged');
});

test('a first start killed during initdb does not block the next one', async () => {
  const dir = await tempDir();
  const child = await spawnStarter(dir, true);
  try {
    const initStarted = async (): Promise<boolean> => {
      for (const name of await readdir(dir)) {
        if (name.startsWith('pg.init-') && !name.endsWith('.pw') && (await exists(join(dir, name, 'PG_VERSION')))) return true;
      }
      return false;
    };
    await eventually('initdb began', initStarted, { timeoutMs: 20_000, everyMs: 5 });
  } finally {
    // The whole process group, initdb included: a power cut, not a polite exit.
    await killed(child, true);
  }
  assert.equal(await exists(join(dir, 'pg')), false, 'the kill landed before initialisation finished');

  const db = await startEmbeddedPostgres({ dataDir: dir, log: quiet });
  try {
    await withSql(db.url, (sql) => sql`CREATE TABLE t (id int)`);
  } finally {
    await db.stop();
  }
  assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('pg.init-')), []);
});

test('half-made folders are cleared or set aside, never used', async () => {
  const dir = await tempDir();
  await mkdir(join(dir, 'pg'));
  await writeFile(join(dir, 'pg', 'PG_VERSION'), '17\n');
  await writeFile(join(dir, 'pg', 'junk'), 'not a cluster');
  await mkdir(join(dir, 'pg.init-deadbeef'));
  await writeFile(join(dir, 'pg.init-deadbeef.pw'), 'x\n');

  const db = await startEmbeddedPostgres({ dataDir: dir, log: quiet });
  try {
    const [row] = await withSql(db.url, (sql) => sql`SELECT current_database() AS db`);
    assert.equal(row?.['db'], 'relay');
  } finally {
    await db.stop();
  }
  const names = await readdir(dir);
  assert.deepEqual(names.filter((n) => n.startsWith('pg.init-')), []);
  const aside = names.filter((n) => n.startsWith('pg.broken-'));
  assert.equal(aside.length, 1);
  assert.equal(await readFile(join(dir, aside[0] ?? '', 'junk'), 'utf8'), 'not a cluster');
});

test('a server outliving a killed Relay, and a stale lock with a reused pid, do not block the next start', { skip: process.platform !== 'linux' }, async () => {
  const dir = await tempDir();
  const child = await spawnStarter(dir, false);
  let orphan = 0;
  try {
    const url = await firstLine(child);
    await withSql(url, async (sql) => {
      await sql`CREATE TABLE t (id int)`;
      await sql`INSERT INTO t VALUES (7)`;
    });
    orphan = Number.parseInt((await readFile(join(dir, 'pg', 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
    await killed(child, false);
    assert.ok(await running(orphan), 'PostgreSQL outlives the killed process');

    const db = await startEmbeddedPostgres({ dataDir: dir, log: quiet });
    try {
      assert.equal(await running(orphan), false);
      const rows = await withSql(db.url, (sql) => sql`SELECT id FROM t`);
      assert.deepEqual(rows.map((r) => r['id']), [7]);
    } finally {
      await db.stop();
    }
  } finally {
    await killed(child, false);
    if (orphan > 0 && (await running(orphan))) process.kill(orphan, 'SIGQUIT');
  }

  // A live process of the user PostgreSQL runs as, holding the pid in the lock: PostgreSQL alone refuses to start.
  const pgDir = join(dir, 'pg');
  const stranger = spawn('sleep', ['60'], { stdio: 'ignore', ...serverUser() });
  try {
    await once(stranger, 'spawn');
    await writeFile(join(pgDir, 'postmaster.pid'), `${stranger.pid}\n${pgDir}\n${Math.floor(Date.now() / 1000)}\n5432\n\n127.0.0.1\n  5432001   0\nready   \n`);
    const db = await startEmbeddedPostgres({ dataDir: dir, log: quiet });
    try {
      const rows = await withSql(db.url, (sql) => sql`SELECT id FROM t`);
      assert.equal(rows.length, 1);
    } finally {
      await db.stop();
    }
  } finally {
    stranger.kill('SIGKILL');
  }
});

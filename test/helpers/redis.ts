import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { freePort } from './kit.js';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** The machine's Redis; TEST_REDIS_URL points elsewhere. */
export const SHARED_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * Deletes every key under each of `prefixes`, through a client the caller has or over one
 * connection of its own to the Redis at a URL: what servers stored there (presence keys live a
 * day) must not outlast the test or bench run that chose the prefix.
 */
export async function dropPrefix(target: string | Redis, ...prefixes: string[]): Promise<void> {
  if (typeof target !== 'string') {
    for (const prefix of prefixes) {
      for await (const keys of target.scanStream({ match: `${prefix}*`, count: 1000 })) {
        if ((keys as string[]).length > 0) await target.unlink(...(keys as string[]));
      }
    }
    return;
  }
  if (prefixes.length === 0) return;
  const { Redis } = await import('ioredis');
  const redis = new Redis(target, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    await dropPrefix(redis, ...prefixes);
  } finally {
    redis.disconnect();
  }
}

/** A channel prefix of this test file's own, so files sharing one Redis never hear each other. */
export const testPrefix = (): string => `t${randomBytes(4).toString('hex')}:`;

// Moved to kit.ts; still exported from here for the files that import it from here.
export { freePort } from './kit.js';

/** Resolves when something answers PING on `port`, false after `timeoutMs`. */
export async function redisAnswers(port: number, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let text = '';
      const done = (v: boolean): void => { socket.destroy(); resolve(v); };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.on('data', (d) => { text += d.toString(); if (text.includes('\r\n')) done(text.startsWith('+PONG')); });
      socket.once('connect', () => socket.write('PING\r\n'));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/**
 * A Redis server of the test's own, on a free port, no persistence: it can be killed and
 * started again (same port) without touching the shared one.
 */
export class OwnRedis {
  private proc: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  /** The server's process id while it runs (the bench meters its CPU). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const redis = await OwnRedis.reserve();
    await redis.restart();
    return redis;
  }

  /** A free port for a server not started yet (nothing answers there until `restart`). */
  static async reserve(): Promise<OwnRedis> {
    return new OwnRedis(await freePort());
  }

  /** Starts the server (again, on the same port). */
  async restart(): Promise<void> {
    if (this.proc) throw new Error('redis-server is already running');
    const proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    proc.once('exit', () => { if (this.proc === proc) this.proc = undefined; });
    if (!(await redisAnswers(this.port, 10_000))) {
      proc.kill('SIGKILL');
      throw new Error(`redis-server did not start on port ${this.port}`);
    }
    // Killed with the test process at the latest.
    process.once('exit', () => proc.kill('SIGKILL'));
  }

  /** Freezes the server (SIGSTOP): connections stay open, nothing answers, like a network partition. */
  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  /** Kills the server the way a crash would, and waits until it is gone. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGKILL');
    await exited;
    this.proc = undefined;
  }
}

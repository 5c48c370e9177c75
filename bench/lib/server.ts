/**
 * Launching the server under test as K child processes on free loopback ports (K = 1 today;
 * `--nodes 2` for the Redis relay is the same call with count 2 and the Redis settings in
 * `env`), waiting for /ready, and stopping them with SIGTERM, then SIGKILL after a grace period.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WsTarget } from './wsclient.js';
import { sleep } from './clock.js';
import { track } from './lifecycle.js';
import { inspectorUrl } from './gc.js';

export const LOOPBACK = '127.0.0.1';
const BENCH_FILES_DIR = path.join(os.tmpdir(), `relay-bench-files-${process.pid}`);

export interface ServerNode {
  readonly pid: number;
  readonly target: WsTarget;
  /** The last lines the process wrote, for error messages. */
  logTail(): string;
  /** Its inspector (ws://127.0.0.1:port/id) when started with --inspect, else null. */
  readonly inspector: string | null;
}

export interface ServerCluster {
  readonly nodes: readonly ServerNode[];
  stop(): Promise<void>;
}

export interface LaunchOptions {
  count: number;
  /** Compiled entry point, e.g. dist/src/main.js. */
  entry: string;
  /** Environment shared by every node (DATABASE_URL, JWT_SECRET, REDIS_URL ...). */
  env: Record<string, string>;
  /** Extra environment per node (a node id, a key prefix). */
  nodeEnv?: (index: number) => Record<string, string>;
  /** Extra node flags, e.g. --cpu-prof. */
  nodeArgs?: readonly string[];
  /** Copy the servers' output to our stderr as it comes. */
  verbose?: boolean;
  readyTimeoutMs?: number;
}

const STOP_GRACE_MS = 10_000;
const SETPRIV = '/usr/bin/setpriv';
const HAS_SETPRIV = existsSync(SETPRIV);
const TAIL_LINES = 40;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, LOOPBACK, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function keepTail(child: ChildProcess, verbose: boolean, onText?: (text: string) => void): () => string {
  const lines: string[] = [];
  const collect = (chunk: Buffer): void => {
    if (verbose) process.stderr.write(chunk);
    onText?.(chunk.toString('utf8'));
    lines.push(...chunk.toString('utf8').split('\n').filter((line) => line.length > 0));
    if (lines.length > TAIL_LINES) lines.splice(0, lines.length - TAIL_LINES);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return () => lines.join('\n');
}

async function waitReady(child: ChildProcess, port: number, timeoutMs: number, tail: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited during start-up (${child.exitCode ?? child.signalCode}):\n${tail()}`);
    }
    try {
      const answer = await fetch(`http://${LOOPBACK}:${port}/ready`, { signal: AbortSignal.timeout(1000) });
      if (answer.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`server on port ${port} not ready within ${timeoutMs / 1000} s:\n${tail()}`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/** Starts the nodes one after another: each applies the schema at start-up, and two doing it at once could race. */
export async function launchServers(options: LaunchOptions): Promise<ServerCluster> {
  const children: ChildProcess[] = [];
  const stop = track(async () => {
    await Promise.all(children.map(stopChild));
  });
  const nodes: ServerNode[] = [];
  try {
    for (let index = 0; index < options.count; index++) {
      const port = await freePort();
      const command = [process.execPath, ...(options.nodeArgs ?? []), options.entry];
      // With setpriv the server gets SIGTERM if the bench dies (even by SIGKILL); setpriv
      // execs node, so the pid stays the server's own (it is metered through /proc).
      const [file = process.execPath, ...args] = HAS_SETPRIV ? [SETPRIV, '--pdeathsig', 'SIGTERM', '--', ...command] : command;
      const child = spawn(file, args, {
        // One uploads folder shared by the nodes (a cluster refuses each node's default folder).
        env: { FILES_DIR: BENCH_FILES_DIR, ...process.env, ...options.env, ...options.nodeEnv?.(index), PORT: String(port), HOST: LOOPBACK },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let inspector: string | null = null;
      const logTail = keepTail(child, options.verbose ?? false, (text) => (inspector ??= inspectorUrl(text)));
      await waitReady(child, port, options.readyTimeoutMs ?? 30_000, logTail);
      nodes.push({ pid: child.pid ?? -1, target: { host: LOOPBACK, port }, logTail, inspector });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, stop };
}

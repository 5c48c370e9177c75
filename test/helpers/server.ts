import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { createInterface } from 'node:readline';
import os from 'node:os';
import { TEST_VAPID } from './vapid.js';

const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/main.js');

export const TEST_SECRET = 'test-secret-test-secret-test-secret-0123456789';

/**
 * The uploads folder of every server this test process starts, unless its env names another: one
 * folder, so the nodes of a cluster test share it (as a cluster must: config.ts refuses a cluster
 * on each node's default folder). File ids are random; servers never collide in it.
 */
export const TEST_FILES_DIR = path.join(os.tmpdir(), `relay-test-files-${process.pid}`);

export interface RelayProcess {
  port: number;
  http: string;
  ws: string;
  proc: ChildProcess;
  /** Every log line the server printed (JSON parsed where possible). */
  logs: Record<string, unknown>[];
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts `node dist/src/main.js` as a real process on a free port, the way an operator would,
 * and resolves once it logs that it listens.
 */
export async function startRelay(env: Record<string, string | undefined>, timeoutMs = 60_000): Promise<RelayProcess> {
  // The nodes of a cluster share a Web Push key pair (unless env gives one); a single node makes
  // its own in DATA_DIR, as it would for an operator.
  const vapid = env.REDIS_URL !== undefined || env.REDIS_CLUSTER_NODES !== undefined ? TEST_VAPID : {};
  const proc = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', JWT_SECRET: TEST_SECRET, FILES_DIR: TEST_FILES_DIR, ...vapid, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`server did not start in ${timeoutMs} ms\n${stderr}`)); }, timeoutMs);
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      let entry: Record<string, unknown>;
      try { entry = JSON.parse(line) as Record<string, unknown>; } catch { entry = { raw: line }; }
      logs.push(entry);
      if (entry.msg === 'listening' && typeof entry.port === 'number') { clearTimeout(timer); resolve(entry.port); }
    });
    void exited.then((code) => { clearTimeout(timer); reject(new Error(`server exited with ${code} before listening\n${stderr}\n${JSON.stringify(logs)}`)); });
  });
  return {
    port, proc, logs, exited,
    http: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}`,
    async stop(signal = 'SIGTERM') {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

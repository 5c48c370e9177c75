import { readFile, readlink, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

const STOP_TIMEOUT_MS = 30_000;

/**
 * postmaster.pid after a crash. PostgreSQL removes it itself when its pid is dead, but not when the pid
 * was reused (likely in containers, where pids restart low) or when the server outlived a killed Relay
 * (node does not take its child down). Linux only: elsewhere PostgreSQL's own check stands.
 */
export async function clearStaleLock(pgDir: string, log: Logger): Promise<void> {
  if (process.platform !== 'linux') return;
  const lockFile = join(pgDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(lockFile, 'utf8')).split('\n')[0] ?? '', 10);
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return;
    throw err;
  }
  // The postmaster works in its data folder; any other process with that pid is a stranger.
  const owner = await lockOwner(pid, await realpath(pgDir));
  if (owner === 'stranger') {
    log.info({ lockPid: pid }, 'removing a stale postmaster.pid');
    await rm(lockFile, { force: true });
    return;
  }
  const parent = await parentOf(pid);
  const ourComm = (await readFile('/proc/self/comm', 'utf8')).trim();
  const parentComm = parent === undefined ? undefined : await readFile(`/proc/${parent}/comm`, 'utf8').then((s) => s.trim(), () => undefined);
  // A live parent running the same program as us is another Relay on this folder; anything else
  // (init, a subreaper) adopted a server whose Relay died.
  if (owner === 'unknown' || parent === process.pid || parentComm === ourComm) {
    throw new Error(`${pgDir} is in use by PostgreSQL pid ${pid}${parent ? ` (started by pid ${parent})` : ''}; stop it or use another DATA_DIR`);
  }
  log.warn({ serverPid: pid }, 'stopping a PostgreSQL server left running by an earlier Relay');
  await stopStranger(pid);
}

/** 'unknown': a postgres process we may not inspect (another user's), so maybe ours. */
async function lockOwner(pid: number, pgDir: string): Promise<'postmaster' | 'stranger' | 'unknown'> {
  if (!Number.isInteger(pid) || pid <= 0) return 'stranger';
  try {
    return (await readlink(`/proc/${pid}/cwd`)) === pgDir ? 'postmaster' : 'stranger';
  } catch (err) {
    if (hasCode(err, 'ENOENT')) return 'stranger';
  }
  const comm = await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
  return comm.trim() === 'postgres' ? 'unknown' : 'stranger';
}

async function parentOf(pid: number): Promise<number | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // The command name may contain spaces and parentheses: fields are counted after the last ')'.
  const fields = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number.parseInt(fields?.[1] ?? '', 10);
  return Number.isInteger(ppid) ? ppid : undefined;
}

async function stopStranger(pid: number): Promise<void> {
  for (const [signal, waitMs] of [['SIGINT', STOP_TIMEOUT_MS], ['SIGQUIT', 10_000]] as const) {
    try {
      process.kill(pid, signal);
    } catch {
      return;
    }
    for (const deadline = Date.now() + waitMs; Date.now() < deadline; await sleep(100)) {
      if (!(await isRunning(pid))) return;
    }
  }
  throw new Error(`PostgreSQL pid ${pid} left running by an earlier Relay does not stop`);
}

/** A zombie counts as gone: its adoptive parent may never reap it. */
async function isRunning(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

function hasCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && err.code === code;
}

/** Where and on what a result was measured: the machine and the commit. */
import os from 'node:os';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface MachineFacts {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  kernel: string;
  node: string;
}

export function machineFacts(): MachineFacts {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
  };
}

export interface GitFacts {
  /** Null before the first commit or outside a repository. */
  commit: string | null;
  /** Uncommitted changes present: the figures may not belong to `commit` exactly. */
  dirty: boolean | null;
}

function git(args: string[], cwd: string): string | null {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return null;
  }
}

/**
 * The commit of the server that was measured: that of the repository holding its entry point
 * (--entry may point at another checkout), not necessarily this one.
 */
export function gitFacts(entry: string): GitFacts {
  let dir = dirname(entry);
  while (!existsSync(join(dir, '.git'))) {
    const parent = dirname(dir);
    if (parent === dir) return { commit: null, dirty: null };
    dir = parent;
  }
  const commit = git(['rev-parse', '--short=12', 'HEAD'], dir);
  const status = git(['status', '--porcelain', '--untracked-files=no'], dir);
  return { commit, dirty: status === null ? null : status.length > 0 || commit === null };
}

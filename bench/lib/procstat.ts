/**
 * CPU and memory of other processes (the server, PostgreSQL backends), read from /proc:
 * the generator reports their load next to its own so a reader can tell who was saturated.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

function clockTicksPerSecond(): number {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100; // USER_HZ is 100 on every mainstream Linux build
  }
}

const TICKS = clockTicksPerSecond();

/** utime + stime of a process in seconds, or null when it is gone. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing paren do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return null;
  }
}

/** Resident set size in bytes, or null when the process is gone. */
export function rssBytes(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? null : Number(match[1]) * 1024;
  } catch {
    return null;
  }
}

export interface CpuReading {
  /** CPU seconds used by all watched processes since the meter started. */
  cpuSeconds: number;
  /** The same as a number of busy cores over the wall time. */
  cores: number;
}

/**
 * Starts counting CPU of a set of processes. The reading may name processes that appeared
 * since (a pool's new database backends): their whole CPU time falls inside the window.
 * Processes that exit mid-way count up to their last reading.
 */
export function startCpuMeter(pids: readonly number[]): (appeared?: readonly number[]) => CpuReading {
  const started = performance.now();
  const first = new Map<number, number>();
  for (const pid of pids) first.set(pid, cpuSeconds(pid) ?? 0);
  const last = new Map(first);
  return (appeared = []) => {
    for (const pid of appeared) if (!first.has(pid)) first.set(pid, 0);
    let used = 0;
    for (const [pid, start] of first) {
      const now = cpuSeconds(pid);
      if (now !== null) last.set(pid, now);
      used += (last.get(pid) ?? start) - start;
    }
    const wallSeconds = (performance.now() - started) / 1000;
    return { cpuSeconds: used, cores: wallSeconds > 0 ? used / wallSeconds : 0 };
  };
}

interface CpuTimes {
  busy: number;
  steal: number;
  total: number;
}

function machineTimes(): CpuTimes {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    // cpu user nice system idle iowait irq softirq steal guest guest_nice (guest time is inside user)
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
    return { busy: user + nice + system + irq + softirq, steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
  } catch {
    return { busy: 0, steal: 0, total: 0 };
  }
}

export interface MachineCpu {
  /** Cores busy on anything (all processes, kernel, interrupts) over the window. */
  busyCores: number;
  /** Cores taken by the hypervisor (a shared VM): time nobody here could use. */
  stealCores: number;
}

/** Whole-machine CPU over a window: checks that the per-process figures add up, and shows steal. */
export function startMachineMeter(): () => MachineCpu {
  const first = machineTimes();
  const cores = os.cpus().length;
  return () => {
    const now = machineTimes();
    const total = now.total - first.total;
    if (total <= 0) return { busyCores: 0, stealCores: 0 };
    return { busyCores: ((now.busy - first.busy) / total) * cores, stealCores: ((now.steal - first.steal) / total) * cores };
  };
}

/** The soft limit on open files of this process (children inherit it). */
export function openFileLimit(): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (match === null || match[1] === 'unlimited') return Number.POSITIVE_INFINITY;
    return Number(match[1]);
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

/** Processes whose command name is `name` (e.g. redis-server, to meter the relay's Redis). */
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return pids;
}

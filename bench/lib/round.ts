/**
 * One measured round, the same for every closed- or open-loop scenario: start the load, let
 * it warm up, then meter the server, its database backends and the generators over exactly
 * the measured window.
 */
import type { AgentPool } from './agents.js';
import type { BenchEnv } from './harness.js';
import type { RoundEnvelope } from './ipc.js';
import { sleep } from './clock.js';
import { rssBytes, startCpuMeter, startMachineMeter } from './procstat.js';
import type { LoadFigures } from './report.js';

export interface RoundTiming {
  warmupSeconds: number;
  durationSeconds: number;
}

export interface MeasuredRound<Result> {
  results: RoundEnvelope<Result>[];
  load: LoadFigures;
  /** Mean of the generators' measured windows, in seconds. */
  windowSeconds: number;
}

/** How long a round may take beyond its warm-up and duration (drain, result shipping). */
export const ROUND_SLACK_MS = 20_000;

export async function measureRound<Setup, Info, Round, Result, Event>(
  pool: AgentPool<Setup, Info, Round, Result, Event>,
  env: BenchEnv,
  rounds: readonly Round[],
  timing: RoundTiming,
): Promise<MeasuredRound<Result>> {
  pool.start(rounds);
  await sleep(timing.warmupSeconds * 1000);
  const machineMeter = startMachineMeter();
  const serverMeter = startCpuMeter(env.serverPids);
  const nodeMeters = env.serverPids.map((pid) => startCpuMeter([pid]));
  const brokerMeters = env.brokerPids.map((pid) => startCpuMeter([pid]));
  const databaseMeter = startCpuMeter(await env.databasePids());
  pool.mark();
  await sleep(timing.durationSeconds * 1000);
  const server = serverMeter();
  const nodes = nodeMeters.map((meter) => meter().cores);
  const brokers = brokerMeters.map((meter) => meter().cores);
  const machine = machineMeter();
  const database = databaseMeter(await env.databasePids());
  const rss = env.serverPids.map(rssBytes).reduce<number>((sum, bytes) => sum + (bytes ?? 0), 0);
  const results = await pool.stop(ROUND_SLACK_MS);
  const metered = env.serverPids.length > 0;
  return {
    results,
    windowSeconds: results.reduce((sum, result) => sum + result.wallSeconds, 0) / Math.max(1, results.length),
    load: {
      serverCores: metered ? server.cores : null,
      serverNodeCores: metered ? nodes : null,
      brokerCores: env.brokerPids.length > 0 ? brokers : null,
      serverRssMiB: metered ? rss / 2 ** 20 : null,
      databaseCores: database.cores,
      generatorCores: results.map((result) => result.cpuSeconds / Math.max(1e-9, result.wallSeconds)),
      generatorElu: results.map((result) => result.elu),
      machineBusyCores: machine.busyCores,
      machineStealCores: machine.stealCores,
    },
  };
}

export function sum<T>(items: readonly T[], pick: (item: T) => number): number {
  return items.reduce((total, item) => total + pick(item), 0);
}

/** Merges per-process {code: count} maps. */
export function mergeCounts(maps: readonly Record<string, number>[]): Record<string, number> {
  const merged: Record<string, number> = {};
  for (const map of maps) for (const [key, count] of Object.entries(map)) merged[key] = (merged[key] ?? 0) + count;
  return merged;
}

/**
 * Printing a scenario's figures and appending its one JSON line to the results file
 * (bench/results.jsonl unless --out says otherwise).
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import os from 'node:os';
import type { GitFacts, MachineFacts } from './machine.js';
import type { LatencySummary } from './histogram.js';

/** Who was busy during a measured window, in cores (1.0 = one core fully used). */
export interface LoadFigures {
  /** Null when the server runs outside the bench (--url) and cannot be metered. */
  serverCores: number | null;
  /** The same per server node (one entry per --nodes). */
  serverNodeCores: number[] | null;
  /** Each Redis process of the run's own broker (the single Redis, or each shard); null without one. */
  brokerCores: number[] | null;
  serverRssMiB: number | null;
  /** PostgreSQL backends serving the bench database. */
  databaseCores: number | null;
  generatorCores: number[];
  /** Event-loop utilization per generator process: near 1 means the generator was the limit. */
  generatorElu: number[];
  /** The whole machine (everything above plus the kernel and anything else running). */
  machineBusyCores: number;
  machineStealCores: number;
}

export interface ResultLine {
  date: string;
  scenario: string;
  /** The commit of the server measured (of the repository holding --entry). */
  git: GitFacts;
  /** The server's entry point, when it is not this repository's dist/src/main.js. */
  entry: string | null;
  machine: MachineFacts;
  command: string;
  /** Cores busy on other work in the second before the scenario started (a shared machine). */
  backgroundCores: number;
  params: Record<string, unknown>;
  figures: Record<string, unknown>;
}

export function appendResult(file: string, line: ResultLine): void {
  mkdirSync(dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

export const round1 = (value: number): number => Math.round(value * 10) / 10;
export const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Load figures as they go into the results file: two decimals are plenty. */
export function roundLoad(load: LoadFigures): LoadFigures {
  const maybe = (value: number | null): number | null => (value === null ? null : round2(value));
  return {
    serverCores: maybe(load.serverCores),
    serverNodeCores: load.serverNodeCores?.map(round2) ?? null,
    brokerCores: load.brokerCores?.map(round2) ?? null,
    serverRssMiB: maybe(load.serverRssMiB),
    databaseCores: maybe(load.databaseCores),
    generatorCores: load.generatorCores.map(round2),
    generatorElu: load.generatorElu.map(round2),
    machineBusyCores: round2(load.machineBusyCores),
    machineStealCores: round2(load.machineStealCores),
  };
}

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** "45 × 1013 Too slow to read, 2 × 1006" — or null when there is nothing to say. */
export function formatCounts(counts: Record<string, number>): string | null {
  const entries = Object.entries(counts);
  return entries.length === 0 ? null : entries.map(([key, count]) => `${count} × ${key}`).join(', ');
}

/** A labelled line for counts that should be zero (errors, closes), only when they are not. */
export function countsLine(label: string, counts: Record<string, number>): string[] {
  const text = formatCounts(counts);
  return text === null ? [] : [`${label.padEnd(17)}${text}`];
}

export function formatLatency(summary: LatencySummary): string {
  return `p50 ${summary.p50}  p99 ${summary.p99}  p99.9 ${summary.p999}  max ${summary.max} ms  (n=${formatCount(summary.count)})`;
}

export function formatLoad(load: LoadFigures): string[] {
  const cores = (value: number | null): string => (value === null ? 'n/a' : `${round2(value)} cores`);
  return [
    `server CPU       ${cores(load.serverCores)}${load.serverRssMiB === null ? '' : `, RSS ${round1(load.serverRssMiB)} MiB`}${(load.serverNodeCores?.length ?? 0) > 1 ? ` (${load.serverNodeCores!.map(round2).join(' + ')})` : ''}`,
    ...(load.brokerCores === null ? [] : [`redis CPU        ${load.brokerCores.map(round2).join(' + ')} cores (${load.brokerCores.length === 1 ? 'one Redis' : `${load.brokerCores.length} shards`})`]),
    `database CPU     ${cores(load.databaseCores)}`,
    `generator CPU    ${load.generatorCores.map(round2).join(' + ')} cores (event loop busy ${load.generatorElu.map((elu) => `${Math.round(elu * 100)}%`).join(', ')})`,
    `machine CPU      ${round2(load.machineBusyCores)} of ${os.cpus().length} cores busy${load.machineStealCores >= 0.05 ? `, ${round2(load.machineStealCores)} stolen by the hypervisor` : ''}`,
  ];
}

/** CPU seconds each part spent per 100,000 deliveries: the cost that extrapolates past this machine. */
export interface DeliveryCost {
  /** Every Relay node together, then each node. */
  relay: number | null;
  relayNodes: number[] | null;
  /** Each Redis process (the single Redis, or each shard), then all of them. */
  redis: number[] | null;
  redisTotal: number | null;
  postgres: number | null;
}

export function costPer100k(load: LoadFigures, deliveriesPerSecond: number): DeliveryCost {
  // cores = CPU seconds per second; divided by deliveries per second: CPU seconds per delivery.
  const per = (cores: number | null): number | null => (cores === null || deliveriesPerSecond <= 0 ? null : round2((cores / deliveriesPerSecond) * 100_000));
  const redisTotal = load.brokerCores === null ? null : load.brokerCores.reduce((a, b) => a + b, 0);
  return {
    relay: per(load.serverCores),
    relayNodes: load.serverNodeCores?.map((c) => per(c)!) ?? null,
    redis: load.brokerCores?.map((c) => per(c)!) ?? null,
    redisTotal: per(redisTotal),
    postgres: per(load.databaseCores),
  };
}

export function formatCost(cost: DeliveryCost): string {
  const parts = [`Relay ${cost.relay ?? 'n/a'}${(cost.relayNodes?.length ?? 0) > 1 ? ` (${cost.relayNodes!.join(' + ')})` : ''}`];
  if (cost.redis !== null) parts.push(`Redis ${cost.redisTotal}${cost.redis.length > 1 ? ` (${cost.redis.join(' + ')})` : ''}`);
  parts.push(`PostgreSQL ${cost.postgres ?? 'n/a'}`);
  return `CPU s / 100k del ${parts.join(', ')}`;
}

export function printBlock(title: string, lines: readonly string[]): void {
  console.log(`\n== ${title}`);
  for (const line of lines) console.log(`   ${line}`);
}

/**
 * Command line of `npm run bench -- [scenario ...] [options]`: parsed once with
 * node:util parseArgs into typed values. Scenario sizes come from a preset (quick by
 * default, --full, --smoke) and any size option overrides it in the scenarios that use it.
 */
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { ScenarioName } from './ipc.js';
import type { ExternalServers, HarnessOptions } from './harness.js';
import { DEFAULT_ADMIN_URL } from './database.js';
import type { RoundTiming } from './round.js';
import { MIXES, type Mix } from './mix.js';

/** This file runs as dist/bench/lib/options.js: the repository is three levels up. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const DEFAULT_ENTRY = join(REPO_ROOT, 'dist', 'src', 'main.js');

/** What `npm run bench` runs without a scenario named. */
export const SCENARIOS: readonly ScenarioName[] = ['connect', 'fanout', 'private', 'history', 'typing'];

/**
 * Run only when named: soak takes minutes and the machine's whole open-file budget; search seeds
 * 1M messages of its own; notify takes minutes; upload and thumbnail measure files (gigabytes of
 * disk writes, seconds of image decoding), not the send path.
 */
export const ON_REQUEST: readonly ScenarioName[] = ['soak', 'search', 'notify', 'upload', 'thumbnail'];

export type Preset = 'quick' | 'full' | 'smoke';

/** Size and timing options; each scenario reads the ones it has. */
export const NUMERIC_OPTIONS = [
  'duration', 'warmup', 'conns', 'open-window', 'settle', 'groups', 'members', 'senders', 'rate',
  'pairs', 'balls', 'users', 'messages', 'group-size', 'partners', 'concurrency', 'limit',
] as const;

/** Masters of --redis-cluster unless --shards says otherwise. */
const DEFAULT_SHARDS = 3;
export type NumericOption = (typeof NUMERIC_OPTIONS)[number];

export interface Cli {
  help: boolean;
  scenarios: ScenarioName[];
  preset: Preset;
  out: string;
  /** Generator processes. */
  procs: number;
  harness: HarnessOptions;
  numbers: Partial<Record<NumericOption, number>>;
  mode: 'closed' | 'open' | 'both' | null;
  kinds: string[] | null;
  /** history: EXPLAIN (ANALYZE, BUFFERS) of its reads. */
  explain: boolean;
  /** fanout, private, history: v1.2 replies, mentions and reactions in the traffic (mix.ts). */
  mix: Mix;
  /** The command as typed, for the results line. */
  command: string;
}

const numericSpec = Object.fromEntries(NUMERIC_OPTIONS.map((name) => [name, { type: 'string' as const }])) as Record<
  NumericOption,
  { type: 'string' }
>;

const spec = {
  ...numericSpec,
  help: { type: 'boolean', short: 'h' },
  full: { type: 'boolean' },
  smoke: { type: 'boolean' },
  out: { type: 'string' },
  procs: { type: 'string' },
  nodes: { type: 'string' },
  url: { type: 'string', multiple: true },
  'database-url': { type: 'string' },
  'jwt-secret': { type: 'string' },
  'admin-url': { type: 'string' },
  entry: { type: 'string' },
  'server-env': { type: 'string', multiple: true },
  'server-prof': { type: 'boolean' },
  verbose: { type: 'boolean' },
  gc: { type: 'boolean' },
  mode: { type: 'string' },
  kinds: { type: 'string' },
  explain: { type: 'boolean' },
  mix: { type: 'string' },
  redis: { type: 'boolean' },
  'redis-cluster': { type: 'boolean' },
  shards: { type: 'string' },
} as const;

export const USAGE = `usage: npm run bench -- [connect|fanout|private|history|typing|soak|search|notify ...] [options]

  (no scenario)        run all five with the quick sizes (under 4 minutes)
  --full               longer runs (30 s rounds) and 15,000 connections for connect
  --smoke              tiny sizes, ~1 s rounds (what npm test runs)
  --out FILE           results file (default bench/results.jsonl)
  --procs N            generator processes (default: number of cores)
  --duration S         measured seconds per round     --warmup S   unmeasured seconds before it
  connect:  --conns N  --open-window N (handshakes in flight per generator)  --settle S
            --partners D (dialog partners per user, online too: presence pushes)
  fanout:   --groups G --members M (or --conns G*M) --senders S --mode closed|open|both --rate R
  private:  --pairs P  --balls B (pings in play per connection)
  history:  --users U --groups G --group-size K --partners D --messages N --concurrency C
            --explain (EXPLAIN (ANALYZE, BUFFERS) of the three reads, before the rounds)
            --limit L --kinds listLastMessage,getlatestMessageDialog,getlatestMessageGroup,markRead,editMessage,deleteMessage
  notify:   (only when named) --groups G --members M --senders K (online senders per group; the rest offline, subscribed)
  soak:     (only when named) --conns N (default: what the file limit allows per node; 100,000 with --nodes 6)
            --rate R (sends/s per active connection, 1 % active) --group-size K --settle S --warmup S --duration S
  search:   (only when named) history's sizes and --concurrency C --limit L --explain (plans of a search
            across all of a user's conversations and within one group)
  typing:   --members M (one group, all typing) --rate R (typing/s per member) --pairs P (privateMessage probes)
  --mix v12            fanout, private: 10 % replies, 10 % mentions (groups), 10 % reactions instead of plain sends;
                       history: reactions on a third of the seeded messages, replies on a tenth (a v1.2 server)
  server:   --entry FILE (default dist/src/main.js)  --nodes K  --server-env KEY=VALUE ...
            --redis (a Redis of the run's own)  --redis-cluster [--shards N] (a Redis Cluster of
            the run's own, N masters, default 3): each Redis process metered
            --server-prof (V8 CPU profile of the server, summarized after the run)  --verbose
            --gc (connect, soak: a full GC in the server before each RSS reading, through its
                 inspector on 127.0.0.1; without it the readings include uncollected garbage)
            --admin-url URL (default ${DEFAULT_ADMIN_URL})
  external: --url ws://127.0.0.1:PORT ... --database-url URL --jwt-secret SECRET
`;

function positiveNumber(name: string, text: string, allowZero: boolean): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new Error(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${text}"`);
  return value;
}

function keyValues(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`--server-env expects KEY=VALUE, got "${pair}"`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

function isScenario(name: string): name is ScenarioName {
  return (SCENARIOS as readonly string[]).includes(name) || (ON_REQUEST as readonly string[]).includes(name);
}

/** The command goes into a committed results file: never a secret or a password. */
function redact(argv: readonly string[]): string[] {
  return argv.map((arg, index) => {
    const previous = argv[index - 1];
    if (previous === '--jwt-secret' || previous === '--database-url') return '***';
    if (arg.startsWith('--jwt-secret=') || arg.startsWith('--database-url=')) return `${arg.slice(0, arg.indexOf('='))}=***`;
    return arg;
  });
}

export function parseCli(argv: readonly string[]): Cli {
  const { values, positionals } = parseArgs({ args: [...argv], options: spec, allowPositionals: true, strict: true });
  const scenarios = positionals.filter((name) => name !== 'all');
  const unknown = scenarios.filter((name) => !isScenario(name));
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')} (have ${[...SCENARIOS, ...ON_REQUEST].join(', ')})`);
  if (values.full === true && values.smoke === true) throw new Error('--full and --smoke exclude each other');

  const numbers: Partial<Record<NumericOption, number>> = {};
  for (const name of NUMERIC_OPTIONS) {
    const text = values[name];
    if (text !== undefined) numbers[name] = positiveNumber(name, text, name === 'warmup' || name === 'settle');
  }
  const mode = values.mode ?? null;
  const mix = (values.mix ?? 'plain') as Mix;
  if (!MIXES.includes(mix)) throw new Error(`--mix is ${MIXES.join(' or ')}`);
  if (mode !== null && mode !== 'closed' && mode !== 'open' && mode !== 'both') throw new Error('--mode is closed, open or both');

  const urls = values.url ?? [];
  let external: ExternalServers | null = null;
  if (urls.length > 0) {
    const databaseUrl = values['database-url'];
    const secret = values['jwt-secret'] ?? process.env['JWT_SECRET'];
    if (databaseUrl === undefined || secret === undefined) throw new Error('--url needs --database-url and --jwt-secret (the server\'s own)');
    external = { urls, databaseUrl, secret };
  }
  if (values.redis === true && values['redis-cluster'] === true) throw new Error('--redis and --redis-cluster exclude each other');
  if (values.shards !== undefined && values['redis-cluster'] !== true) throw new Error('--shards goes with --redis-cluster');
  const broker = values.redis === true ? 'redis' : values['redis-cluster'] === true ? 'redis-cluster' : null;
  if (broker !== null && urls.length > 0) throw new Error('--redis and --redis-cluster start servers of their own: not with --url');
  const profileDir = values['server-prof'] === true ? join(REPO_ROOT, 'bench', '.tmp', `prof-${Date.now()}`) : null;

  return {
    help: values.help === true,
    scenarios: scenarios.length === 0 ? [...SCENARIOS] : scenarios.filter(isScenario),
    preset: values.full === true ? 'full' : values.smoke === true ? 'smoke' : 'quick',
    out: values.out ?? join(REPO_ROOT, 'bench', 'results.jsonl'),
    procs: values.procs === undefined ? Math.max(1, os.cpus().length) : Math.round(positiveNumber('procs', values.procs, false)),
    harness: {
      adminUrl: values['admin-url'] ?? process.env['BENCH_ADMIN_URL'] ?? DEFAULT_ADMIN_URL,
      entry: values.entry === undefined ? DEFAULT_ENTRY : resolve(values.entry),
      nodes: values.nodes === undefined ? 1 : Math.round(positiveNumber('nodes', values.nodes, false)),
      serverEnv: keyValues(values['server-env'] ?? []),
      profileDir,
      verbose: values.verbose === true,
      gc: values.gc === true,
      external,
      broker,
      shards: values.shards === undefined ? DEFAULT_SHARDS : Math.round(positiveNumber('shards', values.shards, false)),
    },
    numbers,
    mode,
    explain: values.explain === true,
    mix,
    kinds: values.kinds === undefined ? null : values.kinds.split(',').map((kind) => kind.trim()).filter((kind) => kind.length > 0),
    command: ['npm run bench', ...(argv.length > 0 ? ['--', ...redact(argv)] : [])].join(' '),
  };
}

/** The override if given, else the preset's value. */
export function pick(cli: Cli, name: NumericOption, fallback: number): number {
  return cli.numbers[name] ?? fallback;
}

/** Same, rounded to a whole count. */
export function pickCount(cli: Cli, name: NumericOption, fallback: number): number {
  return Math.max(1, Math.round(cli.numbers[name] ?? fallback));
}

/** A scenario's round timing: the preset's, with --warmup and --duration overriding it. */
export function pickTiming(cli: Cli, preset: RoundTiming): RoundTiming {
  return { warmupSeconds: pick(cli, 'warmup', preset.warmupSeconds), durationSeconds: pick(cli, 'duration', preset.durationSeconds) };
}

/**
 * The bench runner: for each scenario asked for, a fresh database and server, the scenario
 * under a hard deadline, its figures printed and appended as one JSON line, and everything
 * torn down whatever happened. bench/run.ts is the command-line entry; the smoke test runs it.
 */
import { disposeAll, TimeoutError, withDeadline } from './lib/lifecycle.js';
import { BENCH_SERVER_ENV, prepareEnv } from './lib/harness.js';
import { dropStaleDatabases } from './lib/database.js';
import { gitFacts, machineFacts } from './lib/machine.js';
import { DEFAULT_ENTRY, parseCli, USAGE, type Cli } from './lib/options.js';
import { appendResult, printBlock, round2, type ResultLine } from './lib/report.js';
import { startMachineMeter } from './lib/procstat.js';
import { sleep } from './lib/clock.js';
import { profilesIn, topSelfTime } from './lib/cpuprofile.js';
import type { ScenarioName } from './lib/ipc.js';
import { connectScenario } from './scenarios/connect.js';
import { fanoutScenario } from './scenarios/fanout.js';
import { privateScenario } from './scenarios/private.js';
import { historyScenario } from './scenarios/history.js';
import { typingScenario } from './scenarios/typing.js';
import { soakScenario } from './scenarios/soak.js';
import { searchScenario } from './scenarios/search.js';
import { notifyScenario } from './scenarios/notify.js';
import { uploadScenario } from './scenarios/upload.js';
import { thumbnailScenario } from './scenarios/thumbnail.js';
import type { Scenario, ScenarioContext, ScenarioOutcome } from './scenarios/types.js';

/** A scenario with its parameters fixed: no generic parameter left, so all of them fit one registry. */
interface Prepared {
  params: object;
  serverEnv: Readonly<Record<string, string>>;
  description: string;
  budgetMs: number;
  run(context: ScenarioContext): Promise<ScenarioOutcome>;
}

function prepare<P extends object>(scenario: Scenario<P>, cli: Cli): Prepared {
  const params = scenario.configure(cli);
  return { params, serverEnv: scenario.serverEnv ?? {}, description: scenario.describe(params), budgetMs: scenario.budgetMs(params), run: (context) => scenario.run(context, params) };
}

const registry: Record<ScenarioName, (cli: Cli) => Prepared> = {
  connect: (cli) => prepare(connectScenario, cli),
  fanout: (cli) => prepare(fanoutScenario, cli),
  private: (cli) => prepare(privateScenario, cli),
  history: (cli) => prepare(historyScenario, cli),
  typing: (cli) => prepare(typingScenario, cli),
  soak: (cli) => prepare(soakScenario, cli),
  search: (cli) => prepare(searchScenario, cli),
  notify: (cli) => prepare(notifyScenario, cli),
  upload: (cli) => prepare(uploadScenario, cli),
  thumbnail: (cli) => prepare(thumbnailScenario, cli),
};

const BUSY_WARNING_CORES = 0.25;

const QUIET_WAIT_MS = 15_000;

/**
 * Cores busy on other work, measured over one second; while that is high (another job, the
 * checkpoint after the previous scenario's database was dropped), waits up to 15 s for quiet.
 */
async function backgroundLoad(waitMs: number): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const meter = startMachineMeter();
    await sleep(1000);
    const busy = meter().busyCores;
    if (busy < BUSY_WARNING_CORES || Date.now() >= deadline) return busy;
  }
}

function printProfiles(dir: string | null, seen: Set<string>): void {
  if (dir === null) return;
  for (const file of profilesIn(dir).filter((file) => !seen.has(file))) {
    seen.add(file);
    printBlock(`server CPU profile ${file} (self time)`, topSelfTime(file, 25));
  }
}

async function runOne(cli: Cli, name: ScenarioName, base: Omit<ResultLine, 'scenario' | 'params' | 'figures' | 'date' | 'backgroundCores'>): Promise<void> {
  const scenario = registry[name](cli);
  const budget = scenario.budgetMs;
  console.log(`\n### ${name}: ${scenario.description}`);
  // This machine may be shared: measure what else keeps it busy before loading it.
  // A smoke run checks that the code works, not its figures: it does not wait for quiet (under
  // `npm test` the machine is never quiet, and five waits would eat the test's time).
  const background = await backgroundLoad(cli.preset === 'smoke' ? 0 : QUIET_WAIT_MS);
  if (background >= BUSY_WARNING_CORES) {
    console.warn(`   warning: ${round2(background)} cores already busy before the run (other processes): figures will be low and noisy`);
  }
  const started = performance.now();
  const env = await prepareEnv({ ...cli.harness, serverEnv: { ...scenario.serverEnv, ...cli.harness.serverEnv } });
  let outcome;
  try {
    outcome = await withDeadline(scenario.run({ env, procs: cli.procs, deadline: Date.now() + budget }), budget + 5_000, name);
  } finally {
    await env.dispose();
  }
  printBlock(`${name} (${Math.round((performance.now() - started) / 1000)} s)`, outcome.lines);
  appendResult(cli.out, {
    date: new Date().toISOString(),
    scenario: name,
    ...base,
    backgroundCores: round2(background),
    params: {
      preset: cli.preset,
      procs: cli.procs,
      nodes: cli.harness.nodes,
      broker: cli.harness.broker === null ? null : { kind: cli.harness.broker, shards: cli.harness.broker === 'redis-cluster' ? cli.harness.shards : 1 },
      external: cli.harness.external !== null,
      serverEnv: cli.harness.external === null ? { ...BENCH_SERVER_ENV, ...scenario.serverEnv, ...cli.harness.serverEnv } : null,
      ...scenario.params,
    },
    figures: outcome.figures,
  });
}

/** Runs the bench as the command line says; resolves with the process exit code. */
export async function runBench(argv: readonly string[]): Promise<number> {
  let cli: Cli;
  try {
    cli = parseCli(argv);
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  if (cli.help) {
    console.log(USAGE);
    return 0;
  }
  const machine = machineFacts();
  const git = gitFacts(cli.harness.entry);
  const entry = cli.harness.entry === DEFAULT_ENTRY ? null : cli.harness.entry;
  console.log(
    `Relay bench (${cli.preset}): ${machine.cores} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, node ${machine.node}; ` +
      `server ${entry ?? 'dist/src/main.js'} at commit ${git.commit ?? '(unknown)'}${git.dirty === true ? ' + changes' : ''}; ${cli.procs} generator process(es); results → ${cli.out}`,
  );
  if (cli.harness.external === null) {
    const dropped = await dropStaleDatabases(cli.harness.adminUrl).catch(() => []);
    if (dropped.length > 0) console.log(`dropped ${dropped.length} bench database(s) left by killed runs`);
  }
  const seenProfiles = new Set<string>();
  const failed: string[] = [];
  for (const name of cli.scenarios) {
    try {
      await runOne(cli, name, { git, entry, machine, command: cli.command });
    } catch (error) {
      failed.push(name);
      console.error(`\n${name} FAILED: ${error instanceof Error ? error.message : String(error)}`);
      // A timed-out scenario may still hold generators: kill whatever is registered.
      if (error instanceof TimeoutError) await disposeAll();
    }
    printProfiles(cli.harness.profileDir, seenProfiles);
  }
  if (failed.length > 0) console.error(`\nfailed: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

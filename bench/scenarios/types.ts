/** What each scenario module provides to the runner (bench/main.ts). */
import type { BenchEnv } from '../lib/harness.js';
import type { Cli } from '../lib/options.js';
import type { ScenarioName } from '../lib/ipc.js';

export interface ScenarioContext {
  env: BenchEnv;
  /** Generator processes to fork. */
  procs: number;
  /** Epoch ms by which the scenario must be over; generators exit by themselves then. */
  deadline: number;
}

export interface ScenarioOutcome {
  /** Goes into the results line as is. */
  figures: Record<string, unknown>;
  /** Printed under the scenario's title. */
  lines: string[];
}

export interface Scenario<Params extends object> {
  name: ScenarioName;
  /** Server settings this scenario needs (under --server-env, which may override them). */
  serverEnv?: Readonly<Record<string, string>>;
  /** Preset sizes merged with the command line's overrides. */
  configure(cli: Cli): Params;
  describe(params: Params): string;
  /** Upper bound of a healthy run; past it the run is aborted and everything killed. */
  budgetMs(params: Params): number;
  run(context: ScenarioContext, params: Params): Promise<ScenarioOutcome>;
}

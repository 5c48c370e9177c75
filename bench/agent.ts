/**
 * Entry point of a generator process (forked by lib/agents.ts). It runs one scenario's agent,
 * wraps every round result with this process's own CPU time and event-loop utilization, and
 * never outlives its deadline or its parent.
 */
import { performance, type EventLoopUtilization } from 'node:perf_hooks';
import { isToAgent, type FromAgent, type ScenarioName, type ToAgent } from './lib/ipc.js';
import type { Agent, Emit } from './agents/types.js';
import { createConnectAgent } from './agents/connect.js';
import { createFanoutAgent } from './agents/fanout.js';
import { createPrivateAgent } from './agents/private.js';
import { createHistoryAgent } from './agents/history.js';
import { createTypingAgent } from './agents/typing.js';
import { createSoakAgent } from './agents/soak.js';
import { createSearchAgent } from './agents/search.js';

type AnyAgent = Agent<unknown, unknown, unknown>;
type Factory = (setup: unknown, emit: Emit) => AnyAgent;

/** The process boundary: the coordinator sends each scenario's own setup and round types. */
function adapt<S, I, R, X>(create: (setup: S, emit: Emit) => Agent<I, R, X>): Factory {
  return (setup, emit) => {
    const agent = create(setup as S, emit);
    return {
      setup: () => agent.setup(),
      start: (round) => agent.start(round as R),
      mark: () => agent.mark(),
      stop: () => agent.stop(),
      close: () => agent.close(),
    };
  };
}

// upload and thumbnail need no generator processes: the coordinator drives them itself.
const factories: Partial<Record<ScenarioName, Factory>> = {
  connect: adapt(createConnectAgent),
  fanout: adapt(createFanoutAgent),
  private: adapt(createPrivateAgent),
  history: adapt(createHistoryAgent),
  typing: adapt(createTypingAgent),
  soak: adapt(createSoakAgent),
  search: adapt(createSearchAgent),
  // notify drives the fanout agents (senders in groups); it forks them under that name.
  notify: adapt(createFanoutAgent),
};

function send(message: FromAgent): void {
  process.send?.(message);
}

interface Window {
  cpu: NodeJS.CpuUsage;
  elu: EventLoopUtilization;
  at: number;
}

function openWindow(): Window {
  return { cpu: process.cpuUsage(), elu: performance.eventLoopUtilization(), at: performance.now() };
}

let agent: AnyAgent | null = null;
let window = openWindow();

async function handle(message: ToAgent): Promise<void> {
  switch (message.t) {
    case 'setup': {
      // Bounded by construction: whatever happens, this process ends at the deadline.
      setTimeout(() => {
        console.error('generator: deadline passed, exiting');
        process.exit(3);
      }, Math.max(0, message.deadline - Date.now())).unref();
      const factory = factories[message.scenario];
      if (!factory) throw new Error(`no generator for ${message.scenario}`);
      agent = factory(message.setup, (event) => send({ t: 'event', event }));
      send({ t: 'ready', info: await agent.setup() });
      return;
    }
    case 'start':
      window = openWindow();
      agent?.start(message.round);
      return;
    case 'mark':
      window = openWindow();
      agent?.mark();
      return;
    case 'stop': {
      const cpu = process.cpuUsage(window.cpu);
      const elu = performance.eventLoopUtilization(window.elu);
      const wallSeconds = (performance.now() - window.at) / 1000;
      const data = agent === null ? null : await agent.stop();
      send({ t: 'result', result: { cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds, elu: elu.utilization, data } });
      return;
    }
    case 'exit':
      await agent?.close();
      process.exit(0);
  }
}

process.on('message', (message: unknown) => {
  if (!isToAgent(message)) return;
  handle(message).catch((error: unknown) => {
    send({ t: 'failed', message: error instanceof Error ? error.message : String(error) });
    setTimeout(() => process.exit(1), 100);
  });
});
// The coordinator is gone (crashed or killed): stop generating load at once.
process.on('disconnect', () => process.exit(2));

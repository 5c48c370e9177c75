/**
 * The coordinator's side of the generator processes: forks them, drives their rounds in
 * lock-step and collects results. Every wait has a deadline; closing kills stragglers.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isFromAgent, type FromAgent, type RoundEnvelope, type ScenarioName, type ToAgent } from './ipc.js';
import { track, withDeadline } from './lifecycle.js';

const AGENT_ENTRY = fileURLToPath(new URL('../agent.js', import.meta.url));
const EXIT_GRACE_MS = 5_000;

type Kind = FromAgent['t'];

/** One child's inbox: messages wait here until the coordinator asks for their kind. */
class Mailbox {
  private readonly queued: FromAgent[] = [];
  private waiter: { kind: Kind; resolve: (message: FromAgent) => void; reject: (error: Error) => void } | null = null;
  private broken: Error | null = null;

  constructor(readonly child: ChildProcess, readonly index: number) {
    child.on('message', (message: unknown) => {
      if (isFromAgent(message)) this.deliver(message);
    });
    child.on('exit', (code, signal) => this.fail(new Error(`generator ${index} exited (${code ?? signal})`)));
  }

  next(kind: Kind): Promise<FromAgent> {
    const at = this.queued.findIndex((message) => message.t === kind || message.t === 'failed');
    if (at !== -1) {
      const [message] = this.queued.splice(at, 1);
      if (message !== undefined) return this.settle(message);
    }
    if (this.broken !== null) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.waiter = { kind, resolve, reject };
    });
  }

  send(message: ToAgent): void {
    if (this.child.connected) this.child.send(message);
  }

  private settle(message: FromAgent): Promise<FromAgent> {
    if (message.t === 'failed') return Promise.reject(new Error(`generator ${this.index}: ${message.message}`));
    return Promise.resolve(message);
  }

  private deliver(message: FromAgent): void {
    const waiter = this.waiter;
    if (waiter !== null && (message.t === waiter.kind || message.t === 'failed')) {
      this.waiter = null;
      if (message.t === 'failed') waiter.reject(new Error(`generator ${this.index}: ${message.message}`));
      else waiter.resolve(message);
    } else {
      this.queued.push(message);
    }
  }

  private fail(error: Error): void {
    this.broken ??= error;
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.reject(error);
  }
}

export interface AgentPool<Setup, Info, Round, Result, Event> {
  readonly size: number;
  readonly pids: readonly number[];
  /** One setup per generator process; resolves with what each reported when ready. */
  setup(setups: readonly Setup[], timeoutMs: number): Promise<Info[]>;
  start(rounds: readonly Round[]): void;
  mark(): void;
  stop(timeoutMs: number): Promise<RoundEnvelope<Result>[]>;
  /** Waits for one event from every generator process. */
  events(timeoutMs: number): Promise<Event[]>;
  close(): Promise<void>;
}

/**
 * Forks `count` generator processes for a scenario. They exit by themselves at `deadline`
 * (epoch ms) or when this process goes away, so a crash here cannot leave load running.
 * The type parameters are the scenario's own message types (see bench/agents/*.ts).
 */
export function forkAgents<Setup, Info, Round, Result, Event>(
  scenario: ScenarioName,
  count: number,
  deadline: number,
): AgentPool<Setup, Info, Round, Result, Event> {
  const boxes = Array.from({ length: count }, (_, index) => {
    const child = fork(AGENT_ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
    return new Mailbox(child, index);
  });
  const all = <T>(kind: Kind, timeoutMs: number, pick: (message: FromAgent) => T): Promise<T[]> =>
    withDeadline(Promise.all(boxes.map(async (box) => pick(await box.next(kind)))), timeoutMs, `generators (${kind})`);

  const close = track(async () => {
    await Promise.all(
      boxes.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        if (child.connected) child.send({ t: 'exit' } satisfies ToAgent);
        const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  });

  // The casts below are the process boundary: each child runs this same build and answers
  // with the scenario's own types, so the payloads are what the type parameters say.
  return {
    size: count,
    pids: boxes.map(({ child }) => child.pid ?? -1),
    async setup(setups, timeoutMs) {
      boxes.forEach((box, index) => box.send({ t: 'setup', scenario, deadline, setup: setups[index] }));
      return all('ready', timeoutMs, (message) => (message.t === 'ready' ? message.info : null) as Info);
    },
    start(rounds) {
      boxes.forEach((box, index) => box.send({ t: 'start', round: rounds[index] }));
    },
    mark() {
      for (const box of boxes) box.send({ t: 'mark' });
    },
    async stop(timeoutMs) {
      for (const box of boxes) box.send({ t: 'stop' });
      return all('result', timeoutMs, (message) => (message.t === 'result' ? message.result : null) as RoundEnvelope<Result>);
    },
    events(timeoutMs) {
      return all('event', timeoutMs, (message) => (message.t === 'event' ? message.event : null) as Event);
    },
    close,
  };
}

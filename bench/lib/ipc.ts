/**
 * Messages between the coordinator and its generator processes (one IPC channel per child,
 * JSON). Rounds: the coordinator sends `setup` once, then per measured round `start`,
 * `mark` (warm-up over: measure from here) and `stop` (answered by `result`), then `exit`.
 * Payloads are per scenario; each side owns the type of what it sends, and these are the
 * only places they cross a process boundary untyped.
 */
export type ScenarioName = 'connect' | 'fanout' | 'private' | 'history' | 'typing' | 'soak' | 'search' | 'notify' | 'upload' | 'thumbnail';

export type ToAgent =
  | { t: 'setup'; scenario: ScenarioName; deadline: number; setup: unknown }
  | { t: 'start'; round: unknown }
  | { t: 'mark' }
  | { t: 'stop' }
  | { t: 'exit' };

export type FromAgent =
  | { t: 'ready'; info: unknown }
  | { t: 'event'; event: unknown }
  | { t: 'result'; result: RoundEnvelope<unknown> }
  | { t: 'failed'; message: string };

/** What every generator process reports for a round, around the scenario's own figures. */
export interface RoundEnvelope<R> {
  /** CPU seconds this process used between mark (or start, without a mark) and stop. */
  cpuSeconds: number;
  wallSeconds: number;
  /** Event-loop utilization over the same window: near 1 means the generator itself was the limit. */
  elu: number;
  data: R;
}

export function isFromAgent(message: unknown): message is FromAgent {
  return typeof message === 'object' && message !== null && 't' in message && typeof message.t === 'string';
}

export function isToAgent(message: unknown): message is ToAgent {
  return typeof message === 'object' && message !== null && 't' in message && typeof message.t === 'string';
}

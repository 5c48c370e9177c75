/** What a scenario's generator side implements; bench/agent.ts drives it from the coordinator's messages. */
export interface Agent<Info, Round, Result> {
  /** Prepare (mint tokens, open connections); the answer goes back with `ready`. */
  setup(): Promise<Info>;
  /** Begin a round of load. */
  start(round: Round): void;
  /** Warm-up is over: reset counters and measure from now. */
  mark(): void;
  /** Stop the load, let what is in flight drain (bounded), and report the measured window. */
  stop(): Promise<Result>;
  /** Close every connection. */
  close(): Promise<void>;
}

/** Sends an event to the coordinator mid-round (e.g. "all connections open"). */
export type Emit = (event: unknown) => void;

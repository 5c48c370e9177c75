export interface BackoffOptions {
  /** First delay's ceiling, ms (default 500). */
  initialDelayMs?: number;
  /** Largest delay, ms (default 30 000). */
  maxDelayMs?: number;
}

/**
 * Delay before reconnect attempt `attempt` (0-based): "equal jitter" exponential backoff. The
 * ceiling doubles per attempt up to the maximum; the delay is drawn in [ceiling/2, ceiling), so
 * clients dropped together (a server restart) come back spread out, yet never all at once at 0.
 */
export function backoffDelay(attempt: number, opts: BackoffOptions = {}, random: () => number = Math.random): number {
  const initial = opts.initialDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 30_000;
  const ceiling = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.floor(ceiling / 2 + random() * (ceiling / 2));
}

/** PROTOCOL.md v1.1: one `typing` push per user per conversation per second. */
export const TYPING_INTERVAL_MS = 1000;

/**
 * Per node, in memory. That is enough: a user types on one device at a time, and its typing
 * requests arrive on that device's socket, so on one node. A user typing on two devices at
 * once (one per node) could cause two pushes a second, harmless (clients show "typing" for
 * 5 s), while a cluster-wide throttle would cost a Redis round trip per keystroke.
 *
 * Two maps swapped every interval hold the last push times: memory stays bounded by the
 * users who typed in the last two seconds, with no timer per entry.
 */
export class TypingThrottle {
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly intervalMs = TYPING_INTERVAL_MS) {
    this.timer = setInterval(() => {
      this.previous = this.current;
      this.current = new Map();
    }, intervalMs);
    this.timer.unref();
  }

  /** True (and noted) when a push for `key` may go out now. */
  take(key: string, now = Date.now()): boolean {
    const last = this.current.get(key) ?? this.previous.get(key);
    if (last !== undefined && now - last < this.intervalMs) return false;
    this.current.set(key, now);
    return true;
  }

  /** Forgets a take whose push did not go out (the request was refused). */
  release(key: string): void {
    this.current.delete(key);
    this.previous.delete(key);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

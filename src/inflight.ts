/** Counts work that shutdown must let finish (requests being handled, writes not yet acknowledged). */
export class InFlight {
  private count = 0;
  private waiters: (() => void)[] = [];

  async track<T>(work: Promise<T>): Promise<T> {
    this.count++;
    try {
      return await work;
    } finally {
      // Waiters are told on a later turn, not now: whoever awaited `work` (a WebSocket pump) must
      // first get to send its reply, or shutdown would close the socket on an unacknowledged write.
      if (--this.count === 0 && this.waiters.length > 0) setImmediate(() => this.settle());
    }
  }

  get size(): number {
    return this.count;
  }

  /** Resolves when nothing is in flight, or after `timeoutMs`, whichever is first. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => { clearTimeout(timer); resolve(true); });
    });
  }

  private settle(): void {
    if (this.count === 0) for (const w of this.waiters.splice(0)) w();
  }
}

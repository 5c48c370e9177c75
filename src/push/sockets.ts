import type { Logger } from '../log.js';
import type { PushSocketsStore } from '../db/pushSockets.js';

const RETRY_MS = 1000;

/**
 * This node's part of "who has an open socket anywhere" (push_sockets): the connection layer
 * reports a user's first socket here (`up`) and its last one closing (`down`), as it does to
 * presence, but with no grace: a user whose last socket just closed is offline for notifications.
 * Changes are written in batches (one statement per event-loop turn); a failed write is retried,
 * and the node row is renewed every third of its lifetime (re-writing every row if it had lapsed).
 */
export function createSocketLedger({ store, nodeId, ttlMs, log }: { store: PushSocketsStore; nodeId: string; ttlMs: number; log: Logger }) {
  const held = new Set<number>();
  const dirty = new Set<number>();
  let flushing = false;
  let scheduled = false;
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;

  const schedule = (delayMs = 0): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    const run = (): void => { scheduled = false; void flush(); };
    if (delayMs === 0) setImmediate(run);
    else retry = setTimeout(run, delayMs);
  };

  const flush = async (): Promise<void> => {
    if (flushing || dirty.size === 0) return;
    flushing = true;
    const batch = [...dirty];
    dirty.clear();
    const up = batch.filter((u) => held.has(u));
    const down = batch.filter((u) => !held.has(u));
    try {
      await store.apply(nodeId, up, down);
    } catch (err) {
      log.warn({ err }, 'push socket ledger write failed; retrying');
      for (const u of batch) dirty.add(u);
      flushing = false;
      schedule(RETRY_MS);
      return;
    }
    flushing = false;
    if (dirty.size > 0) schedule();
  };

  const heartbeat = async (): Promise<void> => {
    const made = await store.heartbeat(nodeId, ttlMs);
    if (made && held.size > 0) {
      for (const u of held) dirty.add(u);
      schedule();
    }
    await store.sweep();
  };
  const beat = setInterval(() => {
    heartbeat().catch((err: unknown) => log.warn({ err }, 'push node heartbeat failed'));
  }, Math.max(1000, Math.floor(ttlMs / 3)));
  beat.unref();

  return {
    /** Before the node listens: its row must exist before any socket row refers to it. */
    start: heartbeat,
    up(userId: number): void {
      held.add(userId);
      dirty.add(userId);
      schedule();
    },
    down(userId: number): void {
      held.delete(userId);
      dirty.add(userId);
      schedule();
    },
    /** A graceful stop: the node's rows go (its sockets are closed by then). */
    async stop(): Promise<void> {
      stopped = true;
      clearInterval(beat);
      clearTimeout(retry);
      await store.leave(nodeId).catch((err: unknown) => log.warn({ err }, 'push node row not removed; it lapses by itself'));
    },
  };
}

export type SocketLedger = ReturnType<typeof createSocketLedger>;

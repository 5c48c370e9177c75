import type { Logger } from '../log.js';
import type { PushQueue, TakenDelivery } from '../db/pushQueue.js';
import type { PushSubscriptions } from '../db/pushSubscriptions.js';
import type { Delivery, Sender } from './senders.js';
import { retryDelayMs, withinAge, type Verdict } from './retry.js';

// Rows per statement for each step; a full batch means more may wait, so the cycle runs again.
// Outbox rows fold per conversation within a batch: a large one costs little more than a small one.
export const EXPAND_BATCH = 2000;
const KICK_DELAY_MS = 25;
export const CLAIM_BATCH = 500;
export const TAKE_MAX = 100;

export interface WorkerOptions {
  queue: PushQueue;
  subscriptions: PushSubscriptions;
  webPush: Sender;
  /** Undefined without PUSH_WEBHOOK_URL. */
  webhook: Sender | undefined;
  foldMs: number;
  retryBaseMs: number;
  maxAgeMs: number;
  timeoutMs: number;
  concurrency: number;
  pollMs: number;
  log: Logger;
  counters: PushCounters;
}

/** What the worker counts (metrics.ts implements it). */
export interface PushCounters {
  sent(via: 'webpush' | 'webhook', latencyMs: number): void;
  failed(reason: 'gone' | 'refused' | 'expired'): void;
  retried(): void;
  dropped(reason: 'folded' | 'read', n: number): void;
}

/**
 * The notification worker; one per node, all draining the same tables (pushQueue.ts). A cycle
 * expands the outbox, claims due notifications and starts deliveries, never more than
 * `concurrency` in flight: a push service that hangs holds slots until its timeout, and nothing
 * else (the send path only writes the outbox row and kicks the worker). Cycles run when kicked
 * (a send committed on this node, a delivery finished) and every `pollMs` (work of other nodes,
 * folded notifications coming due, retries, a restart's backlog).
 */
export function createPushWorker(o: WorkerOptions) {
  let inFlight = 0;
  let cycling = false;
  let again = false;
  let scheduled = false;
  let stopped = false;

  /**
   * A cycle soon: after KICK_DELAY_MS for a kick (the sends of those milliseconds share one
   * cycle: a cycle per send batch doubled the database's statements when sends came one by
   * one), at once when a batch came back full (a backlog).
   */
  const kick = (delayMs = KICK_DELAY_MS): void => {
    if (scheduled || stopped) return;
    scheduled = true;
    const run = (): void => { scheduled = false; void cycle(); };
    if (delayMs === 0) setImmediate(run);
    else setTimeout(run, delayMs);
  };

  const refillAt = Math.max(1, Math.min(16, Math.floor(o.concurrency / 4)));
  const poll = setInterval(() => kick(0), o.pollMs);
  poll.unref();

  async function cycle(): Promise<void> {
    if (cycling) { again = true; return; }
    cycling = true;
    let backlog = false;
    try {
      // One batch of each step per cycle, then the next cycle at once if a batch came back full:
      // a backlog of the outbox never starves the claims, nor the other way round.
      const e = await o.queue.expand(EXPAND_BATCH, o.webhook !== undefined, o.foldMs);
      if (e.folded > 0) o.counters.dropped('folded', e.folded);
      const c = await o.queue.claim(CLAIM_BATCH, o.webhook !== undefined);
      if (c.read > 0) o.counters.dropped('read', c.read);
      pumpSoon();
      backlog = e.taken === EXPAND_BATCH || c.notified + c.read === CLAIM_BATCH;
    } catch (err) {
      o.log.warn({ err }, 'push worker cycle failed; the next one retries');
    } finally {
      cycling = false;
      // A kick that came during the cycle waits its delay like any other; a backlog does not.
      if (backlog) kick(0);
      else if (again) kick();
      again = false;
    }
  }

  /**
   * Deliveries run apart from the cycle (a finished one takes the next at once, without waiting
   * for an outbox batch), one taker at a time.
   */
  let pumping = false;
  let pumpAgain = false;
  function pumpSoon(): void {
    if (pumping) { pumpAgain = true; return; }
    pumping = true;
    void pump()
      .catch((err: unknown) => o.log.warn({ err }, 'push deliveries not taken; the next poll retries'))
      .finally(() => {
        pumping = false;
        if (pumpAgain && !stopped) { pumpAgain = false; pumpSoon(); }
      });
  }

  /** Takes as many due deliveries as there are free slots and starts them. */
  async function pump(): Promise<void> {
    while (!stopped) {
      const free = Math.min(o.concurrency - inFlight, TAKE_MAX);
      if (free <= 0) return;
      // The lease outlives the request's timeout, so no other node takes a delivery still in flight here.
      const rows = await o.queue.take(free, o.timeoutMs + 5000);
      for (const row of rows) {
        inFlight++;
        void deliver(row).finally(() => {
          inFlight--;
          // Refilled in batches (a take statement per finished delivery cost a round trip each).
          if (inFlight === 0 || o.concurrency - inFlight >= refillAt) pumpSoon();
        });
      }
      if (rows.length < free) return;
    }
  }

  async function deliver(row: TakenDelivery): Promise<void> {
    const via = row.subscriptionId === null ? 'webhook' : 'webpush';
    const sender = via === 'webhook' ? o.webhook : o.webPush;
    const d: Delivery = {
      id: row.id, userId: row.userId, payload: row.payload, urgent: row.urgent,
      subscription: row.endpoint !== null ? { endpoint: row.endpoint, p256dh: row.p256dh ?? '', auth: row.auth ?? '' } : null,
    };
    let verdict: Verdict;
    if (!sender || (via === 'webpush' && d.subscription === null)) {
      verdict = { kind: 'refused', status: 0 };
    } else {
      try {
        verdict = await sender.send(d);
      } catch (err) {
        // Network error or timeout: the service may never have seen it.
        o.log.debug({ err, deliveryId: row.id }, 'push delivery failed to reach the service');
        verdict = { kind: 'retry', afterMs: null };
      }
    }
    try {
      switch (verdict.kind) {
        case 'sent':
          await o.queue.finish(row.id);
          o.counters.sent(via, Date.now() - row.messageCreatedAt.getTime());
          return;
        case 'gone':
          // Its deliveries go with it (on delete cascade).
          await o.subscriptions.removeById(row.subscriptionId!);
          o.counters.failed('gone');
          return;
        case 'refused':
          o.log.info({ deliveryId: row.id, status: verdict.status, via }, 'push delivery refused; dropped');
          await o.queue.finish(row.id);
          o.counters.failed('refused');
          return;
        case 'retry': {
          const delay = retryDelayMs(row.attempts, o.retryBaseMs, verdict.afterMs);
          if (withinAge(row.createdAt.getTime(), delay, o.maxAgeMs)) {
            await o.queue.retryLater(row.id, delay);
            o.counters.retried();
          } else {
            await o.queue.finish(row.id);
            o.counters.failed('expired');
          }
          return;
        }
      }
    } catch (err) {
      // The lease runs out and some node tries it again.
      o.log.warn({ err, deliveryId: row.id }, 'push delivery outcome not recorded');
    }
  }

  return {
    kick,
    get inFlight() { return inFlight; },
    stop(): void {
      stopped = true;
      clearInterval(poll);
    },
  };
}

export type PushWorker = ReturnType<typeof createPushWorker>;

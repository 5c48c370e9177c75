import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Sql } from '../db/client.js';
import { createPushQueue } from '../db/pushQueue.js';
import { createPushSubscriptions, type PushSubscriptions } from '../db/pushSubscriptions.js';
import { createPushSockets } from '../db/pushSockets.js';
import { parseHosts, type EndpointRules } from './endpoints.js';
import { loadOrCreateVapid } from './vapid.js';
import { webhookSender, webPushSender } from './senders.js';
import { createSocketLedger } from './sockets.js';
import { createPushWorker, type PushCounters } from './worker.js';

/** Notifications to offline devices, as the rest of the server sees them. */
export interface Push {
  /** The VAPID application server key (base64url), for `GET /push/key`. */
  publicKey: string;
  rules: EndpointRules;
  subscriptions: PushSubscriptions;
  /** The connection layer: a user's first socket on this node opened / its last one closed. */
  socketUp(userId: number): void;
  socketDown(userId: number): void;
  /** The send path: messages were stored (their outbox rows with them). */
  kick(): void;
  /** What waits in the queue (outbox rows, pending notifications, deliveries). */
  depth(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Builds the push parts: VAPID keys (env, or made once and kept in DATA_DIR), the endpoint rules,
 * this node's socket ledger (written before the node listens) and the worker (none with
 * PUSH_ENABLED=0: nothing is queued then).
 */
export async function startPush({ sql, config, log, counters }: { sql: Sql; config: Config; log: Logger; counters: PushCounters }): Promise<Push> {
  const vapid = await loadOrCreateVapid(config.DATA_DIR, {
    publicKey: config.VAPID_PUBLIC_KEY, privateKey: config.VAPID_PRIVATE_KEY, subject: config.VAPID_SUBJECT,
  });
  if (vapid.made) log.info('VAPID keys made and kept in the data folder');
  if (!config.VAPID_PUBLIC_KEY && (config.REDIS_URL || config.REDIS_CLUSTER_NODES)) {
    log.warn('VAPID keys come from this node\'s data folder: every node of a cluster must have the same ones (set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY)');
  }
  const rules: EndpointRules = { hosts: parseHosts(config.PUSH_ENDPOINT_HOSTS), allowHttp: config.PUSH_ALLOW_HTTP };
  const subscriptions = createPushSubscriptions(sql);
  const queue = createPushQueue(sql);
  const ledger = createSocketLedger({ store: createPushSockets(sql), nodeId: randomBytes(8).toString('hex'), ttlMs: config.PUSH_NODE_TTL_MS, log });
  await ledger.start();

  const worker = config.PUSH_ENABLED
    ? createPushWorker({
        queue, subscriptions, log, counters,
        webPush: webPushSender({ subject: vapid.subject, publicKey: vapid.publicKey, privateKey: vapid.privateKey }, rules, config.PUSH_TIMEOUT_MS),
        webhook: config.PUSH_WEBHOOK_URL && config.PUSH_WEBHOOK_SECRET
          ? webhookSender(config.PUSH_WEBHOOK_URL, config.PUSH_WEBHOOK_SECRET, config.PUSH_TIMEOUT_MS)
          : undefined,
        foldMs: config.PUSH_FOLD_MS, retryBaseMs: config.PUSH_RETRY_BASE_MS, maxAgeMs: config.PUSH_RETRY_MAX_AGE_MS,
        timeoutMs: config.PUSH_TIMEOUT_MS, concurrency: config.PUSH_CONCURRENCY, pollMs: config.PUSH_POLL_MS,
      })
    : undefined;
  worker?.kick();

  return {
    publicKey: vapid.publicKey,
    rules,
    subscriptions,
    socketUp: ledger.up,
    socketDown: ledger.down,
    kick: () => worker?.kick(),
    async depth() {
      const d = await queue.depth();
      return d.outbox + d.pending + d.deliveries;
    },
    async stop() {
      worker?.stop();
      await ledger.stop();
    },
  };
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Services } from './services.js';
import type { PubSub } from './pubsub/types.js';
import type { Limits } from './limits.js';
import { dbStats } from './db/client.js';
import { ClientError, ErrorCode } from './protocol.js';

// The push events of PROTOCOL.md; anything else is counted as "other" (labels stay few).
const PUSH_TYPES = new Set(['privateMessage', 'messageInGroup', 'addUserInGroup', 'leaveGroup', 'newGroup',
  'typing', 'presence', 'renameGroup', 'removeUserFromGroup', 'setMemberRole', 'markRead', 'editMessage', 'deleteMessage']);

/** Everything /metrics exposes, on a registry of our own (no global state between servers in tests). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relay_' });
  const registers = [registry];
  // Read when /metrics is scraped, from what `instrument` hands over.
  let watched: Pick<Services, 'sql' | 'pubsub'> | undefined;
  const db = () => (watched ? dbStats(watched.sql) : undefined);

  const m = {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    connections: new Gauge({ name: 'relay_ws_connections', help: 'Open WebSocket connections', registers }),
    received: new Counter({ name: 'relay_ws_frames_received_total', help: 'WebSocket frames received, whatever they hold', registers }),
    requests: new Counter({
      name: 'relay_ws_requests_total', registers, labelNames: ['type', 'outcome'],
      help: 'WebSocket requests handled, by message type and outcome (ok, or the error code of the reply)',
    }),
    pushes: new Counter({
      name: 'relay_pushes_published_total', registers, labelNames: ['type'],
      help: 'Pushes published, by event type (each publication fans out to every subscribed socket)',
    }),
    handlerSeconds: new Histogram({
      name: 'relay_ws_handler_seconds', help: 'WebSocket handler latency', labelNames: ['type'], registers,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    handlerErrors: new Counter({ name: 'relay_ws_handler_errors_total', help: 'Handler failures that were not client errors', labelNames: ['type'], registers }),
    dbErrors: new Counter({
      name: 'relay_db_errors_total', labelNames: ['kind'], registers,
      help: 'Requests (HTTP and WebSocket) that failed on the server side: kind="unavailable" when the database could not be reached, "other" otherwise',
    }),
    dbQueries: new Counter({
      name: 'relay_db_queries_total', labelNames: ['outcome'], registers,
      help: 'Database queries and transactions, by outcome: ok, failed (refused by PostgreSQL), unavailable (not reached, or no answer in time), shed (refused at once while the database was down)',
      collect() {
        const s = db();
        if (!s) return;
        this.reset();
        for (const outcome of ['ok', 'failed', 'unavailable', 'shed'] as const) this.inc({ outcome }, s[outcome]);
      },
    }),
    dbQueriesInFlight: new Gauge({
      name: 'relay_db_queries_in_flight', registers,
      help: 'Queries and transactions waiting for a pool connection or running on one (compare with relay_db_pool_max)',
      collect() {
        const s = db();
        if (s) this.set(s.inFlight);
      },
    }),
    dbPoolSize: new Gauge({ name: 'relay_db_pool_max', help: 'Configured pool size', registers }),
    dbAvailable: new Gauge({
      name: 'relay_db_available', registers,
      help: '1 while the database answers; 0 from a failure to reach it until a probe gets an answer (queries fail at once meanwhile)',
      collect() {
        const s = db();
        if (s) this.set(s.available ? 1 : 0);
      },
    }),
    backpressureCloses: new Counter({ name: 'relay_ws_backpressure_closes_total', help: 'Sockets closed (1013) for reading too slowly', registers }),
    rateLimited: new Counter({
      name: 'relay_rate_limited_total', labelNames: ['kind'], registers,
      help: 'Refused by a limit: kind="ws" (a request over the per-socket rate), "connections" (an upgrade over MAX_CONNECTIONS_PER_USER), "auth" (a login or sign-up over the attempt limits)',
    }),
    relayConnected: new Gauge({
      name: 'relay_cluster_relay_connected', registers,
      help: '1 when the Redis relay is connected (or not used), else 0',
      collect() {
        if (watched) this.set(watched.pubsub.connected ? 1 : 0);
      },
    }),

    /**
     * Hooks the metrics into what the server built: counts pushes as they are published and auth
     * attempts refused by the limits (by wrapping `s.pubsub` and `s.limits`), and reads database
     * and relay state when scraped. Call once, before the app is mounted.
     */
    instrument(s: Services): void {
      s.pubsub = countPushes(s.pubsub, m.pushes);
      s.limits = countRefusals(s.limits, m.rateLimited);
      watched = s;
      const stats = dbStats(s.sql);
      if (stats) m.dbPoolSize.set(stats.max);
    },
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

function countPushes(inner: PubSub, pushes: Counter<'type'>): PubSub {
  // pushFrame() puts the type first: reading it back costs a regex, not a parse.
  const typeOf = (frame: string): string => {
    const type = /^\{"type":"(\w{1,40})"/.exec(frame)?.[1];
    return type && PUSH_TYPES.has(type) ? type : 'other';
  };
  return {
    publish(topic, frame, except) {
      pushes.inc({ type: typeOf(frame) });
      inner.publish(topic, frame, except);
    },
    control(userId, event) {
      if (event.op === 'join' && event.push) pushes.inc({ type: typeOf(event.push) });
      inner.control(userId, event);
    },
    onLocalSubscription: (topic, newCount, oldCount) => inner.onLocalSubscription(topic, newCount, oldCount),
    get connected() {
      return inner.connected;
    },
    close: () => inner.close(),
  };
}

function countRefusals(inner: Limits, rateLimited: Counter<'kind'>): Limits {
  return {
    async authAttempt(ip, email) {
      try {
        await inner.authAttempt(ip, email);
      } catch (err) {
        if (err instanceof ClientError && err.code === ErrorCode.RATE_LIMITED) rateLimited.inc({ kind: 'auth' });
        throw err;
      }
    },
  };
}

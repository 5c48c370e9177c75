import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { pushType } from './protocol.js';

// The push events of PROTOCOL.md; anything else is counted as "other" (labels stay few).
const PUSH_TYPES = new Set(['privateMessage', 'messageInGroup', 'addUserInGroup', 'leaveGroup', 'newGroup',
  'typing', 'presence', 'renameGroup', 'removeUserFromGroup', 'setMemberRole', 'markRead', 'editMessage', 'deleteMessage',
  'addReaction', 'removeReaction', 'pinMessage', 'unpinMessage']);

/** What the database client tells about itself (db/client.ts DbStats), read when scraped. */
export interface DbGauges {
  readonly max: number;
  readonly inFlight: number;
  readonly ok: number;
  readonly failed: number;
  readonly unavailable: number;
  readonly shed: number;
  readonly available: boolean;
}

/** What the pub/sub transport tells about itself, read when scraped. */
export interface RelayGauges {
  readonly connected: boolean;
  readonly dropped: number;
}

/**
 * Where the gauges read from. Functions, read at each scrape: the parts are built after the
 * metrics (they are handed the counting hooks below), and each exposes its own statistics.
 */
export interface MetricSources {
  db(): DbGauges | undefined;
  relay(): RelayGauges | undefined;
}

/**
 * Everything /metrics exposes, on a registry of our own (no global state between servers in
 * tests). A leaf: it imports none of the parts it counts; server.ts hands it what to read and
 * hands the parts the `count…` hooks.
 */
export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relay_' });
  const registers = [registry];
  const db = sources.db;
  let relayDroppedSeen = 0;

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
    dbPoolSize: new Gauge({
      name: 'relay_db_pool_max', help: 'Configured pool size', registers,
      collect() {
        const s = db();
        if (s) this.set(s.max);
      },
    }),
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
        const r = sources.relay();
        if (r) this.set(r.connected ? 1 : 0);
      },
    }),
    relaysDropped: new Counter({
      name: 'relay_cluster_relays_dropped_total', registers,
      help: 'Pushes and control events not relayed to other nodes (Redis down or too far behind; always 0 without Redis)',
      collect() {
        const r = sources.relay();
        if (!r) return;
        // A counter only goes up: add what the transport dropped since the last scrape.
        if (r.dropped > relayDroppedSeen) this.inc(r.dropped - relayDroppedSeen);
        relayDroppedSeen = r.dropped;
      },
    }),

    /** PubSubHooks.onPublish: counts a push by its event type. */
    countPush(frame: string): void {
      const type = pushType(frame);
      m.pushes.inc({ type: type && PUSH_TYPES.has(type) ? type : 'other' });
    },
    /** Limits' onRefused: a login or sign-up refused by the attempt limits. */
    countAuthRefusal(): void {
      m.rateLimited.inc({ kind: 'auth' });
    },
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Everything /metrics exposes, on a registry of our own (no global state between servers in tests). */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'relay_' });
  const m = {
    registry,
    contentType: registry.contentType,
    render: () => registry.metrics(),
    connections: new Gauge({ name: 'relay_ws_connections', help: 'Open WebSocket connections', registers: [registry] }),
    received: new Counter({ name: 'relay_ws_frames_received_total', help: 'WebSocket frames received', registers: [registry] }),
    requests: new Counter({ name: 'relay_ws_requests_total', help: 'WebSocket requests by type and outcome', labelNames: ['type', 'outcome'], registers: [registry] }),
    pushes: new Counter({ name: 'relay_pushes_published_total', help: 'Pushes published (each fans out to many sockets)', labelNames: ['type'], registers: [registry] }),
    handlerSeconds: new Histogram({
      name: 'relay_ws_handler_seconds', help: 'WebSocket handler latency', labelNames: ['type'], registers: [registry],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    handlerErrors: new Counter({ name: 'relay_ws_handler_errors_total', help: 'Handler failures that were not client errors', labelNames: ['type'], registers: [registry] }),
    dbErrors: new Counter({ name: 'relay_db_errors_total', help: 'Database queries that failed', labelNames: ['kind'], registers: [registry] }),
    dbQueriesInFlight: new Gauge({ name: 'relay_db_queries_in_flight', help: 'Queries waiting for or using a pool connection', registers: [registry] }),
    dbPoolSize: new Gauge({ name: 'relay_db_pool_max', help: 'Configured pool size', registers: [registry] }),
    backpressureCloses: new Counter({ name: 'relay_ws_backpressure_closes_total', help: 'Sockets closed for reading too slowly', registers: [registry] }),
    rateLimited: new Counter({ name: 'relay_rate_limited_total', help: 'Requests refused by a limit', labelNames: ['kind'], registers: [registry] }),
    relayConnected: new Gauge({ name: 'relay_cluster_relay_connected', help: '1 when the Redis relay is connected (or not used), else 0', registers: [registry] }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

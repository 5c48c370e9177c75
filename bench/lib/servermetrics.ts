/**
 * The server's own memory split, read from its Prometheus endpoint (prom-client's default
 * metrics, whatever their prefix): RSS growth per connection says how much, the JS heap and
 * external figures say where (JS objects vs uWS/native). Null when /metrics is not there.
 */
import type { WsTarget } from './wsclient.js';

export interface ServerMemory {
  heapUsedBytes: number;
  externalBytes: number;
}

function gauge(text: string, name: string): number | null {
  const match = new RegExp(`^\\w*${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** The named gauges of every node, one scrape each, in the order asked; null when any is missing. */
async function scrape(targets: readonly WsTarget[], names: readonly string[]): Promise<number[][] | null> {
  const values: number[][] = [];
  for (const target of targets) {
    try {
      const answer = await fetch(`http://${target.host}:${target.port}/metrics`, { signal: AbortSignal.timeout(3000) });
      if (answer.status !== 200) return null;
      const text = await answer.text();
      const read = names.map((name) => gauge(text, name));
      if (read.some((v) => v === null)) return null;
      values.push(read as number[]);
    } catch {
      return null;
    }
  }
  return values;
}

export async function serverMemory(targets: readonly WsTarget[]): Promise<ServerMemory | null> {
  const values = await scrape(targets, ['nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes']);
  if (values === null) return null;
  return {
    heapUsedBytes: values.reduce((sum, [heap]) => sum + heap!, 0),
    externalBytes: values.reduce((sum, [, external]) => sum + external!, 0),
  };
}

/**
 * Open WebSocket connections over all nodes (the server's relay_ws_connections gauge) and the
 * longest event-loop delay since the previous scrape, read from one scrape (a scrape resets the
 * delay). Null when /metrics is not there.
 */
export async function serverConnections(targets: readonly WsTarget[]): Promise<{ connections: number; loopDelayMaxMs: number } | null> {
  const values = await scrape(targets, ['relay_ws_connections', 'nodejs_eventloop_lag_max_seconds']);
  if (values === null) return null;
  const connections = values.reduce((sum, [open]) => sum + open!, 0);
  const max = Math.max(0, ...values.map(([, lag]) => lag! * 1000));
  return { connections, loopDelayMaxMs: Math.round(max * 10) / 10 };
}

/**
 * The longest event-loop delay (ms) of any node since the previous call: prom-client's default
 * metrics read perf_hooks.monitorEventLoopDelay (10 ms resolution) and reset it at every scrape.
 * Null when /metrics is not there.
 */
export async function eventLoopDelayMaxMs(targets: readonly WsTarget[]): Promise<number | null> {
  const values = await scrape(targets, ['nodejs_eventloop_lag_max_seconds']);
  if (values === null) return null;
  return Math.round(Math.max(0, ...values.map(([lag]) => lag! * 1000)) * 10) / 10;
}

/**
 * Each node's event-loop delay p99 (ms) since the previous scrape (prom-client resets the
 * monitorEventLoopDelay histogram at every scrape: scrape once to start a window). Null for a
 * node without /metrics.
 */
export async function eventLoopDelayP99Ms(targets: readonly WsTarget[]): Promise<(number | null)[]> {
  return Promise.all(targets.map(async (target) => {
    const values = await scrape([target], ['nodejs_eventloop_lag_p99_seconds']);
    return values === null ? null : Math.round(values[0]![0]! * 10_000) / 10;
  }));
}

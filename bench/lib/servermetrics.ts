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

export async function serverMemory(targets: readonly WsTarget[]): Promise<ServerMemory | null> {
  let heapUsedBytes = 0;
  let externalBytes = 0;
  for (const target of targets) {
    try {
      const answer = await fetch(`http://${target.host}:${target.port}/metrics`, { signal: AbortSignal.timeout(3000) });
      if (answer.status !== 200) return null;
      const text = await answer.text();
      const heap = gauge(text, 'nodejs_heap_size_used_bytes');
      const external = gauge(text, 'nodejs_external_memory_bytes');
      if (heap === null || external === null) return null;
      heapUsedBytes += heap;
      externalBytes += external;
    } catch {
      return null;
    }
  }
  return { heapUsedBytes, externalBytes };
}

/**
 * Open WebSocket connections over all nodes (the server's relay_ws_connections gauge) and the
 * longest event-loop delay since the previous scrape, read from one scrape (a scrape resets the
 * delay). Null when /metrics is not there.
 */
export async function serverConnections(targets: readonly WsTarget[]): Promise<{ connections: number; loopDelayMaxMs: number } | null> {
  let connections = 0;
  let max = 0;
  for (const target of targets) {
    try {
      const answer = await fetch(`http://${target.host}:${target.port}/metrics`, { signal: AbortSignal.timeout(3000) });
      if (answer.status !== 200) return null;
      const text = await answer.text();
      const open = gauge(text, 'relay_ws_connections');
      const lag = gauge(text, 'nodejs_eventloop_lag_max_seconds');
      if (open === null || lag === null) return null;
      connections += open;
      max = Math.max(max, lag * 1000);
    } catch {
      return null;
    }
  }
  return { connections, loopDelayMaxMs: Math.round(max * 10) / 10 };
}

/**
 * The longest event-loop delay (ms) of any node since the previous call: prom-client's default
 * metrics read perf_hooks.monitorEventLoopDelay (10 ms resolution) and reset it at every scrape.
 * Null when /metrics is not there.
 */
export async function eventLoopDelayMaxMs(targets: readonly WsTarget[]): Promise<number | null> {
  let max = 0;
  for (const target of targets) {
    try {
      const answer = await fetch(`http://${target.host}:${target.port}/metrics`, { signal: AbortSignal.timeout(3000) });
      if (answer.status !== 200) return null;
      const value = gauge(await answer.text(), 'nodejs_eventloop_lag_max_seconds');
      if (value === null) return null;
      max = Math.max(max, value * 1000);
    } catch {
      return null;
    }
  }
  return Math.round(max * 10) / 10;
}

/**
 * Each node's event-loop delay p99 (ms) since the previous scrape (prom-client resets the
 * monitorEventLoopDelay histogram at every scrape: scrape once to start a window). Null for a
 * node without /metrics.
 */
export async function eventLoopDelayP99Ms(targets: readonly WsTarget[]): Promise<(number | null)[]> {
  return Promise.all(
    targets.map(async (target) => {
      try {
        const answer = await fetch(`http://${target.host}:${target.port}/metrics`, { signal: AbortSignal.timeout(3000) });
        if (answer.status !== 200) return null;
        const value = gauge(await answer.text(), 'nodejs_eventloop_lag_p99_seconds');
        return value === null ? null : Math.round(value * 10_000) / 10;
      } catch {
        return null;
      }
    }),
  );
}

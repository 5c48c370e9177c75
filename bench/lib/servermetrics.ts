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

/** Opening many authenticated connections with a bounded number of handshakes in flight. */
import { HandshakeError, openLean, type LeanHandlers, type LeanSocket, type WsTarget } from './wsclient.js';
import { nowMicros } from './clock.js';
import type { Histogram } from './histogram.js';

export interface OpenRequest {
  target: WsTarget;
  token: string;
  handlers: LeanHandlers;
  /** Loopback source address to bind (127.0.0.2 and up): one address has only ~28k ephemeral ports. */
  localAddress?: string;
}

export interface OpenReport {
  /** In request order; null where the connection failed. */
  sockets: (LeanSocket | null)[];
  opened: number;
  /** Failure reason ("http 401", "ECONNRESET", ...) → count. */
  failures: Record<string, number>;
  startedAt: number;
  finishedAt: number;
}

function reason(error: unknown): string {
  if (error instanceof HandshakeError) return error.status === null ? error.message : `http ${error.status}`;
  if (error instanceof Error) return 'code' in error && typeof error.code === 'string' ? error.code : error.message;
  return String(error);
}

/** Handshake times (µs, request to 101) go into `handshakes` when given. */
export async function openMany(requests: readonly OpenRequest[], concurrency: number, handshakes?: Histogram): Promise<OpenReport> {
  const sockets: (LeanSocket | null)[] = new Array<LeanSocket | null>(requests.length).fill(null);
  const failures: Record<string, number> = {};
  let next = 0;
  let opened = 0;
  const startedAt = nowMicros();
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const index = next++;
      const request = requests[index];
      if (request === undefined) break;
      const begun = nowMicros();
      try {
        sockets[index] = await openLean(request.target, request.token, request.handlers, { localAddress: request.localAddress });
        handshakes?.recordValue(nowMicros() - begun);
        opened++;
      } catch (error) {
        const key = reason(error);
        failures[key] = (failures[key] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  return { sockets, opened, failures, startedAt, finishedAt: nowMicros() };
}

export function describeFailures(failures: Record<string, number>): string {
  return Object.entries(failures).map(([key, count]) => `${count} × ${key}`).join(', ');
}

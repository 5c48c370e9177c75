/** Opening many authenticated connections with a bounded number of handshakes in flight. */
import { EARLY_CLOSE_MS, HandshakeError, openLean, type LeanHandlers, type LeanSocket, type WsTarget } from './wsclient.js';
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
  /** Connections the server ended right after their 101 (uWS #1928, see wsclient.ts), opened again once. */
  reopened: number;
  startedAt: number;
  finishedAt: number;
}

function reason(error: unknown): string {
  if (error instanceof HandshakeError) return error.status === null ? error.message : `http ${error.status}`;
  if (error instanceof Error) return 'code' in error && typeof error.code === 'string' ? error.code : error.message;
  return String(error);
}

const countFailure = (failures: Record<string, number>, error: unknown): void => {
  const key = reason(error);
  failures[key] = (failures[key] ?? 0) + 1;
};

/**
 * Handshake times (µs, request to 101) go into `handshakes` when given. A connection the server
 * ends right after its 101 (uWS #1928) is opened again once, as the SDK would, with the same
 * handlers (they saw nothing of the first); its handshake time is the first one's.
 */
export async function openMany(requests: readonly OpenRequest[], concurrency: number, handshakes?: Histogram): Promise<OpenReport> {
  const sockets: (LeanSocket | null)[] = new Array<LeanSocket | null>(requests.length).fill(null);
  const failures: Record<string, number> = {};
  const reopening: Promise<void>[] = [];
  let next = 0;
  let opened = 0;
  let reopened = 0;
  const startedAt = nowMicros();
  const reopen = (index: number, request: OpenRequest): void => {
    sockets[index] = null;
    reopened++;
    reopening.push(openLean(request.target, request.token, request.handlers, { localAddress: request.localAddress }).then(
      (socket) => { sockets[index] = socket; },
      (error: unknown) => { opened--; countFailure(failures, error); },
    ));
  };
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const index = next++;
      const request = requests[index];
      if (request === undefined) break;
      const begun = nowMicros();
      try {
        sockets[index] = await openLean(request.target, request.token, request.handlers, {
          localAddress: request.localAddress,
          onEarlyClose: () => reopen(index, request),
        });
        handshakes?.recordValue(nowMicros() - begun);
        opened++;
      } catch (error) {
        countFailure(failures, error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  const finishedAt = nowMicros();
  // The last connections' early ends come within EARLY_CLOSE_MS of their 101.
  await new Promise((resolve) => setTimeout(resolve, EARLY_CLOSE_MS));
  await Promise.all(reopening);
  return { sockets, opened, failures, reopened, startedAt, finishedAt };
}

export function describeFailures(failures: Record<string, number>): string {
  return Object.entries(failures).map(([key, count]) => `${count} × ${key}`).join(', ');
}
